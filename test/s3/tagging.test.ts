import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type Tag,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test from 'ava';
import {
  newBucket,
  randomBytesSeeded,
  s3Failure,
  TestServer,
  useServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const MIB = 1024 * 1024;

// Plain HTTP with SSE-C (one test copies an SSE-C object): the operator's opt-in for a proxy.
const suite = useServer(test, { env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' } });

async function putObject(bucket: string, key: string, extra: { Tagging?: string } = {}) {
  return suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'body', ...extra }));
}

async function objectTags(bucket: string, key: string, client = suite.s3): Promise<Tag[]> {
  const got = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return got.TagSet ?? [];
}

async function bucketTags(bucket: string, client = suite.s3): Promise<Tag[]> {
  const got = await client.send(new GetBucketTaggingCommand({ Bucket: bucket }));
  return got.TagSet ?? [];
}

function tagSet(entries: Record<string, string>): Tag[] {
  return Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
}

function numbered(count: number): Tag[] {
  return Array.from({ length: count }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
}

/** The extra fields of an S3 error document (TagKey, ArgumentName, …) as the SDK exposes them. */
function field(raw: unknown, name: string): unknown {
  return (raw as Record<string, unknown>)[name];
}

function md5Base64(body: string): string {
  return createHash('md5').update(body).digest('base64');
}

/** PUT ?tagging with a body the SDK would never send. */
async function rawPutTagging(path: string, body: string, withMd5 = true): Promise<Response> {
  return signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `${path}?tagging`,
    body: Buffer.from(body),
    headers: withMd5 ? { 'content-md5': md5Base64(body) } : {},
  });
}

function errorCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

// ---- PutObjectTagging / GetObjectTagging / DeleteObjectTagging ----

test('object tags: put, get (sorted by key), replace, delete', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-obj');
  await putObject(bucket, 'o');
  t.deepEqual(await objectTags(bucket, 'o'), [], 'an untagged object has an empty TagSet');

  const put = await suite.s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'o',
      Tagging: { TagSet: tagSet({ team: 'search', env: 'prod', empty: '' }) },
    }),
  );
  t.is(put.$metadata.httpStatusCode, 200);
  t.deepEqual(await objectTags(bucket, 'o'), tagSet({ empty: '', env: 'prod', team: 'search' }));

  await suite.s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'o',
      Tagging: { TagSet: tagSet({ only: 'one' }) },
    }),
  );
  t.deepEqual(await objectTags(bucket, 'o'), tagSet({ only: 'one' }), 'a put replaces the set');

  const deleted = await suite.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'o' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  t.deepEqual(await objectTags(bucket, 'o'), []);
  const again = await suite.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'o' }));
  t.is(again.$metadata.httpStatusCode, 204, 'deleting absent tags is still 204');

  // The object itself is untouched by tagging.
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }));
  t.is(await got.Body?.transformToString(), 'body');
});

test('an empty TagSet removes the object tags', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-obj-empty');
  await putObject(bucket, 'o', { Tagging: 'a=1' });
  await suite.s3.send(
    new PutObjectTaggingCommand({ Bucket: bucket, Key: 'o', Tagging: { TagSet: [] } }),
  );
  t.deepEqual(await objectTags(bucket, 'o'), []);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'o' }));
  t.is(head.TagCount, undefined);
});

test('tags at the limits: 10 tags, 128-unit keys, 256-unit values, Unicode, __proto__', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-obj-limits');
  await putObject(bucket, 'o');
  const tags: Tag[] = [
    { Key: 'k'.repeat(128), Value: 'v'.repeat(256) },
    // Astral characters are 2 UTF-16 units: 64 of them make a 128-unit key.
    { Key: '𐐀'.repeat(64), Value: '𐐀'.repeat(128) },
    { Key: '環境', Value: '本番' },
    { Key: 'space key', Value: 'with space' },
    { Key: 'punctuation+-=._:/@', Value: 'value+-=._:/@' },
    { Key: '__proto__', Value: 'not a prototype' },
    { Key: 'not-aws:reserved', Value: 'v' },
    { Key: 'number-Ⅷ-²', Value: 'digit-١' },
    { Key: 'constructor', Value: 'c' },
    { Key: 'z', Value: '' },
  ];
  await suite.s3.send(
    new PutObjectTaggingCommand({ Bucket: bucket, Key: 'o', Tagging: { TagSet: tags } }),
  );
  const sorted = [...tags].sort((a, b) => ((a.Key ?? '') < (b.Key ?? '') ? -1 : 1));
  t.deepEqual(await objectTags(bucket, 'o'), sorted);
});

