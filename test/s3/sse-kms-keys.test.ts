import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import {
  ADMIN_TOKEN,
  newBucket,
  randomBytesSeeded,
  runCli,
  s3Failure,
  useServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { createKmsKey, getBytes, putBucketDefault, putKms } from '../helpers/sse.js';

/**
 * SSE-KMS keys over their life (deletion scheduled and cancelled), S3 Bucket Keys, encryption
 * context, and what multipart answers report: through the real server with the AWS SDK.
 */

const MIB = 1024 * 1024;
const DAY_MS = 86_400_000;

const suite = useServer(test);

test('a key scheduled for deletion refuses its objects (KMS.KMSInvalidStateException); cancelling keeps it disabled', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-deletion');
  const key = await createKmsKey(suite.server, 'alias/doomed');
  const body = randomBytesSeeded(300_000, 31);
  await putKms(suite.s3, bucket, 'k', body, key.id);

  const before = Date.now();
  const scheduled = await adminCall(suite.server, 'POST', '/v2/ScheduleKmsKeyDeletion', {
    id: 'alias/doomed',
    pendingWindowDays: 7,
  });
  t.is(scheduled.status, 200, scheduled.text);
  t.is(scheduled.json.state, 'PendingDeletion');
  const deletion = Date.parse(scheduled.json.deletionDate as string);
  t.true(deletion >= before + 7 * DAY_MS && deletion <= Date.now() + 7 * DAY_MS);

  const get = await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(get.status, 400);
  t.is(get.name, 'KMS.KMSInvalidStateException');
  const put = await s3Failure(putKms(suite.s3, bucket, 'new', 'x', key.arn));
  t.is(put.name, 'KMS.KMSInvalidStateException');
  // HEAD opens no key: it answers, and reports the key.
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.SSEKMSKeyId, key.arn);

  // A key pending deletion cannot be changed, nor scheduled again.
  for (const operation of ['EnableKmsKey', 'DisableKmsKey', 'RotateKmsKey']) {
    const refused = await adminCall(suite.server, 'POST', `/v2/${operation}`, { id: key.id });
    t.is(refused.status, 409, operation);
    t.is(refused.json.code, 'KMSInvalidStateException', operation);
  }
  const again = await adminCall(suite.server, 'POST', '/v2/ScheduleKmsKeyDeletion', {
    id: key.id,
  });
  t.is(again.status, 409);

  const cancelled = await adminCall(suite.server, 'POST', '/v2/CancelKmsKeyDeletion', {
    id: key.id,
  });
  t.is(cancelled.status, 200, cancelled.text);
  t.is(cancelled.json.state, 'Disabled');
  t.is(cancelled.json.deletionDate, null);
  const disabled = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(disabled.name, 'KMS.DisabledException');
  const notPending = await adminCall(suite.server, 'POST', '/v2/CancelKmsKeyDeletion', {
    id: key.id,
  });
  t.is(notPending.status, 409);
  await adminCall(suite.server, 'POST', '/v2/EnableKmsKey', { id: key.id });
  t.true((await getBytes(suite.s3, bucket, 'k')).equals(body));
});

test('ScheduleKmsKeyDeletion refuses waiting periods outside 7 to 30 days, unknown keys and aws/s3', async (t) => {
  const key = await createKmsKey(suite.server);
  for (const pendingWindowDays of [6, 31, 7.5, '10']) {
    const refused = await adminCall(suite.server, 'POST', '/v2/ScheduleKmsKeyDeletion', {
      id: key.id,
      pendingWindowDays,
    });
    t.is(refused.status, 400, String(pendingWindowDays));
  }
  const unknown = await adminCall(suite.server, 'POST', '/v2/ScheduleKmsKeyDeletion', {
    id: 'alias/none-such',
  });
  t.is(unknown.status, 404);
  // The default key is made by the first aws:kms write that names none.
  const bucket = await newBucket(suite.s3, 'kms-default-kept');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }),
  );
  const managed = await adminCall(suite.server, 'POST', '/v2/ScheduleKmsKeyDeletion', {
    id: 'alias/aws/s3',
  });
  t.is(managed.status, 409);
  const info = await adminCall(suite.server, 'GET', `/v2/GetKmsKeyInfo?id=${key.id}`);
  t.is(info.json.state, 'Enabled');
});

test('the CLI schedules and cancels a key deletion through the running server', async (t) => {
  const cli = (...args: string[]) =>
    runCli(['--data-dir', suite.server.dataDir, '--admin-token', ADMIN_TOKEN, ...args]);
  const key = await createKmsKey(suite.server, 'alias/cli-doomed');
  const scheduled = await cli('kms', 'schedule-deletion', 'alias/cli-doomed', '--days', '10');
  t.is(scheduled.code, 0, scheduled.stderr);
  t.regex(scheduled.stdout, /State:\s+PendingDeletion/);
  const listed = await cli('kms', 'list');
  t.regex(listed.stdout, new RegExp(`${key.id}\\s+alias/cli-doomed\\s+PendingDeletion`));
  const badDays = await cli('kms', 'schedule-deletion', key.id, '--days', '3');
  t.is(badDays.code, 2, badDays.stderr);
  const cancelled = await cli('kms', 'cancel-deletion', key.id, '--json');
  t.is(cancelled.code, 0, cancelled.stderr);
  t.is(JSON.parse(cancelled.stdout).state, 'Disabled');
  const twice = await cli('kms', 'cancel-deletion', key.id);
  t.is(twice.code, 1);
});

