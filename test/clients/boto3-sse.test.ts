import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { boto3Env } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_sse.py', import.meta.url));

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-sse-');

test('boto3: SSE-S3, SSE-KMS (default key, ranges, unknown key) and bucket default encryption', async (t) => {
  t.timeout(120_000);
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      'python3',
      [SCRIPT, suite.server.endpoint, 'boto3-sse', work],
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
});
