import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { boto3Env } from '../helpers/python.js';
import {
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  TestServer,
  useServer,
  useTempDir,
} from '../helpers/server.js';
import { type Run, runTool, writeSeededFile } from '../helpers/tree.js';
import { errorOf } from '../helpers/xml-error.js';

// Signature V2 through the real server with real V2 signers: botocore's 's3' signer (header,
// presigned URLs and POST forms) and s3cmd --signature-v2 (header and signurl).

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_v2_client.py', import.meta.url));
/** Debian's s3cmd (installed by .ci/run); the one on PATH otherwise. */
const S3CMD = '/usr/bin/s3cmd';
const MiB = 1024 * 1024;
const V2_REFUSED =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

const suite = useServer(test);
const work = useTempDir(test, 'hangar-sigv2-');

interface Observed {
  error?: string;
  bucketListed: boolean;
  get: { equal: boolean; contentType: string; metadata: Record<string, string> };
  overrides: { contentType: string; contentDisposition: string };
  multipart: { parts: number; etag: string; equal: boolean };
  tags: Array<{ Key: string; Value: string }>;
  list: { prefixes: string[]; v1Keys: string[]; v1Truncated: boolean };
  deleted: string[];
  afterDelete: string[];
  presigned: {
    get: string;
    getOverride: string;
    put: string;
    putWithHeaders: string;
    expired: string;
  };
  presignedPost: { url: string; fields: Record<string, string> };
  key: string;
}

/** Runs the boto3 V2 script with the root key and an isolated AWS config; parses its JSON line. */
function runBoto3(endpoint: string, bucket: string, style: 'path' | 'virtual'): Promise<Observed> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      [SCRIPT, endpoint, bucket, style],
      {
        env: boto3Env(work),
        maxBuffer: 16 * MiB,
        timeout: 120_000,
      },
      (_error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as Observed);
        } catch {
          resolve({ error: `no JSON from the script:\n${stdout}\n${stderr}` } as Observed);
        }
      },
    );
  });
}

async function sdkBytes(bucket: string, key: string): Promise<Buffer> {
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
}

function checkBoto3(t: import('ava').ExecutionContext, observed: Observed): void {
  t.is(observed.error, undefined, observed.error);
  t.true(observed.bucketListed);
  t.deepEqual(observed.get, {
    equal: true,
    contentType: 'application/x-test',
    metadata: { color: 'blue' },
  });
  t.deepEqual(observed.overrides, {
    contentType: 'text/plain',
    contentDisposition: 'attachment; filename="x.bin"',
  });
  t.is(observed.multipart.parts, 2);
  t.regex(observed.multipart.etag, /^"[0-9a-f]{32}-2"$/);
  t.true(observed.multipart.equal);
  t.deepEqual(observed.tags, [{ Key: 'k', Value: 'v' }]);
  t.deepEqual(observed.list, {
    prefixes: ['tree/a/', 'tree/b/'],
    v1Keys: ['tree/a/1'],
    v1Truncated: true,
  });
  t.deepEqual(observed.deleted, ['tree/a/1', 'tree/a/2', 'tree/b/1']);
  t.deepEqual(observed.afterDelete, [observed.key]);
}

test('boto3 with the V2 signer, path-style: objects, multipart, tagging, lists, deletes', async (t) => {
  t.timeout(150_000);
  const observed = await runBoto3(suite.server.endpoint, 'boto3-v2-path', 'path');
  checkBoto3(t, observed);
});

test('boto3 with the V2 signer, virtual-hosted: the bucket in the Host enters the resource', async (t) => {
  t.timeout(150_000);
  const endpoint = `http://s3.localhost:${suite.server.port}`;
  const observed = await runBoto3(endpoint, 'boto3-v2-vhost', 'virtual');
  checkBoto3(t, observed);
});