test('BucketKeyEnabled from the bucket default is stored and reported by PUT, HEAD, GET, copy and every multipart answer', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-bucket-key');
  const key = await createKmsKey(suite.server);
  await putBucketDefault(suite.s3, bucket, 'aws:kms', key.id, true);
  const reports = (
    what: string,
    answer: {
      ServerSideEncryption?: string | undefined;
      SSEKMSKeyId?: string | undefined;
      BucketKeyEnabled?: boolean | undefined;
    },
  ): void => {
    t.is(answer.ServerSideEncryption, 'aws:kms', what);
    t.is(answer.SSEKMSKeyId, key.arn, what);
    t.is(answer.BucketKeyEnabled, true, what);
  };
  const body = randomBytesSeeded(5 * MIB + 10, 41);
  reports(
    'PUT',
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body })),
  );
  reports('HEAD', await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  reports('GET', got);
  await got.Body?.transformToByteArray();
  reports(
    'CopyObject',
    await suite.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/k` }),
    ),
  );

  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm' }),
  );
  reports('CreateMultipartUpload', created);
  const part = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'm',
      UploadId: created.UploadId,
      PartNumber: 1,
      Body: body,
    }),
  );
  reports('UploadPart', part);
  const copied = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'm',
      UploadId: created.UploadId,
      PartNumber: 2,
      CopySource: `${bucket}/k`,
      CopySourceRange: 'bytes=0-99999',
    }),
  );
  reports('UploadPartCopy', copied);
  // ListParts carries no encryption fields (AWS's ListPartsResult has none).
  const parts = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'm', UploadId: created.UploadId }),
  );
  t.is(parts.Parts?.length, 2);
  const completed = await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'm',
      UploadId: created.UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: part.ETag },
          { PartNumber: 2, ETag: copied.CopyPartResult?.ETag },
        ],
      },
    }),
  );
  reports('CompleteMultipartUpload', completed);
  const whole = await getBytes(suite.s3, bucket, 'm');
  t.true(whole.equals(Buffer.concat([body, body.subarray(0, 100_000)])));
  reports(
    'HEAD multipart',
    await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'm' })),
  );
});

test('a request header BucketKeyEnabled counts for SSE-KMS only; CopyObject takes the target request', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-bucket-key-header');
  const s3 = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 's3',
      Body: 'x',
      ServerSideEncryption: 'AES256',
      BucketKeyEnabled: true,
    }),
  );
  t.is(s3.ServerSideEncryption, 'AES256');
  t.is(s3.BucketKeyEnabled, undefined);
  const copied = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'kms',
      CopySource: `${bucket}/s3`,
      ServerSideEncryption: 'aws:kms',
      BucketKeyEnabled: true,
    }),
  );
  t.is(copied.ServerSideEncryption, 'aws:kms');
  t.true(copied.BucketKeyEnabled);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms' }));
  t.true(head.BucketKeyEnabled);
  t.is((await getBytes(suite.s3, bucket, 'kms')).toString(), 'x');
  const off = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'off',
      Body: 'x',
      ServerSideEncryption: 'aws:kms',
      BucketKeyEnabled: false,
    }),
  );
  t.is(off.BucketKeyEnabled, undefined);
});

test('the encryption context: echoed by PUT and CreateMultipartUpload, never by GET or HEAD; bad ones refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-context');
  const context = Buffer.from(JSON.stringify({ team: 'storage', app: 'hangar' })).toString(
    'base64',
  );
  const put = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'with context',
      ServerSideEncryption: 'aws:kms',
      SSEKMSEncryptionContext: context,
    }),
  );
  t.is(put.SSEKMSEncryptionContext, context);
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'm',
      ServerSideEncryption: 'aws:kms',
      SSEKMSEncryptionContext: context,
    }),
  );
  t.is(created.SSEKMSEncryptionContext, context);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(await got.Body?.transformToString(), 'with context');
  const head = await signedFetch(suite.server.endpoint, { method: 'HEAD', path: `/${bucket}/k` });
  t.is(head.headers.get('x-amz-server-side-encryption'), 'aws:kms');
  t.is(head.headers.get('x-amz-server-side-encryption-context'), null);
  // GET takes no context: the one bound to the data key at PUT is the only one that opens it,
  // and a context header on GET changes nothing.
  const withHeader = await signedFetch(suite.server.endpoint, {
    method: 'GET',
    path: `/${bucket}/k`,
    headers: {
      'x-amz-server-side-encryption-context': Buffer.from('{"team":"other"}').toString('base64'),
    },
  });
  t.is(withHeader.status, 200);
  t.is(withHeader.headers.get('x-amz-server-side-encryption-context'), null);
  t.is(await withHeader.text(), 'with context');

  const bad = [
    'not base64!',
    Buffer.from('[1,2]').toString('base64'),
    Buffer.from('{"n":1}').toString('base64'),
    Buffer.from('not json').toString('base64'),
    Buffer.from(JSON.stringify({ big: 'x'.repeat(4096) })).toString('base64'),
  ];
  for (const value of bad) {
    const refused = await s3Failure(
      suite.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'bad',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSEncryptionContext: value,
        }),
      ),
    );
    t.is(refused.status, 400, value.slice(0, 40));
    t.is(refused.name, 'InvalidArgument', value.slice(0, 40));
  }
  const withAes = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'bad',
        Body: 'x',
        ServerSideEncryption: 'AES256',
        SSEKMSEncryptionContext: context,
      }),
    ),
  );
  t.is(withAes.name, 'InvalidArgument');
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad' })),
  );
  t.is(missing.status, 404);
});
