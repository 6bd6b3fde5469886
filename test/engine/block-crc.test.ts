import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { segmentCrcsOf } from '../../engine/blocks/segment-crc.js';
import { listedCorrupt, scrubNow } from '../helpers/block-health.js';
import { blockPath, blockRecords, flipByte, shardPath } from '../helpers/blocks.js';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { drainBody, newBucket, objectBytes, s3Failure, TestServer } from '../helpers/server.js';

/**
 * Reads check a block against the CRC32C its shard keeps for it (the blocks table, next to the
 * refcount), computed from the bytes as they were written; a block recorded before CRCs were
 * kept is checked against its name (SHA-256). Every write path leaves each block it references
 * with the CRC of its bytes, cross-shard copies included.
 */

const MiB = 1024 * 1024;
const SHARDS = 2;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A server on a data directory of its own that outlives it (the test stops and restarts it). */
async function freshServer(t: ExecutionContext): Promise<{ dataDir: string; server: TestServer }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-block-crc-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  return { dataDir, server: await TestServer.start({ dataDir, shards: SHARDS }) };
}

async function multipartWithCopiedPart(s3: S3Client, bucket: string, source: string) {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }),
  );
  const first = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'multi',
      UploadId,
      PartNumber: 1,
      Body: randomBytes(5 * MiB + 123),
    }),
  );
  const second = await s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'multi',
      UploadId,
      PartNumber: 2,
      CopySource: `${bucket}/${source}`,
      CopySourceRange: `bytes=0-${MiB + MiB / 2 - 1}`,
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'multi',
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: first.ETag },
          { PartNumber: 2, ETag: second.CopyPartResult?.ETag },
        ],
      },
    }),
  );
  // An upload left open: its part's blocks are referenced too.
  const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'open' }));
  await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'open',
      UploadId: open.UploadId,
      PartNumber: 1,
      Body: randomBytes(MiB + 5),
    }),
  );
}

test.serial('every write path records the CRC32C of each block it references', async (t) => {
  const { dataDir, server } = await freshServer(t);
  const s3 = server.client();
  const source = randomBytes(3 * MiB - 1000);
  const shared = randomBytes(2 * MiB);
  try {
    const bucket = await newBucket(s3, 'crc');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source', Body: source }));
    await multipartWithCopiedPart(s3, bucket, 'source');
    // CopyObject shares the source's blocks; on another shard it adds a name for them there,
    // and records the CRC the source's shard has for them.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared', Body: shared }));
    for (let i = 0; i < 16; i++) {
      await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: `copy-${i}`, CopySource: `${bucket}/shared` }),
      );
    }
  } finally {
    s3.destroy();
    await server.stop();
  }
  const records = blockRecords(dataDir, SHARDS);
  t.true(records.length >= 10, 'the blocks of every object and part are recorded');
  for (const { shard, hash, record } of records) {
    const file = join(shardPath(dataDir, shard), 'blocks', hash.slice(0, 2), hash);
    t.deepEqual(record.crcs, segmentCrcsOf(readFileSync(file)), `${shard}:${hash}`);
  }
  const shardsOfShared = records.filter((r) => r.hash === sha256(shared.subarray(0, MiB)));
  t.is(shardsOfShared.length, SHARDS, 'a copy landed on the shard that did not hold the source');
  const report = await fsckReport(dataDir);
  t.like(report, {
    missingBlocks: [],
    unreferencedBlocks: [],
    refcountMismatches: [],
    counterMismatches: [],
    tempFiles: 0,
  });
});