test('presigned V2 URLs from botocore: GET, GET with an override, PUT; expired and tampered fail', async (t) => {
  t.timeout(150_000);
  const bucket = 'boto3-v2-presign';
  const observed = await runBoto3(suite.server.endpoint, bucket, 'path');
  t.is(observed.error, undefined, observed.error);
  const { presigned, key } = observed;
  t.regex(presigned.get, /[?&]AWSAccessKeyId=.*&Expires=\d+|[?&]Expires=\d+/);
  t.notRegex(presigned.get, /X-Amz-/);

  const got = await fetch(presigned.get);
  t.is(got.status, 200);
  t.deepEqual(Buffer.from(await got.arrayBuffer()), await sdkBytes(bucket, key));

  const overridden = await fetch(presigned.getOverride);
  t.is(overridden.status, 200);
  t.is(overridden.headers.get('content-type'), 'text/csv');
  await overridden.arrayBuffer();

  // A byte body: fetch gives a string body a Content-Type, which V2 signs (the URL has none).
  const put = await fetch(presigned.put, {
    method: 'PUT',
    body: Buffer.from('put through a V2 URL'),
  });
  t.is(put.status, 200, await put.clone().text());
  t.is((await sdkBytes(bucket, 'presigned.bin')).toString(), 'put through a V2 URL');

  // Its signed x-amz-meta-color and Content-Type ride in the query and take effect as headers.
  t.regex(presigned.putWithHeaders, /[?&]x-amz-meta-color=green/);
  const moved = await fetch(presigned.putWithHeaders, {
    method: 'PUT',
    body: Buffer.from('headers in the query'),
  });
  t.is(moved.status, 200, await moved.clone().text());
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'presigned-meta.bin' }),
  );
  t.deepEqual(head.Metadata, { color: 'green' });
  t.is(head.ContentType, 'text/x-moved');
  // Changing a moved header breaks the signature.
  const altered = await errorOf(
    await fetch(presigned.putWithHeaders.replace('color=green', 'color=red'), {
      method: 'PUT',
      body: Buffer.from('x'),
    }),
  );
  t.is(altered.code, 'SignatureDoesNotMatch');

  const expired = await errorOf(await fetch(presigned.expired));
  t.deepEqual(expired, { status: 403, code: 'AccessDenied', message: 'Request has expired' });

  // Another key under the same signature, and the signature itself changed.
  const otherKey = await errorOf(await fetch(presigned.get.replace('/dir/', '/other/')));
  t.is(otherKey.status, 403);
  t.is(otherKey.code, 'SignatureDoesNotMatch');
  const url = new URL(presigned.get);
  const signature = url.searchParams.get('Signature') ?? '';
  // Its first character changed (to one it is not).
  url.searchParams.set(
    'Signature',
    `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`,
  );
  const tampered = await errorOf(await fetch(url));
  t.is(tampered.code, 'SignatureDoesNotMatch');

  // A V2 POST form from botocore's generate_presigned_post (AWSAccessKeyId, policy, signature).
  const { fields } = observed.presignedPost;
  t.truthy(fields['AWSAccessKeyId']);
  t.truthy(fields['signature']);
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob(['posted with a V2 policy']), 'note.txt');
  const posted = await fetch(`${suite.server.endpoint}/${bucket}`, { method: 'POST', body: form });
  t.is(posted.status, 204, await posted.clone().text());
  t.is((await sdkBytes(bucket, 'form/note.txt')).toString(), 'posted with a V2 policy');
  // The same form with the policy's signature broken.
  const forged = new FormData();
  for (const [name, value] of Object.entries(fields))
    forged.append(
      name,
      name === 'signature' ? `${value.startsWith('A') ? 'B' : 'A'}${value.slice(1)}` : value,
    );
  forged.append('file', new Blob(['forged']), 'forged.txt');
  const refused = await errorOf(
    await fetch(`${suite.server.endpoint}/${bucket}`, { method: 'POST', body: forged }),
  );
  t.is(refused.code, 'SignatureDoesNotMatch');
});

// ---- s3cmd --signature-v2 ----

function s3cmdConfig(name: string, port: number): string {
  const path = join(work, name);
  writeFileSync(
    path,
    [
      '[default]',
      `access_key = ${ROOT_ACCESS_KEY}`,
      `secret_key = ${ROOT_SECRET_KEY}`,
      `host_base = 127.0.0.1:${port}`,
      `host_bucket = 127.0.0.1:${port}`,
      `bucket_location = ${REGION}`,
      'use_https = False',
      'signature_v2 = True',
      'progress_meter = False',
      '',
    ].join('\n'),
  );
  return path;
}

function s3cmd(config: string, ...args: string[]): Promise<Run> {
  return runTool(S3CMD, ['-c', config, '--signature-v2', ...args], { HOME: work });
}

