import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { onNode } from '../helpers/admin.js';
import { blockPath, editObjectRecords, flipByte, shardPath } from '../helpers/blocks.js';
import { eventually } from '../helpers/fsck.js';
import {
  drainBody,
  newBucket,
  objectBytes,
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  s3Failure,
  TestServer,
  useServer,
  useTempDir,
} from '../helpers/server.js';

/**
 * Bitrot is never served: every block read is checked against its name (SHA-256) before its
 * bytes leave the shard, and inline bodies against the CRC32C stored with them. A damaged first
 * block answers 500 InternalError; a damaged later block cuts the connection after the good
 * blocks (a short body, never a complete wrong one); either way the block is quarantined and
 * listed in ListBlockErrors, as the scrub would, and uploading the same bytes heals it.
 */

const MiB = 1024 * 1024;
const SHARDS = 2;
const OBJECT_BYTES = 3_000_000;

const suite = useServer(test, { shards: SHARDS });
const work = useTempDir(test, 'hangar-bitrot-');

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash (= file name) of block `index` of `data`, in 1 MiB blocks. */
function blockHash(data: Buffer, index: number): string {
  return sha256(data.subarray(index * MiB, (index + 1) * MiB));
}

function quarantined(dataDir: string, hash: string): boolean {
  for (let shard = 0; shard < SHARDS; shard++) {
    const dir = join(shardPath(dataDir, shard), 'quarantine');
    if (existsSync(dir) && readdirSync(dir).some((name) => name.startsWith(`${hash}.`)))
      return true;
  }
  return false;
}

async function blockErrors(server: TestServer): Promise<Array<Record<string, unknown>>> {
  const { status, node } = await onNode(server, 'GET', 'ListBlockErrors');
  if (status !== 200) throw new Error(`ListBlockErrors: ${status}`);
  return node as Array<Record<string, unknown>>;
}

/** Waits until the read's re-check has recorded the block (it runs after the failed reply). */
async function reportedCorrupt(server: TestServer, hash: string): Promise<boolean> {
  return eventually(
    async () =>
      (await blockErrors(server)).some((e) => e.blockHash === hash && e.kind === 'corrupt') &&
      quarantined(server.dataDir, hash),
    10_000,
    50,
  );
}

/** Stores fresh random bytes and damages one byte of block `index`; returns the bytes. */
async function storeAndDamage(bucket: string, key: string, index: number): Promise<Buffer> {
  const data = randomBytes(OBJECT_BYTES);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
  const path = blockPath(suite.server.dataDir, SHARDS, blockHash(data, index));
  if (path === null) throw new Error('the block file is not where blocks live');
  flipByte(path, 4321);
  return data;
}

function aws(...args: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws',
      ['--endpoint-url', suite.server.endpoint, ...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: work,
          AWS_ACCESS_KEY_ID: ROOT_ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: ROOT_SECRET_KEY,
          AWS_DEFAULT_REGION: REGION,
          AWS_MAX_ATTEMPTS: '2',
          AWS_PAGER: '',
        },
      },
      (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : 1),
    );
  });
}

test.serial('a damaged first block answers 500 InternalError and is quarantined', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'bitrot');
  const data = await storeAndDamage(bucket, 'first', 0);
  const failure = await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'first' })));
  t.is(failure.status, 500);
  t.is(failure.name, 'InternalError');
  const hash = blockHash(data, 0);
  t.true(await reportedCorrupt(server, hash), 'listed as corrupt and quarantined');
  t.like(
    (await blockErrors(server)).find((e) => e.blockHash === hash),
    { refcount: 1 },
  );
  // Reads keep failing (the file is gone now) until the same bytes are uploaded again; they
  // do not each re-check and re-record the block (a flood of GETs costs no LMDB commits).
  for (let i = 0; i < 4; i++) {
    t.is((await s3Failure(objectBytes(s3, bucket, 'first'))).status, 500);
  }
  t.like(
    (await blockErrors(server)).find((e) => e.blockHash === hash),
    { errorCount: 1 },
  );
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'first', Body: data }));
  t.false(
    (await blockErrors(server)).some((e) => e.blockHash === hash),
    'the upload healed it',
  );
  t.true((await objectBytes(s3, bucket, 'first')).equals(data));
});

test.serial('a damaged later block cuts the body short: no wrong byte is delivered', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'bitrot');
  const data = await storeAndDamage(bucket, 'middle', 1);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'middle' }));
  t.is(got.$metadata.httpStatusCode, 200);
  t.is(got.ContentLength, OBJECT_BYTES);
  const { bytes, broke } = await drainBody(got.Body as Readable);
  t.true(broke, 'the transfer ends in an error, not as a complete body');
  t.true(bytes.length < OBJECT_BYTES);
  t.true(bytes.equals(data.subarray(0, bytes.length)), 'what arrived is the stored bytes');
  t.true(bytes.length <= MiB, 'nothing of the damaged block arrived');
  t.true(await reportedCorrupt(server, blockHash(data, 1)));
  await t.throwsAsync(objectBytes(s3, bucket, 'middle'), undefined, 'the SDK sees a failure');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'middle', Body: data }));
  t.true((await objectBytes(s3, bucket, 'middle')).equals(data));
});

test.serial('awscli exits non-zero and leaves no complete wrong file', async (t) => {
  const { s3 } = suite;
  const bucket = await newBucket(s3, 'bitrot');
  const data = await storeAndDamage(bucket, 'cli', 2);
  const target = join(work, 'cli.bin');
  t.not(await aws('s3', 'cp', `s3://${bucket}/cli`, target), 0);
  t.false(
    existsSync(target) && readFileSync(target).length === OBJECT_BYTES,
    'no complete file written',
  );
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cli', Body: data }));
  t.is(await aws('s3', 'cp', `s3://${bucket}/cli`, target), 0);
  t.true(readFileSync(target).equals(data));
});

