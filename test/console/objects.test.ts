// The console's object browser in a real browser (Debian's Chromium through playwright-core),
// signed in as a bucket user whose key only has grants on one bucket: uploads (a 50 MiB file in
// parallel parts with progress, a 20-file folder, a cancelled one), browsing 3,000 keys by
// folder with infinite scroll, a byte-identical download, a presigned share link opened in a
// fresh browser context, preview, tags, and single and bulk delete.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { type CDPSession, chromium, type Page } from 'playwright-core';
import { adminCall } from '../helpers/admin.js';
import { CHROMIUM, useChromium } from '../helpers/chromium.js';
import { openConsole, screenshot, signInUser, waitUntil } from '../helpers/console.js';
import type { Credentials } from '../helpers/keys.js';
import { objectBytes, s3Failure, useServer, useTempDir } from '../helpers/server.js';

const suite = useServer(test);
const { browserTest, browser } = useChromium(test, 'console object browser tests', [
  '--window-size=1280,900',
]);
const temp = useTempDir(test, 'hangar-console-');
const BUCKET = `console-objects-${process.pid}`;
const BIG_BYTES = 50 * 1024 * 1024;
const big = randomBytes(BIG_BYTES);
let keys: Credentials | undefined;
let page: Page | undefined;
let rootClient: S3Client | undefined;

/**
 * The test's own root client. Retrying: its keep-alive sockets sit idle while the browser works
 * (a 50 MiB download), and one the server closed meanwhile fails the next call with ECONNRESET.
 */
function root(): S3Client {
  rootClient ??= suite.server.client(undefined, { maxAttempts: 3 });
  return rootClient;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The signed-in tab: a key granted read, write and owner on BUCKET, made via the admin API. */
async function userPage(): Promise<Page> {
  if (page !== undefined) return page;
  const created = await adminCall(suite.server, 'POST', '/v2/CreateKey', { name: 'browser' });
  keys = { accessKeyId: created.json.accessKeyId, secretAccessKey: created.json.secretAccessKey };
  const bucket = await adminCall(suite.server, 'POST', '/v2/CreateBucket', { globalAlias: BUCKET });
  await adminCall(suite.server, 'POST', '/v2/AllowBucketKey', {
    bucketId: bucket.json.id,
    accessKeyId: keys.accessKeyId,
    permissions: { read: true, write: true, owner: true },
  });
  page = await openConsole(await browser(), suite.server);
  await signInUser(page, keys);
  await page.locator(`tr[data-bucket="${BUCKET}"]`).getByRole('link', { name: BUCKET }).click();
  await page.getByRole('heading', { name: `Buckets / ${BUCKET}` }).waitFor();
  return page;
}

/** Records in the page every `data-loaded` value an upload row shows (window.__progressSeen). */
const PROGRESS_RECORDER = `(() => {
  window.__progressSeen = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      const value = change.target.getAttribute && change.target.getAttribute('data-loaded');
      if (value !== null && value !== undefined) window.__progressSeen.push(Number(value));
    }
  }).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-loaded'],
  });
})()`;

/** Limits the tab's upload bandwidth (Chromium's network emulation); null lifts the limit. */
async function throttleUploads(p: Page, bytesPerSecond: number | null): Promise<void> {
  // One session, kept: the emulation ends with the session that set it.
  cdp ??= await p.context().newCDPSession(p);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond ?? -1,
  });
}
let cdp: CDPSession | undefined;

/** The listing's rows (objects and folders) once its last page is in. */
function rows(p: Page) {
  return p.locator('tr[data-key]');
}

browserTest('uploads a 50 MiB file in parts with progress, and a 20-file folder', async (t) => {
  const p = await userPage();
  await p.evaluate(PROGRESS_RECORDER);
  // Playwright passes files over 50 MB by path only.
  const path = join(temp, 'big.bin');
  writeFileSync(path, big);
  await p.locator('input[name="files"]').setInputFiles(path);
  const item = p.locator('li[data-upload="big.bin"]');
  await waitUntil(
    'the 50 MiB upload finishes',
    async () => (await item.getAttribute('data-state')) === 'done',
    60_000,
  );
  // Progress is reported while the parts go: some value strictly between 0 and the size was
  // shown (recorded in the page as it was rendered, however slowly this test polls).
  const seen = await p.evaluate<number[]>('window.__progressSeen');
  const between = seen.filter((loaded) => loaded > 0 && loaded < BIG_BYTES);
  t.true(between.length > 0, `progress seen: ${[...seen].join(', ')}`);
  const head = await root().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }));
  t.is(head.ContentLength, BIG_BYTES);
  t.regex(head.ETag ?? '', /-\d+"$/, 'a multipart upload');
  await p.locator('tr[data-key="big.bin"]').waitFor();

  const folder = join(temp, 'photos');
  mkdirSync(folder);
  for (let i = 0; i < 20; i++) {
    writeFileSync(join(folder, `file-${String(i).padStart(2, '0')}.txt`), `photo ${i}\n`);
  }
  await p.locator('input[name="folder"]').setInputFiles(folder);
  await waitUntil(
    'the 20 files are uploaded',
    async () => (await p.locator('li[data-upload^="photos/"][data-state="done"]').count()) === 20,
    30_000,
  );
  const listed = await root().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'photos/' }));
  t.is(listed.KeyCount, 20);
  t.is(
    await objectBytes(root(), BUCKET, 'photos/file-07.txt').then((b) => b.toString()),
    'photo 7\n',
  );
  await p.locator('tr[data-key="photos/"]').waitFor();
  await screenshot(p, 'objects');
});

