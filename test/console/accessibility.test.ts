// Accessibility of the console's main pages, audited in a real browser (Debian's Chromium
// through playwright-core) by axe-core: sign-in, overview, buckets, a bucket's settings (its
// CORS, lifecycle, tagging, website and encryption forms open, S3's refusals shown), keys and
// the object browser, each failing on any serious or critical violation. And the keyboard: the
// sign-in form's fields are reached by Tab in reading order, each by its label.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import type { Page } from 'playwright-core';
import { useChromium } from '../helpers/chromium.js';
import { consoleUrl, openConsole, signInOperator } from '../helpers/console.js';
import { newBucket, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, useServer } from '../helpers/server.js';
import { createKmsKey } from '../helpers/sse.js';

const suite = useServer(test);
const { browserTest, browser } = useChromium(test, 'console accessibility browser tests', [
  '--window-size=1280,900',
]);

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/**
 * axe-core's serious and critical violations on the page as it is now. Injected through the
 * DevTools protocol (page.evaluate), which the console's Content-Security-Policy does not govern.
 */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${AXE_SOURCE}\nundefined`);
  const violations = await page.evaluate<Violation[]>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`,
  );
  const describe = (v: Violation) =>
    `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`;
  const serious = (v: Violation) => v.impact === 'serious' || v.impact === 'critical';
  // The lesser ones do not fail the test, but are told.
  for (const v of violations.filter((v) => !serious(v))) {
    process.stderr.write(`axe: ${describe(v)}\n`);
  }
  return violations.filter(serious).map(describe);
}

/** The accessible name of the focused element (its label's text, or its own text). */
function focusedName(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const el = document.activeElement;
    const label = el.labels && el.labels[0];
    return (label ? label.textContent : el.textContent || el.getAttribute('aria-label') || '').trim();
  })()`);
}

/**
 * The settings page with a CORS rule, a lifecycle rule (refused by S3), a tag row, a website
 * routing rule (refused by S3) and SSE-KMS's key list open.
 */
async function openEveryForm(page: Page): Promise<void> {
  await page.getByText('No lifecycle rules').waitFor();
  await page.getByRole('button', { name: 'Add rule', exact: true }).click();
  await page.getByRole('button', { name: 'Add lifecycle rule' }).click();
  await page.getByRole('button', { name: 'Add tag' }).click();
  await page.getByRole('button', { name: 'Add routing rule' }).click();
  await page.getByLabel('HTTP redirect code').fill('300');
  await page.getByRole('button', { name: 'Save website' }).click();
  await page.locator('fieldset[data-routing-rule="0"] .field-error').waitFor();
  await page.getByLabel('Encryption type').selectOption('aws:kms');
  await page.getByLabel('KMS key').waitFor();
  await page.getByLabel('Days after creation').fill('0');
  await page.getByRole('button', { name: 'Save lifecycle' }).click();
  await page.locator('fieldset[data-lifecycle-rule="0"] .field-error').waitFor();
}

/** The accessible names Tab reaches from the first lifecycle rule's ID, in order. */
async function lifecycleTabOrder(page: Page): Promise<string[]> {
  const rule = page.locator('fieldset[data-lifecycle-rule="0"]');
  await rule.getByLabel('ID', { exact: true }).focus();
  const order = [await focusedName(page)];
  for (let i = 0; i < 11; i++) {
    await page.keyboard.press('Tab');
    order.push(await focusedName(page));
  }
  return order;
}

browserTest('sign-in: no serious violations; Tab follows the form in reading order', async (t) => {
  const page = await openConsole(await browser(), suite.server);
  t.deepEqual(await seriousViolations(page), []);
  await page.getByLabel('Operator (admin token)').focus();
  const order = [await focusedName(page)];
  // Radio buttons are one stop (arrows move inside the group): Tab leaves to the fields.
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    order.push(await focusedName(page));
  }
  t.deepEqual(order, [
    'Operator (admin token)',
    'Admin token',
    'Access key ID (optional, to browse objects)',
    'Secret access key',
    'Sign in',
  ]);
  await page.close();
});

browserTest(
  'overview, buckets, settings, keys and objects, both themes: no serious violations',
  async (t) => {
    const bucket = await newBucket(suite.s3, 'console-a11y');
    await createKmsKey(suite.server, 'alias/console-a11y');
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'folder/a.txt', Body: 'a' }));
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'top.txt', Body: 'top' }));
    const page = await openConsole(await browser(), suite.server);
    await page.getByLabel('Operator (admin token)').check();
    await page.getByLabel(/^Access key ID/).fill(ROOT_ACCESS_KEY);
    await page.getByLabel('Secret access key').fill(ROOT_SECRET_KEY);
    await signInOperator(page);
    const base = consoleUrl(suite.server);
    let order: string[] = [];
    const pages: Array<[string, string, () => Promise<void>]> = [
      ['overview', '#/overview', () => page.locator('tr[data-worker]').first().waitFor()],
      ['buckets', '#/buckets', () => page.locator(`tr[data-bucket="${bucket}"]`).waitFor()],
      [
        'bucket settings',
        `#/buckets/${bucket}/settings`,
        async () => {
          await openEveryForm(page);
          order = await lifecycleTabOrder(page);
        },
      ],
      ['keys', '#/keys', () => page.getByRole('button', { name: 'Create key' }).waitFor()],
      [
        'objects',
        `#/buckets/${bucket}`,
        () => page.getByRole('button', { name: 'top.txt', exact: true }).waitFor(),
      ],
    ];
    const found: Record<string, string[]> = {};
    for (const [name, hash, ready] of pages) {
      await page.goto(`${base}${hash}`);
      await ready();
      found[name] = await seriousViolations(page);
    }
    // The other theme's colours too (contrast is checked per theme).
    await page.getByRole('button', { name: /^Switch to (dark|light) theme$/ }).click();
    for (const [name, hash, ready] of pages) {
      if (name === 'keys') continue;
      await page.goto(`${base}${hash}`);
      await ready();
      found[`${name}, other theme`] = await seriousViolations(page);
    }
    // The lifecycle rule's fields are reached by Tab in the order they read.
    t.deepEqual(order, [
      'ID',
      'Status',
      'Prefix',
      'Tags (key=value, one a line)',
      'Size greater than (bytes)',
      'Size less than (bytes)',
      'Expire',
      'Days after creation',
      'Noncurrent versions expire after (days)',
      'Newer noncurrent versions kept',
      'Abort incomplete uploads after (days)',
      'Remove lifecycle rule 1',
    ]);
    t.deepEqual(found, {
      overview: [],
      buckets: [],
      'bucket settings': [],
      keys: [],
      objects: [],
      'overview, other theme': [],
      'buckets, other theme': [],
      'bucket settings, other theme': [],
      'objects, other theme': [],
    });
    await page.close();
  },
);