test('object tagging of a missing key or bucket: NoSuchKey / NoSuchBucket', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-obj-missing');
  const tagging = { TagSet: tagSet({ a: '1' }) };
  for (const send of [
    () =>
      suite.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'nope', Tagging: tagging })),
    () => suite.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'nope' })),
    () => suite.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'nope' })),
  ]) {
    const failure = await s3Failure(send());
    t.is(failure.name, 'NoSuchKey');
    t.is(failure.status, 404);
  }
  const noBucket = await s3Failure(
    suite.s3.send(new GetObjectTaggingCommand({ Bucket: `${bucket}-gone`, Key: 'k' })),
  );
  t.is(noBucket.name, 'NoSuchBucket');
  // Tagging never creates an object.
  t.is(
    (await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nope' })))).status,
    404,
  );
});

const invalidObjectTags: Array<[string, Tag[], string, string]> = [
  ['11 tags', numbered(11), 'BadRequest', 'Object tags cannot be greater than 10'],
  [
    'a duplicate key',
    [
      { Key: 'a', Value: '1' },
      { Key: 'a', Value: '2' },
    ],
    'InvalidTag',
    'Cannot provide multiple Tags with the same key',
  ],
  [
    'an empty key',
    [{ Key: '', Value: 'v' }],
    'InvalidTag',
    'The TagKey you have provided is invalid',
  ],
  [
    'a 129-unit key',
    [{ Key: 'k'.repeat(129), Value: 'v' }],
    'InvalidTag',
    'The TagKey you have provided is invalid',
  ],
  [
    'a key of 65 astral characters (130 units)',
    [{ Key: '𐐀'.repeat(65), Value: 'v' }],
    'InvalidTag',
    'The TagKey you have provided is invalid',
  ],
  [
    'a 257-unit value',
    [{ Key: 'k', Value: 'v'.repeat(257) }],
    'InvalidTag',
    'The TagValue you have provided is invalid',
  ],
  [
    'a key with a character outside the tag alphabet',
    [{ Key: 'invalid!', Value: 'v' }],
    'InvalidTag',
    'The TagKey you have provided is invalid',
  ],
  [
    'a value with a tab',
    [{ Key: 'k', Value: 'a\tb' }],
    'InvalidTag',
    'The TagValue you have provided is invalid',
  ],
  [
    'an aws: key',
    [{ Key: 'aws:cost', Value: 'v' }],
    'InvalidTag',
    'Your TagKey cannot be prefixed with aws:',
  ],
  [
    'an AWS: key',
    [{ Key: 'AWS:cost', Value: 'v' }],
    'InvalidTag',
    'Invalid Tag. Tags cannot start with "aws:"(case insensitive) unless they are System Tags that start with "aws:"(case sensitive)',
  ],
];
for (const [label, tags, code, message] of invalidObjectTags) {
  test(`PutObjectTagging refuses ${label} (${code}) and keeps the previous tags`, async (t) => {
    const bucket = await newBucket(suite.s3, 'tag-obj-bad');
    await putObject(bucket, 'o', { Tagging: 'kept=yes' });
    const failure = await s3Failure(
      suite.s3.send(
        new PutObjectTaggingCommand({ Bucket: bucket, Key: 'o', Tagging: { TagSet: tags } }),
      ),
    );
    t.is(failure.name, code);
    t.is(failure.status, 400);
    t.is(failure.message, message);
    t.deepEqual(await objectTags(bucket, 'o'), tagSet({ kept: 'yes' }));
  });
}

test('an InvalidTag error names the offending key', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-obj-field');
  await putObject(bucket, 'o');
  const failure = await s3Failure(
    suite.s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: 'o',
        Tagging: { TagSet: [{ Key: 'bad#key', Value: 'v' }] },
      }),
    ),
  );
  t.is(failure.name, 'InvalidTag');
  t.is(field(failure.raw, 'TagKey'), 'bad#key');
});

