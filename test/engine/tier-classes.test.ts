import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { blockFilesIn, bytesOf, tierLayout } from '../helpers/data-dirs.js';
import { eventually } from '../helpers/fsck.js';
import { DAY_MS, runLifecycle } from '../helpers/lifecycle-run.js';
import { newBucket, s3Failure, TestServer, useTempDir } from '../helpers/server.js';

/**
 * Storage classes land in their tiers (issue 18): a write's x-amz-storage-class places its
 * blocks in the class's tier (zstd-compressed where that tier compresses), a copy to another
 * class moves the copy's blocks there before it is answered, and a lifecycle transition moves
 * the version's blocks after its record names the new class. Bytes read back identical.
 */

// Serial: three tiered servers at once on a small machine only slow each other down.
const root = useTempDir(test, 'hangar-tier-classes-');

/** A cold tier that holds STANDARD_IA and GLACIER, compressed. */
const COLD_ZSTD = '[tiers.cold]\nclasses = ["STANDARD_IA", "GLACIER"]\ncompression = "zstd"\n';

/** 256 KiB of text (four whole 64 KiB blocks): compressible, over the 128 KiB transition minimum. */
function textBody(seed: string): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < 256 * 1024; i++) {
    const line = `${seed} line ${i}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, 256 * 1024);
}

const compressed = (files: string[]) => files.filter((name) => name.endsWith('.zst'));

async function startTiered(clockOffsetMs = 0) {
  const layout = tierLayout(
    root,
    { hot: { capacity: '1T' }, cold: { capacity: '1T', tier: 'cold' } },
    COLD_ZSTD,
  );
  const server = await TestServer.start({
    dataDir: layout.dataDir,
    shards: 2,
    args: ['--config', layout.config],
    ...(clockOffsetMs > 0 ? { env: { HANGAR_CLOCK_OFFSET_MS: String(clockOffsetMs) } } : {}),
  });
  return { server, ...layout.dirs };
}

test.serial(
  'a write in a tiered class lands in its tier, compressed; archive stays unreadable',
  async (t) => {
    const { server, hot, cold } = await startTiered();
    try {
      const s3 = server.client();
      const bucket = await newBucket(s3, 'classes');
      const ia = textBody('ia');
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'ia', Body: ia, StorageClass: 'STANDARD_IA' }),
      );
      t.is(blockFilesIn(hot).length, 0, 'nothing in the standard tier');
      const coldFiles = blockFilesIn(cold);
      t.true(coldFiles.length > 0);
      t.deepEqual(compressed(coldFiles), coldFiles, 'the cold tier compresses text');
      t.true((await bytesOf(server, bucket, 'ia')).equals(ia));

      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'glacier',
          Body: textBody('glacier'),
          StorageClass: 'GLACIER',
        }),
      );
      t.true(blockFilesIn(cold).length > coldFiles.length);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'glacier' }));
      t.is(head.StorageClass, 'GLACIER');
      const refused = await s3Failure(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'glacier' })),
      );
      t.is(refused.name, 'InvalidObjectState');
      t.is(refused.status, 403);

      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'std', Body: textBody('std') }));
      t.true(blockFilesIn(hot).length > 0, 'STANDARD stays in the standard tier');
      t.deepEqual(compressed(blockFilesIn(hot)), [], 'the standard tier does not compress');
    } finally {
      await server.stop();
    }
  },
);

test.serial(
  'a copy to a class of another tier moves its blocks there before it is answered',
  async (t) => {
    const { server, hot, cold } = await startTiered();
    try {
      const s3 = server.client();
      const bucket = await newBucket(s3, 'copies');
      const body = textBody('copy');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: body }));
      const hotFiles = blockFilesIn(hot).length;
      t.true(hotFiles > 0);
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'dst',
          CopySource: `${bucket}/src`,
          StorageClass: 'STANDARD_IA',
        }),
      );
      // Answered: the copy's blocks are already in the cold tier, the source's still hot.
      t.is(blockFilesIn(cold).length, hotFiles);
      t.is(blockFilesIn(hot).length, hotFiles);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
      t.is(head.StorageClass, 'STANDARD_IA');
      t.true((await bytesOf(server, bucket, 'dst')).equals(body));
      t.true((await bytesOf(server, bucket, 'src')).equals(body));
    } finally {
      await server.stop();
    }
  },
);

test.serial('a lifecycle transition moves the version blocks to its new class tier', async (t) => {
  const { server, hot, cold } = await startTiered(40 * DAY_MS);
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'transit');
    const body = textBody('transition');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old/a', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new/b', Body: textBody('b') }));
    const hotBefore = blockFilesIn(hot).length;
    t.is(blockFilesIn(cold).length, 0);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'ia',
              Status: 'Enabled',
              Filter: { Prefix: 'old/' },
              Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }],
            },
          ],
        },
      }),
    );
    await runLifecycle(server);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'old/a' }));
    t.is(head.StorageClass, 'STANDARD_IA');
    const coldFiles = blockFilesIn(cold);
    t.true(coldFiles.length > 0, 'the transitioned blocks are in the cold tier');
    t.deepEqual(compressed(coldFiles), coldFiles);
    t.true(
      await eventually(async () => blockFilesIn(hot).length === hotBefore - coldFiles.length),
      'the standard copies are freed',
    );
    t.true((await bytesOf(server, bucket, 'old/a')).equals(body));
    t.true((await bytesOf(server, bucket, 'new/b')).equals(textBody('b')));
  } finally {
    await server.stop();
  }
});
