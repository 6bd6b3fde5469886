import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeletePublicAccessBlockCommand,
  HeadObjectCommand,
  PutBucketOwnershipControlsCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import {
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  useServer,
  useTempDir,
} from '../helpers/server.js';
import { MiB, type Run, runTool, TREE_FILES, treeDigest, writeTestTree } from '../helpers/tree.js';

/** Debian's s3cmd (installed by .ci/run); the one on PATH otherwise. */
const S3CMD = existsSync('/usr/bin/s3cmd') ? '/usr/bin/s3cmd' : 's3cmd';

const suite = useServer(test);
const work = useTempDir(test, 'hangar-s3cmd-');
const config = join(work, 's3cfg');

test.before(() => {
  // host_bucket without %(bucket)s: s3cmd addresses buckets path-style.
  writeFileSync(
    config,
    [
      '[default]',
      `access_key = ${ROOT_ACCESS_KEY}`,
      `secret_key = ${ROOT_SECRET_KEY}`,
      `host_base = 127.0.0.1:${suite.server.port}`,
      `host_bucket = 127.0.0.1:${suite.server.port}`,
      `bucket_location = ${REGION}`,
      'use_https = False',
      'signature_v2 = False',
      'progress_meter = False',
      '',
    ].join('\n'),
  );
});

function s3cmd(...args: string[]): Promise<Run> {
  return runTool(S3CMD, ['-c', config, ...args], { HOME: work });
}

async function ok(...args: string[]): Promise<string> {
  const run = await s3cmd(...args);
  if (run.code !== 0)
    throw new Error(
      `s3cmd ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}\nserver log:\n${suite.server.log}`,
    );
  return run.stdout;
}

test('s3cmd mb, sync up (multipart above 15 MiB), sync back, ls, del, rb', async (t) => {
  t.timeout(240_000);
  const source = join(work, 'source');
  writeTestTree(source);

  await ok('mb', 's3://s3cmd-e2e');
  t.regex(await ok('ls'), /s3:\/\/s3cmd-e2e/);

  // s3cmd's multipart_chunk_size_mb is 15: the 100 MiB file goes in 7 parts, the rest as PUTs.
  await ok('sync', `${source}/`, 's3://s3cmd-e2e/path/');
  const head = await suite.server
    .client()
    .send(new HeadObjectCommand({ Bucket: 's3cmd-e2e', Key: 'path/big/hundred.bin' }));
  t.regex(head.ETag ?? '', /^"[0-9a-f]{32}-7"$/, 'uploaded as 7 parts');
  const back = join(work, 'back');
  await ok('sync', 's3://s3cmd-e2e/path/', `${back}/`);
  t.deepEqual(treeDigest(back), treeDigest(source));

  // A second sync finds every file unchanged (sizes and MD5s, from s3cmd-attrs for multipart).
  const again = await ok('sync', '--dry-run', `${source}/`, 's3://s3cmd-e2e/path/');
  t.notRegex(again, /upload:/);

  const listing = await ok('ls', '--recursive', 's3://s3cmd-e2e');
  const listed = listing
    .trim()
    .split('\n')
    .map((line) => {
      const match = /^\S+\s+\S+\s+(\d+)\s+s3:\/\/s3cmd-e2e\/path\/(.+)$/.exec(line);
      return match ? [match[2], Number(match[1])] : [line, -1];
    })
    .sort();
  t.deepEqual(listed, Object.entries(TREE_FILES).sort());
  t.regex(await ok('ls', 's3://s3cmd-e2e/path/'), /DIR\s+s3:\/\/s3cmd-e2e\/path\/nested\//);

  // The big file's size and MD5 as s3cmd sees them.
  const info = await ok('info', 's3://s3cmd-e2e/path/big/hundred.bin');
  t.regex(info, new RegExp(`File size:\\s+${100 * MiB}`));

  await ok('del', '--recursive', '--force', 's3://s3cmd-e2e');
  t.is((await ok('ls', '--recursive', 's3://s3cmd-e2e')).trim(), '');
  await ok('rb', 's3://s3cmd-e2e');
  t.notRegex(await ok('ls'), /s3cmd-e2e/);
});

test('s3cmd put and get of one file with metadata, and a missing key', async (t) => {
  t.timeout(60_000);
  await ok('mb', 's3://s3cmd-one');
  const file = join(work, 'one.txt');
  writeFileSync(file, 'hello from s3cmd\n');
  await ok(
    'put',
    '--mime-type=text/plain',
    '--add-header=x-amz-meta-color:blue',
    file,
    's3://s3cmd-one/dir/one.txt',
  );
  const info = await ok('info', 's3://s3cmd-one/dir/one.txt');
  t.regex(info, /MIME type:\s+text\/plain/);
  t.regex(info, /x-amz-meta-color:\s+blue/);
  await ok('get', 's3://s3cmd-one/dir/one.txt', join(work, 'one.back'));
  t.is(readFileSync(join(work, 'one.back'), 'utf8'), 'hello from s3cmd\n');
  const missing = await s3cmd('get', 's3://s3cmd-one/nope', join(work, 'nope'));
  t.not(missing.code, 0);
  t.regex(missing.stderr, /does not exist|404|NoSuchKey/);
  await ok('del', 's3://s3cmd-one/dir/one.txt');
  await ok('rb', 's3://s3cmd-one');
});

test('s3cmd setacl makes an object public and private again (no Content-MD5 sent)', async (t) => {
  t.timeout(60_000);
  await ok('mb', 's3://s3cmd-acl');
  // New buckets have ACLs disabled and public access blocked, as AWS's do.
  await suite.s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: 's3cmd-acl',
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
    }),
  );
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: 's3cmd-acl' }));
  const file = join(work, 'acl.txt');
  writeFileSync(file, 'shared by s3cmd\n');
  await ok('put', file, 's3://s3cmd-acl/acl.txt');
  const anonymous = () => fetch(`${suite.server.endpoint}/s3cmd-acl/acl.txt`);
  t.is((await anonymous()).status, 403);
  await ok('setacl', '--acl-public', 's3://s3cmd-acl/acl.txt');
  const open = await anonymous();
  t.is(open.status, 200);
  t.is(await open.text(), 'shared by s3cmd\n');
  t.regex(await ok('info', 's3://s3cmd-acl/acl.txt'), /ACL:\s+\*anon\*: READ/);
  await ok('setacl', '--acl-private', 's3://s3cmd-acl/acl.txt');
  t.is((await anonymous()).status, 403);
});