test('malformed tagging documents are MalformedXML; a missing Content-MD5 is refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-xml');
  await putObject(bucket, 'o');
  const path = `/${bucket}/o`;
  const documents = [
    '<Tagging><TagSet>',
    '<Tagging></Tagging>',
    '<Other><TagSet></TagSet></Other>',
    '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>',
    '<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>',
    '<Tagging><TagSet><Tag><Key>k</Key><Key>j</Key><Value>v</Value></Tag></TagSet></Tagging>',
    '',
  ];
  for (const document of documents) {
    const response = await rawPutTagging(path, document);
    const text = await response.text();
    t.is(response.status, 400, document);
    t.is(errorCode(text), 'MalformedXML', document);
  }
  for (const target of [path, `/${bucket}`]) {
    const response = await rawPutTagging(
      target,
      '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>',
      false,
    );
    t.is(response.status, 400);
    t.is(errorCode(await response.text()), 'InvalidRequest');
  }
  // A namespaced, self-closing document is fine.
  const ok = await rawPutTagging(
    path,
    '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k</Key><Value/></Tag></TagSet></Tagging>',
  );
  t.is(ok.status, 200, await ok.text());
  t.deepEqual(await objectTags(bucket, 'o'), tagSet({ k: '' }));
});

test('object tagging of an unversioned object: only its null version exists', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-version');
  await putObject(bucket, 'o');
  const malformed = await s3Failure(
    suite.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'o', VersionId: 'v1' })),
  );
  t.is(malformed.name, 'InvalidArgument');
  const absent = await s3Failure(
    suite.s3.send(
      new GetObjectTaggingCommand({
        Bucket: bucket,
        Key: 'o',
        VersionId: 'ffffffffffffffff0000000000000000',
      }),
    ),
  );
  t.is(absent.status, 404);
  t.is(absent.name, 'NoSuchVersion');
  const nullVersion = await suite.s3.send(
    new GetObjectTaggingCommand({ Bucket: bucket, Key: 'o', VersionId: 'null' }),
  );
  t.deepEqual(nullVersion.TagSet ?? [], []);
});

// ---- x-amz-tagging on PutObject, and x-amz-tagging-count on GET/HEAD ----

test('PutObject x-amz-tagging: URL-encoded pairs, + is a space, a bare key has the empty value', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-header');
  await putObject(bucket, 'o', { Tagging: 'b=two%20words&a=1&c&d=x+y&e=%E7%92%B0%3D' });
  t.deepEqual(
    await objectTags(bucket, 'o'),
    tagSet({ a: '1', b: 'two words', c: '', d: 'x y', e: '環=' }),
  );
});

test('GET and HEAD answer x-amz-tagging-count when the object has tags', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-count');
  await putObject(bucket, 'tagged', { Tagging: 'a=1&b=2&c=3' });
  await putObject(bucket, 'plain');
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged' }));
  t.is(head.TagCount, 3);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tagged' }));
  t.is(got.TagCount, 3);
  t.is(await got.Body?.transformToString(), 'body');
  const plainHead = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(plainHead.TagCount, undefined);
  const plainGet = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(plainGet.TagCount, undefined);
  await plainGet.Body?.transformToString();
  // The raw header, as any client sees it.
  const raw = await signedFetch(suite.server.endpoint, {
    method: 'HEAD',
    path: `/${bucket}/tagged`,
  });
  t.is(raw.headers.get('x-amz-tagging-count'), '3');

  await suite.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
  const after = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged' }));
  t.is(after.TagCount, undefined);
  // Overwriting an object drops its tags (a new object has only the tags it was put with).
  await putObject(bucket, 'plain', { Tagging: 'x=1' });
  await putObject(bucket, 'plain');
  t.deepEqual(await objectTags(bucket, 'plain'), []);
});

test('a large tagged object (blocks, not inline) keeps its tags', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-big');
  const body = randomBytesSeeded(2 * MIB + 3, 7);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: body, Tagging: 'size=big' }),
  );
  t.deepEqual(await objectTags(bucket, 'big'), tagSet({ size: 'big' }));
  await suite.s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'big',
      Tagging: { TagSet: tagSet({ size: 'bigger' }) },
    }),
  );
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }));
  t.is(got.TagCount, 1);
  t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));
});

