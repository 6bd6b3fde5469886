// The console's overview in a real browser (Debian's Chromium through playwright-core): the
// scrub worker driven through its buttons (start, pause, resume, cancel) with its state read on
// the page and through the admin API, and block errors listed, retried and purged from the page.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import type { Page } from 'playwright-core';
import { onNode } from '../helpers/admin.js';
import { blockPath } from '../helpers/blocks.js';
import { useChromium } from '../helpers/chromium.js';
import { openConsole, signInOperator, waitUntil } from '../helpers/console.js';
import { newBucket, objectBytes, s3Failure, useServer } from '../helpers/server.js';

// Every body a block (nothing inline), one shard: a few hundred small objects are enough blocks
// for a scrub pass of several batches, which tranquility then stretches out.
const suite = useServer(test, { shards: 1, env: { HANGAR_INLINE_BYTES_MAX: '0' } });
const { browserTest, browser } = useChromium(test, 'console overview browser tests');

const SCRUB_NAME = 'Block scrub worker';

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

interface WorkerInfo {
  id: number;
  name: string;
  state: unknown;
  progress: string | null;
  freeform: string[];
}

async function scrubWorker(): Promise<WorkerInfo> {
  const { node } = await onNode(suite.server, 'POST', 'ListWorkers', {});
  const found = (node as WorkerInfo[]).find((w) => w.name === SCRUB_NAME);
  if (found === undefined) throw new Error('no scrub worker listed');
  const info = await onNode(suite.server, 'POST', 'GetWorkerInfo', { id: found.id });
  if (info.status !== 200) throw new Error(info.text);
  return info.node as WorkerInfo;
}

async function setTranquility(value: number): Promise<void> {
  const set = await onNode(suite.server, 'POST', 'SetWorkerVariable', {
    variable: 'scrub-tranquility',
    value: String(value),
  });
  if (set.status !== 200) throw new Error(set.text);
}

async function blockErrors(): Promise<Array<{ blockHash: string; errorCount: number }>> {
  const { status, node, text } = await onNode(suite.server, 'GET', 'ListBlockErrors');
  if (status !== 200) throw new Error(text);
  return node as Array<{ blockHash: string; errorCount: number }>;
}

/** The overview's row for the scrub worker, its text polled until `expected` matches. */
async function scrubRowShows(page: Page, expected: RegExp): Promise<void> {
  const row = page.locator(`tr[data-worker="${SCRUB_NAME}"]`);
  await waitUntil(`the scrub row shows ${expected}`, async () =>
    expected.test((await row.textContent()) ?? ''),
  );
}

browserTest(
  'an operator starts, pauses, resumes and cancels a scrub from the overview',
  async (t) => {
    const bucket = await newBucket(suite.s3, 'console-scrub');
    // 200 blocks: four batches of 64; tranquility 1000 sleeps a second per ms a batch took.
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          suite.s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: `o${i + j}`, Body: `block ${i + j}` }),
          ),
        ),
      );
    }
    await setTranquility(1000);
    const page = await openConsole(await browser(), suite.server);
    await signInOperator(page);
    await scrubRowShows(page, /idle/);

    await page.getByRole('button', { name: 'Scrub: start' }).click();
    await scrubRowShows(page, /\/200 blocks/);
    let scrub = await scrubWorker();
    t.regex(scrub.progress ?? '', /\/200 blocks/);
    t.not(scrub.state, 'idle');

    await page.getByRole('button', { name: 'Scrub: pause' }).click();
    await scrubRowShows(page, /Paused until/);
    scrub = await scrubWorker();
    t.is(scrub.state, 'idle');
    t.regex(scrub.freeform[0] ?? '', /^Paused until/);
    t.truthy(scrub.progress, 'a paused pass keeps its progress');

    await page.getByRole('button', { name: 'Scrub: resume' }).click();
    await waitUntil('the page no longer shows the pause', async () => {
      const row = await page.locator(`tr[data-worker="${SCRUB_NAME}"]`).textContent();
      return !(row ?? '').includes('Paused');
    });
    scrub = await scrubWorker();
    t.false(scrub.freeform.some((line) => line.startsWith('Paused')));
    t.truthy(scrub.progress, 'resumed, the pass runs on');

    await page.getByRole('button', { name: 'Scrub: cancel' }).click();
    await waitUntil('the scrub is cancelled', async () => (await scrubWorker()).progress === null);
    scrub = await scrubWorker();
    t.is(scrub.state, 'idle');
    t.true(
      scrub.freeform.some((line) => line === 'Last completed: never'),
      'cancelled, not done',
    );
    await waitUntil('the page shows no progress', async () => {
      const row = await page.locator(`tr[data-worker="${SCRUB_NAME}"]`).textContent();
      return !(row ?? '').includes('blocks,');
    });
    t.is(await page.getByRole('alert').count(), 0);
    await setTranquility(0);
    await page.close();
  },
);

browserTest('block errors are listed on the overview, retried and purged there', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-block-errors');
  const restored = Buffer.from('a block the operator restores from a backup');
  const lost = Buffer.from('a block that is lost for good');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'restored', Body: restored }));
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lost', Body: lost }));
  const restoredPath = blockPath(suite.server.dataDir, 1, sha256(restored));
  const lostPath = blockPath(suite.server.dataDir, 1, sha256(lost));
  if (restoredPath === null || lostPath === null) throw new Error('the blocks are not on disk');
  rmSync(restoredPath);
  rmSync(lostPath);

  const page = await openConsole(await browser(), suite.server);
  await signInOperator(page);
  await page.getByRole('button', { name: 'Scrub: start' }).click();
  await waitUntil('the scrub found both', async () => (await blockErrors()).length === 2, 20_000);
  // The overview refreshes every 5 s; the list appears without a reload.
  const errorList = page.locator('li', { hasText: sha256(restored) });
  await errorList.waitFor();
  await page.locator('li', { hasText: sha256(lost) }).waitFor();

  mkdirSync(dirname(restoredPath), { recursive: true });
  writeFileSync(restoredPath, restored);
  await page.getByRole('button', { name: 'Retry all' }).click();
  await errorList.waitFor({ state: 'detached' });
  t.deepEqual(
    (await blockErrors()).map((e) => e.blockHash),
    [sha256(lost)],
  );
  t.true((await objectBytes(suite.s3, bucket, 'restored')).equals(restored));

  await page.getByRole('button', { name: 'Purge all' }).click(); // confirm() is accepted
  await page.getByText('None.').waitFor();
  t.deepEqual(await blockErrors(), []);
  t.is((await s3Failure(objectBytes(suite.s3, bucket, 'lost'))).status, 404);
  t.true((await objectBytes(suite.s3, bucket, 'restored')).equals(restored));
  t.is(await page.getByRole('alert').count(), 0);
  await page.close();
});