browserTest('cancelling an upload aborts it: no object, no multipart upload left', async (t) => {
  const p = await userPage();
  await p.getByRole('button', { name: 'Clear finished' }).click();
  await p.locator('li[data-upload]').first().waitFor({ state: 'detached' });
  // Slowed to 4 MiB/s: the upload is still going when Cancel is pressed.
  await throttleUploads(p, 4 * 1024 * 1024);
  const path = join(temp, 'cancelled.bin');
  writeFileSync(path, big);
  await p.locator('input[name="files"]').setInputFiles(path);
  const item = p.locator('li[data-upload="cancelled.bin"]');
  await item.locator('xpath=self::*[@data-state="uploading"]').waitFor();
  await item.getByRole('button', { name: 'Cancel' }).click();
  await waitUntil('the upload is cancelled', async () =>
    ['cancelled', 'failed'].includes((await item.getAttribute('data-state')) ?? ''),
  );
  t.is(await item.getAttribute('data-state'), 'cancelled');
  await throttleUploads(p, null);
  await waitUntil('no multipart upload is left', async () => {
    const uploads = await root().send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    return (uploads.Uploads ?? []).length === 0;
  });
  const missing = await s3Failure(
    root().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'cancelled.bin' })),
  );
  t.is(missing.status, 404);
});

browserTest('browses 3,000 keys by folder, fetching pages as the list scrolls', async (t) => {
  const p = await userPage();
  const startedMs = Date.now();
  const names = Array.from({ length: 3000 }, (_, i) => `many/k-${String(i).padStart(4, '0')}`);
  names.push('many/sub/inner.txt');
  for (let at = 0; at < names.length; at += 64) {
    await Promise.all(
      names
        .slice(at, at + 64)
        .map((Key) => root().send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }))),
    );
  }
  t.log(`3,001 keys written in ${Date.now() - startedMs} ms`);
  await p.getByRole('button', { name: 'Refresh' }).click();
  await p.locator('tr[data-key="many/"]').getByRole('button', { name: 'many/' }).click();
  await p.locator('tr[data-key="many/k-0000"]').waitFor();
  const firstPage = await rows(p).count();
  t.true(firstPage < 3001, `the first page already had ${firstPage} rows`);
  const sentinel = p.locator('tr.sentinel');
  await waitUntil(
    'every key is listed',
    async () => {
      if ((await sentinel.textContent()) === '3001 entries') return true;
      await sentinel.scrollIntoViewIfNeeded();
      return false;
    },
    45_000,
  );
  t.is(await rows(p).count(), 3001);
  t.is(await p.locator('tr[data-key="many/k-2999"]').count(), 1);
  await p.locator('tr[data-key="many/sub/"]').getByRole('button', { name: 'sub/' }).click();
  await p.locator('tr[data-key="many/sub/inner.txt"]').waitFor();
  t.is((await sentinel.textContent()) ?? '', '1 entries');
  await p.getByRole('navigation', { name: 'Folder' }).getByRole('button', { name: BUCKET }).click();
  await p.locator('tr[data-key="big.bin"]').waitFor();
});

