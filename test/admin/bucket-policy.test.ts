import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { HANGAR_ACCOUNT_ID } from '../../http/access/principal.js';
import { type AdminAnswer, adminCall } from '../helpers/admin.js';
import {
  ADMIN_TOKEN,
  HANGAR_BIN,
  runCli,
  TestServer,
  useServer,
  useTempDir,
} from '../helpers/server.js';

/**
 * Bucket policies through the admin API (GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy)
 * and `hangar bucket policy get|set|delete`: validated and stored by the policy module
 * (http/access/bucket-policy.ts), shown in GetBucketInfo's public status. These need the policy
 * language (putBucketPolicy, isPublicPolicy, evaluatePolicy): with the placeholders they fail
 * with 501 NotImplemented.
 */
const suite = useServer(test);
const files = useTempDir(test, 'hangar-policy-');

function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminAnswer> {
  return adminCall(suite.server, method, path, body);
}

/** A policy letting one key read the bucket's objects: not public. */
function keyReadPolicy(bucket: string, accessKeyId: string): string {
  // Indented and with a trailing newline: GetBucketPolicy must give back exactly this text.
  return `${JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OneKeyReads',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${HANGAR_ACCOUNT_ID}:user/${accessKeyId}` },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** A policy letting anyone read the bucket's objects: public. */
function publicReadPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
    ],
  });
}

test('PutBucketPolicy stores the text as given; GetBucketPolicy returns it; Delete removes it', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'policy-api' })).json;
  const text = keyReadPolicy('policy-api', 'HKSOMEKEY0000000000000001');
  const put = await call('POST', `/v2/PutBucketPolicy?id=${id}`, { policy: text });
  t.is(put.status, 200, JSON.stringify(put.json));
  t.like(put.json, { id, hasPolicy: true, policyPublic: false, public: false });
  const got = await call('GET', `/v2/GetBucketPolicy?id=${id}`);
  t.is(got.status, 200);
  t.is(got.json.policy, text);

  const deleted = await call('POST', `/v2/DeleteBucketPolicy?id=${id}`);
  t.is(deleted.status, 200);
  t.like(deleted.json, { hasPolicy: false, policyPublic: false });
  t.is((await call('GET', `/v2/GetBucketPolicy?id=${id}`)).json.code, 'NoSuchBucketPolicy');
  // Deleting what is not there is not an error, as DeleteBucketPolicy.
  t.is((await call('POST', `/v2/DeleteBucketPolicy?id=${id}`)).status, 200);
});

test('a malformed policy is 400 MalformedPolicy and changes nothing', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'policy-bad' })).json;
  for (const policy of ['not json', '{}', '{"Version":"2012-10-17","Statement":[]}']) {
    const refused = await call('POST', `/v2/PutBucketPolicy?id=${id}`, { policy });
    t.is(refused.status, 400, policy);
    t.is(refused.json.code, 'MalformedPolicy', policy);
  }
  t.is((await call('GET', `/v2/GetBucketInfo?id=${id}`)).json.hasPolicy, false);
});

test('a public policy: refused under BlockPublicPolicy, then public once nothing restricts it', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'policy-public' })).json;
  await suite.s3.send(new PutObjectCommand({ Bucket: 'policy-public', Key: 'page', Body: 'hi' }));
  const text = publicReadPolicy('policy-public');
  const blocked = await call('POST', `/v2/PutBucketPolicy?id=${id}`, { policy: text });
  t.is(blocked.status, 409);
  t.is(blocked.json.code, 'AccessDenied');
  t.is((await call('GET', `/v2/GetBucketInfo?id=${id}`)).json.hasPolicy, false);

  await call('POST', `/v2/UpdateBucket?id=${id}`, {
    publicAccessBlock: { blockPublicPolicy: false },
  });
  const restricted = await call('POST', `/v2/PutBucketPolicy?id=${id}`, { policy: text });
  t.is(restricted.status, 200);
  t.like(restricted.json, { hasPolicy: true, policyPublic: true, public: false });
  t.regex(restricted.json.publicReason, /RestrictPublicBuckets/);
  const anonymous = `${suite.server.endpoint}/policy-public/page`;
  t.is((await fetch(anonymous)).status, 403);

  const open = await call('POST', `/v2/UpdateBucket?id=${id}`, {
    publicAccessBlock: { restrictPublicBuckets: false },
  });
  t.like(open.json, { policyPublic: true, public: true });
  t.regex(open.json.publicReason, /the bucket policy grants public access/);
  const read = await fetch(anonymous);
  t.is(read.status, 200);
  t.is(await read.text(), 'hi');
});

/** `hangar ... bucket policy set <bucket> -` with `text` on stdin. */
function setFromStdin(
  dataDir: string,
  bucket: string,
  text: string,
  env: Record<string, string>,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [HANGAR_BIN, '--data-dir', dataDir, 'bucket', 'policy', 'set', bucket, '-'],
      { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'inherit'] },
    );
    child.on('close', (code) => resolve(code ?? -1));
    child.stdin.end(text);
  });
}

test('hangar bucket policy set|get|delete, through the admin API and on the files', async (t) => {
  const server = await TestServer.start();
  try {
    t.is((await server.cli('bucket', 'create', 'cli-policy')).code, 0);
    const file = join(files, 'policy.json');
    const text = keyReadPolicy('cli-policy', 'HKSOMEKEY0000000000000002');
    writeFileSync(file, text);

    const set = await server.cli('bucket', 'policy', 'set', 'cli-policy', file, '--json');
    t.is(set.code, 0, set.stderr);
    t.like(JSON.parse(set.stdout), { bucket: 'cli-policy', hasPolicy: true, policyPublic: false });
    const got = await server.cli('bucket', 'policy', 'get', 'cli-policy');
    t.is(got.stdout, `${text}\n`);
    t.is((await server.cli('bucket', 'policy', 'delete', 'cli-policy')).code, 0);
    t.is((await server.cli('bucket', 'policy', 'get', 'cli-policy')).code, 1);
    const malformed = await server.cli('bucket', 'policy', 'set', 'cli-policy', '/dev/null');
    t.is(malformed.code, 1);
    t.regex(malformed.stderr, /MalformedPolicy/);
    const env = { HANGAR_ADMIN_TOKEN: ADMIN_TOKEN };
    t.is(await setFromStdin(server.dataDir, 'cli-policy', text, env), 0);
    t.is((await server.cli('bucket', 'policy', 'get', 'cli-policy')).stdout, `${text}\n`);

    await server.stop();
    const direct = (...args: string[]) => runCli(['--data-dir', server.dataDir, ...args]);
    t.is((await direct('bucket', 'policy', 'get', 'cli-policy')).stdout, `${text}\n`);
    t.is((await direct('bucket', 'policy', 'delete', 'cli-policy')).code, 0);
    t.is((await direct('bucket', 'policy', 'get', 'cli-policy')).code, 1);
    t.is((await direct('bucket', 'policy', 'set', 'cli-policy', file)).code, 0);
    const info = JSON.parse((await direct('bucket', 'info', 'cli-policy', '--json')).stdout);
    t.like(info, { hasPolicy: true, policyPublic: false });
  } finally {
    await server.destroy();
  }
});
