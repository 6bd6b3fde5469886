import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import test from 'ava';
import {
  newBucket,
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  randomBytesSeeded,
  s3Failure,
  useServer,
} from '../helpers/server.js';

const KIB = 1024;
const MIB = 1024 * KIB;

const suite = useServer(test);

/** A bucket holding `key` with `body`; returns the bucket and the object's ETag/Last-Modified. */
async function withObject(
  prefix: string,
  key: string,
  body: Buffer | string,
): Promise<{ bucket: string; etag: string; lastModified: Date }> {
  const bucket = await newBucket(suite.s3, prefix);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  if (head.ETag === undefined || head.LastModified === undefined) throw new Error('no ETag');
  return { bucket, etag: head.ETag, lastModified: head.LastModified };
}

async function bytesOf(out: GetObjectCommandOutput): Promise<Buffer> {
  return Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
}

/** The raw response headers of a failed SDK call. */
function rawHeaders(raw: unknown): Record<string, string> {
  return (raw as { $response?: { headers?: Record<string, string> } }).$response?.headers ?? {};
}

const TEXT = '0123456789abcdefghijklmnopqrstuvwxyz'; // 36 bytes

test('Range bytes=0-9 answers 206 with the first ten bytes and Content-Range', async (t) => {
  const { bucket } = await withObject('range-first', 'k', TEXT);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=0-9' }),
  );
  t.is(got.$metadata.httpStatusCode, 206);
  t.is(got.ContentRange, 'bytes 0-9/36');
  t.is(got.ContentLength, 10);
  t.is(await got.Body?.transformToString(), '0123456789');
});

test('Range bytes=10- answers the rest of the object', async (t) => {
  const { bucket } = await withObject('range-open', 'k', TEXT);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=10-' }),
  );
  t.is(got.$metadata.httpStatusCode, 206);
  t.is(got.ContentRange, 'bytes 10-35/36');
  t.is(got.ContentLength, 26);
  t.is(await got.Body?.transformToString(), TEXT.slice(10));
});

test('Range bytes=-5 answers the last five bytes', async (t) => {
  const { bucket } = await withObject('range-suffix', 'k', TEXT);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=-5' }),
  );
  t.is(got.$metadata.httpStatusCode, 206);
  t.is(got.ContentRange, 'bytes 31-35/36');
  t.is(await got.Body?.transformToString(), 'vwxyz');
});

test('a suffix range longer than the object answers the whole object as 206', async (t) => {
  const { bucket } = await withObject('range-suffix-long', 'k', TEXT);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=-100' }),
  );
  t.is(got.$metadata.httpStatusCode, 206);
  t.is(got.ContentRange, 'bytes 0-35/36');
  t.is(await got.Body?.transformToString(), TEXT);
});

test('a range running past the end is clamped to the object', async (t) => {
  const { bucket } = await withObject('range-clamp', 'k', TEXT);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=30-1000' }),
  );
  t.is(got.$metadata.httpStatusCode, 206);
  t.is(got.ContentRange, 'bytes 30-35/36');
  t.is(got.ContentLength, 6);
  t.is(await got.Body?.transformToString(), 'uvwxyz');
});

test('a range starting at or beyond the size is 416 InvalidRange with Content-Range bytes */size', async (t) => {
  const { bucket } = await withObject('range-416', 'k', TEXT);
  for (const range of ['bytes=36-', 'bytes=100-200']) {
    const err = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: range })),
    );
    t.is(err.name, 'InvalidRange', range);
    t.is(err.status, 416, range);
    t.is(rawHeaders(err.raw)['content-range'], 'bytes */36', range);
  }
});

test('a syntactically invalid or multiple range is ignored: 200 with the whole object', async (t) => {
  const { bucket } = await withObject('range-ignored', 'k', TEXT);
  for (const range of ['bytes=abc', 'bytes=0-1,3-4', 'bytes=10-5', 'items=0-3']) {
    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: range }),
    );
    t.is(got.$metadata.httpStatusCode, 200, range);
    t.is(got.ContentRange, undefined, range);
    t.is(await got.Body?.transformToString(), TEXT, range);
  }
});

