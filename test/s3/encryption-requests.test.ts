import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test from 'ava';
import { plaintextPattern, storedContaining } from '../helpers/plaintext.js';
import { newBucket, randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

// SSE-C over plain HTTP is refused unless the operator allows it (a TLS proxy in front).
const suite = useServer(test, { env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' } });

const CUSTOMER_KEY = randomBytesSeeded(32, 4242);
const CUSTOMER_KEY_MD5 = createHash('md5').update(CUSTOMER_KEY).digest('base64');
const SSE_C_FIELDS = {
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': CUSTOMER_KEY.toString('base64'),
  'x-amz-server-side-encryption-customer-key-MD5': CUSTOMER_KEY_MD5,
};

/** Posts `bytes` as `key` with a form signed by the AWS SDK's own POST signer. */
async function postWithFields(
  bucket: string,
  key: string,
  extraFields: Record<string, string>,
  bytes: Buffer,
): Promise<Response> {
  const { url, fields } = await createPresignedPost(
    suite.s3 as unknown as Parameters<typeof createPresignedPost>[0],
    { Bucket: bucket, Key: key, Fields: extraFields, Expires: 60 },
  );
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([bytes]), 'upload.bin');
  return fetch(url, { method: 'POST', body: form });
}

async function expectNoObject(
  t: { is: (a: unknown, b: unknown, m?: string) => void },
  bucket: string,
  key: string,
): Promise<void> {
  const failure = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
  );
  t.is(failure.status, 404, `${key}: ${failure.name}`);
  t.is(failure.name, 'NotFound');
}

function errorCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

test('PostObject with SSE-C fields stores ciphertext only, and GET needs the key', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-ssec');
  // One object large enough for block files, one small enough to be stored inline.
  for (const [key, bytes] of [
    ['big', plaintextPattern(700_000, 'post-big')],
    ['small', plaintextPattern(200, 'post-small')],
  ] as const) {
    const response = await postWithFields(bucket, key, SSE_C_FIELDS, bytes);
    t.is(response.status, 204, await response.text());
    t.is(response.headers.get('x-amz-server-side-encryption-customer-algorithm'), 'AES256');
    t.is(response.headers.get('x-amz-server-side-encryption-customer-key-md5'), CUSTOMER_KEY_MD5);
    for (const at of [0, Math.floor(bytes.length / 2), bytes.length - 64]) {
      const slice = bytes.subarray(at, at + 48);
      t.deepEqual(await storedContaining(suite.server, slice), [], `${key}@${at} is on disk`);
    }
    const withoutKey = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    t.is(withoutKey.status, 400);
    t.is(withoutKey.name, 'InvalidRequest');
    const got = await suite.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: CUSTOMER_KEY.toString('base64'),
      }),
    );
    t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes));
    t.is(got.SSECustomerKeyMD5, CUSTOMER_KEY_MD5);
  }
});

test('PostObject with a malformed SSE-C key field is InvalidArgument and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-ssec-bad');
  const response = await postWithFields(
    bucket,
    'k',
    {
      ...SSE_C_FIELDS,
      'x-amz-server-side-encryption-customer-key-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==',
    },
    Buffer.from('secret'),
  );
  const text = await response.text();
  t.is(response.status, 400, text);
  t.is(errorCode(text), 'InvalidArgument');
  await expectNoObject(t, bucket, 'k');
});

test('PostObject with an x-amz-server-side-encryption field (AES256, aws:kms, aws:kms:dsse) stores ciphertext', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-sse');
  for (const [value, tag] of [
    ['AES256', 'POST-SSE-S3'],
    ['aws:kms', 'POST-SSE-KMS'],
    ['aws:kms:dsse', 'POST-DSSE-KMS'],
  ] as const) {
    const plaintext = plaintextPattern(2000, tag);
    const response = await postWithFields(
      bucket,
      value,
      { 'x-amz-server-side-encryption': value },
      plaintext,
    );
    t.is(response.status, 204, await response.text());
    t.is(response.headers.get('x-amz-server-side-encryption'), value);
    const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: value }));
    t.is(got.ServerSideEncryption, value);
    t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(plaintext));
    t.deepEqual(await storedContaining(suite.server, plaintext.subarray(1000, 1064)), [], tag);
  }
});

test('an x-amz-server-side-encryption value S3 does not know is 400 InvalidArgument', async (t) => {
  const bucket = await newBucket(suite.s3, 'put-sse-bad');
  const response = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/k`,
    body: Buffer.from('secret'),
    headers: { 'x-amz-server-side-encryption': 'rot13' },
  });
  const text = await response.text();
  t.is(response.status, 400, text);
  t.is(errorCode(text), 'InvalidArgument');
  t.regex(text, /<ArgumentName>x-amz-server-side-encryption<\/ArgumentName>/);
  await expectNoObject(t, bucket, 'k');
});
