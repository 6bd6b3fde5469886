import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { plaintextPattern, storedContaining } from '../helpers/plaintext.js';
import {
  newBucket,
  randomBytesSeeded,
  s3Failure,
  TestServer,
  useServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { getBytes, uploadAndComplete } from '../helpers/sse.js';

const KIB = 1024;
const MIB = 1024 * KIB;

const suite = useServer(test, { env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' } });

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

test('PutObject with AES256: reported on PUT, GET and HEAD; bytes, ranges and ETag as S3', async (t) => {
  const bucket = await newBucket(suite.s3, 'sse-s3');
  for (const [key, size] of [
    ['small', 1000],
    ['big', 2 * MIB + 12_345],
  ] as const) {
    const body = randomBytesSeeded(size, size);
    const put = await suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ServerSideEncryption: 'AES256',
      }),
    );
    t.is(put.ServerSideEncryption, 'AES256');
    // SSE-S3's ETag is the data's MD5, as in AWS.
    t.is(put.ETag, `"${md5Hex(body)}"`);
    const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    t.is(got.ServerSideEncryption, 'AES256');
    t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body), key);
    const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    t.is(head.ServerSideEncryption, 'AES256');
    t.is(head.SSEKMSKeyId, undefined);
    for (const [start, end] of [
      [0, 0],
      [5, 20],
      [17, size - 1],
      [size - 33, size - 1],
    ] as const) {
      const range = await getBytes(suite.s3, bucket, key, { Range: `bytes=${start}-${end}` });
      t.true(range.equals(body.subarray(start, end + 1)), `${key} ${start}-${end}`);
    }
  }
});

test('a multipart upload with AES256: parts need no headers; ranges across parts decrypt', async (t) => {
  const bucket = await newBucket(suite.s3, 'sse-s3-mpu');
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mpu',
      ServerSideEncryption: 'AES256',
    }),
  );
  t.is(created.ServerSideEncryption, 'AES256');
  const parts = [
    randomBytesSeeded(5 * MIB, 1),
    randomBytesSeeded(5 * MIB + 7, 2),
    randomBytesSeeded(999, 3),
  ];
  const completed = await uploadAndComplete(
    suite.s3,
    bucket,
    'mpu',
    created.UploadId,
    parts,
    (part) => t.is(part.ServerSideEncryption, 'AES256'),
  );
  t.is(completed.ServerSideEncryption, 'AES256');
  const whole = Buffer.concat(parts);
  t.true((await getBytes(suite.s3, bucket, 'mpu')).equals(whole));
  const across = [5 * MIB - 100, 10 * MIB + 50] as const;
  const range = await getBytes(suite.s3, bucket, 'mpu', {
    Range: `bytes=${across[0]}-${across[1]}`,
  });
  t.true(range.equals(whole.subarray(across[0], across[1] + 1)));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpu' }));
  t.is(head.ServerSideEncryption, 'AES256');
});

test('CopyObject encrypts as its request asks: plain to AES256, and AES256 back to plain', async (t) => {
  const bucket = await newBucket(suite.s3, 'sse-s3-copy');
  const body = randomBytesSeeded(300 * KIB, 9);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body }));
  const encrypted = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'encrypted',
      CopySource: `${bucket}/plain`,
      ServerSideEncryption: 'AES256',
    }),
  );
  t.is(encrypted.ServerSideEncryption, 'AES256');
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'encrypted' }));
  t.is(head.ServerSideEncryption, 'AES256');
  t.true((await getBytes(suite.s3, bucket, 'encrypted')).equals(body));
  const back = await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'back', CopySource: `${bucket}/encrypted` }),
  );
  t.is(back.ServerSideEncryption, undefined);
  const plainHead = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'back' }));
  t.is(plainHead.ServerSideEncryption, undefined);
  t.true((await getBytes(suite.s3, bucket, 'back')).equals(body));
  // Onto itself with new encryption attributes: allowed (S3's way to encrypt in place).
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'plain',
      CopySource: `${bucket}/plain`,
      ServerSideEncryption: 'AES256',
    }),
  );
  const inPlace = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(inPlace.ServerSideEncryption, 'AES256');
  t.true((await getBytes(suite.s3, bucket, 'plain')).equals(body));
});