test('HeadObject with a Range answers 206 with Content-Range and the range length', async (t) => {
  const { bucket } = await withObject('range-head', 'k', TEXT);
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=2-5' }),
  );
  t.is(head.$metadata.httpStatusCode, 206);
  t.is(head.ContentRange, 'bytes 2-5/36');
  t.is(head.ContentLength, 4);
});

test('ranges across block boundaries of a multi-block object are byte-exact', async (t) => {
  const body = randomBytesSeeded(3 * MIB + 5, 42);
  const { bucket } = await withObject('range-blocks', 'big', body);
  const cases: Array<[number, number]> = [
    [0, 0],
    [MIB - 10, MIB + 10],
    [MIB, 2 * MIB - 1],
    [MIB - 1, 3 * MIB + 4],
    [3 * MIB, 3 * MIB + 4],
    [123_457, 2_500_001],
  ];
  for (const [first, last] of cases) {
    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: `bytes=${first}-${last}` }),
    );
    t.is(got.$metadata.httpStatusCode, 206);
    t.is(got.ContentRange, `bytes ${first}-${last}/${body.length}`);
    const bytes = await bytesOf(got);
    t.true(bytes.equals(body.subarray(first, last + 1)), `range ${first}-${last}`);
  }
  const tail = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: 'bytes=-7' }),
  );
  t.true((await bytesOf(tail)).equals(body.subarray(body.length - 7)));
});

test('a range of an inline object is byte-exact', async (t) => {
  const body = randomBytesSeeded(10 * KIB, 5);
  const { bucket } = await withObject('range-inline', 'small', body);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'small', Range: 'bytes=1000-4999' }),
  );
  t.is(got.ContentLength, 4000);
  t.true((await bytesOf(got)).equals(body.subarray(1000, 5000)));
});

test('If-Match: a matching ETag (or *) answers 200, another is 412 PreconditionFailed', async (t) => {
  const { bucket, etag } = await withObject('cond-ifmatch', 'k', 'conditional body');
  const ok = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: etag }));
  t.is(ok.$metadata.httpStatusCode, 200);
  t.is(await ok.Body?.transformToString(), 'conditional body');
  const star = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '*' }),
  );
  t.is(await star.Body?.transformToString(), 'conditional body');
  const list = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: `"0000", ${etag}` }),
  );
  t.is(list.$metadata.httpStatusCode, 200);
  await list.Body?.transformToString();
  const err = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'k',
        IfMatch: '"00000000000000000000000000000000"',
      }),
    ),
  );
  t.is(err.name, 'PreconditionFailed');
  t.is(err.status, 412);
  const head = await s3Failure(
    suite.s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: 'k',
        IfMatch: '"00000000000000000000000000000000"',
      }),
    ),
  );
  t.is(head.status, 412);
});

test('If-None-Match: a matching ETag (or *) is 304 NotModified with the ETag, another answers 200', async (t) => {
  const { bucket, etag } = await withObject('cond-ifnone', 'k', 'conditional body');
  // A 304 carries no body, so the SDK cannot read a code from it (against AWS too it names the
  // error 'Unknown'): the status and the ETag header are what can be checked.
  const err = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', IfNoneMatch: etag })),
  );
  t.is(err.status, 304);
  t.is(rawHeaders(err.raw)['etag'], etag);
  const star = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', IfNoneMatch: '*' })),
  );
  t.is(star.status, 304);
  const head = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', IfNoneMatch: etag })),
  );
  t.is(head.status, 304);
  const ok = await suite.s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: 'k',
      IfNoneMatch: '"00000000000000000000000000000000"',
    }),
  );
  t.is(ok.$metadata.httpStatusCode, 200);
  t.is(await ok.Body?.transformToString(), 'conditional body');
});

