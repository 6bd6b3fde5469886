import { createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { type AdminAnswer, adminCall } from '../helpers/admin.js';
import { fsckReport } from '../helpers/fsck.js';
import {
  assertNoObject,
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  randomBytesSeeded,
  s3Failure,
  TestServer,
} from '../helpers/server.js';

const MiB = 1024 * 1024;

let server: TestServer;
let s3: S3Client;
test.before(async () => {
  // Three shards: a bucket's objects spread over them, so the quota sums every shard's counters.
  server = await TestServer.start({ shards: 3 });
  s3 = server.client();
});
test.after.always(async () => {
  await server?.destroy();
});

const admin = (method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminAnswer> =>
  adminCall(server, method, path, body);

async function bucketWithQuotas(
  name: string,
  quotas: { maxSize: number | null; maxObjects: number | null },
): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  const info = await admin('GET', `/v2/GetBucketInfo?globalAlias=${name}`);
  const id = info.json.id as string;
  const updated = await admin('POST', `/v2/UpdateBucket?id=${id}`, { quotas });
  if (updated.status !== 200) throw new Error(`UpdateBucket: ${JSON.stringify(updated.json)}`);
  return id;
}

function put(bucket: string, key: string, body: Buffer): Promise<unknown> {
  return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function quotaRefusal(t: import('ava').ExecutionContext, promise: Promise<unknown>) {
  const failure = await s3Failure(promise);
  // Garage answers a write past a quota with 403 AccessDenied.
  t.is(failure.status, 403);
  t.is(failure.name, 'AccessDenied');
  t.regex(failure.message, /quota/i);
}

/**
 * fsck shows nothing unreferenced (block unlinks run just after the commit they follow). It reads
 * the live server's files, so the tests of this file run serially: another test's writes and
 * deletes in flight would look like leaks or losses.
 */
async function noLeak(t: import('ava').ExecutionContext): Promise<void> {
  const deadline = Date.now() + 5000;
  let report = await fsckReport(server.dataDir);
  while (report.unreferencedBlocks.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    report = await fsckReport(server.dataDir);
  }
  t.deepEqual(report.unreferencedBlocks, []);
  t.deepEqual(report.missingBlocks, []);
  t.deepEqual(report.refcountMismatches, []);
  t.deepEqual(report.counterMismatches, []);
}

test.serial('UpdateBucket validates its body and GetBucketInfo reports the quotas', async (t) => {
  const id = await bucketWithQuotas('quota-admin', { maxSize: 1000, maxObjects: 5 });
  let info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
  t.deepEqual(info.json.quotas, { maxSize: 1000, maxObjects: 5 });
  for (const bad of [
    { quotas: { maxSize: -1, maxObjects: null } },
    { quotas: { maxSize: 1.5, maxObjects: null } },
    { quotas: { maxSize: '10', maxObjects: null } },
    { quotas: { maxBytes: 10 } },
    { quotas: 7 },
    { other: true },
  ]) {
    const answer = await admin('POST', `/v2/UpdateBucket?id=${id}`, bad);
    t.is(answer.status, 400, JSON.stringify(bad));
  }
  const missing = await admin('POST', `/v2/UpdateBucket?id=${'0'.repeat(32)}`, {
    quotas: { maxSize: 1, maxObjects: 1 },
  });
  t.is(missing.status, 404);
  const answer = await admin('POST', `/v2/UpdateBucket?id=${id}`, {
    quotas: { maxSize: null, maxObjects: 2 },
  });
  t.is(answer.status, 200);
  t.deepEqual(answer.json.quotas, { maxSize: null, maxObjects: 2 });
  await admin('POST', `/v2/UpdateBucket?id=${id}`, { quotas: { maxSize: null, maxObjects: null } });
  info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
  t.deepEqual(info.json.quotas, { maxSize: null, maxObjects: null });
});

test.serial(
  'maxObjects: exact boundary, overwrite at the limit, delete frees room, null lifts it',
  async (t) => {
    const bucket = 'quota-objects';
    const id = await bucketWithQuotas(bucket, { maxSize: null, maxObjects: 4 });
    const body = randomBytesSeeded(100_000, 7); // in blocks, not inline
    for (let i = 0; i < 4; i++) await put(bucket, `k${i}`, body);
    await quotaRefusal(t, put(bucket, 'k4', randomBytesSeeded(100_000, 8)));
    await assertNoObject(t, s3, bucket, 'k4');
    // Overwriting an existing key at the limit does not add an object.
    const bigger = randomBytesSeeded(150_000, 9);
    await put(bucket, 'k2', bigger);
    let info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
    t.is(info.json.objects, 4);
    t.is(info.json.bytes, 3 * 100_000 + 150_000);
    await noLeak(t);
    // Deleting frees room for exactly one more.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k0' }));
    await put(bucket, 'k4', body);
    await quotaRefusal(t, put(bucket, 'k5', body));
    // No limit any more.
    await admin('POST', `/v2/UpdateBucket?id=${id}`, {
      quotas: { maxSize: null, maxObjects: null },
    });
    for (let i = 5; i < 9; i++) await put(bucket, `k${i}`, body);
    info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
    t.is(info.json.objects, 8);
    await noLeak(t);
  },
);

test.serial('maxSize: a PUT reaching exactly maxSize succeeds, one byte more fails', async (t) => {
  const bucket = 'quota-size';
  const id = await bucketWithQuotas(bucket, { maxSize: 300_000, maxObjects: null });
  await put(bucket, 'a', randomBytesSeeded(100_000, 1));
  await put(bucket, 'b', randomBytesSeeded(150_000, 2));
  await quotaRefusal(t, put(bucket, 'c', randomBytesSeeded(50_001, 3)));
  await noLeak(t);
  await put(bucket, 'c', randomBytesSeeded(50_000, 3));
  let info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
  t.is(info.json.bytes, 300_000);
  // Even an empty object fits (it adds no byte); any byte more does not.
  await put(bucket, 'empty', Buffer.alloc(0));
  await quotaRefusal(t, put(bucket, 'd', Buffer.from('x')));
  // Replacing with a bigger object counts only the difference; a smaller one always fits.
  await quotaRefusal(t, put(bucket, 'a', randomBytesSeeded(100_001, 4)));
  await put(bucket, 'a', randomBytesSeeded(99_999, 4));
  await put(bucket, 'a', randomBytesSeeded(100_000, 5));
  info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
  t.is(info.json.bytes, 300_000);
  // Deleting frees room.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'b' }));
  await put(bucket, 'd', randomBytesSeeded(150_000, 6));
  await noLeak(t);
});

test.serial('CopyObject past a quota is refused and stores nothing', async (t) => {
  const bucket = 'quota-copy';
  await s3.send(new CreateBucketCommand({ Bucket: 'quota-copy-source' }));
  await put('quota-copy-source', 'big', randomBytesSeeded(200_000, 11));
  await bucketWithQuotas(bucket, { maxSize: 500_000, maxObjects: 2 });
  await put(bucket, 'one', randomBytesSeeded(100_000, 12));
  const copy = (from: string, key: string) =>
    s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: from }));
  await copy('quota-copy-source/big', 'two');
  // A third object: over maxObjects.
  await quotaRefusal(t, copy('quota-copy-source/big', 'three'));
  await quotaRefusal(t, copy(`${bucket}/one`, 'three'));
  await assertNoObject(t, s3, bucket, 'three');
  // Copying onto an existing key adds no object; maxSize still applies (100k + 200k + ... ).
  await copy('quota-copy-source/big', 'one');
  await put('quota-copy-source', 'huge', randomBytesSeeded(400_000, 13));
  await quotaRefusal(t, copy('quota-copy-source/huge', 'one'));
  await noLeak(t);
});

