import { createHash } from 'node:crypto';
import {
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

const suite = useServer(test);

function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

test('PutObject answers ETag = quoted MD5 hex of the body', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-etag');
  const body = 'the quick brown fox jumps over the lazy dog';
  const put = await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fox', Body: body }));
  t.is(put.ETag, `"${md5Hex(body)}"`);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fox' }));
  t.is(head.ETag, put.ETag);
  t.is(head.ContentLength, Buffer.byteLength(body));
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'fox' }));
  t.is(got.ETag, put.ETag);
  t.is(await got.Body?.transformToString(), body);
});

test('an empty object stores, reads back empty, and has the MD5 of nothing as ETag', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-empty');
  const put = await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }));
  t.is(put.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' }));
  t.is(head.ContentLength, 0);
  t.is(head.ETag, put.ETag);
  const bytes = await objectBytes(suite.s3, bucket, 'empty');
  t.is(bytes.length, 0);
});

const sizes: Array<[string, number]> = [
  ['inline threshold - 1 (16 KiB - 1)', 16 * KIB - 1],
  ['inline threshold (16 KiB)', 16 * KIB],
  ['inline threshold + 1 (16 KiB + 1)', 16 * KIB + 1],
  ['one block (1 MiB)', MIB],
  ['one block + 1 (1 MiB + 1)', MIB + 1],
  ['several blocks (3 MiB + 5)', 3 * MIB + 5],
];
for (const [label, size] of sizes) {
  test(`an object of ${label} reads back byte-identical`, async (t) => {
    const bucket = await newBucket(suite.s3, 'put-size');
    const body = randomBytesSeeded(size, size);
    const put = await suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: body }),
    );
    t.is(put.ETag, `"${md5Hex(body)}"`);
    const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }));
    t.is(head.ContentLength, size);
    const got = await objectBytes(suite.s3, bucket, 'obj');
    t.is(got.length, size);
    t.true(got.equals(body), 'bytes differ');
  });
}

test('a correct Content-MD5 is accepted', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-md5');
  const body = randomBytesSeeded(40 * KIB, 7);
  const md5 = createHash('md5').update(body).digest('base64');
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body, ContentMD5: md5 }),
  );
  t.is(put.ETag, `"${md5Hex(body)}"`);
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(body));
});

test('a wrong Content-MD5 is BadDigest 400 and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-badmd5');
  const wrong = createHash('md5').update('something else').digest('base64');
  const err = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello', ContentMD5: wrong }),
    ),
  );
  t.is(err.name, 'BadDigest');
  t.is(err.status, 400);
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
});

test('a wrong Content-MD5 on a multi-block body is BadDigest and leaves the old object', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-badmd5-big');
  const original = randomBytesSeeded(20 * KIB, 3);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: original }));
  const body = randomBytesSeeded(2 * MIB + 3, 4);
  const wrong = createHash('md5').update(original).digest('base64');
  const err = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body, ContentMD5: wrong }),
    ),
  );
  t.is(err.name, 'BadDigest');
  t.is(err.status, 400);
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(original));
});

test('a malformed Content-MD5 is InvalidDigest 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-invmd5');
  const err = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello', ContentMD5: 'not-an-md5' }),
    ),
  );
  t.is(err.name, 'InvalidDigest');
  t.is(err.status, 400);
});

test('a wrong x-amz-checksum-crc32 is BadDigest 400 and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-badcrc');
  const err = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: 'hello world',
        ChecksumCRC32: 'AAAAAA==',
      }),
    ),
  );
  t.is(err.name, 'BadDigest');
  t.is(err.status, 400);
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
});

test('a correct x-amz-checksum-crc32 is accepted and echoed', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-crc');
  // CRC32("hello world") = 0x0d4a1185
  const crc = Buffer.from([0x0d, 0x4a, 0x11, 0x85]).toString('base64');
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello world', ChecksumCRC32: crc }),
  );
  t.is(put.ChecksumCRC32, crc);
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }),
  );
  t.is(head.ChecksumCRC32, crc);
});

test('the default SDK checksum (CRC32 trailer) is stored and returned with ChecksumMode', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-crc-trailer');
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello world' }),
  );
  t.is(put.ChecksumCRC32, 'DUoRhQ==');
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }),
  );
  t.is(got.ChecksumCRC32, 'DUoRhQ==');
  t.is(await got.Body?.transformToString(), 'hello world');
});

test('user metadata round-trips on GET and HEAD', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-meta');
  const metadata = { color: 'blue', 'multi-word-name': 'value with spaces', empty: '' };
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Metadata: metadata }),
  );
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(head.Metadata, metadata);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(got.Metadata, metadata);
  await got.Body?.transformToString();
});

test('metadata names are case-insensitive: S3 stores them lower-case', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-meta-case');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Metadata: { MixedCase: 'Value' } }),
  );
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(head.Metadata, { mixedcase: 'Value' });
});

