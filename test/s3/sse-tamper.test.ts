import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { editObjectRecords, forgeBlock } from '../helpers/blocks.js';
import { plaintextPattern } from '../helpers/plaintext.js';
import { newBucket, randomBytesSeeded, s3Failure, TestServer } from '../helpers/server.js';
import { createKmsKey, getBytes, uploadAndComplete } from '../helpers/sse.js';

/**
 * SSE object data is authenticated: each 256 KiB segment of ciphertext carries a keyed tag
 * (engine/sse/segment-mac.ts). An attacker who can write the data directory, but holds no key,
 * flips ciphertext bytes, swaps segments or truncates a part and fixes up every unkeyed check
 * (CRC32Cs, the block's SHA-256 name, the records that point at it): reads fail, never answer
 * 200 with bytes the client did not write. The same forgery on an unencrypted object is served
 * (the control: it shows the forgery fixes up everything a read checks without a key).
 */

const KIB = 1024;
const MIB = 1024 * KIB;
const SEGMENT = 256 * KIB;
const SHARDS = 2;
const ENV = { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' };

const CUSTOMER = randomBytesSeeded(32, 77);
const SSE_C = {
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: CUSTOMER.toString('base64'),
} as const;

type Encryption = 'none' | 'sse-c' | 'sse-s3' | 'sse-kms' | 'dsse';

function putParams(encryption: Encryption, kmsKey: string): Record<string, string> {
  switch (encryption) {
    case 'none':
      return {};
    case 'sse-c':
      return SSE_C;
    case 'sse-s3':
      return { ServerSideEncryption: 'AES256' };
    case 'sse-kms':
      return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey };
    case 'dsse':
      return { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: kmsKey };
  }
}

function getParams(encryption: Encryption): Record<string, string> {
  return encryption === 'sse-c' ? SSE_C : {};
}

interface Fixture {
  dataDir: string;
  server: TestServer;
  s3: S3Client;
}

async function fixture(t: ExecutionContext): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-sse-tamper-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await TestServer.start({ dataDir, shards: SHARDS, env: ENV });
  return { dataDir, server, s3: server.client() };
}

/** Runs a test on a fixture of its own, stopped and removed at the end whatever happens. */
async function withFixture(t: ExecutionContext, run: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await fixture(t);
  try {
    await run(f);
  } finally {
    f.s3.destroy();
    await f.server.destroy();
  }
}

/** Stops the server (its data directory stays, for the attacker's edits). */
async function stop(f: Fixture): Promise<void> {
  f.s3.destroy();
  await f.server.stop();
}

async function restart(f: Fixture): Promise<void> {
  await stop(f);
  f.server = await TestServer.start({ dataDir: f.dataDir, shards: SHARDS, env: ENV });
  f.s3 = f.server.client();
}

/** The block names of the object of exactly `bytes` bytes (each test object has its own size). */
function blocksOf(dataDir: string, bytes: number): string[] {
  let hashes: string[] | null = null;
  editObjectRecords(dataDir, SHARDS, (record) => {
    if (record.bytes === bytes) {
      hashes = (record.blocks as Array<{ hash: string }>).map((block) => block.hash);
    }
    return undefined;
  });
  if (hashes === null) throw new Error(`no object of ${bytes} bytes`);
  return hashes;
}

/** A GET that must not succeed: a refusal (500), or a body cut short. Never the wrong bytes. */
async function refused(
  t: ExecutionContext,
  read: Promise<Buffer>,
  written: Buffer,
  what: string,
): Promise<void> {
  try {
    const got = await read;
    t.fail(
      `${what}: served ${got.length} bytes (${got.equals(written) ? 'as written' : 'forged'})`,
    );
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    t.true(status === undefined || status === 500, `${what}: ${String(error)}`);
  }
}

function flipAt(offset: number): (bytes: Buffer) => Buffer {
  return (bytes) => {
    const forged = Buffer.from(bytes);
    forged[offset] = (forged[offset] ?? 0) ^ 0x01;
    return forged;
  };
}

