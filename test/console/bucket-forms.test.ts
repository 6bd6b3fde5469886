// The console's lifecycle and tagging forms in a real browser (Debian's Chromium through
// playwright-core): rules and tags saved and read back through S3, S3's refusals shown at the
// field they are about; then the overview's lifecycle and orphan-sweep buttons running those
// workers (the server's clock runs three days ahead, so the saved rule expires an object), and
// the latency and capacity charts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketTaggingCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import type { Page } from 'playwright-core';
import { DAY_MS } from '../../engine/lifecycle.js';
import { shardPath } from '../helpers/blocks.js';
import { useChromium } from '../helpers/chromium.js';
import { openAsRootOperator, screenshot, waitUntil } from '../helpers/console.js';
import { newBucket, objectBytes, s3Failure, useServer } from '../helpers/server.js';

const suite = useServer(test, {
  shards: 1,
  env: { HANGAR_CLOCK_OFFSET_MS: String(3 * DAY_MS) },
});
const { browserTest, browser } = useChromium(test, 'console form browser tests', [
  '--window-size=1280,900',
]);

/** The operator, with the root key too (S3 settings need keys), on `hash`. */
async function openAsOperator(hash: string): Promise<Page> {
  return openAsRootOperator(await browser(), suite.server, hash);
}

let lifecycleBucket = '';

browserTest('lifecycle rules are a form: refused in place, saved, read back', async (t) => {
  lifecycleBucket = await newBucket(suite.s3, 'console-lifecycle');
  const page = await openAsOperator(`#/buckets/${lifecycleBucket}/settings`);
  const form = page.locator('form[data-config="lifecycle"]');
  await form.getByText('No lifecycle rules').waitFor();
  await form.getByRole('button', { name: 'Add lifecycle rule' }).click();
  const first = form.locator('fieldset[data-lifecycle-rule="0"]');
  await first.getByLabel('ID', { exact: true }).fill('expire-tmp');
  await first.getByLabel('Prefix').fill('tmp/');
  await first.getByLabel('Days after creation').fill('0');
  await form.getByRole('button', { name: 'Save lifecycle' }).click();
  // AWS's own message, under the field it is about, tied to it.
  const problem = first.locator('.field-error');
  await problem.waitFor();
  t.is(
    await problem.textContent(),
    "InvalidArgument: 'Days' for Expiration action must be a positive integer",
  );
  const days = first.getByLabel('Days after creation');
  t.is(await days.getAttribute('aria-invalid'), 'true');
  t.is(await days.getAttribute('aria-describedby'), await problem.getAttribute('id'));
  await first.evaluate((rule) => (rule as unknown as { scrollIntoView(): void }).scrollIntoView());
  await screenshot(page, 'lifecycle');

  await days.fill('1');
  await first.getByLabel('Abort incomplete uploads after (days)').fill('2');
  await form.getByRole('button', { name: 'Add lifecycle rule' }).click();
  const second = form.locator('fieldset[data-lifecycle-rule="1"]');
  await second.getByLabel('ID', { exact: true }).fill('old-versions');
  await second.getByLabel('Status').selectOption('Disabled');
  await second.getByLabel('Tags (key=value, one a line)').fill('class=scratch');
  await second.getByLabel('Size greater than (bytes)').fill('1024');
  await second.getByLabel('Expire', { exact: true }).selectOption('none');
  await second.getByLabel('Noncurrent versions expire after (days)').fill('30');
  await second.getByLabel('Newer noncurrent versions kept').fill('2');
  // Tags and AbortIncompleteMultipartUpload do not go together: S3 says so, at that field.
  await second.getByLabel('Abort incomplete uploads after (days)').fill('5');
  await form.getByRole('button', { name: 'Save lifecycle' }).click();
  const abortProblem = second.locator('.field-error');
  await abortProblem.waitFor();
  t.is(
    await abortProblem.textContent(),
    'InvalidRequest: AbortIncompleteMultipartUpload cannot be specified with Tags.',
  );
  t.is(await first.locator('.field-error').count(), 0);
  await second.getByLabel('Abort incomplete uploads after (days)').fill('');
  await form.getByRole('button', { name: 'Save lifecycle' }).click();
  await form.getByRole('status').filter({ hasText: 'Lifecycle saved' }).waitFor();

  const xml = (await page.locator('pre[data-xml="lifecycle"]').textContent()) ?? '';
  for (const element of [
    '<Prefix>tmp/</Prefix>',
    '<Days>1</Days>',
    '<DaysAfterInitiation>2</DaysAfterInitiation>',
    '<And>',
    '<Key>class</Key>',
    '<ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan>',
    '<NewerNoncurrentVersions>2</NewerNoncurrentVersions>',
  ]) {
    t.true(xml.includes(element), `${element} in\n${xml}`);
  }
  const stored = await suite.s3.send(
    new GetBucketLifecycleConfigurationCommand({ Bucket: lifecycleBucket }),
  );
  const [expire, versions] = stored.Rules ?? [];
  t.like(expire, {
    ID: 'expire-tmp',
    Status: 'Enabled',
    Filter: { Prefix: 'tmp/' },
    Expiration: { Days: 1 },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
  });
  t.like(versions, {
    ID: 'old-versions',
    Status: 'Disabled',
    Filter: { And: { Tags: [{ Key: 'class', Value: 'scratch' }], ObjectSizeGreaterThan: 1024 } },
    NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 2 },
  });
  t.is(versions?.Expiration, undefined);

  // Read back into the form on a fresh load.
  await page.reload();
  await form.locator('fieldset[data-lifecycle-rule="1"]').waitFor();
  t.is(await first.getByLabel('ID', { exact: true }).inputValue(), 'expire-tmp');
  t.is(await first.getByLabel('Days after creation').inputValue(), '1');
  t.is(await second.getByLabel('Tags (key=value, one a line)').inputValue(), 'class=scratch');
  t.is(await second.getByLabel('Status').inputValue(), 'Disabled');
  t.is(await second.getByLabel('Expire', { exact: true }).inputValue(), 'none');
  await page.close();
});

