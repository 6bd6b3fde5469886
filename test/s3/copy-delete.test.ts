import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketMetadataTableConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  useServer,
} from '../helpers/server.js';

const KIB = 1024;
const MIB = 1024 * KIB;

// Several shards, so copies between keys usually cross shards (blocks are linked across).
const suite = useServer(test, { shards: 4 });

function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** `x-amz-copy-source` for a key: URL-encoded, as S3 requires. */
function source(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key)}`;
}

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// CopyObject

test('CopyObject (COPY directive) copies body, content headers and metadata', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-copy');
  const body = 'copy me please';
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'src',
      Body: body,
      ContentType: 'text/x-source',
      ContentDisposition: 'inline; filename="s.txt"',
      CacheControl: 'no-store',
      Metadata: { origin: 'source', n: '1' },
    }),
  );
  const copy = await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: source(bucket, 'src') }),
  );
  t.is(copy.$metadata.httpStatusCode, 200);
  t.is(copy.CopyObjectResult?.ETag, `"${md5Hex(body)}"`);
  t.true(copy.CopyObjectResult?.LastModified instanceof Date);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst' }));
  t.is(await got.Body?.transformToString(), body);
  t.is(got.ETag, `"${md5Hex(body)}"`);
  t.is(got.ContentType, 'text/x-source');
  t.is(got.ContentDisposition, 'inline; filename="s.txt"');
  t.is(got.CacheControl, 'no-store');
  t.deepEqual(got.Metadata, { origin: 'source', n: '1' });
});

test('CopyObject ignores new metadata under the COPY directive', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-copy-ignores');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'x', Metadata: { keep: 'me' } }),
  );
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'dst',
      CopySource: source(bucket, 'src'),
      MetadataDirective: 'COPY',
      Metadata: { ignored: 'yes' },
      ContentType: 'text/ignored',
    }),
  );
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
  t.deepEqual(head.Metadata, { keep: 'me' });
  t.not(head.ContentType, 'text/ignored');
});

test('CopyObject (REPLACE directive) takes the new metadata and content type', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-replace');
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'src',
      Body: 'replace body',
      ContentType: 'text/old',
      CacheControl: 'no-store',
      Metadata: { old: 'value' },
    }),
  );
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'dst',
      CopySource: source(bucket, 'src'),
      MetadataDirective: 'REPLACE',
      ContentType: 'text/new',
      Metadata: { fresh: 'value' },
    }),
  );
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst' }));
  t.is(got.ContentType, 'text/new');
  t.deepEqual(got.Metadata, { fresh: 'value' });
  t.is(got.CacheControl, undefined, 'REPLACE drops headers the request did not give');
  t.is(await got.Body?.transformToString(), 'replace body');
  // The source is untouched.
  const src = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
  t.is(src.ContentType, 'text/old');
  t.deepEqual(src.Metadata, { old: 'value' });
});

test('copying an object onto itself without REPLACE is InvalidRequest 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-self');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: 'me' }));
  const err = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: source(bucket, 'self') }),
    ),
  );
  t.is(err.name, 'InvalidRequest');
  t.is(err.status, 400);
});

test('copying an object onto itself with REPLACE updates its metadata and keeps its body', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-self-replace');
  const body = randomBytesSeeded(2 * MIB + 9, 8);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: body, Metadata: { v: '1' } }),
  );
  const copy = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'self',
      CopySource: source(bucket, 'self'),
      MetadataDirective: 'REPLACE',
      Metadata: { v: '2' },
      ContentType: 'application/x-updated',
    }),
  );
  t.is(copy.CopyObjectResult?.ETag, `"${md5Hex(body)}"`);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }));
  t.deepEqual(head.Metadata, { v: '2' });
  t.is(head.ContentType, 'application/x-updated');
  t.true((await objectBytes(suite.s3, bucket, 'self')).equals(body));
});

test('x-amz-copy-source-if-* preconditions: failing ones are 412, holding ones copy', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-cond');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'conditional' }));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
  const etag = head.ETag ?? '';
  const lastModified = head.LastModified ?? new Date();
  const past = new Date(lastModified.getTime() - 60_000);
  const future = new Date(lastModified.getTime() + 60_000);
  const base = { Bucket: bucket, CopySource: source(bucket, 'src') };
  const failing = [
    { Key: 'f1', CopySourceIfMatch: '"00000000000000000000000000000000"' },
    { Key: 'f2', CopySourceIfNoneMatch: etag },
    { Key: 'f3', CopySourceIfModifiedSince: lastModified },
    { Key: 'f4', CopySourceIfUnmodifiedSince: past },
  ];
  for (const conditions of failing) {
    const err = await s3Failure(suite.s3.send(new CopyObjectCommand({ ...base, ...conditions })));
    t.is(err.name, 'PreconditionFailed', JSON.stringify(conditions));
    t.is(err.status, 412, JSON.stringify(conditions));
    t.false(await exists(bucket, conditions.Key), `${conditions.Key} must not be written`);
  }
  const holding = [
    { Key: 'h1', CopySourceIfMatch: etag },
    { Key: 'h2', CopySourceIfNoneMatch: '"00000000000000000000000000000000"' },
    { Key: 'h3', CopySourceIfModifiedSince: past },
    { Key: 'h4', CopySourceIfUnmodifiedSince: future },
    // S3: If-Match true and If-Unmodified-Since false → copies.
    { Key: 'h5', CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: past },
  ];
  for (const conditions of holding) {
    const copy = await suite.s3.send(new CopyObjectCommand({ ...base, ...conditions }));
    t.is(copy.CopyObjectResult?.ETag, etag, JSON.stringify(conditions));
    t.true(await exists(bucket, conditions.Key), conditions.Key);
  }
  // S3: If-None-Match false and If-Modified-Since true → 412.
  const both = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        ...base,
        Key: 'f5',
        CopySourceIfNoneMatch: etag,
        CopySourceIfModifiedSince: past,
      }),
    ),
  );
  t.is(both.status, 412);
});

const awkwardKeys: Array<[string, string]> = [
  ['spaces', 'my file (1).txt'],
  ['unicode', 'ünïcødé/日本/файл.txt'],
  ['plus', 'a+b c+d'],
  ['percent and query characters', '50% off?x=1&y=#2'],
  ['astral characters', 'rocket-🚀'],
];
for (const [label, key] of awkwardKeys) {
  test(`CopyObject decodes a URL-encoded source key with ${label}`, async (t) => {
    const bucket = await newBucket(suite.s3, 'copy-keys');
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `from ${key}` }));
    const target = `copy of ${key}`;
    await suite.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: source(bucket, key) }),
    );
    t.is((await objectBytes(suite.s3, bucket, target)).toString(), `from ${key}`);
  });
}

test('CopyObject accepts a source with a leading slash', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-slash');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/src', Body: 'slashed' }));
  await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `/${bucket}/dir/src` }),
  );
  t.is((await objectBytes(suite.s3, bucket, 'dst')).toString(), 'slashed');
});

test('CopyObject copies across buckets', async (t) => {
  const from = await newBucket(suite.s3, 'copy-from');
  const to = await newBucket(suite.s3, 'copy-to');
  const body = randomBytesSeeded(100 * KIB, 21);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: from, Key: 'obj', Body: body, Metadata: { a: 'b' } }),
  );
  await suite.s3.send(
    new CopyObjectCommand({ Bucket: to, Key: 'obj', CopySource: source(from, 'obj') }),
  );
  t.true((await objectBytes(suite.s3, to, 'obj')).equals(body));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: to, Key: 'obj' }));
  t.deepEqual(head.Metadata, { a: 'b' });
  t.true((await objectBytes(suite.s3, from, 'obj')).equals(body), 'the source stays');
});

for (const [label, size] of [
  ['multi-block (3 MiB)', 3 * MIB],
  ['inline (1 KiB)', KIB],
] as const) {
  test(`a copy of a ${label} object survives deleting and overwriting its source`, async (t) => {
    const bucket = await newBucket(suite.s3, 'copy-survives');
    const other = await newBucket(suite.s3, 'copy-survives-x');
    const body = randomBytesSeeded(size, size + 1);
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: body }));
    for (let i = 0; i < 4; i++) {
      await suite.s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: `copy-${i}`,
          CopySource: source(bucket, 'src'),
        }),
      );
    }
    await suite.s3.send(
      new CopyObjectCommand({ Bucket: other, Key: 'copy', CopySource: source(bucket, 'src') }),
    );
    await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'src' }));
    t.false(await exists(bucket, 'src'));
    for (let i = 0; i < 4; i++)
      t.true((await objectBytes(suite.s3, bucket, `copy-${i}`)).equals(body), `copy-${i}`);
    t.true((await objectBytes(suite.s3, other, 'copy')).equals(body), 'cross-bucket copy');
    // Deleting one copy must not take the blocks from the others.
    await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'copy-0' }));
    // Re-creating the source with other bytes must not change the copies either.
    await suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: randomBytesSeeded(size, 3) }),
    );
    for (let i = 1; i < 4; i++)
      t.true((await objectBytes(suite.s3, bucket, `copy-${i}`)).equals(body), `copy-${i}`);
    t.true((await objectBytes(suite.s3, other, 'copy')).equals(body));
  });
}

test('a copy of an empty object is empty', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-empty');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: '' }));
  const copy = await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: source(bucket, 'src') }),
  );
  t.is(copy.CopyObjectResult?.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
  t.is(head.ContentLength, 0);
  t.is((await objectBytes(suite.s3, bucket, 'dst')).length, 0);
});

test('an unknown metadata directive is InvalidArgument 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-directive');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'x' }));
  const err = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst',
        CopySource: source(bucket, 'src'),
        MetadataDirective: 'MERGE' as 'COPY',
      }),
    ),
  );
  t.is(err.name, 'InvalidArgument');
  t.is(err.status, 400);
});

test('CopyObject of a missing source key is NoSuchKey 404; of a missing bucket NoSuchBucket', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-missing');
  const err = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: source(bucket, 'nope') }),
    ),
  );
  t.is(err.name, 'NoSuchKey');
  t.is(err.status, 404);
  const noBucket = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst',
        CopySource: source('no-such-src-bucket', 'k'),
      }),
    ),
  );
  t.is(noBucket.name, 'NoSuchBucket');
  t.is(noBucket.status, 404);
  t.false(await exists(bucket, 'dst'));
});

test('CopyObject with a target key over 1024 bytes is KeyTooLongError', async (t) => {
  const bucket = await newBucket(suite.s3, 'copy-longkey');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'x' }));
  const err = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'k'.repeat(1025),
        CopySource: source(bucket, 'src'),
      }),
    ),
  );
  t.is(err.name, 'KeyTooLongError');
  t.is(err.status, 400);
});

// ---------------------------------------------------------------------------------------------
// DeleteObject / DeleteObjects

test('DeleteObject answers 204 for an existing key, which is then gone', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-one');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: randomBytesSeeded(2 * MIB, 1) }),
  );
  const del = await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(del.$metadata.httpStatusCode, 204);
  const err = await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(err.name, 'NoSuchKey');
  t.false(await exists(bucket, 'k'));
  const list = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.is(list.KeyCount, 0);
});

test('DeleteObject answers 204 for a missing key too', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-missing');
  const del = await suite.s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }),
  );
  t.is(del.$metadata.httpStatusCode, 204);
  const again = await suite.s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }),
  );
  t.is(again.$metadata.httpStatusCode, 204);
});

test('DeleteObject in a missing bucket is NoSuchBucket 404', async (t) => {
  const err = await s3Failure(
    suite.s3.send(new DeleteObjectCommand({ Bucket: 'no-such-bucket-del', Key: 'k' })),
  );
  t.is(err.name, 'NoSuchBucket');
  t.is(err.status, 404);
});

test('a deleted key can be written again', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-rewrite');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one' }));
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two' }));
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'two');
});

test('DeleteObjects deletes a batch of 50 keys, missing ones included, and reports each', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-batch');
  const present = Array.from({ length: 40 }, (_, i) => `obj/${String(i).padStart(2, '0')} ü+`);
  await Promise.all(
    present.map((key, i) =>
      suite.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: i % 10 === 0 ? randomBytesSeeded(MIB + 1, i) : key,
        }),
      ),
    ),
  );
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep-me', Body: 'stays' }));
  const missing = Array.from({ length: 10 }, (_, i) => `missing/${i}`);
  const keys = [...present, ...missing];
  const out = await suite.s3.send(
    new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
  );
  t.is(out.$metadata.httpStatusCode, 200);
  t.deepEqual((out.Deleted ?? []).map((d) => d.Key).sort(), [...keys].sort());
  t.is(out.Errors?.length ?? 0, 0);
  const list = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.deepEqual(
    list.Contents?.map((o) => o.Key),
    ['keep-me'],
  );
  for (const key of [present[0] ?? '', present[39] ?? '']) t.false(await exists(bucket, key), key);
});

test('DeleteObjects in Quiet mode deletes but reports no Deleted entries', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-quiet');
  const keys = ['a', 'b', 'c'];
  for (const key of keys)
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  const out = await suite.s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: [...keys, 'missing'].map((Key) => ({ Key })), Quiet: true },
    }),
  );
  t.is(out.$metadata.httpStatusCode, 200);
  t.is(out.Deleted?.length ?? 0, 0);
  t.is(out.Errors?.length ?? 0, 0);
  for (const key of keys) t.false(await exists(bucket, key), key);
});

test('DeleteObjects with 1001 keys is MalformedXML 400 and deletes nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-too-many');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k0', Body: 'x' }));
  const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`);
  const err = await s3Failure(
    suite.s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })) },
      }),
    ),
  );
  t.is(err.name, 'MalformedXML');
  t.is(err.status, 400);
  t.true(await exists(bucket, 'k0'));
});