const invalidHeaders: Array<[string, string, string]> = [
  ['a duplicate key', 'a=1&a=2', 'InvalidArgument'],
  ['a pair with two =', 'a=b=c', 'InvalidArgument'],
  ['a bad percent-escape', 'a=%ZZ', 'InvalidArgument'],
  ['11 tags', Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&'), 'BadRequest'],
  ['an aws: key', 'aws%3Acost=1', 'InvalidTag'],
  ['a key outside the tag alphabet', 'TagSet%3D%5B%7BKey%3Dstring%7D%5D', 'InvalidTag'],
  ['a 257-unit value', `k=${'v'.repeat(257)}`, 'InvalidTag'],
  ['an empty key', '=v', 'InvalidTag'],
];
for (const [label, header, code] of invalidHeaders) {
  test(`PutObject with x-amz-tagging holding ${label} is ${code} and stores nothing`, async (t) => {
    const bucket = await newBucket(suite.s3, 'tag-header-bad');
    const failure = await s3Failure(putObject(bucket, 'o', { Tagging: header }));
    t.is(failure.name, code);
    t.is(failure.status, 400);
    if (code === 'InvalidArgument') t.is(field(failure.raw, 'ArgumentName'), 'x-amz-tagging');
    t.is(
      (await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'o' })))).status,
      404,
    );
  });
}

// ---- CopyObject ----

test('CopyObject keeps the source tags by default (COPY) and with COPY explicitly', async (t) => {
  const source = await newBucket(suite.s3, 'tag-copy-src');
  const target = await newBucket(suite.s3, 'tag-copy-dst');
  await putObject(source, 'src', { Tagging: 'origin=source&n=1' });
  await suite.s3.send(
    new CopyObjectCommand({ Bucket: target, Key: 'default', CopySource: `${source}/src` }),
  );
  t.deepEqual(await objectTags(target, 'default'), tagSet({ n: '1', origin: 'source' }));
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: target,
      Key: 'copy',
      CopySource: `${source}/src`,
      TaggingDirective: 'COPY',
      // Ignored with COPY.
      Tagging: 'other=tags',
    }),
  );
  t.deepEqual(await objectTags(target, 'copy'), tagSet({ n: '1', origin: 'source' }));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: target, Key: 'copy' }));
  t.is(head.TagCount, 2);
});

test('CopyObject with REPLACE takes x-amz-tagging, or no tags without it', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-copy-replace');
  await putObject(bucket, 'src', { Tagging: 'origin=source' });
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'replaced',
      CopySource: `${bucket}/src`,
      TaggingDirective: 'REPLACE',
      Tagging: 'fresh=yes&b=2',
    }),
  );
  t.deepEqual(await objectTags(bucket, 'replaced'), tagSet({ b: '2', fresh: 'yes' }));
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'cleared',
      CopySource: `${bucket}/src`,
      TaggingDirective: 'REPLACE',
    }),
  );
  t.deepEqual(await objectTags(bucket, 'cleared'), []);
  t.deepEqual(await objectTags(bucket, 'src'), tagSet({ origin: 'source' }), 'source unchanged');

  // The same object, metadata replaced and tags replaced: a legal in-place copy.
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'src',
      CopySource: `${bucket}/src`,
      MetadataDirective: 'REPLACE',
      TaggingDirective: 'REPLACE',
      Tagging: 'in=place',
    }),
  );
  t.deepEqual(await objectTags(bucket, 'src'), tagSet({ in: 'place' }));
});

test('CopyObject refuses a bad tagging directive and bad replacement tags', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-copy-bad');
  await putObject(bucket, 'src', { Tagging: 'a=1' });
  const directive = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst',
        CopySource: `${bucket}/src`,
        TaggingDirective: 'MERGE' as 'COPY',
      }),
    ),
  );
  t.is(directive.name, 'InvalidArgument');
  t.is(field(directive.raw, 'ArgumentName'), 'x-amz-tagging-directive');
  const tags = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst',
        CopySource: `${bucket}/src`,
        TaggingDirective: 'REPLACE',
        Tagging: 'aws:x=1',
      }),
    ),
  );
  t.is(tags.name, 'InvalidTag');
  t.is(
    (await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' })))).status,
    404,
  );
});