function swapFirstSegments(bytes: Buffer): Buffer {
  return Buffer.concat([
    bytes.subarray(SEGMENT, 2 * SEGMENT),
    bytes.subarray(0, SEGMENT),
    bytes.subarray(2 * SEGMENT),
  ]);
}

test.serial(
  'tagged SSE objects read back whole and by ranges across segments, blocks, parts',
  (t) =>
    withFixture(t, async (f) => {
      const bucket = await newBucket(f.s3, 'sse-tags');
      const kms = await createKmsKey(f.server);
      const encryptions: Encryption[] = ['sse-c', 'sse-s3', 'sse-kms', 'dsse'];
      for (const [i, encryption] of encryptions.entries()) {
        const body = plaintextPattern(2 * MIB + 1000 + i, encryption);
        await f.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: encryption,
            Body: body,
            ...putParams(encryption, kms.id),
          }),
        );
        const extra = getParams(encryption);
        t.true((await getBytes(f.s3, bucket, encryption, extra)).equals(body), encryption);
        for (const [from, to] of [
          [SEGMENT - 10, SEGMENT + 10],
          [MIB - 3, MIB + SEGMENT + 3],
          [5, 7],
          [2 * MIB + 999 + i, 2 * MIB + 999 + i],
        ] as const) {
          const range = await getBytes(f.s3, bucket, encryption, {
            ...extra,
            Range: `bytes=${from}-${to}`,
          });
          t.true(range.equals(body.subarray(from, to + 1)), `${encryption} ${from}-${to}`);
        }
        // Small (inline) objects are tagged too.
        const small = plaintextPattern(700 + i, `small-${encryption}`);
        await f.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `small-${encryption}`,
            Body: small,
            ...putParams(encryption, kms.id),
          }),
        );
        t.true((await getBytes(f.s3, bucket, `small-${encryption}`, extra)).equals(small));
      }
      // Multipart (SSE-S3, the upload's data key): a tag list per part; a range across parts.
      const parts = [plaintextPattern(5 * MIB + 3, 'p1'), plaintextPattern(MIB + 5, 'p2')];
      const created = await f.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'multi',
          ServerSideEncryption: 'AES256',
        }),
      );
      await uploadAndComplete(f.s3, bucket, 'multi', created.UploadId, parts);
      const whole = Buffer.concat(parts);
      t.true((await getBytes(f.s3, bucket, 'multi')).equals(whole));
      const from = 5 * MIB - 7;
      const range = await getBytes(f.s3, bucket, 'multi', {
        Range: `bytes=${from}-${from + SEGMENT}`,
      });
      t.true(range.equals(whole.subarray(from, from + SEGMENT + 1)));

      // CopyObject re-encrypts (SSE-S3 to SSE-KMS), UploadPartCopy too: both write tags.
      await f.s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'copied',
          CopySource: `${bucket}/sse-s3`,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: kms.id,
        }),
      );
      const source = plaintextPattern(2 * MIB + 1001, 'sse-s3');
      t.true((await getBytes(f.s3, bucket, 'copied')).equals(source));
      const upload = await f.s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'part-copied', ...SSE_C }),
      );
      const copiedPart = await f.s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'part-copied',
          UploadId: upload.UploadId,
          PartNumber: 1,
          CopySource: `${bucket}/sse-kms`,
          CopySourceRange: `bytes=${SEGMENT}-${2 * MIB - 1}`,
          ...SSE_C,
        }),
      );
      await f.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'part-copied',
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copiedPart.CopyPartResult?.ETag }] },
        }),
      );
      const kmsBody = plaintextPattern(2 * MIB + 1002, 'sse-kms');
      const partCopied = await getBytes(f.s3, bucket, 'part-copied', {
        ...SSE_C,
        Range: `bytes=${SEGMENT - 5}-${SEGMENT + 5}`,
      });
      t.true(partCopied.equals(kmsBody.subarray(2 * SEGMENT - 5, 2 * SEGMENT + 6)));

      await stop(f);
      // Every encrypted record carries one tag list per part: 16 bytes per segment.
      const tagged: Array<{ bytes: number; parts: number; tags: number }> = [];
      editObjectRecords(f.dataDir, SHARDS, (record) => {
        const sse = record.sse as { ivs: string[]; macs?: string[] } | undefined;
        if (sse === undefined) return undefined;
        const tags = (sse.macs ?? []).map((part) => Buffer.from(part, 'base64').length / 16);
        tagged.push({ bytes: record.bytes as number, parts: sse.ivs.length, tags: sum(tags) });
        t.is(sse.macs?.length, sse.ivs.length, 'a tag list per part');
        return undefined;
      });
      t.is(tagged.length, 11);
      const multi = tagged.find((r) => r.bytes === whole.length);
      t.deepEqual(multi, { bytes: whole.length, parts: 2, tags: 21 + 5 });
    }),
);

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