async function ok(config: string, ...args: string[]): Promise<string> {
  const run = await s3cmd(config, ...args);
  if (run.code !== 0)
    throw new Error(
      `s3cmd ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}\nserver log:\n${suite.server.log}`,
    );
  return run.stdout;
}

test('s3cmd --signature-v2: mb, put, ls, get, signurl, multipart, del, rb', async (t) => {
  t.timeout(120_000);
  const config = s3cmdConfig('s3cfg-v2', suite.server.port);
  await ok(config, 'mb', 's3://s3cmd-v2');
  t.regex(await ok(config, 'ls'), /s3:\/\/s3cmd-v2/);
  const file = join(work, 'one.txt');
  writeFileSync(file, 'hello from s3cmd V2\n');
  await ok(
    config,
    'put',
    '--mime-type=text/plain',
    '--add-header=x-amz-meta-color:blue',
    file,
    's3://s3cmd-v2/dir/one.txt',
  );
  const info = await ok(config, 'info', 's3://s3cmd-v2/dir/one.txt');
  t.regex(info, /MIME type:\s+text\/plain/);
  t.regex(info, /x-amz-meta-color:\s+blue/);
  t.regex(await ok(config, 'ls', 's3://s3cmd-v2/dir/'), /s3:\/\/s3cmd-v2\/dir\/one\.txt/);
  await ok(config, 'get', 's3://s3cmd-v2/dir/one.txt', join(work, 'one.back'));
  t.is(readFileSync(join(work, 'one.back'), 'utf8'), 'hello from s3cmd V2\n');

  // s3cmd's own V2 presigned URL, fetched with plain HTTP.
  const url = (await ok(config, 'signurl', 's3://s3cmd-v2/dir/one.txt', '+300')).trim();
  t.regex(url, /AWSAccessKeyId=.*&Expires=\d+&Signature=/);
  const fetched = await fetch(url);
  t.is(fetched.status, 200);
  t.is(await fetched.text(), 'hello from s3cmd V2\n');

  // Multipart (?uploads, ?partNumber&uploadId) under a key with a space and a '+'.
  const big = join(work, 'big.bin');
  writeSeededFile(big, 11 * MiB, 7);
  await ok(config, 'put', '--multipart-chunk-size-mb=5', big, 's3://s3cmd-v2/big one+.bin');
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: 's3cmd-v2', Key: 'big one+.bin' }),
  );
  t.regex(head.ETag ?? '', /^"[0-9a-f]{32}-3"$/, 'uploaded as 3 parts');
  await ok(config, 'get', 's3://s3cmd-v2/big one+.bin', join(work, 'big.back'));
  t.true(readFileSync(join(work, 'big.back')).equals(readFileSync(big)));

  await ok(config, 'del', 's3://s3cmd-v2/dir/one.txt', 's3://s3cmd-v2/big one+.bin');
  t.is((await ok(config, 'ls', '--recursive', 's3://s3cmd-v2')).trim(), '');
  await ok(config, 'rb', 's3://s3cmd-v2');
  t.notRegex(await ok(config, 'ls'), /s3cmd-v2/);
});

test('with s3.signature_v2 = false, V2 headers and URLs are InvalidRequest; V4 still works', async (t) => {
  t.timeout(120_000);
  const server = await TestServer.start({ env: { HANGAR_S3_SIGNATURE_V2: 'false' } });
  try {
    const config = s3cmdConfig('s3cfg-v2-off', server.port);
    // s3cmd knows AWS's answer word for word: it then retries the request with V4.
    const listing = await s3cmd(config, '--debug', 'ls');
    t.is(listing.code, 0, listing.stderr);
    t.regex(listing.stderr, /Endpoint requires signature v4/);

    // A V2 URL signed by s3cmd (it signs offline); V4 requests still pass.
    await server.client().send(new ListBucketsCommand({}));
    const signurl = await s3cmd(config, 'signurl', 's3://anything/key', '+300');
    t.is(signurl.code, 0, signurl.stderr);
    const refused = await errorOf(await fetch(signurl.stdout.trim()));
    t.deepEqual(refused, { status: 400, code: 'InvalidRequest', message: V2_REFUSED });
  } finally {
    await server.destroy();
  }
});