test.serial(
  'CompleteMultipartUpload past a quota is refused; the upload stays abortable',
  async (t) => {
    const bucket = 'quota-multipart';
    const id = await bucketWithQuotas(bucket, { maxSize: 6 * MiB, maxObjects: null });
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const uploadId = created.UploadId!;
    const parts = [];
    for (const [n, size] of [
      [1, 5 * MiB],
      [2, 2 * MiB],
    ] as const) {
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'mp',
          UploadId: uploadId,
          PartNumber: n,
          Body: randomBytesSeeded(size, n),
        }),
      );
      parts.push({ PartNumber: n, ETag: part.ETag! });
    }
    await quotaRefusal(
      t,
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp',
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
    const info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
    t.is(info.json.objects, 0);
    t.is(info.json.unfinishedUploads, 1);
    t.is(info.json.unfinishedMultipartUploadParts, 2);
    t.is(info.json.unfinishedMultipartUploadBytes, 7 * MiB);
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: uploadId }),
    );
    await noLeak(t);
    // Within the quota it completes.
    const again = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: again.UploadId!,
        PartNumber: 1,
        Body: randomBytesSeeded(6 * MiB, 3),
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: again.UploadId!,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
      }),
    );
    const after = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
    t.is(after.json.bytes, 6 * MiB);
    await noLeak(t);
  },
);