test.serial(
  'forged ciphertext fails full and ranged GETs; the same forgery in clear is served',
  (t) =>
    withFixture(t, async (f) => {
      const bucket = await newBucket(f.s3, 'sse-forged');
      const kms = await createKmsKey(f.server);
      const encryptions: Encryption[] = ['none', 'sse-c', 'sse-s3', 'sse-kms', 'dsse'];
      const bodies = new Map<Encryption, Buffer>();
      for (const [i, encryption] of encryptions.entries()) {
        const body = plaintextPattern(MIB + SEGMENT + 100 + i, `forge-${encryption}`);
        bodies.set(encryption, body);
        await f.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: encryption,
            Body: body,
            ...putParams(encryption, kms.id),
          }),
        );
      }
      await stop(f);
      const flipped = SEGMENT + 4242;
      for (const body of bodies.values()) {
        const [first] = blocksOf(f.dataDir, body.length);
        forgeBlock(f.dataDir, SHARDS, first ?? '', flipAt(flipped));
      }
      // The objects' full-object checksums (CRC32, the SDK's default) are unkeyed too: gone.
      const sizes = new Set([...bodies.values()].map((body) => body.length));
      const unsummed = editObjectRecords(f.dataDir, SHARDS, (record) =>
        sizes.has(record.bytes as number) ? { ...record, checksum: null } : undefined,
      );
      t.is(unsummed, bodies.size);
      await restart(f);

      // The control: in clear, the forgery passes every check a read makes and is served.
      const clear = bodies.get('none') ?? Buffer.alloc(0);
      const served = await getBytes(f.s3, bucket, 'none');
      t.is(served.length, clear.length);
      t.false(served.equals(clear), 'the unencrypted forgery is served');

      for (const encryption of encryptions.slice(1)) {
        const body = bodies.get(encryption) ?? Buffer.alloc(0);
        const extra = getParams(encryption);
        // A range inside the forged segment (read first: nothing was checked before it).
        await refused(
          t,
          getBytes(f.s3, bucket, encryption, {
            ...extra,
            Range: `bytes=${flipped}-${flipped + 9}`,
          }),
          body,
          `${encryption} range`,
        );
        await refused(t, getBytes(f.s3, bucket, encryption, extra), body, `${encryption} GET`);
        // The segment before it carries its own tag and still reads.
        const before = await getBytes(f.s3, bucket, encryption, { ...extra, Range: 'bytes=0-99' });
        t.true(before.equals(body.subarray(0, 100)), `${encryption} untouched segment`);
      }
      // A failure before the first byte answers as any failed integrity check: 500 InternalError.
      const failure = await s3Failure(
        f.s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'sse-s3', Range: `bytes=${flipped}-` }),
        ),
      );
      t.is(failure.status, 500);
      t.is(failure.name, 'InternalError');
    }),
);