/** A ranged GET's body bytes. */
async function rangeBytes(bucket: string, key: string, start: number, end: number) {
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }),
  );
  if (got.$metadata.httpStatusCode !== 206) throw new Error('not a partial answer');
  return Buffer.from(await got.Body!.transformToByteArray());
}

test.serial(
  'a range inside a damaged segment fails; a range in a whole one is served',
  async (t) => {
    const { server, s3 } = suite;
    const bucket = await newBucket(s3, 'bitrot');
    const data = await storeAndDamage(bucket, 'ranged', 1);
    t.true((await rangeBytes(bucket, 'ranged', 100, 199)).equals(data.subarray(100, 200)));
    // Reads check blocks in 256 KiB segments (each with its CRC): a range in a whole segment
    // of the damaged block is served, and it is the stored bytes.
    const whole = MiB + 500_000;
    t.true(
      (await rangeBytes(bucket, 'ranged', whole, whole + 99)).equals(
        data.subarray(whole, whole + 100),
      ),
    );
    // 100 bytes beside the damaged byte (offset 4321 of block 1): the whole segment is checked.
    const start = MiB + 4000;
    const failure = await s3Failure(
      s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: 'ranged',
          Range: `bytes=${start}-${start + 99}`,
        }),
      ),
    );
    t.is(failure.status, 500);
    t.is(failure.name, 'InternalError');
    t.true(await reportedCorrupt(server, blockHash(data, 1)));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged', Body: data }));
  },
);

test.serial('a streamed copy of a damaged source fails and stores no part', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'bitrot');
  const data = await storeAndDamage(bucket, 'source', 1);
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'target' }),
  );
  const copy = new UploadPartCopyCommand({
    Bucket: bucket,
    Key: 'target',
    UploadId,
    PartNumber: 1,
    CopySource: `${bucket}/source`,
    CopySourceRange: `bytes=0-${OBJECT_BYTES - 1}`,
  });
  const failure = await s3Failure(s3.send(copy));
  t.is(failure.status, 500);
  t.is(failure.name, 'InternalError');
  const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'target', UploadId }));
  t.deepEqual(parts.Parts ?? [], []);
  t.true(await reportedCorrupt(server, blockHash(data, 1)));
  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'target', UploadId }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source', Body: data }));
});

test.serial(
  'blocks larger than the read window: a damaged one still never completes',
  async (t) => {
    // 4 MiB blocks: each 256 KiB segment is held back until verified against its CRC (a block
    // without CRCs streams with only its last window, 1 MiB, held back until its hash is).
    const block = 4 * MiB;
    const server = await TestServer.start({
      shards: SHARDS,
      env: { HANGAR_BLOCK_BYTES: String(block) },
    });
    const s3 = server.client();
    try {
      const bucket = await newBucket(s3, 'bitrot');
      const data = randomBytes(6 * MiB);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large-blocks', Body: data }));
      const hash = sha256(data.subarray(0, block));
      // Past the first segments, so that the answer has begun when the damage is found.
      flipByte(blockPath(server.dataDir, SHARDS, hash) ?? '', 3 * MiB + 100);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large-blocks' }));
      const { bytes, broke } = await drainBody(got.Body as Readable);
      t.true(broke, 'the transfer ends in an error');
      t.true(bytes.length < block, 'the damaged block never arrives whole');
      t.true(bytes.length <= 3 * MiB, 'nothing of the damaged segment arrived');
      t.true(bytes.equals(data.subarray(0, bytes.length)));
      t.true(await reportedCorrupt(server, hash));
    } finally {
      s3.destroy();
      await server.destroy();
    }
  },
);

/** Rewrites the stored record of the inline object whose body is `body`, in a stopped server. */
function editInlineRecord(
  dataDir: string,
  body: Buffer,
  edit: (record: Record<string, unknown>) => void,
): void {
  const edited = editObjectRecords(dataDir, SHARDS, (record) => {
    const inline = record['inline'] as Uint8Array | null;
    if (inline === null || !Buffer.from(inline).equals(body)) return undefined;
    edit(record);
    return record;
  });
  if (edited !== 1) throw new Error(`${edited} inline records hold the body, not 1`);
}

test.serial('a damaged inline body answers 500; a record without a checksum is read', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-bitrot-inline-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const damaged = randomBytes(4096);
  const legacy = randomBytes(4096);
  let server = await TestServer.start({ dataDir, shards: SHARDS });
  let s3 = server.client();
  const bucket = await newBucket(s3, 'inline');
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'damaged', Body: damaged }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'legacy', Body: legacy }));
    t.true((await objectBytes(s3, bucket, 'damaged')).equals(damaged));
    s3.destroy();
    await server.stop();
    editInlineRecord(dataDir, damaged, (record) => {
      t.is(typeof record['inlineCrc32c'], 'number', 'writes store the checksum');
      const inline = record['inline'] as Uint8Array;
      inline[100] = (inline[100] ?? 0) ^ 0x01;
    });
    editInlineRecord(dataDir, legacy, (record) => {
      delete record['inlineCrc32c']; // as written before the checksum existed
    });
    server = await TestServer.start({ dataDir, shards: SHARDS });
    s3 = server.client();
    const failure = await s3Failure(objectBytes(s3, bucket, 'damaged'));
    t.is(failure.status, 500);
    t.is(failure.name, 'InternalError');
    t.true((await objectBytes(s3, bucket, 'legacy')).equals(legacy));
    // Overwriting stores a fresh body and checksum.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'damaged', Body: damaged }));
    t.true((await objectBytes(s3, bucket, 'damaged')).equals(damaged));
  } finally {
    s3.destroy();
    await server.destroy();
  }
});