test('If-Modified-Since: not modified since is 304, modified since answers 200', async (t) => {
  const { bucket, lastModified } = await withObject('cond-ims', 'k', 'dated body');
  const err = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'k', IfModifiedSince: lastModified }),
    ),
  );
  t.is(err.status, 304);
  const later = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'k',
        IfModifiedSince: new Date(lastModified.getTime() + 1000),
      }),
    ),
  );
  t.is(later.status, 304);
  const ok = await suite.s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: 'k',
      IfModifiedSince: new Date(lastModified.getTime() - 60_000),
    }),
  );
  t.is(ok.$metadata.httpStatusCode, 200);
  t.is(await ok.Body?.transformToString(), 'dated body');
});

test('If-Unmodified-Since: modified since is 412, unmodified answers 200', async (t) => {
  const { bucket, lastModified } = await withObject('cond-ius', 'k', 'dated body');
  const err = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'k',
        IfUnmodifiedSince: new Date(lastModified.getTime() - 60_000),
      }),
    ),
  );
  t.is(err.name, 'PreconditionFailed');
  t.is(err.status, 412);
  const ok = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', IfUnmodifiedSince: lastModified }),
  );
  t.is(ok.$metadata.httpStatusCode, 200);
  t.is(await ok.Body?.transformToString(), 'dated body');
});

test('If-Match true and If-Unmodified-Since false answers 200 (S3 precedence)', async (t) => {
  const { bucket, etag, lastModified } = await withObject('cond-both412', 'k', 'x');
  const got = await suite.s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: 'k',
      IfMatch: etag,
      IfUnmodifiedSince: new Date(lastModified.getTime() - 60_000),
    }),
  );
  t.is(got.$metadata.httpStatusCode, 200);
  t.is(await got.Body?.transformToString(), 'x');
});

test('If-None-Match false and If-Modified-Since true is 304 (S3 precedence)', async (t) => {
  const { bucket, etag, lastModified } = await withObject('cond-both304', 'k', 'x');
  const err = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'k',
        IfNoneMatch: etag,
        IfModifiedSince: new Date(lastModified.getTime() - 60_000),
      }),
    ),
  );
  t.is(err.status, 304);
});

test('preconditions are decided before Range: 304 or 412 rather than 416', async (t) => {
  const { bucket, etag } = await withObject('cond-range', 'k', TEXT);
  const notModified = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'k', IfNoneMatch: etag, Range: 'bytes=100-' }),
    ),
  );
  t.is(notModified.status, 304);
  const failed = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '"ffff"', Range: 'bytes=100-' }),
    ),
  );
  t.is(failed.name, 'PreconditionFailed');
  t.is(failed.status, 412);
  const ranged = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: etag, Range: 'bytes=1-2' }),
  );
  t.is(ranged.$metadata.httpStatusCode, 206);
  t.is(await ranged.Body?.transformToString(), '12');
});

test('a ranged GET carries no whole-object checksum; a full GET does when asked', async (t) => {
  const { bucket } = await withObject('range-checksum', 'k', 'hello world');
  const ranged = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: 'bytes=0-4', ChecksumMode: 'ENABLED' }),
  );
  t.is(ranged.ChecksumCRC32, undefined);
  t.is(await ranged.Body?.transformToString(), 'hello');
  const full = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }),
  );
  t.is(full.ChecksumCRC32, 'DUoRhQ==');
  t.is(await full.Body?.transformToString(), 'hello world');
});

test('unparseable If-Modified-Since / If-Unmodified-Since dates are ignored', async (t) => {
  const { bucket } = await withObject('cond-baddate', 'k', 'undated');
  for (const header of ['if-modified-since', 'if-unmodified-since']) {
    const client = suite.server.client();
    client.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers[header] = 'not a date';
        return next(args);
      },
      { step: 'build' },
    );
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
      t.is(got.$metadata.httpStatusCode, 200, header);
      t.is(await got.Body?.transformToString(), 'undated', header);
    } finally {
      client.destroy();
    }
  }
});

test('GetObject with VersionId=null on an unversioned bucket answers the object', async (t) => {
  const { bucket } = await withObject('version-null', 'k', 'versionless');
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'null' }),
  );
  t.is(await got.Body?.transformToString(), 'versionless');
});

