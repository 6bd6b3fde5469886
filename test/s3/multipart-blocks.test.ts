import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import test from 'ava';
import type { FsckReport } from '../../engine/fsck.js';
import { fsckReport } from '../helpers/fsck.js';
import { type AnonMemory, describeAnonMemory, sampleAnonMemory } from '../helpers/memory.js';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  useServer,
} from '../helpers/server.js';

// Block accounting: fsck sees the whole data directory, so these tests run one at a time and
// compare against a report taken at their start.

const MIB = 1024 * 1024;

const suite = useServer(test, { shards: 2 });

let seedCounter = 5000;
function body(length: number): Buffer {
  return randomBytesSeeded(length, ++seedCounter);
}

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

/** Blocks a body of `bytes` is cut into (1 MiB blocks by default). */
function blocksOf(bytes: number): number {
  return Math.ceil(bytes / MIB);
}

/**
 * Polls fsck until it shows `expected`, for up to 20 s (an embedded server unlinks freed blocks
 * just after the commit; a cluster gateway's block GC once they have been free for its grace,
 * 5 s for test gateways: cluster-backend.ts); returns the last report, which the caller asserts
 * on for a readable failure.
 */
async function fsckUntil(expected: Partial<FsckReport>, timeoutMs = 20_000): Promise<FsckReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await fsckReport(suite.server.dataDir);
    const matches = Object.entries(expected).every(
      ([name, value]) => JSON.stringify(report[name as keyof FsckReport]) === JSON.stringify(value),
    );
    if (matches || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function pick(report: FsckReport, names: Array<keyof FsckReport>): Partial<FsckReport> {
  return Object.fromEntries(names.map((name) => [name, report[name]]));
}

const CLEAN = { missingBlocks: [], unreferencedBlocks: [], refcountMismatches: [] };

async function uploadPart(
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  bytes: Buffer,
): Promise<CompletedPart> {
  const out = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: bytes,
    }),
  );
  return { PartNumber: partNumber, ETag: out.ETag };
}

async function create(bucket: string, key: string): Promise<string> {
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  return created.UploadId ?? '';
}

const FIELDS: Array<keyof FsckReport> = [
  'objects',
  'parts',
  'blockFiles',
  'storedBytes',
  'missingBlocks',
  'unreferencedBlocks',
  'refcountMismatches',
];

test.serial('a re-uploaded part frees the blocks of the part it replaces', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpb-replace');
  const base = await fsckUntil(CLEAN);
  t.deepEqual(pick(base, ['missingBlocks', 'unreferencedBlocks']), {
    missingBlocks: [],
    unreferencedBlocks: [],
  });
  const uploadId = await create(bucket, 'k');
  const first = body(5 * MIB);
  const second = body(2 * MIB + 1);
  await uploadPart(bucket, 'k', uploadId, 1, first);
  await uploadPart(bucket, 'k', uploadId, 2, second);
  const uploaded = await fsckUntil({
    ...CLEAN,
    parts: base.parts + 2,
    storedBytes: base.storedBytes + first.length + second.length,
  });
  t.deepEqual(pick(uploaded, FIELDS), {
    ...CLEAN,
    objects: base.objects,
    parts: base.parts + 2,
    blockFiles: base.blockFiles + blocksOf(first.length) + blocksOf(second.length),
    storedBytes: base.storedBytes + first.length + second.length,
  });

  // Replace part 1 with other bytes, and part 2 with the same bytes (its blocks must survive).
  const replacement = body(5 * MIB + 3);
  const part1 = await uploadPart(bucket, 'k', uploadId, 1, replacement);
  const part2 = await uploadPart(bucket, 'k', uploadId, 2, second);
  const expectedParts = {
    ...CLEAN,
    objects: base.objects,
    parts: base.parts + 2,
    blockFiles: base.blockFiles + blocksOf(replacement.length) + blocksOf(second.length),
    storedBytes: base.storedBytes + replacement.length + second.length,
  };
  t.deepEqual(pick(await fsckUntil(expectedParts), FIELDS), expectedParts, 'after re-upload');

  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'k',
      UploadId: uploadId,
      MultipartUpload: { Parts: [part1, part2] },
    }),
  );
  const expectedObject = { ...expectedParts, objects: base.objects + 1, parts: base.parts };
  t.deepEqual(pick(await fsckUntil(expectedObject), FIELDS), expectedObject, 'after complete');
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(Buffer.concat([replacement, second])));

  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  const expectedGone = pick(base, FIELDS);
  t.deepEqual(pick(await fsckUntil(expectedGone), FIELDS), expectedGone, 'after delete');
});

