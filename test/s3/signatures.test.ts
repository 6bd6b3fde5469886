import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { crc32c } from '@node-rs/crc32';
import test from 'ava';
import { streamingFetch } from '../helpers/chunk-signer.js';
import { newBucket, randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';

const KIB = 1024;
const MIB = 1024 * KIB;

const suite = useServer(test);
/** Presigns without adding flexible-checksum parameters of its own. */
let presigner: S3Client;
test.before(() => {
  presigner = suite.server.client(undefined, { requestChecksumCalculation: 'WHEN_REQUIRED' });
});

function crc32cBase64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data) >>> 0);
  return out.toString('base64');
}

function codeOf(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

async function bodyOf(bucket: string, key: string): Promise<Buffer> {
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
}

async function absent(bucket: string, key: string): Promise<number> {
  return (await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))))
    .status;
}

/** Flips one byte inside the first chunk's data (just after the first chunk header). */
function flipDataByte(encoded: Buffer): Buffer {
  const copy = Buffer.from(encoded);
  const dataStart = copy.indexOf('\r\n') + 2;
  const at = dataStart + 1000;
  copy[at] = (copy[at] ?? 0) ^ 0xff;
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Streaming (aws-chunked) uploads

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: 64 KiB chunks over 200 KiB are stored', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-stream');
  const data = randomBytesSeeded(200 * KIB, 3);
  const res = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/streamed`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    data,
    chunkBytes: 64 * KIB,
  });
  t.is(res.status, 200, await res.clone().text());
  t.is(res.headers.get('etag'), `"${createHash('md5').update(data).digest('hex')}"`);
  t.true((await bodyOf(bucket, 'streamed')).equals(data));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'streamed' }));
  t.is(head.ContentLength, data.length);
  // aws-chunked describes the transfer, not the object.
  t.is(head.ContentEncoding, undefined);
});

test('a tampered chunk is SignatureDoesNotMatch 403 and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-tamper');
  const data = randomBytesSeeded(200 * KIB, 4);
  const res = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/k`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    data,
    chunkBytes: 64 * KIB,
    tamper: flipDataByte,
  });
  t.is(res.status, 403);
  t.is(codeOf(await res.text()), 'SignatureDoesNotMatch');
  t.is(await absent(bucket, 'k'), 404);
  // And an overwrite with a tampered chunk leaves the old object.
  const old = Buffer.from('old');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old', Body: old }));
  const again = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/old`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    data,
    chunkBytes: 64 * KIB,
    tamper: (encoded) => {
      // Tamper with the last data chunk instead: the first chunks already went to the shard.
      const copy = Buffer.from(encoded);
      const at = copy.length - 200;
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return copy;
    },
  });
  t.is(again.status, 403);
  t.is(codeOf(await again.text()), 'SignatureDoesNotMatch');
  t.true((await bodyOf(bucket, 'old')).equals(old));
});

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with a signed crc32c trailer is stored with its checksum', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-trailer');
  const data = randomBytesSeeded(200 * KIB, 5);
  const crc = crc32cBase64(data);
  const res = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/k`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    data,
    chunkBytes: 64 * KIB,
    trailer: ['x-amz-checksum-crc32c', crc],
  });
  t.is(res.status, 200, await res.clone().text());
  t.is(res.headers.get('x-amz-checksum-crc32c'), crc);
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }),
  );
  t.is(head.ChecksumCRC32C, crc);
  t.is(head.ChecksumType, 'FULL_OBJECT');
  t.true((await bodyOf(bucket, 'k')).equals(data));
});

test('a bad trailer signature is SignatureDoesNotMatch and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-trailer-bad');
  const data = randomBytesSeeded(100 * KIB, 6);
  const res = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/k`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    data,
    chunkBytes: 64 * KIB,
    trailer: ['x-amz-checksum-crc32c', crc32cBase64(data)],
    trailerSignature: 'f'.repeat(64),
  });
  t.is(res.status, 403);
  t.is(codeOf(await res.text()), 'SignatureDoesNotMatch');
  t.is(await absent(bucket, 'k'), 404);
  // A trailer value changed after signing breaks the signature too.
  const changed = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/k`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    data,
    chunkBytes: 64 * KIB,
    trailer: ['x-amz-checksum-crc32c', crc32cBase64(data)],
    tamper: (encoded) => {
      const text = encoded.toString('latin1');
      const at = text.lastIndexOf('x-amz-checksum-crc32c:') + 'x-amz-checksum-crc32c:'.length;
      const copy = Buffer.from(encoded);
      copy[at] = copy[at] === 0x41 ? 0x42 : 0x41; // another base64 letter
      return copy;
    },
  });
  t.is(changed.status, 403);
  t.is(codeOf(await changed.text()), 'SignatureDoesNotMatch');
  t.is(await absent(bucket, 'k'), 404);
});

test('STREAMING-UNSIGNED-PAYLOAD-TRAILER: a right trailer stores, a wrong one is BadDigest', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-unsigned');
  const data = randomBytesSeeded(150 * KIB, 7);
  const ok = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/good`,
    mode: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    data,
    chunkBytes: 64 * KIB,
    trailer: ['x-amz-checksum-crc32c', crc32cBase64(data)],
  });
  t.is(ok.status, 200, await ok.clone().text());
  t.true((await bodyOf(bucket, 'good')).equals(data));
  const bad = await streamingFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/bad`,
    mode: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    data,
    chunkBytes: 64 * KIB,
    trailer: ['x-amz-checksum-crc32c', crc32cBase64(Buffer.from('other bytes'))],
  });
  t.is(bad.status, 400);
  t.is(codeOf(await bad.text()), 'BadDigest');
  t.is(await absent(bucket, 'bad'), 404);
});