browserTest(
  'downloads byte-identical; a share link works in a fresh browser; preview, tags, delete',
  async (t) => {
    const p = await userPage();
    const [download] = await Promise.all([
      p.waitForEvent('download', { timeout: 30_000 }),
      p.locator('tr[data-key="big.bin"]').getByRole('button', { name: 'Download' }).click(),
    ]);
    t.is(download.suggestedFilename(), 'big.bin');
    const saved = join(temp, 'downloaded.bin');
    await download.saveAs(saved);
    t.is(sha256(readFileSync(saved)), sha256(big));

    const text = 'hello from the console\n';
    await root().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'hello.txt',
        Body: text,
        ContentType: 'text/plain',
      }),
    );
    await p.getByRole('button', { name: 'Refresh' }).click();
    await p
      .locator('tr[data-key="hello.txt"]')
      .getByRole('button', { name: 'hello.txt', exact: true })
      .click();
    const details = p.getByRole('complementary', { name: 'Object hello.txt' });
    await details.getByRole('button', { name: 'Create share link' }).click();
    const url = await details.locator('input[name="shareUrl"]').inputValue();
    t.true(url.startsWith(`${suite.server.endpoint}/${BUCKET}/hello.txt?`), url);
    t.true(url.includes('X-Amz-Expires=3600'), url);
    // A fresh browser, no session, no console: the link alone works.
    const fresh = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const context = await fresh.newContext();
      const response = await (await context.newPage()).goto(url);
      t.is(response?.status(), 200);
      t.is(await response?.text(), text);
    } finally {
      await fresh.close();
    }

    await details.getByRole('button', { name: 'Preview' }).click();
    t.is(await details.locator('pre.preview').textContent(), text);
    await details.getByLabel('Tags (one key=value a line)').fill('team=blue\nstage=test');
    await details.getByRole('button', { name: 'Save tags' }).click();
    await details.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const tagging = await root().send(
      new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'hello.txt' }),
    );
    t.deepEqual(
      [...(tagging.TagSet ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '')),
      [
        { Key: 'stage', Value: 'test' },
        { Key: 'team', Value: 'blue' },
      ],
    );
    await details.getByRole('button', { name: 'Close' }).click();

    await p.locator('tr[data-key="hello.txt"]').getByRole('button', { name: 'Delete' }).click();
    await p.locator('tr[data-key="hello.txt"]').waitFor({ state: 'detached' });
    const gone = await s3Failure(
      root().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'hello.txt' })),
    );
    t.is(gone.status, 404);

    await p.locator('tr[data-key="photos/"]').getByRole('button', { name: 'photos/' }).click();
    for (const n of ['00', '01', '02']) {
      await p.getByLabel(`Select file-${n}.txt`).check();
    }
    await p.getByRole('button', { name: 'Delete selected (3)' }).click();
    await p.locator('tr[data-key="photos/file-00.txt"]').waitFor({ state: 'detached' });
    await p.locator('tr[data-key="photos/file-03.txt"]').waitFor();
    const left = await root().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'photos/' }));
    t.is(left.KeyCount, 17);
  },
);

/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

browserTest(
  'a dropped image uploads; its panel shows type, size, ETag, user metadata and a preview',
  async (t) => {
    const p = await userPage();
    // To the bucket's top (the test before left the listing in photos/).
    await p
      .getByRole('navigation', { name: 'Folder' })
      .getByRole('button', { name: BUCKET })
      .click();
    // A real drop event carrying a DataTransfer with a File, as a person's drag makes.
    const transfer = await p.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob('${PNG.toString('base64')}'), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return transfer;
    })()`);
    const zone = p.locator('section.dropzone');
    await zone.dispatchEvent('dragover', { dataTransfer: transfer });
    await zone.dispatchEvent('drop', { dataTransfer: transfer });
    const item = p.locator('li[data-upload="dropped.png"]');
    await waitUntil(
      'the dropped file is uploaded',
      async () => (await item.getAttribute('data-state')) === 'done',
    );
    t.deepEqual(await objectBytes(root(), BUCKET, 'dropped.png'), PNG);
    const head = await root().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'dropped.png' }));
    t.is(head.ContentType, 'image/png');

    await p.getByRole('button', { name: 'Refresh' }).click();
    await p
      .locator('tr[data-key="dropped.png"]')
      .getByRole('button', { name: 'dropped.png', exact: true })
      .click();
    const details = p.getByRole('complementary', { name: 'Object dropped.png' });
    const field = (name: string) =>
      details.locator(`xpath=.//dt[normalize-space()="${name}"]/following-sibling::dd[1]`);
    await field('ETag').waitFor();
    t.is(await field('Type').textContent(), 'image/png');
    t.is(await field('Size').textContent(), `${PNG.length} B`);
    t.is(await field('ETag').textContent(), head.ETag ?? '');
    await details.getByRole('button', { name: 'Preview' }).click();
    const image = details.getByRole('img', { name: 'dropped.png' });
    await waitUntil(
      'the preview image is loaded',
      async () =>
        (await image.evaluate(
          (img) => (img as unknown as { naturalWidth: number }).naturalWidth,
        )) === 1,
    );
    await details.getByRole('button', { name: 'Close' }).click();

    await root().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'labelled.txt',
        Body: 'labelled\n',
        ContentType: 'text/plain',
        Metadata: { project: 'hangar' },
      }),
    );
    await p.getByRole('button', { name: 'Refresh' }).click();
    await p
      .locator('tr[data-key="labelled.txt"]')
      .getByRole('button', { name: 'labelled.txt', exact: true })
      .click();
    const labelled = p.getByRole('complementary', { name: 'Object labelled.txt' });
    await labelled.locator('dt', { hasText: 'x-amz-meta-project' }).waitFor();
    t.is(
      await labelled
        .locator('xpath=.//dt[normalize-space()="x-amz-meta-project"]/following-sibling::dd[1]')
        .textContent(),
      'hangar',
    );
    await labelled.getByRole('button', { name: 'Close' }).click();
  },
);
