import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketIntelligentTieringConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { eventually } from '../helpers/fsck.js';
import { DAY_MS, runLifecycle } from '../helpers/lifecycle-run.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { randomBytesSeeded, s3Failure, TestServer } from '../helpers/server.js';

/*
 * Lifecycle transitions and intelligent tiering, applied by real lifecycle runs (SIGUSR2) on a
 * server whose lifecycle clock is ahead (HANGAR_CLOCK_OFFSET_MS): classes change, the bytes,
 * ETag, Last-Modified and version id do not.
 */

const KIB = 1024;

async function head(s3: S3Client, bucket: string, key: string, versionId?: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
}

async function bytesOf(s3: S3Client, bucket: string, key: string, versionId?: string) {
  const got = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return Buffer.from((await got.Body?.transformToByteArray()) ?? []);
}

/** PUTs each [key, bytes, class?]: the i-th body is randomBytesSeeded(bytes, i + 1). */
async function putAll(
  s3: S3Client,
  bucket: string,
  objects: ReadonlyArray<readonly [string, number, StorageClass?]>,
): Promise<void> {
  for (const [i, [key, bytes, storageClass]] of objects.entries()) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: randomBytesSeeded(bytes, i + 1),
        StorageClass: storageClass,
      }),
    );
  }
}

/** What a transition must leave as it was. */
function identity(h: HeadObjectCommandOutput) {
  return { etag: h.ETag, lastModified: h.LastModified?.getTime(), versionId: h.VersionId };
}

test('Transition moves due objects down the waterfall, keeping bytes, ETag and dates', async (t) => {
  const server = await TestServer.start({
    shards: 2,
    env: { HANGAR_CLOCK_OFFSET_MS: String(40 * DAY_MS) },
  });
  try {
    const s3 = server.client();
    const bucket = 'trans';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const objects: Array<[string, number, StorageClass?]> = [
      ['logs/big', 300 * KIB],
      ['logs/small', 1 * KIB],
      ['keep/big', 300 * KIB],
      ['sized/small', 1 * KIB],
      ['deep/big', 300 * KIB],
      ['warm/glacier', 300 * KIB, 'GLACIER'],
    ];
    await putAll(s3, bucket, objects);
    const before = new Map<string, HeadObjectCommandOutput>();
    for (const [key] of objects) before.set(key, await head(s3, bucket, key));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'logs',
              Status: 'Enabled',
              Filter: { Prefix: 'logs/' },
              Transitions: [
                { Days: 30, StorageClass: 'STANDARD_IA' },
                { Days: 60, StorageClass: 'GLACIER' },
              ],
            },
            {
              ID: 'sized',
              Status: 'Enabled',
              Filter: { And: { Prefix: 'sized/', ObjectSizeGreaterThan: 10 } },
              Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }],
            },
            {
              // Expiration wins over a transition due at the same run.
              ID: 'deep',
              Status: 'Enabled',
              Filter: { Prefix: 'deep/' },
              Transitions: [{ Days: 1, StorageClass: 'DEEP_ARCHIVE' }],
              Expiration: { Days: 30 },
            },
            {
              // GLACIER is colder than STANDARD_IA: the object stays where it is.
              ID: 'warm',
              Status: 'Enabled',
              Filter: { Prefix: 'warm/' },
              Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }],
            },
          ],
        },
      }),
    );
    const line = await runLifecycle(server);
    t.regex(line, /1 objects expired, 0 uploads aborted, 2 transitioned/);
    t.is(metricValue(await scrapeMetrics(server), 'hangar_lifecycle_transitions_total'), 2);

    const big = await head(s3, bucket, 'logs/big');
    t.is(big.StorageClass, 'STANDARD_IA');
    t.deepEqual(identity(big), identity(before.get('logs/big') as HeadObjectCommandOutput));
    t.deepEqual(await bytesOf(s3, bucket, 'logs/big'), randomBytesSeeded(300 * KIB, 1));
    // Under 128 KiB: not transitioned by default (all_storage_classes_128K).
    t.is((await head(s3, bucket, 'logs/small')).StorageClass, undefined);
    t.is((await head(s3, bucket, 'keep/big')).StorageClass, undefined);
    // A size filter of the rule's own overrides the default minimum.
    const sized = await head(s3, bucket, 'sized/small');
    t.is(sized.StorageClass, 'GLACIER_IR');
    t.deepEqual(await bytesOf(s3, bucket, 'sized/small'), randomBytesSeeded(1 * KIB, 4));
    t.is((await s3Failure(head(s3, bucket, 'deep/big'))).status, 404);
    t.is((await head(s3, bucket, 'warm/glacier')).StorageClass, 'GLACIER');

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const classes = Object.fromEntries(
      (listed.Contents ?? []).map((entry) => [entry.Key, entry.StorageClass]),
    );
    t.deepEqual(classes, {
      'keep/big': 'STANDARD',
      'logs/big': 'STANDARD_IA',
      'logs/small': 'STANDARD',
      'sized/small': 'GLACIER_IR',
      'warm/glacier': 'GLACIER',
    });
    // A second run changes nothing: the classes are already where the rules want them.
    t.regex(await runLifecycle(server), /0 objects expired, 0 uploads aborted, 0 transitioned/);
    t.is((await head(s3, bucket, 'logs/big')).StorageClass, 'STANDARD_IA');
  } finally {
    await server.destroy();
  }
});