test.serial(
  'a block recorded without a CRC (an older store) is checked by SHA-256; the scrub fills it in',
  async (t) => {
    const { dataDir, server: first } = await freshServer(t);
    let server = first;
    let s3 = server.client();
    const damaged = randomBytes(3 * MiB);
    const whole = randomBytes(2 * MiB);
    try {
      const bucket = await newBucket(s3, 'legacy');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'damaged', Body: damaged }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'whole', Body: whole }));
      s3.destroy();
      await server.stop();
      let stripped = 0;
      blockRecords(dataDir, SHARDS, (_hash, record) => {
        t.is(
          record.crcs?.values.length,
          Math.ceil(record.bytes / (256 * 1024)),
          'writes record CRCs',
        );
        delete record.crcs; // as recorded before CRCs were kept
        stripped++;
        return true;
      });
      t.is(stripped, 5);
      const hash = sha256(damaged.subarray(MiB, 2 * MiB));
      flipByte(blockPath(dataDir, SHARDS, hash) ?? '', 4321);

      server = await TestServer.start({ dataDir, shards: SHARDS });
      s3 = server.client();
      t.true((await objectBytes(s3, bucket, 'whole')).equals(whole));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'damaged' }));
      const { bytes, broke } = await drainBody(got.Body as Readable);
      t.true(broke, 'the transfer ends in an error, not as a complete body');
      t.true(bytes.length <= MiB, 'nothing of the damaged block arrived');
      t.true(bytes.equals(damaged.subarray(0, bytes.length)));
      t.true(await eventually(() => listedCorrupt(server, hash), 10_000));

      await scrubNow(server);
      s3.destroy();
      await server.stop();
      const wholeHashes = [sha256(whole.subarray(0, MiB)), sha256(whole.subarray(MiB))];
      const filled = blockRecords(dataDir, SHARDS).filter((r) => wholeHashes.includes(r.hash));
      t.is(filled.length, 2);
      for (const { shard, hash: name, record } of filled) {
        const file = join(shardPath(dataDir, shard), 'blocks', name.slice(0, 2), name);
        t.deepEqual(record.crcs, segmentCrcsOf(readFileSync(file)), 'the scrub recorded the CRCs');
      }
    } finally {
      s3.destroy();
      await server.destroy();
    }
  },
);

test.serial(
  'a CRC on record that disagrees with a whole file fails the read once, then is corrected',
  async (t) => {
    const { dataDir, server: first } = await freshServer(t);
    let server = first;
    let s3 = server.client();
    const data = randomBytes(2 * MiB);
    const hash = sha256(data.subarray(0, MiB));
    try {
      const bucket = await newBucket(s3, 'mislabeled');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'object', Body: data }));
      s3.destroy();
      await server.stop();
      const edited = blockRecords(dataDir, SHARDS, (name, record) => {
        const values = record.crcs?.values;
        if (name !== hash || values === undefined) return false;
        values[0] = ((values[0] ?? 0) ^ 0x10) >>> 0;
        return true;
      });
      t.is(edited.filter((r) => r.hash === hash).length, 1);

      server = await TestServer.start({ dataDir, shards: SHARDS });
      s3 = server.client();
      // Reads check the CRC, not the name: the first read cannot tell which is wrong and fails.
      const failure = await s3Failure(objectBytes(s3, bucket, 'object'));
      t.is(failure.status, 500);
      t.is(failure.name, 'InternalError');
      // Its re-check (SHA-256) finds the file whole: nothing is quarantined, the CRC is fixed.
      const served = await eventually(async () => {
        try {
          return (await objectBytes(s3, bucket, 'object')).equals(data);
        } catch {
          return false;
        }
      }, 10_000);
      t.true(served, 'later reads are served');
      t.false(await listedCorrupt(server, hash));
      t.not(blockPath(dataDir, SHARDS, hash), null, 'the file stays');
    } finally {
      s3.destroy();
      await server.destroy();
    }
  },
);

test.serial(
  'a block without CRCs larger than the read window: a damaged one never completes',
  async (t) => {
    // Checked whole against its name, it streams with only its last window (1 MiB) held back.
    const block = 4 * MiB;
    const dataDir = mkdtempSync(join(tmpdir(), 'hangar-block-crc-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { HANGAR_BLOCK_BYTES: String(block) };
    let server = await TestServer.start({ dataDir, shards: SHARDS, env });
    let s3 = server.client();
    const data = randomBytes(6 * MiB);
    try {
      const bucket = await newBucket(s3, 'legacy-large');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large', Body: data }));
      s3.destroy();
      await server.stop();
      blockRecords(dataDir, SHARDS, (_hash, record) => delete record.crcs);
      const hash = sha256(data.subarray(0, block));
      flipByte(blockPath(dataDir, SHARDS, hash) ?? '', 100);

      server = await TestServer.start({ dataDir, shards: SHARDS, env });
      s3 = server.client();
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large' }));
      const { bytes, broke } = await drainBody(got.Body as Readable);
      t.true(broke, 'the transfer ends in an error');
      t.true(bytes.length < block, 'the damaged block never arrives whole');
      t.true(await eventually(() => listedCorrupt(server, hash), 10_000));
    } finally {
      s3.destroy();
      await server.destroy();
    }
  },
);