test('tags of an SSE-C object: readable without its key, kept by an encrypting copy', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-ssec');
  const key = randomBytesSeeded(32, 99).toString('base64');
  const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key };
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'secret', Tagging: 'a=1' }),
  );
  // Copy into an encrypted object: the bytes stream through (re-encrypted), tags follow.
  await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'enc', CopySource: `${bucket}/plain`, ...sse }),
  );
  t.deepEqual(await objectTags(bucket, 'enc'), tagSet({ a: '1' }));
  await suite.s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'enc',
      Tagging: { TagSet: tagSet({ b: '2' }) },
    }),
  );
  t.deepEqual(await objectTags(bucket, 'enc'), tagSet({ b: '2' }));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'enc', ...sse }));
  t.is(head.TagCount, 1);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc', ...sse }));
  t.is(await got.Body?.transformToString(), 'secret');
});

// ---- multipart uploads ----

test('CreateMultipartUpload x-amz-tagging: the completed object has the tags', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-mpu');
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', Tagging: 'parts=2&kind=mpu' }),
  );
  const first = randomBytesSeeded(5 * MIB, 1);
  const second = Buffer.from('tail');
  const etags: string[] = [];
  for (const [index, body] of [first, second].entries()) {
    const part = await suite.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: created.UploadId,
        PartNumber: index + 1,
        Body: body,
      }),
    );
    etags.push(part.ETag ?? '');
  }
  // No object exists (and so no tags) before completion.
  t.is(
    (await s3Failure(suite.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'mp' }))))
      .name,
    'NoSuchKey',
  );
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mp',
      UploadId: created.UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  t.deepEqual(await objectTags(bucket, 'mp'), tagSet({ kind: 'mpu', parts: '2' }));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp' }));
  t.is(head.TagCount, 2);
  t.is(head.ContentLength, 5 * MIB + 4);
});

test('CreateMultipartUpload refuses bad x-amz-tagging before creating the upload', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-mpu-bad');
  const failure = await s3Failure(
    suite.s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', Tagging: 'a=1&a=2' }),
    ),
  );
  t.is(failure.name, 'InvalidArgument');
});

// ---- PostObject ----

test('PostObject stores the tags of its tagging field', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-post');
  const tagging =
    '<Tagging><TagSet><Tag><Key>from</Key><Value>form</Value></Tag><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>';
  const post = async (value: string): Promise<Response> => {
    const { url, fields } = await createPresignedPost(
      suite.s3 as unknown as Parameters<typeof createPresignedPost>[0],
      { Bucket: bucket, Key: 'posted', Fields: { tagging: value }, Expires: 60 },
    );
    const form = new FormData();
    for (const [name, fieldValue] of Object.entries(fields)) form.append(name, fieldValue);
    form.append('file', new Blob(['posted body']), 'f.txt');
    return fetch(url, { method: 'POST', body: form });
  };
  const response = await post(tagging);
  t.is(response.status, 204, await response.text());
  t.deepEqual(await objectTags(bucket, 'posted'), tagSet({ a: '1', from: 'form' }));

  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'posted' }));
  const bad = await post(
    '<Tagging><TagSet><Tag><Key>aws:x</Key><Value>1</Value></Tag></TagSet></Tagging>',
  );
  t.is(bad.status, 400);
  t.is(errorCode(await bad.text()), 'InvalidTag');
  t.is(
    (await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'posted' }))))
      .status,
    404,
  );
});

// ---- bucket tagging ----

test('bucket tags: NoSuchTagSet, put (204), get sorted, replace, delete (204)', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-bucket');
  const none = await s3Failure(bucketTags(bucket));
  t.is(none.name, 'NoSuchTagSet');
  t.is(none.status, 404);
  t.is(none.message, 'The TagSet does not exist');

  const put = await suite.s3.send(
    new PutBucketTaggingCommand({
      Bucket: bucket,
      Tagging: { TagSet: tagSet({ team: 'storage', cost: 'c-1', empty: '' }) },
    }),
  );
  t.is(put.$metadata.httpStatusCode, 204);
  t.deepEqual(await bucketTags(bucket), tagSet({ cost: 'c-1', empty: '', team: 'storage' }));

  await suite.s3.send(
    new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tagSet({ b: '2' }) } }),
  );
  t.deepEqual(await bucketTags(bucket), tagSet({ b: '2' }));

  const deleted = await suite.s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  t.is((await s3Failure(bucketTags(bucket))).name, 'NoSuchTagSet');
  const again = await suite.s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
  t.is(again.$metadata.httpStatusCode, 204);
});

