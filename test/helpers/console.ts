// The web console in a real browser: its URL on a test server, and signing in both ways
// through its form (as a person does).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Credentials } from './keys.js';
import { ADMIN_TOKEN, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, type TestServer } from './server.js';

/** The console's address on the admin port. */
export function consoleUrl(server: TestServer): string {
  return `${server.adminEndpoint}/console/`;
}

/** A new tab (its own sessionStorage: signed out) with the console open, dialogs accepted. */
export async function openConsole(context: BrowserContext, server: TestServer): Promise<Page> {
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(consoleUrl(server));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  return page;
}

export async function signInOperator(page: Page, token = ADMIN_TOKEN): Promise<void> {
  await page.getByLabel('Operator (admin token)').check();
  await page.getByLabel('Admin token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A new tab signed in as the operator with the root key too (S3 settings need keys), on `hash`. */
export async function openAsRootOperator(
  context: BrowserContext,
  server: TestServer,
  hash: string,
): Promise<Page> {
  const page = await openConsole(context, server);
  await page.getByLabel('Operator (admin token)').check();
  await page.getByLabel(/^Access key ID/).fill(ROOT_ACCESS_KEY);
  await page.getByLabel('Secret access key').fill(ROOT_SECRET_KEY);
  await signInOperator(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(`${consoleUrl(server)}${hash}`);
  return page;
}

export async function signInUser(page: Page, keys: Credentials): Promise<void> {
  await page.getByLabel('Bucket user (access key)').check();
  await page.getByLabel('Access key ID', { exact: true }).fill(keys.accessKeyId);
  await page.getByLabel('Secret access key', { exact: true }).fill(keys.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Saves a screenshot of `page` as `<name>.png` into $HANGAR_CONSOLE_SCREENSHOTS when it is set
 * (the README's pictures are made so); otherwise does nothing.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.HANGAR_CONSOLE_SCREENSHOTS;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}

/** Polls `condition` every 100 ms until it holds; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