test('standard headers round-trip on GET and HEAD', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-std');
  const expires = new Date('2030-01-02T03:04:05Z');
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'page.html',
      Body: '<h1>hi</h1>',
      ContentType: 'text/html; charset=utf-8',
      ContentEncoding: 'identity',
      ContentDisposition: 'attachment; filename="page.html"',
      ContentLanguage: 'en-GB',
      CacheControl: 'max-age=3600, public',
      Expires: expires,
    }),
  );
  for (const command of [
    new HeadObjectCommand({ Bucket: bucket, Key: 'page.html' }),
    new GetObjectCommand({ Bucket: bucket, Key: 'page.html' }),
  ]) {
    const out = await suite.s3.send(command as GetObjectCommand);
    t.is(out.ContentType, 'text/html; charset=utf-8');
    t.is(out.ContentEncoding, 'identity');
    t.is(out.ContentDisposition, 'attachment; filename="page.html"');
    t.is(out.ContentLanguage, 'en-GB');
    t.is(out.CacheControl, 'max-age=3600, public');
    t.is(out.ExpiresString, expires.toUTCString());
    t.is(out.Expires?.getTime(), expires.getTime());
    t.is(out.ContentLength, 11);
    t.truthy(out.LastModified);
    t.is(out.AcceptRanges, 'bytes');
    await out.Body?.transformToString();
  }
});

test('the default content type is binary/octet-stream when none is given', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-ctype');
  // The SDK sends no Content-Type for a Buffer body without ContentType.
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: Buffer.from('abc') }));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.true(
    head.ContentType === 'binary/octet-stream' || head.ContentType === 'application/octet-stream',
    `content type ${head.ContentType}`,
  );
  t.is(head.ContentEncoding, undefined, 'aws-chunked is not stored as Content-Encoding');
});

test('user metadata over 2 KB is MetadataTooLarge 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-meta-big');
  const err = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: 'x',
        Metadata: { big: 'v'.repeat(2100) },
      }),
    ),
  );
  t.is(err.name, 'MetadataTooLarge');
  t.is(err.status, 400);
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
});

test('user metadata of just under 2 KB is accepted', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-meta-edge');
  // 'edge' (4 bytes) + 2040 bytes = 2044 bytes ≤ 2048.
  const metadata = { edge: 'v'.repeat(2040) };
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Metadata: metadata }),
  );
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(head.Metadata, metadata);
});

test('an overwrite replaces body, ETag and metadata', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-overwrite');
  const first = randomBytesSeeded(2 * MIB, 11);
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: first,
      Metadata: { version: 'one', only: 'first' },
      ContentType: 'application/x-first',
    }),
  );
  const second = 'short second version';
  const put = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: second,
      Metadata: { version: 'two' },
    }),
  );
  t.is(put.ETag, `"${md5Hex(second)}"`);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(got.ETag, put.ETag);
  t.deepEqual(got.Metadata, { version: 'two' });
  t.not(got.ContentType, 'application/x-first');
  t.is(got.ContentLength, Buffer.byteLength(second));
  t.is(await got.Body?.transformToString(), second);
  const list = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.is(list.KeyCount, 1);
  t.is(list.Contents?.[0]?.Size, Buffer.byteLength(second));
});

test('a key of 1025 bytes is KeyTooLongError 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-longkey');
  const err = await s3Failure(
    suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })),
  );
  t.is(err.name, 'KeyTooLongError');
  t.is(err.status, 400);
  // 1025 bytes of UTF-8 in fewer characters: 512 × 'é' (2 bytes) + 'a'.
  const multibyte = await s3Failure(
    suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${'é'.repeat(512)}a`, Body: 'x' })),
  );
  t.is(multibyte.name, 'KeyTooLongError');
});

const keys: Array<[string, string]> = [
  ['unicode', 'héllo/wörld/日本語.txt'],
  ['spaces', 'a key with  spaces '],
  ['plus', 'a+b+c'],
  ['percent', '100%/%20literal%2F'],
  ['question mark', 'what?is=this'],
  ['hash', 'tag#fragment'],
  ['ampersand', 'a&b=c&d'],
  ['astral characters', 'emoji-😀-𝄞-🚀'],
  ['slashes and dots', 'dir//sub/./file..name'],
  ['reserved punctuation', "!$'()*,;:@[]~"],
  ['1024 bytes of ASCII', 'k'.repeat(1024)],
  ['1024 bytes of UTF-8', 'é'.repeat(512)],
];
for (const [label, key] of keys) {
  test(`a key with ${label} round-trips through PUT, HEAD, GET and LIST`, async (t) => {
    const bucket = await newBucket(suite.s3, 'put-keys');
    const body = `body of ${key}`;
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    t.is(head.ContentLength, Buffer.byteLength(body));
    const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    t.is(await got.Body?.transformToString(), body);
    const list = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    t.deepEqual(
      list.Contents?.map((o) => o.Key),
      [key],
    );
  });
}

test('PutObject to a missing bucket is NoSuchBucket 404', async (t) => {
  const err = await s3Failure(
    suite.s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket-put', Key: 'k', Body: 'x' })),
  );
  t.is(err.name, 'NoSuchBucket');
  t.is(err.status, 404);
});