test('bad SSE headers are 400 InvalidArgument, and nothing is stored', async (t) => {
  const bucket = await newBucket(suite.s3, 'sse-s3-bad');
  const put = (headers: Record<string, string>): Promise<Response> =>
    signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}/k`,
      headers,
      body: Buffer.from('data'),
    });
  const cases: Array<Record<string, string>> = [
    { 'x-amz-server-side-encryption': 'bogus' },
    {
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-server-side-encryption-aws-kms-key-id': 'x',
    },
    { 'x-amz-server-side-encryption-aws-kms-key-id': 'x' },
    {
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': randomBytesSeeded(32, 5).toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': createHash('md5')
        .update(randomBytesSeeded(32, 5))
        .digest('base64'),
    },
    {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-context': 'not base64 json!',
    },
    {
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-server-side-encryption-bucket-key-enabled': 'maybe',
    },
  ];
  for (const headers of cases) {
    const response = await put(headers);
    const text = await response.text();
    t.is(response.status, 400, JSON.stringify(headers));
    t.regex(text, /<Code>InvalidArgument<\/Code>/, JSON.stringify(headers));
  }
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
});

test('an SSE-S3 object refuses SSE-C headers on GET (InvalidRequest)', async (t) => {
  const bucket = await newBucket(suite.s3, 'sse-s3-ssec');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' }),
  );
  const key = randomBytesSeeded(32, 8);
  const failure = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'k',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: key.toString('base64'),
      }),
    ),
  );
  t.is(failure.status, 400);
  t.is(failure.name, 'InvalidRequest');
});

test('SSE-S3 bytes are encrypted on disk (blocks and inline records); the master key is 0600', async (t) => {
  const own = await TestServer.start({ shards: 2 });
  try {
    const client = own.client();
    const bucket = await newBucket(client, 'sse-s3-disk');
    const big = plaintextPattern(3 * MIB, 'SSES3-BIG');
    const small = plaintextPattern(1000, 'SSES3-SMALL');
    const mpuPart = plaintextPattern(5 * MIB, 'SSES3-PART');
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'big',
        Body: big,
        ServerSideEncryption: 'AES256',
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'small',
        Body: small,
        ServerSideEncryption: 'AES256',
      }),
    );
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mpu',
        ServerSideEncryption: 'AES256',
      }),
    );
    await uploadAndComplete(client, bucket, 'mpu', created.UploadId, [mpuPart]);
    const slices = [
      ...[0, 12_345, MIB + 20, 2 * MIB + 777, 3 * MIB - 64].map((at) => big.subarray(at, at + 64)),
      small.subarray(400, 464),
      mpuPart.subarray(3 * MIB, 3 * MIB + 64),
    ];
    for (const slice of slices)
      t.deepEqual(await storedContaining(own, slice), [], `${slice.toString()} is not on disk`);
    t.true((await getBytes(client, bucket, 'big')).equals(big));
    t.true((await getBytes(client, bucket, 'small')).equals(small));
    t.true((await getBytes(client, bucket, 'mpu')).equals(mpuPart));
    // The same scan finds a plain object's bytes: it can see them.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'small-plain', Body: small }));
    t.true((await storedContaining(own, small.subarray(400, 464))).length > 0);
    t.is(statSync(join(own.dataDir, 'sse-master.key')).mode & 0o777, 0o600);
  } finally {
    await own.destroy();
  }
});

test('a configured master key file is used as given; a missing one stops the start', async (t) => {
  const keys = mkdtempSync(join(tmpdir(), 'hangar-sse-key-'));
  const keyFile = join(keys, 'master.key');
  writeFileSync(keyFile, `${randomBytesSeeded(32, 99).toString('hex')}\n`, { mode: 0o600 });
  const own = await TestServer.start({ env: { HANGAR_SSE_MASTER_KEY_FILE: keyFile } });
  try {
    const client = own.client();
    const bucket = await newBucket(client, 'sse-s3-configured');
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: 'secret',
        ServerSideEncryption: 'AES256',
      }),
    );
    t.is((await getBytes(client, bucket, 'k')).toString(), 'secret');
    t.false(existsSync(join(own.dataDir, 'sse-master.key')), 'no key generated beside the data');
    await own.stop();
    const missing = join(keys, 'not-mounted.key');
    const failed = await TestServer.start({
      dataDir: own.dataDir,
      env: { HANGAR_SSE_MASTER_KEY_FILE: missing },
    }).then(
      async (started) => {
        await started.destroy();
        return null;
      },
      (error: Error) => error.message,
    );
    t.regex(failed ?? 'it started', /SSE master key file .*not-mounted\.key does not exist/);
  } finally {
    await own.destroy();
    rmSync(keys, { recursive: true, force: true });
  }
});