browserTest('transitions of a rule survive a save of the lifecycle form', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-transitions');
  const transitions = [
    { Days: 30, StorageClass: 'STANDARD_IA' as const },
    { Days: 90, StorageClass: 'GLACIER' as const },
  ];
  await suite.s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          { ID: 'tiers', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Transitions: transitions },
        ],
      },
    }),
  );
  const page = await openAsOperator(`#/buckets/${bucket}/settings`);
  const form = page.locator('form[data-config="lifecycle"]');
  const shown = form.locator('[data-lifecycle-transitions="0"]');
  await shown.waitFor();
  t.regex((await shown.textContent()) ?? '', /after 30 days: STANDARD_IA; after 90 days: GLACIER/);
  const xml = (await page.locator('pre[data-xml="lifecycle"]').textContent()) ?? '';
  t.true(xml.includes('<StorageClass>GLACIER</StorageClass>'), xml);
  await form.locator('fieldset[data-lifecycle-rule="0"]').getByLabel('Prefix').fill('logs/app/');
  await form.getByRole('button', { name: 'Save lifecycle' }).click();
  await waitUntil('the edited rule is stored', async () => {
    const stored = await suite.s3.send(
      new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }),
    );
    return stored.Rules?.[0]?.Filter?.Prefix === 'logs/app/';
  });
  const stored = await suite.s3.send(
    new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }),
  );
  t.deepEqual(stored.Rules?.[0]?.Transitions, transitions);
  await page.close();
});