test.serial('swapped segments, and a part cut short with its size, fail to read', (t) =>
  withFixture(t, async (f) => {
    const bucket = await newBucket(f.s3, 'sse-swap');
    const swapped = plaintextPattern(MIB + 11, 'swap');
    const cut = plaintextPattern(MIB + SEGMENT + 13, 'cut');
    for (const [key, body] of [
      ['swap', swapped],
      ['cut', cut],
    ] as const) {
      await f.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ServerSideEncryption: 'AES256',
        }),
      );
    }
    await stop(f);
    const [swapBlock] = blocksOf(f.dataDir, swapped.length);
    forgeBlock(f.dataDir, SHARDS, swapBlock ?? '', swapFirstSegments);
    // Truncation: the object loses its last block, and the record its size, as if never there.
    const cutBlocks = blocksOf(f.dataDir, cut.length);
    t.is(cutBlocks.length, 2);
    const edited = editObjectRecords(f.dataDir, SHARDS, (record) => {
      if (record.bytes !== cut.length) return undefined;
      const blocks = (record.blocks as unknown[]).slice(0, 1);
      return { ...record, bytes: MIB, blocks, etag: `"${md5(cut.subarray(0, MIB))}"` };
    });
    t.is(edited, 1);
    await restart(f);

    await refused(t, getBytes(f.s3, bucket, 'swap'), swapped, 'swapped GET');
    await refused(
      t,
      getBytes(f.s3, bucket, 'swap', { Range: 'bytes=10-20' }),
      swapped,
      'swap range',
    );
    // The now-last segment was tagged as not last: the cut is seen when the end is read.
    await refused(t, getBytes(f.s3, bucket, 'cut'), cut, 'truncated GET');
    await refused(
      t,
      getBytes(f.s3, bucket, 'cut', { Range: `bytes=${MIB - 10}-${MIB - 1}` }),
      cut,
      'truncated tail',
    );
  }),
);

/** Swaps entries `a` and `b` of a list (a copy). */
function swapped<T>(list: readonly T[], a: number, b: number): T[] {
  const out = [...list];
  [out[a], out[b]] = [list[b] as T, list[a] as T];
  return out;
}

/**
 * The record of a multipart object whose first two (equal-sized) parts trade places: their
 * blocks, IVs, tags and checksums, everything a record keeps per part; `numbers` says whether
 * the parts' numbers go with them. The whole-object checksum (unkeyed) is dropped.
 */
function swapFirstParts(
  record: Record<string, unknown>,
  numbers: boolean,
): Record<string, unknown> {
  const sizes = record.partSizes as number[];
  const blocks = record.blocks as Array<{ bytes: number }>;
  const perPart =
    blocks.findIndex((_, i) => sum(blocks.slice(0, i + 1).map((b) => b.bytes)) === sizes[0]) + 1;
  const moved = [
    ...blocks.slice(perPart, 2 * perPart),
    ...blocks.slice(0, perPart),
    ...blocks.slice(2 * perPart),
  ];
  const out: Record<string, unknown> = { ...record, blocks: moved, checksum: null };
  if (Array.isArray(record.partChecksums)) out.partChecksums = swapped(record.partChecksums, 0, 1);
  const sse = record.sse as { ivs: string[]; macs?: string[]; partNumbers?: number[] } | undefined;
  if (sse !== undefined) {
    out.sse = {
      ...sse,
      ivs: swapped(sse.ivs, 0, 1),
      ...(sse.macs !== undefined ? { macs: swapped(sse.macs, 0, 1) } : {}),
      ...(numbers && sse.partNumbers !== undefined
        ? { partNumbers: swapped(sse.partNumbers, 0, 1) }
        : {}),
    };
  }
  return out;
}