test('bucket tags: 50 tags are fine, an empty set removes them', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-bucket-50');
  await suite.s3.send(
    new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: numbered(50) } }),
  );
  t.is((await bucketTags(bucket)).length, 50);
  await suite.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [] } }));
  t.is((await s3Failure(bucketTags(bucket))).name, 'NoSuchTagSet');
});

const invalidBucketTags: Array<[string, Tag[], string]> = [
  ['51 tags', numbered(51), 'Bucket tag count cannot be greater than 50'],
  [
    'a duplicate key',
    [
      { Key: 'a', Value: '1' },
      { Key: 'a', Value: '2' },
    ],
    'Cannot provide multiple Tags with the same key',
  ],
  [
    'an aws: key',
    [{ Key: 'aws:cost', Value: 'v' }],
    'System tags cannot be added/updated by requester',
  ],
  [
    'a 129-unit key',
    [{ Key: 'k'.repeat(129), Value: 'v' }],
    'The TagKey you have provided is invalid',
  ],
  [
    'a 257-unit value',
    [{ Key: 'k', Value: 'v'.repeat(257) }],
    'The TagValue you have provided is invalid',
  ],
  [
    'a bad character',
    [{ Key: 'k', Value: 'invalid!' }],
    'The TagValue you have provided is invalid',
  ],
];
for (const [label, tags, message] of invalidBucketTags) {
  test(`PutBucketTagging refuses ${label} (InvalidTag) and keeps the previous tags`, async (t) => {
    const bucket = await newBucket(suite.s3, 'tag-bucket-bad');
    await suite.s3.send(
      new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tagSet({ kept: 'yes' }) } }),
    );
    const failure = await s3Failure(
      suite.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tags } })),
    );
    t.is(failure.name, 'InvalidTag');
    t.is(failure.status, 400);
    t.is(failure.message, message);
    t.deepEqual(await bucketTags(bucket), tagSet({ kept: 'yes' }));
  });
}

test('PutBucketTagging: malformed XML, missing bucket', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-bucket-xml');
  const response = await rawPutTagging(`/${bucket}`, '<Tagging><TagSet><Tag>');
  t.is(response.status, 400);
  t.is(errorCode(await response.text()), 'MalformedXML');
  const missing = await s3Failure(
    suite.s3.send(
      new PutBucketTaggingCommand({ Bucket: `${bucket}-gone`, Tagging: { TagSet: numbered(1) } }),
    ),
  );
  t.is(missing.name, 'NoSuchBucket');
  t.is((await s3Failure(bucketTags(`${bucket}-gone`))).name, 'NoSuchBucket');
});

test('DeleteBucket removes the bucket tags: a re-created bucket has none', async (t) => {
  const bucket = await newBucket(suite.s3, 'tag-bucket-gone');
  await suite.s3.send(
    new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tagSet({ a: '1' }) } }),
  );
  await suite.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  await suite.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  t.is((await s3Failure(bucketTags(bucket))).name, 'NoSuchTagSet');
});

// ---- persistence ----

test('object, upload and bucket tags survive a server restart', async (t) => {
  const first = await TestServer.start();
  try {
    const client = first.client();
    const bucket = await newBucket(client, 'tag-restart');
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'x', Tagging: 'a=1&b=2' }),
    );
    await client.send(
      new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tagSet({ owner: 'me' }) } }),
    );
    const upload = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', Tagging: 'upload=tagged' }),
    );
    const part = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'only part',
      }),
    );
    await first.stop();

    const second = await TestServer.start({ dataDir: first.dataDir });
    try {
      const again = second.client();
      t.deepEqual(await objectTags(bucket, 'o', again), tagSet({ a: '1', b: '2' }));
      t.deepEqual(await bucketTags(bucket, again), tagSet({ owner: 'me' }));
      const head = await again.send(new HeadObjectCommand({ Bucket: bucket, Key: 'o' }));
      t.is(head.TagCount, 2);
      await again.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp',
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
        }),
      );
      t.deepEqual(await objectTags(bucket, 'mp', again), tagSet({ upload: 'tagged' }));
    } finally {
      await second.stop();
    }
  } finally {
    await first.destroy();
  }
});
