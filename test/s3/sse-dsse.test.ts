import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { plaintextPattern, storedContaining } from '../helpers/plaintext.js';
import { newBucket, randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';
import { createKmsKey, getBytes, putBucketDefault, uploadAndComplete } from '../helpers/sse.js';

/**
 * Dual-layer SSE-KMS (aws:kms:dsse): two layers of AES-256 encryption, each with its own data
 * key, both sealed under the KMS key named. Through the real server with the AWS SDK.
 */

const MIB = 1024 * 1024;
const DSSE = 'aws:kms:dsse';

const suite = useServer(test);

test('PutObject with aws:kms:dsse: reported on PUT, GET and HEAD; ranges; ciphertext only on disk', async (t) => {
  const bucket = await newBucket(suite.s3, 'dsse-put');
  const key = await createKmsKey(suite.server);
  const body = plaintextPattern(3 * MIB + 17, 'DSSE-PUT');
  const put = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: body,
      ServerSideEncryption: DSSE,
      SSEKMSKeyId: key.id,
      // S3 Bucket Keys do not apply to DSSE-KMS: accepted, not applied, not reported.
      BucketKeyEnabled: true,
    }),
  );
  t.is(put.ServerSideEncryption, DSSE);
  t.is(put.SSEKMSKeyId, key.arn);
  t.is(put.BucketKeyEnabled, undefined);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ServerSideEncryption, DSSE);
  t.is(head.SSEKMSKeyId, key.arn);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(got.ServerSideEncryption, DSSE);
  t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));
  const range = await getBytes(suite.s3, bucket, 'k', { Range: 'bytes=1000001-2500003' });
  t.true(range.equals(body.subarray(1_000_001, 2_500_004)));
  t.deepEqual(await storedContaining(suite.server, body.subarray(MIB, MIB + 64)), []);

  // Without a key id: the default aws/s3 key, as aws:kms.
  const small = plaintextPattern(900, 'DSSE-SMALL');
  const byDefault = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small, ServerSideEncryption: DSSE }),
  );
  t.regex(byDefault.SSEKMSKeyId ?? '', /^arn:aws:kms:us-east-1:000000000000:key\//);
  t.true((await getBytes(suite.s3, bucket, 'small')).equals(small));
  t.deepEqual(await storedContaining(suite.server, small.subarray(400, 464)), []);
});

test('a dual-layer multipart upload: every answer reports it; ranges across parts decrypt', async (t) => {
  const bucket = await newBucket(suite.s3, 'dsse-mpu');
  const key = await createKmsKey(suite.server);
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'm',
      ServerSideEncryption: DSSE,
      SSEKMSKeyId: key.arn,
    }),
  );
  t.is(created.ServerSideEncryption, DSSE);
  t.is(created.SSEKMSKeyId, key.arn);
  const parts = [randomBytesSeeded(5 * MIB, 51), randomBytesSeeded(70_001, 52)];
  const completed = await uploadAndComplete(
    suite.s3,
    bucket,
    'm',
    created.UploadId,
    parts,
    (part) => {
      t.is(part.ServerSideEncryption, DSSE);
      t.is(part.SSEKMSKeyId, key.arn);
    },
  );
  t.is(completed.ServerSideEncryption, DSSE);
  t.is(completed.SSEKMSKeyId, key.arn);
  const whole = Buffer.concat(parts);
  t.true((await getBytes(suite.s3, bucket, 'm')).equals(whole));
  const across = await getBytes(suite.s3, bucket, 'm', {
    Range: `bytes=${5 * MIB - 33}-${5 * MIB + 1000}`,
  });
  t.true(across.equals(whole.subarray(5 * MIB - 33, 5 * MIB + 1001)));
});

test('aws:kms:dsse as a bucket default, CopyObject across algorithms, and a disabled key', async (t) => {
  const bucket = await newBucket(suite.s3, 'dsse-default');
  const key = await createKmsKey(suite.server);
  await putBucketDefault(suite.s3, bucket, DSSE, key.id);
  const config = await suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  t.deepEqual(
    config.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    {
      SSEAlgorithm: DSSE,
      KMSMasterKeyID: key.id,
    },
  );
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'default', Body: 'by default' }),
  );
  t.is(put.ServerSideEncryption, DSSE);
  t.is(put.SSEKMSKeyId, key.arn);

  // CopyObject encrypts per its request: dual-layer to AES256 and back.
  const toS3 = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'as-s3',
      CopySource: `${bucket}/default`,
      ServerSideEncryption: 'AES256',
    }),
  );
  t.is(toS3.ServerSideEncryption, 'AES256');
  const back = await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'back', CopySource: `${bucket}/as-s3` }),
  );
  t.is(back.ServerSideEncryption, DSSE);
  for (const name of ['default', 'as-s3', 'back']) {
    t.is((await getBytes(suite.s3, bucket, name)).toString(), 'by default', name);
  }

  await adminCall(suite.server, 'POST', '/v2/DisableKmsKey', { id: key.id });
  const refused = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'back' })),
  );
  t.is(refused.status, 403);
  t.is(refused.name, 'KMS.DisabledException');
  // The AES256 copy does not depend on the KMS key.
  t.is((await getBytes(suite.s3, bucket, 'as-s3')).toString(), 'by default');
  await adminCall(suite.server, 'POST', '/v2/EnableKmsKey', { id: key.id });
  t.is((await getBytes(suite.s3, bucket, 'back')).toString(), 'by default');
});