test.serial('multipart parts that trade places, numbers or not, fail to read', (t) =>
  withFixture(t, async (f) => {
    const bucket = await newBucket(f.s3, 'sse-parts');
    const part = 5 * MIB;
    const objects = [
      { key: 'clear', encryption: 'none' as const, tail: 101 },
      { key: 'with-numbers', encryption: 'sse-s3' as const, tail: 102 },
      { key: 'without-numbers', encryption: 'sse-s3' as const, tail: 103 },
      { key: 'customer', encryption: 'sse-c' as const, tail: 104 },
    ];
    const bodies = new Map<string, Buffer>();
    for (const object of objects) {
      const parts = [
        plaintextPattern(part, `${object.key}-one`),
        plaintextPattern(part, `${object.key}-two`),
        plaintextPattern(object.tail, `${object.key}-three`),
      ];
      bodies.set(object.key, Buffer.concat(parts));
      const extra = putParams(object.encryption, '');
      const created = await f.s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: object.key, ...extra }),
      );
      const customer = object.encryption === 'sse-c' ? SSE_C : {};
      await uploadAndComplete(
        f.s3,
        bucket,
        object.key,
        created.UploadId,
        parts,
        undefined,
        customer,
      );
    }
    await stop(f);
    const byLength = new Map(objects.map((o) => [2 * part + o.tail, o.key]));
    const edited = editObjectRecords(f.dataDir, SHARDS, (record) => {
      const key = byLength.get(record.bytes as number);
      if (key === undefined) return undefined;
      t.deepEqual(
        (record.sse as { partNumbers?: number[] } | undefined)?.partNumbers,
        key === 'clear' ? undefined : [1, 2, 3],
        key,
      );
      return swapFirstParts(record, key !== 'without-numbers');
    });
    t.is(edited, objects.length);
    await restart(f);

    // The control: in clear, the swap passes every check a read makes and is served.
    const clear = bodies.get('clear') ?? Buffer.alloc(0);
    const served = await getBytes(f.s3, bucket, 'clear');
    t.true(
      served.equals(
        Buffer.concat([
          clear.subarray(part, 2 * part),
          clear.subarray(0, part),
          clear.subarray(2 * part),
        ]),
      ),
      'the unencrypted swap is served',
    );
    for (const object of objects.slice(1)) {
      const body = bodies.get(object.key) ?? Buffer.alloc(0);
      const extra = getParams(object.encryption);
      await refused(t, getBytes(f.s3, bucket, object.key, extra), body, `${object.key} GET`);
      await refused(
        t,
        getBytes(f.s3, bucket, object.key, { ...extra, Range: 'bytes=0-99' }),
        body,
        `${object.key} first part`,
      );
      // The third part did not move: it reads, unless the record's numbers moved (out of order:
      // the record itself is impossible, so nothing of the object reads).
      const tail = getBytes(f.s3, bucket, object.key, { ...extra, Range: `bytes=${2 * part}-` });
      if (object.key === 'without-numbers') {
        t.true((await tail).equals(body.subarray(2 * part)), `${object.key} third part`);
      } else {
        await refused(t, tail, body, `${object.key} third part`);
      }
    }
  }),
);

test.serial('objects encrypted before tags (no tag list) still read', (t) =>
  withFixture(t, async (f) => {
    const bucket = await newBucket(f.s3, 'sse-old');
    const body = plaintextPattern(MIB + 77, 'old');
    await f.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old', Body: body, ...SSE_C }));
    await stop(f);
    const edited = editObjectRecords(f.dataDir, SHARDS, (record) => {
      const sse = record.sse as { macs?: string[] } | undefined;
      if (sse?.macs === undefined) return undefined;
      const { macs: _dropped, ...untagged } = sse;
      return { ...record, sse: untagged };
    });
    t.is(edited, 1);
    await restart(f);
    t.true((await getBytes(f.s3, bucket, 'old', SSE_C)).equals(body));
    const range = await getBytes(f.s3, bucket, 'old', { ...SSE_C, Range: 'bytes=262140-262150' });
    t.true(range.equals(body.subarray(262140, 262151)));
  }),
);

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}
