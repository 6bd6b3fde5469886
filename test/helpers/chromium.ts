import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestFn } from 'ava';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium), driven through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * A headless Chromium for a test file's browser tests. `browserTest` is `test.serial` where
 * Chromium is installed and `test.serial.skip` (with a note on stderr naming `what`) where not;
 * `browser()` launches it on first use with a fresh profile and `extraArgs`, and the browser and
 * its profile go away after the file's tests.
 */
export function useChromium<Context>(
  test: TestFn<Context>,
  what: string,
  extraArgs: string[] = [],
) {
  const installed = existsSync(CHROMIUM);
  if (!installed) {
    process.stderr.write(`${what} SKIPPED: no ${CHROMIUM} (apt-get install chromium)\n`);
  }
  let browser: BrowserContext | undefined;
  let profileDir: string | undefined;
  test.after.always(async () => {
    await browser?.close().catch(() => undefined);
    if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true });
  });
  return {
    browserTest: installed ? test.serial : test.serial.skip,
    async browser(): Promise<BrowserContext> {
      if (browser !== undefined) return browser;
      profileDir = mkdtempSync(join(tmpdir(), 'hangar-chromium-'));
      browser = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 60_000,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          ...extraArgs,
        ],
      });
      return browser;
    },
  };
}