browserTest('tags are key/value rows: added, refused in place, removed', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-tagging');
  const page = await openAsOperator(`#/buckets/${bucket}/settings`);
  const form = page.locator('form[data-config="tagging"]');
  await form.getByText('No tags.').waitFor();
  await form.getByRole('button', { name: 'Add tag' }).click();
  await form.getByLabel('Tag 1 key').fill('team');
  await form.getByLabel('Tag 1 value').fill('storage');
  await form.getByRole('button', { name: 'Add tag' }).click();
  await form.getByLabel('Tag 2 key').fill('aws:owner');
  await form.getByLabel('Tag 2 value').fill('me');
  await form.getByRole('button', { name: 'Save tags' }).click();
  const problem = form.locator('.field-error');
  await problem.waitFor();
  t.is(await problem.textContent(), 'InvalidTag: System tags cannot be added/updated by requester');
  t.is(await form.getByLabel('Tag 2 key').getAttribute('aria-invalid'), 'true');
  t.is(await form.getByLabel('Tag 1 key').getAttribute('aria-invalid'), 'false');

  await form.getByLabel('Tag 2 key').fill('cost-center');
  await form.getByRole('button', { name: 'Save tags' }).click();
  await form.getByRole('status').filter({ hasText: 'Tagging saved' }).waitFor();
  const stored = await suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
  // S3 lists tags sorted by key.
  t.deepEqual(stored.TagSet, [
    { Key: 'cost-center', Value: 'me' },
    { Key: 'team', Value: 'storage' },
  ]);
  t.true(
    ((await page.locator('pre[data-xml="tagging"]').textContent()) ?? '').includes(
      '<Key>cost-center</Key>',
    ),
  );

  await form.getByRole('button', { name: 'Remove tag 1' }).click();
  await form.getByRole('button', { name: 'Save tags' }).click();
  await waitUntil('one tag is left', async () => {
    const got = await suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    return got.TagSet?.length === 1;
  });
  await form.getByRole('button', { name: 'Remove tag 1' }).click();
  await form.getByRole('button', { name: 'Save tags' }).click();
  await form.getByRole('status').filter({ hasText: 'Tagging saved' }).waitFor();
  const none = await s3Failure(suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })));
  t.is(none.name, 'NoSuchTagSet');
  await page.close();
});

/** The overview's row for a worker, its text polled until `expected` matches. */
async function workerRowShows(page: Page, name: string, expected: RegExp): Promise<void> {
  const row = page.locator(`tr[data-worker="${name}"]`);
  await waitUntil(
    `the ${name} row shows ${expected}`,
    async () => expected.test((await row.textContent()) ?? ''),
    20_000,
  );
}

browserTest(
  'the overview runs the lifecycle and orphan-sweep workers; latency and capacity charts',
  async (t) => {
    if (lifecycleBucket === '') return t.fail('the lifecycle form test made no bucket');
    await suite.s3.send(
      new PutObjectCommand({ Bucket: lifecycleBucket, Key: 'tmp/old', Body: 'expires' }),
    );
    await suite.s3.send(
      new PutObjectCommand({ Bucket: lifecycleBucket, Key: 'kept', Body: 'stays' }),
    );
    // A block file nothing references: what the orphan sweep removes.
    const hash = randomBytes(32).toString('hex');
    const orphanDir = join(shardPath(suite.server.dataDir, 0), 'blocks', hash.slice(0, 2));
    mkdirSync(orphanDir, { recursive: true });
    writeFileSync(join(orphanDir, hash), 'an orphan block');

    const page = await openAsOperator('#/overview');
    await workerRowShows(page, 'Lifecycle worker', /Last completed/);
    await page.getByRole('button', { name: 'Run lifecycle' }).click();
    await workerRowShows(page, 'Lifecycle worker', /1 objects expired/);
    t.is((await s3Failure(objectBytes(suite.s3, lifecycleBucket, 'tmp/old'))).status, 404);
    t.is((await objectBytes(suite.s3, lifecycleBucket, 'kept')).toString(), 'stays');

    await page.getByRole('button', { name: 'Run orphan sweep' }).click();
    await workerRowShows(page, 'Orphan block cleanup', /removed 1 files \(15 bytes\)/);
    t.false(existsSync(join(orphanDir, hash)));

    // Latency: p99 points appear once requests finish between scrapes.
    const latency = page.locator('.latency-chart');
    await waitUntil('the latency chart has p99 points', async () => {
      await suite.s3.send(new PutObjectCommand({ Bucket: lifecycleBucket, Key: 'k', Body: 'x' }));
      return Number(await latency.getAttribute('data-p99-points')) >= 2;
    });
    t.is(await page.locator('.latency-chart canvas').count(), 1);
    // Capacity: a bar for the data directory, with its figures in words.
    const disk = page.locator(`li[data-disk="${suite.server.dataDir}"]`);
    await disk.waitFor();
    t.is(await disk.locator('meter').count(), 1);
    t.regex((await disk.textContent()) ?? '', /used of .* free/);
    t.is(await page.getByRole('alert').count(), 0);
    await page.close();
  },
);
