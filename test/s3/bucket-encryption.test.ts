import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { plaintextPattern, storedContaining } from '../helpers/plaintext.js';
import { newBucket, randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { getBytes, putBucketDefault } from '../helpers/sse.js';

const suite = useServer(test, { env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' } });

test('Put, Get and DeleteBucketEncryption; Get of none is 404 ServerSideEncryptionConfigurationNotFoundError', async (t) => {
  const bucket = await newBucket(suite.s3, 'enc-config');
  const none = await s3Failure(suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })));
  t.is(none.status, 404);
  t.is(none.name, 'ServerSideEncryptionConfigurationNotFoundError');
  await putBucketDefault(suite.s3, bucket, 'aws:kms', 'alias/aws/s3', true);
  const got = await suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  t.deepEqual(got.ServerSideEncryptionConfiguration?.Rules, [
    {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: 'aws:kms',
        KMSMasterKeyID: 'alias/aws/s3',
      },
      BucketKeyEnabled: true,
    },
  ]);
  await putBucketDefault(suite.s3, bucket, 'AES256');
  const replaced = await suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  t.deepEqual(replaced.ServerSideEncryptionConfiguration?.Rules, [
    { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
  ]);
  await suite.s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
  const gone = await s3Failure(suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })));
  t.is(gone.status, 404);
});

test('PutBucketEncryption refuses bad documents', async (t) => {
  const bucket = await newBucket(suite.s3, 'enc-bad');
  const put = async (xml: string): Promise<{ status: number; text: string }> => {
    const body = Buffer.from(xml);
    const response = await signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}?encryption`,
      body,
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    });
    return { status: response.status, text: await response.text() };
  };
  const wrap = (inner: string): string =>
    `<ServerSideEncryptionConfiguration><Rule>${inner}</Rule></ServerSideEncryptionConfiguration>`;
  const bogus = await put(
    wrap(
      '<ApplyServerSideEncryptionByDefault><SSEAlgorithm>rot13</SSEAlgorithm></ApplyServerSideEncryptionByDefault>',
    ),
  );
  t.is(bogus.status, 400);
  t.regex(bogus.text, /<Code>MalformedXML<\/Code>/);
  const keyWithAes = await put(
    wrap(
      '<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>',
    ),
  );
  t.is(keyWithAes.status, 400);
  t.regex(keyWithAes.text, /<Code>InvalidArgument<\/Code>/);
  const empty = await put(
    '<ServerSideEncryptionConfiguration></ServerSideEncryptionConfiguration>',
  );
  t.is(empty.status, 400);
  const none = await s3Failure(suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })));
  t.is(none.status, 404);
});

test('the default applies to writes without SSE headers: PUT, multipart, copy; headers and SSE-C win', async (t) => {
  const bucket = await newBucket(suite.s3, 'enc-default');
  const created = await adminCall(suite.server, 'POST', '/v2/CreateKmsKey', {
    description: 'bucket default',
  });
  const keyArn = created.json.arn as string;
  await putBucketDefault(suite.s3, bucket, 'aws:kms', created.json.id as string);
  const plaintext = plaintextPattern(4000, 'BUCKET-DEFAULT');
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'default', Body: plaintext }),
  );
  t.is(put.ServerSideEncryption, 'aws:kms');
  t.is(put.SSEKMSKeyId, keyArn);
  t.deepEqual(await storedContaining(suite.server, plaintext.subarray(2000, 2064)), []);
  t.true((await getBytes(suite.s3, bucket, 'default')).equals(plaintext));
  const mpu = await suite.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
  t.is(mpu.ServerSideEncryption, 'aws:kms');
  t.is(mpu.SSEKMSKeyId, keyArn);
  // The request's own headers win over the default.
  const own = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'own', Body: 'x', ServerSideEncryption: 'AES256' }),
  );
  t.is(own.ServerSideEncryption, 'AES256');
  // An SSE-C write is never given the default.
  const customer = randomBytesSeeded(32, 77);
  const ssec = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'ssec',
      Body: 'customer',
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: customer.toString('base64'),
    }),
  );
  t.is(ssec.ServerSideEncryption, undefined);
  t.is(ssec.SSECustomerAlgorithm, 'AES256');
  const ssecGet = await suite.s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: 'ssec',
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: customer.toString('base64'),
    }),
  );
  t.is(await ssecGet.Body?.transformToString(), 'customer');

  // CopyObject encrypts per the target bucket: a plain source into this bucket is encrypted.
  const plainBucket = await newBucket(suite.s3, 'enc-plain');
  await suite.s3.send(new PutObjectCommand({ Bucket: plainBucket, Key: 'src', Body: plaintext }));
  const copied = await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'copied', CopySource: `${plainBucket}/src` }),
  );
  t.is(copied.ServerSideEncryption, 'aws:kms');
  t.is(copied.SSEKMSKeyId, keyArn);
  t.true((await getBytes(suite.s3, bucket, 'copied')).equals(plaintext));
  // ... and an encrypted one copied out to a bucket without a default is stored plain.
  const out = await suite.s3.send(
    new CopyObjectCommand({ Bucket: plainBucket, Key: 'out', CopySource: `${bucket}/default` }),
  );
  t.is(out.ServerSideEncryption, undefined);
  const outHead = await suite.s3.send(new HeadObjectCommand({ Bucket: plainBucket, Key: 'out' }));
  t.is(outHead.ServerSideEncryption, undefined);
  t.true((await getBytes(suite.s3, plainBucket, 'out')).equals(plaintext));

  // Without the default, writes are plain again.
  await suite.s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
  const after = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'x' }),
  );
  t.is(after.ServerSideEncryption, undefined);
});

test('a default naming an unknown KMS key makes writes fail with KMS.NotFoundException', async (t) => {
  const bucket = await newBucket(suite.s3, 'enc-unknown');
  await putBucketDefault(suite.s3, bucket, 'aws:kms', 'alias/not-made');
  const failure = await s3Failure(
    suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })),
  );
  t.is(failure.status, 400);
  t.is(failure.name, 'KMS.NotFoundException');
});