test('x-amz-decoded-content-length not matching the body is IncompleteBody 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-length');
  const data = randomBytesSeeded(100 * KIB, 8);
  for (const [mode, decodedLength] of [
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length + 1],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length - 1],
    ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', data.length + 10],
  ] as const) {
    const res = await streamingFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}/k`,
      mode,
      data,
      chunkBytes: 64 * KIB,
      decodedLength,
      ...(mode === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
        ? { trailer: ['x-amz-checksum-crc32c', crc32cBase64(data)] as [string, string] }
        : {}),
    });
    t.is(res.status, 400, `${mode} ${decodedLength}`);
    t.is(codeOf(await res.text()), 'IncompleteBody', `${mode} ${decodedLength}`);
  }
  t.is(await absent(bucket, 'k'), 404);
});

// ---------------------------------------------------------------------------------------------
// Presigned URLs

test('presigned GET, HEAD, PUT and DELETE URLs work with fetch', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-presign');
  const data = randomBytesSeeded(40 * KIB, 9);
  const putUrl = await getSignedUrl(
    presigner,
    new PutObjectCommand({ Bucket: bucket, Key: 'dir/file.bin' }),
    { expiresIn: 300 },
  );
  const put = await fetch(putUrl, { method: 'PUT', body: data });
  t.is(put.status, 200, await put.clone().text());
  t.is(put.headers.get('etag'), `"${createHash('md5').update(data).digest('hex')}"`);

  const getUrl = await getSignedUrl(
    presigner,
    new GetObjectCommand({ Bucket: bucket, Key: 'dir/file.bin' }),
    { expiresIn: 300 },
  );
  const got = await fetch(getUrl);
  t.is(got.status, 200);
  t.true(Buffer.from(await got.arrayBuffer()).equals(data));

  const headUrl = await getSignedUrl(
    presigner,
    new HeadObjectCommand({ Bucket: bucket, Key: 'dir/file.bin' }),
    { expiresIn: 300 },
  );
  const head = await fetch(headUrl, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.headers.get('content-length'), String(data.length));

  const deleteUrl = await getSignedUrl(
    presigner,
    new DeleteObjectCommand({ Bucket: bucket, Key: 'dir/file.bin' }),
    { expiresIn: 300 },
  );
  const deleted = await fetch(deleteUrl, { method: 'DELETE' });
  t.is(deleted.status, 204);
  t.is(await absent(bucket, 'dir/file.bin'), 404);
});

test('presigned UploadPart URLs upload parts; the SDK completes the upload', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-presign-mpu');
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }),
  );
  const uploadId = created.UploadId ?? '';
  const parts = [randomBytesSeeded(5 * MIB, 10), randomBytesSeeded(123 * KIB, 11)];
  const etags: string[] = [];
  for (const [i, part] of parts.entries()) {
    const url = await getSignedUrl(
      presigner,
      new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId: uploadId, PartNumber: i + 1 }),
      { expiresIn: 300 },
    );
    const res = await fetch(url, { method: 'PUT', body: part });
    t.is(res.status, 200, await res.clone().text());
    const etag = res.headers.get('etag') ?? '';
    t.is(etag, `"${createHash('md5').update(part).digest('hex')}"`);
    etags.push(etag);
  }
  const completed = await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'big',
      UploadId: uploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  t.regex(completed.ETag ?? '', /-2"$/);
  t.true((await bodyOf(bucket, 'big')).equals(Buffer.concat(parts)));
});

test('X-Amz-Expires over a week is AuthorizationQueryParametersError 400', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-presign-week');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const url = new URL(
    await getSignedUrl(presigner, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), {
      expiresIn: 3600,
    }),
  );
  url.searchParams.set('X-Amz-Expires', '604801');
  const res = await fetch(url);
  t.is(res.status, 400);
  t.is(codeOf(await res.text()), 'AuthorizationQueryParametersError');
  // A week exactly is the limit, and allowed (the signature, made for 3600, then fails).
  url.searchParams.set('X-Amz-Expires', '604800');
  const week = await fetch(url);
  t.is(week.status, 403);
  t.is(codeOf(await week.text()), 'SignatureDoesNotMatch');
});

test('an expired presigned URL is AccessDenied 403 "Request has expired"', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-presign-expired');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'secret' }));
  const url = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), {
    expiresIn: 1,
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const res = await fetch(url);
  t.is(res.status, 403);
  const body = await res.text();
  t.is(codeOf(body), 'AccessDenied');
  t.regex(body, /<Message>Request has expired<\/Message>/);
  t.false(body.includes('secret'));
});

test('a presigned URL for one key used for another is SignatureDoesNotMatch', async (t) => {
  const bucket = await newBucket(suite.s3, 'sig-presign-key');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'content of a' }));
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'content of b' }));
  const url = new URL(
    await getSignedUrl(presigner, new GetObjectCommand({ Bucket: bucket, Key: 'a' }), {
      expiresIn: 300,
    }),
  );
  url.pathname = url.pathname.replace(/\/a$/, '/b');
  const res = await fetch(url);
  t.is(res.status, 403);
  const body = await res.text();
  t.is(codeOf(body), 'SignatureDoesNotMatch');
  t.false(body.includes('content of b'));
  // A PUT URL for one key cannot write another.
  const putUrl = new URL(
    await getSignedUrl(presigner, new PutObjectCommand({ Bucket: bucket, Key: 'a' }), {
      expiresIn: 300,
    }),
  );
  putUrl.pathname = putUrl.pathname.replace(/\/a$/, '/c');
  const put = await fetch(putUrl, { method: 'PUT', body: 'evil' });
  t.is(put.status, 403);
  t.is(codeOf(await put.text()), 'SignatureDoesNotMatch');
  t.is(await absent(bucket, 'c'), 404);
});