test.serial('completing with a subset of the parts frees the parts left out', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpb-subset');
  const base = await fsckUntil(CLEAN);
  const uploadId = await create(bucket, 'k');
  const p1 = body(5 * MIB);
  const p2 = body(MIB + 11);
  const p3 = body(3 * MIB);
  const c1 = await uploadPart(bucket, 'k', uploadId, 1, p1);
  await uploadPart(bucket, 'k', uploadId, 2, p2);
  const c3 = await uploadPart(bucket, 'k', uploadId, 3, p3);
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'k',
      UploadId: uploadId,
      MultipartUpload: { Parts: [c1, c3] },
    }),
  );
  const expected = {
    ...CLEAN,
    objects: base.objects + 1,
    parts: base.parts,
    blockFiles: base.blockFiles + blocksOf(p1.length) + blocksOf(p3.length),
    storedBytes: base.storedBytes + p1.length + p3.length,
  };
  t.deepEqual(pick(await fsckUntil(expected), FIELDS), expected);
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(Buffer.concat([p1, p3])));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ContentLength, p1.length + p3.length);
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  const gone = pick(base, FIELDS);
  t.deepEqual(pick(await fsckUntil(gone), FIELDS), gone);
});

test.serial('Abort frees the blocks of every part, copied parts included', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpb-abort');
  const source = body(2 * MIB + 5);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: source }));
  const base = await fsckUntil(CLEAN);
  const uploadId = await create(bucket, 'k');
  const p1 = body(MIB + 1);
  const p2 = body(3 * MIB);
  await uploadPart(bucket, 'k', uploadId, 1, p1);
  await uploadPart(bucket, 'k', uploadId, 2, p2);
  // Part 3 copies a range of the source: new blocks (its block boundaries differ).
  await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'k',
      UploadId: uploadId,
      PartNumber: 3,
      CopySource: `${bucket}/src`,
      CopySourceRange: `bytes=7-${source.length - 1}`,
    }),
  );
  const copied = source.length - 7;
  const during = await fsckUntil({
    ...CLEAN,
    parts: base.parts + 3,
    storedBytes: base.storedBytes + p1.length + p2.length + copied,
  });
  t.deepEqual(pick(during, FIELDS), {
    ...CLEAN,
    objects: base.objects,
    parts: base.parts + 3,
    blockFiles: base.blockFiles + blocksOf(p1.length) + blocksOf(p2.length) + blocksOf(copied),
    storedBytes: base.storedBytes + p1.length + p2.length + copied,
  });

  const aborted = await suite.s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }),
  );
  t.is(aborted.$metadata.httpStatusCode, 204);
  const listed = await s3Failure(
    suite.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId })),
  );
  t.is(listed.name, 'NoSuchUpload');
  t.is(listed.status, 404);
  const gone = pick(base, FIELDS);
  t.deepEqual(pick(await fsckUntil(gone), FIELDS), gone, 'every part block is unlinked');
  // The copy source is untouched.
  t.true((await objectBytes(suite.s3, bucket, 'src')).equals(source));
});

