import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { newBucket, randomBytesSeeded, TestServer } from '../helpers/server.js';
import { getBytes } from '../helpers/sse.js';

// The master key from the environment (HANGAR_SSE_MASTER_KEY): used as given, never written to
// the data directory, a wrong or malformed one refused at the start, rotated by giving the old
// one as HANGAR_SSE_MASTER_KEY_PREVIOUS and asking for the re-wrap.

const FIRST_HEX = randomBytesSeeded(32, 161).toString('hex');
const SECOND_BASE64 = randomBytesSeeded(32, 162).toString('base64');

/** The message a start that fails ends with ('it started' when it did not fail). */
async function startFailure(options: Parameters<typeof TestServer.start>[0]): Promise<string> {
  return TestServer.start(options).then(
    async (started) => {
      await started.kill();
      return 'it started';
    },
    (error: Error) => error.message,
  );
}

async function putBoth(server: TestServer, bucket: string): Promise<void> {
  const client = server.client();
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 's3',
      Body: 'sse-s3 body',
      ServerSideEncryption: 'AES256',
    }),
  );
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'kms',
      Body: 'kms body',
      ServerSideEncryption: 'aws:kms',
    }),
  );
}

async function readBoth(server: TestServer, bucket: string): Promise<string[]> {
  const client = server.client();
  return [
    (await getBytes(client, bucket, 's3')).toString(),
    (await getBytes(client, bucket, 'kms')).toString(),
  ];
}

test('HANGAR_SSE_MASTER_KEY: used as given, readable after a restart, another key refused at the start', async (t) => {
  let own = await TestServer.start({ env: { HANGAR_SSE_MASTER_KEY: FIRST_HEX } });
  const dataDir = own.dataDir;
  try {
    const bucket = await newBucket(own.client(), 'sse-env-key');
    await putBoth(own, bucket);
    t.false(existsSync(join(dataDir, 'sse-master.key')), 'no key file generated beside the data');
    await own.stop();

    own = await TestServer.start({ dataDir, env: { HANGAR_SSE_MASTER_KEY: FIRST_HEX } });
    t.deepEqual(await readBoth(own, bucket), ['sse-s3 body', 'kms body']);
    await own.stop();

    const other = await startFailure({ dataDir, env: { HANGAR_SSE_MASTER_KEY: SECOND_BASE64 } });
    t.regex(other, /SSE keyring is sealed under master key [0-9a-f]{16}.*HANGAR_SSE_MASTER_KEY/s);
    t.false(other.includes(SECOND_BASE64), 'the key is never printed');
    // Without the variable, the data directory's (absent) default file is no fallback either.
    const none = await startFailure({ dataDir });
    t.regex(none, /sse-master\.key does not exist/);
  } finally {
    await own.destroy();
  }
});

test('a malformed HANGAR_SSE_MASTER_KEY stops the start, naming the variable, never its value', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-sse-env-'));
  try {
    const values = [
      FIRST_HEX.slice(2),
      `${FIRST_HEX}00`,
      'not a key at all',
      SECOND_BASE64.slice(1),
    ];
    for (const value of values) {
      const failure = await startFailure({ dataDir, env: { HANGAR_SSE_MASTER_KEY: value } });
      t.regex(failure, /HANGAR_SSE_MASTER_KEY is malformed: an SSE master key is 32 bytes/);
      t.false(failure.includes(value), 'the value is never printed');
    }
    const previous = await startFailure({
      dataDir,
      env: { HANGAR_SSE_MASTER_KEY: FIRST_HEX, HANGAR_SSE_MASTER_KEY_PREVIOUS: 'abc' },
    });
    t.regex(previous, /HANGAR_SSE_MASTER_KEY_PREVIOUS is malformed/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('rotation with keys from the environment: the new key, the old one as PREVIOUS, then the re-wrap', async (t) => {
  let own = await TestServer.start({ env: { HANGAR_SSE_MASTER_KEY: FIRST_HEX } });
  const dataDir = own.dataDir;
  try {
    const bucket = await newBucket(own.client(), 'sse-env-rotate');
    await putBoth(own, bucket);
    await own.stop();

    own = await TestServer.start({
      dataDir,
      env: { HANGAR_SSE_MASTER_KEY: SECOND_BASE64, HANGAR_SSE_MASTER_KEY_PREVIOUS: FIRST_HEX },
    });
    t.deepEqual(await readBoth(own, bucket), ['sse-s3 body', 'kms body']);
    const rotated = await adminCall(own, 'POST', '/v2/RotateSseMasterKey');
    t.is(rotated.status, 200, JSON.stringify(rotated.json));
    t.not(rotated.json.currentId, rotated.json.previousId);
    t.is(rotated.json.rewrapped, 2, 'SSE-S3 internal key and aws/s3: one version each');
    t.false(existsSync(join(dataDir, 'sse-master.key')), 'nothing written to the data directory');
    await own.stop();

    // The previous key is no longer needed; the first key alone opens nothing any more.
    own = await TestServer.start({ dataDir, env: { HANGAR_SSE_MASTER_KEY: SECOND_BASE64 } });
    t.deepEqual(await readBoth(own, bucket), ['sse-s3 body', 'kms body']);
    await own.stop();
    const old = await startFailure({ dataDir, env: { HANGAR_SSE_MASTER_KEY: FIRST_HEX } });
    t.regex(old, /SSE keyring is sealed under master key/);
  } finally {
    await own.destroy();
  }
});