test('NoncurrentVersionTransition moves old versions, keeping the newer ones', async (t) => {
  const server = await TestServer.start({
    env: { HANGAR_CLOCK_OFFSET_MS: String(40 * DAY_MS) },
  });
  try {
    const s3 = server.client();
    const bucket = 'noncurrent';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: randomBytesSeeded(200 * KIB, i) }),
      );
      ids.push(put.VersionId ?? '');
    }
    const oldest = await head(s3, bucket, 'v', ids[0]);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'old',
              Status: 'Enabled',
              Filter: {},
              NoncurrentVersionTransitions: [
                { NoncurrentDays: 30, StorageClass: 'STANDARD_IA', NewerNoncurrentVersions: 1 },
              ],
            },
          ],
        },
      }),
    );
    t.regex(await runLifecycle(server), /1 transitioned/);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const classes = Object.fromEntries(
      (versions.Versions ?? []).map((v) => [v.VersionId, v.StorageClass]),
    );
    t.deepEqual(classes, {
      [ids[0] as string]: 'STANDARD_IA',
      [ids[1] as string]: 'STANDARD',
      [ids[2] as string]: 'STANDARD',
    });
    const moved = await head(s3, bucket, 'v', ids[0]);
    t.is(moved.StorageClass, 'STANDARD_IA');
    t.deepEqual(identity(moved), identity(oldest));
    t.deepEqual(await bytesOf(s3, bucket, 'v', ids[0]), randomBytesSeeded(200 * KIB, 1));
    t.is((await head(s3, bucket, 'v')).StorageClass, undefined);
  } finally {
    await server.destroy();
  }
});

/** Two INTELLIGENT_TIERING versions of one key under an archive-after-90-days configuration;
 *  the current one is read "today". */
async function tieredVersions(s3: S3Client): Promise<{ old: string; current: string }> {
  const bucket = 'tiering-v';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const ids: string[] = [];
  for (let i = 1; i <= 2; i++) {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: randomBytesSeeded(150 * KIB, 10 + i),
        StorageClass: 'INTELLIGENT_TIERING',
      }),
    );
    ids.push(put.VersionId ?? '');
  }
  await s3.send(
    new PutBucketIntelligentTieringConfigurationCommand({
      Bucket: bucket,
      Id: 'all',
      IntelligentTieringConfiguration: {
        Id: 'all',
        Status: 'Enabled',
        Tierings: [{ AccessTier: 'ARCHIVE_ACCESS', Days: 90 }],
      },
    }),
  );
  await bytesOf(s3, bucket, 'k');
  return { old: ids[0] ?? '', current: ids[1] ?? '' };
}