test('GetObject with PartNumber beyond 1 of a simple object is 416 InvalidPartNumber', async (t) => {
  const { bucket } = await withObject('part-number', 'k', 'single part');
  const err = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', PartNumber: 2 })),
  );
  t.is(err.name, 'InvalidPartNumber');
  t.is(err.status, 416);
});

test('response-* overrides set the response headers on GET and HEAD', async (t) => {
  const bucket = await newBucket(suite.s3, 'overrides');
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'override me',
      ContentType: 'text/plain',
      CacheControl: 'no-cache',
      ContentDisposition: 'inline',
    }),
  );
  const expires = new Date('2031-05-06T07:08:09Z');
  const overrides = {
    ResponseContentType: 'application/x-override',
    ResponseContentDisposition: 'attachment; filename="o.bin"',
    ResponseCacheControl: 'max-age=60',
    ResponseContentLanguage: 'fr',
    ResponseContentEncoding: 'identity',
    ResponseExpires: expires,
  };
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ...overrides }));
  t.is(got.ContentType, 'application/x-override');
  t.is(got.ContentDisposition, 'attachment; filename="o.bin"');
  t.is(got.CacheControl, 'max-age=60');
  t.is(got.ContentLanguage, 'fr');
  t.is(got.ContentEncoding, 'identity');
  t.is(got.ExpiresString, expires.toUTCString());
  t.is(await got.Body?.transformToString(), 'override me');
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'k', ...overrides }),
  );
  t.is(head.ContentType, 'application/x-override');
  t.is(head.CacheControl, 'max-age=60');
  // Overrides change one response only: the stored headers stay.
  const plain = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(plain.ContentType, 'text/plain');
  t.is(plain.CacheControl, 'no-cache');
  t.is(plain.ContentDisposition, 'inline');
});

test('GetObject of a missing key is NoSuchKey 404; of a missing bucket NoSuchBucket 404', async (t) => {
  const bucket = await newBucket(suite.s3, 'missing');
  const key = await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'nope' })));
  t.is(key.name, 'NoSuchKey');
  t.is(key.status, 404);
  const noBucket = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-get', Key: 'nope' })),
  );
  t.is(noBucket.name, 'NoSuchBucket');
  t.is(noBucket.status, 404);
});

test('HeadObject of a missing key or bucket is 404 NotFound (no body)', async (t) => {
  const bucket = await newBucket(suite.s3, 'missing-head');
  const key = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nope' })),
  );
  t.is(key.name, 'NotFound');
  t.is(key.status, 404);
  const noBucket = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: 'no-such-bucket-head', Key: 'nope' })),
  );
  t.is(noBucket.status, 404);
});

test('HEAD of a non-empty object leaves the keep-alive connection usable', async (t) => {
  // One socket only: the second request must reuse the connection the first HEAD answered on.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const client = new S3Client({
    endpoint: suite.server.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent }),
  });
  try {
    const { bucket } = await withObject('head-keepalive', 'k', 'nineteen bytes body');
    for (let i = 0; i < 3; i++) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
      t.is(head.ContentLength, 19);
    }
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    t.is(await got.Body?.transformToString(), 'nineteen bytes body');
  } finally {
    client.destroy();
    agent.destroy();
  }
});

test('a 20 MiB object streams back intact', async (t) => {
  const body = randomBytesSeeded(20 * MIB, 2024);
  const bucket = await newBucket(suite.s3, 'large');
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'large.bin', Body: body }),
  );
  t.is(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large.bin' }));
  t.is(got.ContentLength, body.length);
  const hash = createHash('md5');
  let total = 0;
  for await (const chunk of got.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    total += chunk.length;
  }
  t.is(total, body.length);
  t.is(`"${hash.digest('hex')}"`, put.ETag ?? 'no ETag');
});

test('several concurrent GETs of one multi-block object all match', async (t) => {
  const body = randomBytesSeeded(4 * MIB + 17, 99);
  const { bucket } = await withObject('concurrent', 'k', body);
  const results = await Promise.all(
    Array.from({ length: 6 }, async () =>
      bytesOf(await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))),
    ),
  );
  for (const bytes of results) t.true(bytes.equals(body));
});
