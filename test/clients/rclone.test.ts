import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import {
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  useServer,
  useTempDir,
} from '../helpers/server.js';
import {
  MiB,
  type Run,
  runTool,
  TREE_FILES,
  treeDigest,
  writeSeededFile,
  writeTestTree,
} from '../helpers/tree.js';

/** Debian's rclone (installed by .ci/run); the one on PATH otherwise. */
const RCLONE = existsSync('/usr/bin/rclone') ? '/usr/bin/rclone' : 'rclone';

const suite = useServer(test);
const work = useTempDir(test, 'hangar-rclone-');
writeFileSync(join(work, 'rclone.conf'), '');

/** rclone with the remote `hangar:` configured entirely from the environment. */
function rclone(...args: string[]): Promise<Run> {
  return runTool(RCLONE, ['--retries', '1', '--low-level-retries', '1', ...args], {
    HOME: work,
    RCLONE_CONFIG: join(work, 'rclone.conf'),
    RCLONE_CONFIG_HANGAR_TYPE: 's3',
    RCLONE_CONFIG_HANGAR_PROVIDER: 'Other',
    RCLONE_CONFIG_HANGAR_ENV_AUTH: 'false',
    RCLONE_CONFIG_HANGAR_ENDPOINT: suite.server.endpoint,
    RCLONE_CONFIG_HANGAR_ACCESS_KEY_ID: ROOT_ACCESS_KEY,
    RCLONE_CONFIG_HANGAR_SECRET_ACCESS_KEY: ROOT_SECRET_KEY,
    RCLONE_CONFIG_HANGAR_REGION: REGION,
    RCLONE_CONFIG_HANGAR_FORCE_PATH_STYLE: 'true',
  });
}

async function ok(...args: string[]): Promise<string> {
  const run = await rclone(...args);
  if (run.code !== 0)
    throw new Error(
      `rclone ${args.join(' ')} exited ${run.code}:\n${run.stderr}\nserver log:\n${suite.server.log}`,
    );
  return run.stdout;
}

interface LsEntry {
  Path: string;
  Size: number;
  IsDir: boolean;
  Hashes?: { md5?: string };
}

test('rclone copy, check, copy back, lsjson, delete and purge', async (t) => {
  t.timeout(240_000);
  const source = join(work, 'source');
  writeTestTree(source);

  // Default settings: everything below rclone's 200 MiB upload cutoff goes as a single PUT.
  await ok('copy', source, 'hangar:rclone-e2e/path');
  const check = await rclone('check', source, 'hangar:rclone-e2e/path');
  t.is(check.code, 0, check.stderr);
  t.regex(check.stderr, /0 differences found/);

  const back = join(work, 'back');
  await ok('copy', 'hangar:rclone-e2e/path', back);
  t.deepEqual(treeDigest(back), treeDigest(source));

  const listed = JSON.parse(
    await ok('lsjson', '-R', '--files-only', '--hash', 'hangar:rclone-e2e/path'),
  ) as LsEntry[];
  t.deepEqual(listed.map((e) => [e.Path, e.Size]).sort(), Object.entries(TREE_FILES).sort());
  t.true(
    listed.every((e) => /^[0-9a-f]{32}$/.test(e.Hashes?.md5 ?? '')),
    'MD5 hashes (ETags)',
  );

  // delete removes files (here the nested ones) and leaves the rest.
  await ok('delete', 'hangar:rclone-e2e/path/nested');
  const after = JSON.parse(
    await ok('lsjson', '-R', '--files-only', 'hangar:rclone-e2e'),
  ) as LsEntry[];
  t.deepEqual(after.map((e) => e.Path).sort(), [
    'path/big/hundred.bin',
    'path/empty.bin',
    'path/five-plus-one.bin',
    'path/one.bin',
  ]);

  // purge removes every object and the bucket itself.
  await ok('purge', 'hangar:rclone-e2e');
  const buckets = JSON.parse(await ok('lsjson', 'hangar:')) as LsEntry[];
  t.false(buckets.some((e) => e.Path === 'rclone-e2e'));
});

// Multipart (rclone's default cutoff is 200 MiB, so the tree above goes as single PUTs): 100 MiB in
// 5 MiB chunks, 20 parts, four in flight. rclone (aws-sdk-go v1) XML-escapes the quotes of each
// part ETag in CompleteMultipartUpload as `&#34;` (Go's encoding/xml); S3 must decode character
// references like any XML parser.
test('rclone multipart upload of 100 MiB, copy back, check', async (t) => {
  t.timeout(180_000);
  const dir = join(work, 'mp-source');
  writeSeededFile(join(dir, 'hundred.bin'), 100 * MiB, 77);
  await ok(
    'copyto',
    '--s3-upload-cutoff',
    '5M',
    '--s3-chunk-size',
    '5M',
    '--s3-upload-concurrency',
    '4',
    join(dir, 'hundred.bin'),
    'hangar:rclone-multipart/mp/hundred.bin',
  );
  const check = await rclone('check', dir, 'hangar:rclone-multipart/mp');
  t.is(check.code, 0, check.stderr);
  const back = join(work, 'mp-back');
  await ok('copyto', 'hangar:rclone-multipart/mp/hundred.bin', join(back, 'hundred.bin'));
  t.deepEqual(treeDigest(back), treeDigest(dir));
  const listed = JSON.parse(
    await ok('lsjson', '-R', '--files-only', 'hangar:rclone-multipart'),
  ) as LsEntry[];
  t.deepEqual(
    listed.map((e) => [e.Path, e.Size]),
    [['mp/hundred.bin', 100 * MiB]],
  );
  await ok('purge', 'hangar:rclone-multipart');
  rmSync(dir, { recursive: true, force: true });
  rmSync(back, { recursive: true, force: true });
});

test('rclone sync of a single 5 MiB + 1 file with --checksum', async (t) => {
  t.timeout(60_000);
  const dir = join(work, 'single');
  writeSeededFile(join(dir, 'f.bin'), 5 * MiB + 1, 42);
  await ok('mkdir', 'hangar:rclone-single');
  await ok('sync', '--checksum', dir, 'hangar:rclone-single');
  // A second checksum sync finds nothing to transfer.
  const again = await rclone('sync', '--checksum', '-v', dir, 'hangar:rclone-single');
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /There was nothing to transfer|Transferred:\s+0 \/ 0/);
  await ok('purge', 'hangar:rclone-single');
  t.pass();
});

test('rclone --s3-versions lists and reads old versions of a versioned bucket', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'rclone-versions' }));
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: 'rclone-versions',
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const file = join(work, 'versioned.txt');
  writeFileSync(file, 'first version');
  await ok('copyto', file, 'hangar:rclone-versions/doc.txt');
  writeFileSync(file, 'second version!');
  await ok('copyto', file, 'hangar:rclone-versions/doc.txt');
  const plain = JSON.parse(await ok('lsjson', 'hangar:rclone-versions')) as LsEntry[];
  t.deepEqual(
    plain.map((e) => [e.Path, e.Size]),
    [['doc.txt', 15]],
  );
  const all = JSON.parse(
    await ok('lsjson', '--s3-versions', 'hangar:rclone-versions'),
  ) as LsEntry[];
  const old = all.find((e) => e.Path !== 'doc.txt');
  t.is(all.length, 2);
  t.regex(old?.Path ?? '', /^doc-v\d{4}-\d{2}-\d{2}-\d{6}-\d{3}\.txt$/);
  t.is(old?.Size, 13);
  t.is(
    await ok('cat', '--s3-versions', `hangar:rclone-versions/${old?.Path ?? ''}`),
    'first version',
  );
});