test('intelligent tiering archives an unread INTELLIGENT_TIERING object, not a read one', async (t) => {
  const server = await TestServer.start({
    env: { HANGAR_CLOCK_OFFSET_MS: String(100 * DAY_MS), HANGAR_RESTORE_DELAY_MS: '1500' },
  });
  try {
    const s3 = server.client();
    const bucket = 'tiering';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const objects: Array<[string, number, StorageClass]> = [
      ['it/unread', 200 * KIB, 'INTELLIGENT_TIERING'],
      ['it/read', 200 * KIB, 'INTELLIGENT_TIERING'],
      ['it/small', 1 * KIB, 'INTELLIGENT_TIERING'],
      ['it/standard', 200 * KIB, 'STANDARD'],
      ['other/unread', 200 * KIB, 'INTELLIGENT_TIERING'],
    ];
    await putAll(s3, bucket, objects);
    await s3.send(
      new PutBucketIntelligentTieringConfigurationCommand({
        Bucket: bucket,
        Id: 'archive',
        IntelligentTieringConfiguration: {
          Id: 'archive',
          Status: 'Enabled',
          Filter: { Prefix: 'it/' },
          Tierings: [
            { AccessTier: 'ARCHIVE_ACCESS', Days: 90 },
            { AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 180 },
          ],
        },
      }),
    );
    // A versioned bucket: its noncurrent versions are watched too.
    const versioned = await tieredVersions(s3);
    // Read "today" on the server's clock (100 days after the writes).
    t.deepEqual(await bytesOf(s3, bucket, 'it/read'), randomBytesSeeded(200 * KIB, 2));
    t.regex(await runLifecycle(server), /2 archived by intelligent tiering/);
    t.is(metricValue(await scrapeMetrics(server), 'hangar_intelligent_tiering_archived_total'), 2);
    const old = await head(s3, 'tiering-v', 'k', versioned.old);
    t.is(old.ArchiveStatus, 'ARCHIVE_ACCESS');
    t.is((await head(s3, 'tiering-v', 'k', versioned.current)).ArchiveStatus, undefined);

    const archived = await head(s3, bucket, 'it/unread');
    t.is(archived.StorageClass, 'INTELLIGENT_TIERING');
    t.is(archived.ArchiveStatus, 'ARCHIVE_ACCESS');
    const refused = await s3Failure(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'it/unread' })),
    );
    t.is(refused.name, 'InvalidObjectState');
    t.is(refused.status, 403);
    for (const key of ['it/read', 'it/small', 'it/standard', 'other/unread']) {
      t.is((await head(s3, bucket, key)).ArchiveStatus, undefined, key);
    }
    t.deepEqual(await bytesOf(s3, bucket, 'it/read'), randomBytesSeeded(200 * KIB, 2));

    // RestoreObject brings it back to the frequent tier for good (no temporary copy).
    const restore = await s3.send(
      new RestoreObjectCommand({ Bucket: bucket, Key: 'it/unread', RestoreRequest: { Days: 1 } }),
    );
    t.is(restore.$metadata.httpStatusCode, 202);
    t.is((await head(s3, bucket, 'it/unread')).Restore, 'ongoing-request="true"');
    t.true(
      await eventually(
        async () => (await head(s3, bucket, 'it/unread')).ArchiveStatus === undefined,
        10_000,
        50,
      ),
    );
    const back = await head(s3, bucket, 'it/unread');
    t.is(back.StorageClass, 'INTELLIGENT_TIERING');
    t.is(back.Restore, undefined);
    t.deepEqual(await bytesOf(s3, bucket, 'it/unread'), randomBytesSeeded(200 * KIB, 1));
    // Read at its restore, it is not archived again by the next run.
    t.regex(await runLifecycle(server), /0 archived by intelligent tiering/);
  } finally {
    await server.destroy();
  }
});