test('DeleteObjects with exactly 1000 keys succeeds', async (t) => {
  const bucket = await newBucket(suite.s3, 'del-1000');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k999', Body: 'x' }));
  const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
  const out = await suite.s3.send(
    new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
  );
  t.is(out.Deleted?.length, 1000);
  t.false(await exists(bucket, 'k999'));
});

test('DeleteObjects in a missing bucket is NoSuchBucket 404', async (t) => {
  const err = await s3Failure(
    suite.s3.send(
      new DeleteObjectsCommand({
        Bucket: 'no-such-bucket-dels',
        Delete: { Objects: [{ Key: 'k' }] },
      }),
    ),
  );
  t.is(err.name, 'NoSuchBucket');
  t.is(err.status, 404);
});

// ---------------------------------------------------------------------------------------------
// Endpoints hangar does not implement

test('unimplemented endpoints answer 501 NotImplemented', async (t) => {
  const bucket = await newBucket(suite.s3, 'not-impl');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  // S3 Metadata's table configurations are beyond the yardstick (test/s3/target-coverage.test.ts
  // covers all 92 of its endpoints): they answer 501.
  const table = await s3Failure(
    suite.s3.send(new GetBucketMetadataTableConfigurationCommand({ Bucket: bucket })),
  );
  t.is(table.name, 'NotImplemented');
  t.is(table.status, 501);
  // A 501 does not disturb the object.
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'x');
});