/** A browser-form upload (PostObject) signed with the root key: SigV4 POST policy. */
async function postObject(bucket: string, key: string, bytes: Buffer): Promise<Response> {
  const now = new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const day = amzDate.slice(0, 8);
  const signed: Array<[string, string]> = [
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'],
    ['x-amz-credential', `${ROOT_ACCESS_KEY}/${day}/${REGION}/s3/aws4_request`],
    ['x-amz-date', amzDate],
  ];
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(now.getTime() + 3_600_000).toISOString(),
      conditions: [{ bucket }, { key }, ...signed.map(([name, value]) => ({ [name]: value }))],
    }),
  ).toString('base64');
  const hmac = (k: Buffer | string, data: string): Buffer =>
    createHmac('sha256', k).update(data, 'utf8').digest();
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${ROOT_SECRET_KEY}`, day), REGION), 's3'),
    'aws4_request',
  );
  const form = new FormData();
  form.append('key', key);
  for (const [name, value] of signed) form.append(name, value);
  form.append('policy', policy);
  form.append('x-amz-signature', createHmac('sha256', signingKey).update(policy).digest('hex'));
  form.append('file', new Blob([bytes]), 'upload.bin');
  return fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual' });
}

test.serial('PostObject past a quota is refused and stores nothing', async (t) => {
  const bucket = 'quota-post';
  const id = await bucketWithQuotas(bucket, { maxSize: 250_000, maxObjects: 2 });
  t.is((await postObject(bucket, 'one', randomBytesSeeded(100_000, 1))).status, 204);
  // One byte past maxSize.
  const over = await postObject(bucket, 'two', randomBytesSeeded(150_001, 2));
  t.is(over.status, 403);
  t.regex(await over.text(), /<Code>AccessDenied<\/Code>[\s\S]*quota/);
  t.is((await postObject(bucket, 'two', randomBytesSeeded(150_000, 2))).status, 204);
  // Past maxObjects (an empty file adds no byte).
  const third = await postObject(bucket, 'three', Buffer.alloc(0));
  t.is(third.status, 403);
  await third.text();
  const info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
  t.is(info.json.objects, 2);
  t.is(info.json.bytes, 250_000);
  await noLeak(t);
});

test.serial(
  'versioned bucket: every version and delete marker counts; versions share and free blocks',
  async (t) => {
    const bucket = 'quota-versions';
    const id = await bucketWithQuotas(bucket, { maxSize: null, maxObjects: 4 });
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const body = randomBytesSeeded(100_000, 11); // in blocks: versions share them
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body }));
    await put(bucket, 'k', body);
    await put(bucket, 'k', randomBytesSeeded(120_000, 12));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' })); // a marker: the 4th
    let info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
    t.is(info.json.objects, 4);
    t.is(info.json.bytes, 2 * 100_000 + 120_000);
    await quotaRefusal(t, put(bucket, 'other', body));
    await noLeak(t);
    // Removing a version for good frees room; the blocks it shared stay for the other one.
    await s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: first.VersionId }),
    );
    info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
    t.is(info.json.objects, 3);
    t.is(info.json.bytes, 100_000 + 120_000);
    await noLeak(t);
  },
);
