import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { plaintextPattern, storedContaining } from '../helpers/plaintext.js';
import {
  ADMIN_TOKEN,
  newBucket,
  randomBytesSeeded,
  runCli,
  s3Failure,
  TestServer,
  useServer,
} from '../helpers/server.js';
import { createKmsKey, getBytes, putKms, uploadAndComplete } from '../helpers/sse.js';

const MIB = 1024 * 1024;
const ARN = /^arn:aws:kms:us-east-1:000000000000:key\/([0-9a-f-]{36})$/;

const suite = useServer(test);

test('aws:kms without a key id uses the default aws/s3 key, made on first use, reported by ARN', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-default');
  const body = randomBytesSeeded(70_000, 3);
  const context = Buffer.from(JSON.stringify({ project: 'hangar' })).toString('base64');
  const put = await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: body,
      ServerSideEncryption: 'aws:kms',
      SSEKMSEncryptionContext: context,
      BucketKeyEnabled: true,
    }),
  );
  t.is(put.ServerSideEncryption, 'aws:kms');
  t.regex(put.SSEKMSKeyId ?? '', ARN);
  t.is(put.SSEKMSEncryptionContext, context);
  t.true(put.BucketKeyEnabled);
  // Not the data's MD5 (that would tell something about the plaintext), as AWS.
  t.not(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
  const listed = await adminCall(suite.server, 'GET', '/v2/ListKmsKeys');
  const defaults = (listed.json as unknown as Array<{ alias: string; arn: string }>).filter(
    (key) => key.alias === 'alias/aws/s3',
  );
  t.is(defaults.length, 1);
  t.is(defaults[0]?.arn, put.SSEKMSKeyId);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(got.ServerSideEncryption, 'aws:kms');
  t.is(got.SSEKMSKeyId, put.SSEKMSKeyId);
  t.true(got.BucketKeyEnabled);
  t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ServerSideEncryption, 'aws:kms');
  t.is(head.SSEKMSKeyId, put.SSEKMSKeyId);
  const range = await getBytes(suite.s3, bucket, 'k', { Range: 'bytes=100-60000' });
  t.true(range.equals(body.subarray(100, 60_001)));
});

test('a named key by id, ARN or alias; multipart with ranges across parts', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-named');
  const key = await createKmsKey(suite.server, 'alias/test-named');
  t.regex(key.arn, ARN);
  for (const ref of [key.id, key.arn, 'alias/test-named']) {
    const put = await putKms(suite.s3, bucket, ref, `under ${ref}`, ref);
    t.is(put.SSEKMSKeyId, key.arn, ref);
    t.is((await getBytes(suite.s3, bucket, ref)).toString(), `under ${ref}`);
  }
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mpu',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: key.id,
    }),
  );
  t.is(created.ServerSideEncryption, 'aws:kms');
  t.is(created.SSEKMSKeyId, key.arn);
  const parts = [randomBytesSeeded(5 * MIB, 11), randomBytesSeeded(123_457, 12)];
  await uploadAndComplete(suite.s3, bucket, 'mpu', created.UploadId, parts, (uploaded) => {
    t.is(uploaded.ServerSideEncryption, 'aws:kms');
    t.is(uploaded.SSEKMSKeyId, key.arn);
  });
  const whole = Buffer.concat(parts);
  t.true((await getBytes(suite.s3, bucket, 'mpu')).equals(whole));
  const range = await getBytes(suite.s3, bucket, 'mpu', {
    Range: `bytes=${5 * MIB - 10}-${5 * MIB + 100}`,
  });
  t.true(range.equals(whole.subarray(5 * MIB - 10, 5 * MIB + 101)));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpu' }));
  t.is(head.SSEKMSKeyId, key.arn);
});

test('a disabled key makes its objects unreadable (403 KMS.DisabledException); enabling restores them', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-disabled');
  const key = await createKmsKey(suite.server);
  const body = randomBytesSeeded(2 * MIB, 21);
  await putKms(suite.s3, bucket, 'big', body, key.id);
  await putKms(suite.s3, bucket, 'small', 'small body', key.id);
  const disabled = await adminCall(suite.server, 'POST', '/v2/DisableKmsKey', { id: key.id });
  t.is(disabled.status, 200);
  t.false(disabled.json.enabled);
  for (const name of ['big', 'small']) {
    const failure = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: name })),
    );
    t.is(failure.status, 403, name);
    t.is(failure.name, 'KMS.DisabledException', name);
  }
  // HEAD opens no key: it still answers, as in AWS.
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' }));
  t.is(head.SSEKMSKeyId, key.arn);
  const write = await s3Failure(putKms(suite.s3, bucket, 'new', 'x', key.id));
  t.is(write.status, 403);
  t.is(write.name, 'KMS.DisabledException');
  const enabled = await adminCall(suite.server, 'POST', '/v2/EnableKmsKey', { id: key.id });
  t.true(enabled.json.enabled);
  t.true((await getBytes(suite.s3, bucket, 'big')).equals(body));
  t.is((await getBytes(suite.s3, bucket, 'small')).toString(), 'small body');
});

