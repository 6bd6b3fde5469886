import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { boto3Env } from '../helpers/python.js';
import { newBucket, useServer, useTempDir } from '../helpers/server.js';
import { createKmsKey } from '../helpers/sse.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_sse.py', import.meta.url));

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-sse-');

/** A bucket with an object under a key pending deletion, and one under a disabled key. */
async function refusedKeys(): Promise<{ bucket: string; pending: string }> {
  const bucket = await newBucket(suite.s3, 'boto3-refused');
  const pending = await createKmsKey(suite.server);
  const disabled = await createKmsKey(suite.server);
  for (const [name, key] of [
    ['pending', pending],
    ['disabled', disabled],
  ] as const) {
    await suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: name,
        Body: name,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: key.id,
      }),
    );
  }
  await adminCall(suite.server, 'POST', '/v2/ScheduleKmsKeyDeletion', { id: pending.id });
  await adminCall(suite.server, 'POST', '/v2/DisableKmsKey', { id: disabled.id });
  return { bucket, pending: pending.arn };
}

test('boto3: SSE-S3, SSE-KMS, DSSE-KMS, bucket keys, refused keys and bucket default encryption', async (t) => {
  t.timeout(120_000);
  const key = await createKmsKey(suite.server);
  const refused = await refusedKeys();
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      'python3',
      [SCRIPT, suite.server.endpoint, 'boto3-sse', work, key.id, refused.bucket, refused.pending],
      { env: boto3Env(work), maxBuffer: 1024 * 1024, timeout: 100_000 },
      (_error, out, err) => resolve(`${out}\n${err}`),
    );
  });
  const line =
    stdout
      .trim()
      .split('\n')
      .find((l) => l.startsWith('{')) ?? '{}';
  const o = JSON.parse(line) as Record<string, unknown>;
  t.is(o['error'], undefined, `${String(o['error'])}\n${stdout}`);
  t.deepEqual(o['sseS3'], { put: 'AES256', get: 'AES256', equal: true });
  const kms = o['kms'] as Record<string, unknown>;
  t.is(kms['put'], 'aws:kms');
  t.regex(String(kms['keyId']), /^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);
  t.is(kms['head'], 'aws:kms');
  t.is(kms['headKeyId'], kms['keyId']);
  t.true(kms['rangeEqual']);
  t.is(o['unknownKey'], 'KMS.NotFoundException');
  t.is(o['defaultAlgorithm'], 'AES256');
  t.true(o['multipartEqual']);
  t.is(o['multipartSse'], 'AES256');
  t.is(o['afterDelete'], 'ServerSideEncryptionConfigurationNotFoundError');
  t.deepEqual(o['dsse'], {
    put: 'aws:kms:dsse',
    head: 'aws:kms:dsse',
    sameKey: true,
    rangeEqual: true,
  });
  t.deepEqual(o['bucketKey'], {
    create: ['aws:kms', true, true],
    part: ['aws:kms', true],
    complete: ['aws:kms', true],
    head: ['aws:kms', true, true],
    equal: true,
  });
  t.is(o['badContext'], 'InvalidArgument');
  t.is(o['pendingGet'], 'KMS.KMSInvalidStateException');
  t.is(o['pendingPut'], 'KMS.KMSInvalidStateException');
  t.is(o['disabledGet'], 'KMS.DisabledException');
  t.is(o['pendingHead'], refused.pending);
});