test.serial(
  'DeleteBucket with only an in-progress upload succeeds and frees its blocks',
  async (t) => {
    const bucket = await newBucket(suite.s3, 'mpb-delete-bucket');
    const base = await fsckUntil(CLEAN);
    const uploadId = await create(bucket, 'dir/k');
    const p1 = body(5 * MIB);
    const p2 = body(MIB + 3);
    await uploadPart(bucket, 'dir/k', uploadId, 1, p1);
    await uploadPart(bucket, 'dir/k', uploadId, 2, p2);
    const during = await fsckUntil({ ...CLEAN, parts: base.parts + 2 });
    t.is(during.parts, base.parts + 2);
    t.is(during.storedBytes, base.storedBytes + p1.length + p2.length);

    const deleted = await suite.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    t.is(deleted.$metadata.httpStatusCode, 204);
    const head = await s3Failure(suite.s3.send(new HeadBucketCommand({ Bucket: bucket })));
    t.is(head.status, 404);
    const gone = pick(base, FIELDS);
    t.deepEqual(pick(await fsckUntil(gone), FIELDS), gone, "the upload's blocks are freed");

    // A bucket re-created under the same name does not see the old upload.
    await suite.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const listed = await suite.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    t.deepEqual(listed.Uploads ?? [], []);
    const parts = await s3Failure(
      suite.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'dir/k', UploadId: uploadId })),
    );
    t.is(parts.name, 'NoSuchUpload');
  },
);

// ---------------------------------------------------------------------------------------------
// lib-storage, 1 GiB

const BIG_BYTES = 1024 * MIB;
/** lib-storage's default part size. */
const SDK_PART_BYTES = 5 * MIB;

/**
 * 1 GiB generated on the fly, one 1 MiB chunk at a time (each distinct, so no block dedups),
 * with its MD5 and the MD5s of each 5 MiB part computed as it goes.
 */
function generatedBody(): { stream: Readable; md5: () => string; partMd5s: Buffer[] } {
  const pattern = randomBytesSeeded(MIB, 777);
  const whole = createHash('md5');
  const partMd5s: Buffer[] = [];
  let part = createHash('md5');
  let partBytes = 0;
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= BIG_BYTES) {
        this.push(null);
        return;
      }
      const chunk = Buffer.from(pattern);
      chunk.writeUInt32BE(sent / MIB, 0);
      chunk.writeUInt32BE(sent / MIB, MIB - 4);
      sent += MIB;
      whole.update(chunk);
      part.update(chunk);
      partBytes += chunk.length;
      if (partBytes === SDK_PART_BYTES || sent === BIG_BYTES) {
        partMd5s.push(part.digest());
        part = createHash('md5');
        partBytes = 0;
      }
      this.push(chunk);
    },
  });
  return { stream, md5: () => whole.digest('hex'), partMd5s };
}

test.serial('lib-storage Upload of a 1 GiB stream keeps the server memory bounded', async (t) => {
  t.timeout(180_000);
  const bucket = await newBucket(suite.s3, 'mpb-big');
  const pid = suite.server.process.pid!;
  const sampler = await sampleAnonMemory(pid);
  let memory: AnonMemory;
  try {
    const generated = generatedBody();
    const upload = new Upload({
      client: suite.s3,
      params: { Bucket: bucket, Key: 'big/one-gib.bin', Body: generated.stream },
    });
    let lastProgress = 0;
    upload.on('httpUploadProgress', (progress) => {
      lastProgress = Math.max(lastProgress, progress.loaded ?? 0);
    });
    const done = await upload.done();
    t.is(lastProgress, BIG_BYTES);
    const expectedMd5 = generated.md5();
    const partCount = Math.ceil(BIG_BYTES / SDK_PART_BYTES);
    t.is(generated.partMd5s.length, partCount);
    const expectedEtag = `"${md5(Buffer.concat(generated.partMd5s)).toString('hex')}-${partCount}"`;
    t.is(done.ETag, expectedEtag);

    const head = await suite.s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'big/one-gib.bin' }),
    );
    t.is(head.ContentLength, BIG_BYTES);
    t.is(head.ETag, expectedEtag);

    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'big/one-gib.bin' }),
    );
    t.is(got.ContentLength, BIG_BYTES);
    const hash = createHash('md5');
    let received = 0;
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.byteLength;
    }
    t.is(received, BIG_BYTES);
    t.is(hash.digest('hex'), expectedMd5, 'the GET streams back the same bytes');

    const uploads = await suite.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    t.deepEqual(uploads.Uploads ?? [], [], 'no upload is left behind');
  } finally {
    memory = await sampler.stop();
  }
  t.log(describeAnonMemory(memory));
  const grown = memory.peakBytes - memory.baselineBytes;
  t.true(grown < 256 * MIB, `RssAnon grew by ${(grown / MIB).toFixed(0)} MiB`);
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big/one-gib.bin' }));
});