test('an unknown key is 400 KMS.NotFoundException and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-unknown');
  for (const ref of [
    '00000000-0000-4000-8000-000000000000',
    'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000',
    'alias/none-such',
  ]) {
    const failure = await s3Failure(putKms(suite.s3, bucket, 'k', 'x', ref));
    t.is(failure.status, 400, ref);
    t.is(failure.name, 'KMS.NotFoundException', ref);
  }
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
  const admin = await adminCall(suite.server, 'POST', '/v2/DisableKmsKey', {
    id: 'alias/none-such',
  });
  t.is(admin.status, 404);
});

test('key rotation: new objects use the new material, old ones still decrypt', async (t) => {
  const bucket = await newBucket(suite.s3, 'kms-rotate');
  const key = await createKmsKey(suite.server);
  await putKms(suite.s3, bucket, 'before', 'written before the rotation', key.id);
  const rotated = await adminCall(suite.server, 'POST', '/v2/RotateKmsKey', { id: key.id });
  t.is(rotated.status, 200);
  t.is(rotated.json.versions, 2);
  await putKms(suite.s3, bucket, 'after', 'written after the rotation', key.id);
  t.is((await getBytes(suite.s3, bucket, 'before')).toString(), 'written before the rotation');
  t.is((await getBytes(suite.s3, bucket, 'after')).toString(), 'written after the rotation');
});

test('the CLI lists, creates, disables and enables KMS keys through the running server', async (t) => {
  const cli = (...args: string[]) =>
    runCli(['--data-dir', suite.server.dataDir, '--admin-token', ADMIN_TOKEN, ...args]);
  const created = await cli(
    'kms',
    'create',
    '--description',
    'from the CLI',
    '--alias',
    'alias/cli',
    '--json',
  );
  t.is(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout) as { id: string; alias: string; enabled: boolean };
  t.is(key.alias, 'alias/cli');
  t.true(key.enabled);
  const disabled = await cli('kms', 'disable', 'alias/cli', '--json');
  t.is(disabled.code, 0, disabled.stderr);
  t.false(JSON.parse(disabled.stdout).enabled);
  const listed = await cli('kms', 'list');
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, new RegExp(`${key.id}\\s+alias/cli\\s+Disabled`));
  const rotated = await cli('kms', 'rotate', key.id, '--json');
  t.is(JSON.parse(rotated.stdout).versions, 2);
  const unknown = await cli('kms', 'enable', 'alias/none-such');
  t.not(unknown.code, 0);
});

test('SSE-KMS bytes are not on disk; master-key rotation re-wraps keys, drops the old one, survives a restart', async (t) => {
  let own = await TestServer.start({ shards: 2 });
  try {
    let client = own.client();
    const bucket = await newBucket(client, 'kms-disk');
    const big = plaintextPattern(3 * MIB, 'SSEKMS-BIG');
    const small = plaintextPattern(1000, 'SSEKMS-SMALL');
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'big',
        Body: big,
        ServerSideEncryption: 'aws:kms',
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'small',
        Body: small,
        ServerSideEncryption: 'aws:kms',
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 's3',
        Body: small,
        ServerSideEncryption: 'AES256',
      }),
    );
    for (const slice of [big.subarray(MIB + 5, MIB + 69), small.subarray(500, 564)])
      t.deepEqual(await storedContaining(own, slice), [], slice.toString());

    const keyFile = join(own.dataDir, 'sse-master.key');
    const before = readFileSync(keyFile, 'utf8');
    const rotated = await adminCall(own, 'POST', '/v2/RotateSseMasterKey');
    t.is(rotated.status, 200, JSON.stringify(rotated.json));
    t.not(rotated.json.currentId, rotated.json.previousId);
    // The default aws/s3 key and SSE-S3's internal key: one version each.
    t.is(rotated.json.rewrapped, 2);
    t.deepEqual(rotated.json.dropped, [rotated.json.previousId]);
    t.not(readFileSync(keyFile, 'utf8'), before);
    t.deepEqual(readdirSync(join(own.dataDir, 'sse-master-keys')), []);
    const check = async (): Promise<void> => {
      t.true((await getBytes(client, bucket, 'big')).equals(big));
      t.true((await getBytes(client, bucket, 'small')).equals(small));
      t.true((await getBytes(client, bucket, 's3')).equals(small));
    };
    await check();
    await own.stop();
    own = await TestServer.start({ dataDir: own.dataDir, shards: 2 });
    client = own.client();
    await check();

    // The old master key opens nothing any more: a keyring sealed under a key hangar does not
    // have stops the start, with a message, rather than answering 500 to every read.
    await own.stop();
    writeFileSync(keyFile, before);
    const refused = await TestServer.start({ dataDir: own.dataDir, shards: 2 }).then(
      async (started) => {
        await started.destroy();
        return 'it started';
      },
      (error: Error) => error.message,
    );
    t.regex(refused, /SSE keyring is sealed under master key [0-9a-f]{16}/);
  } finally {
    await own.destroy();
  }
});
