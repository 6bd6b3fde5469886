import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { type ScopedBucket, scopedBucket } from '../helpers/scoped.js';
import { randomBytesSeeded, TestServer } from '../helpers/server.js';
import { MiB, type Run, runTool, writeSeededFile } from '../helpers/tree.js';

// s3fs-fuse (Debian's 1.90) mounting a hangar bucket, with a key that may only read and write that
// bucket: files written, listed, renamed and deleted through the mount, checked with the SDK.
// Needs a FUSE device; where there is none the test is skipped and says why on stderr.

/** Debian's s3fs (installed by .ci/run); the one on PATH otherwise. */
const S3FS = existsSync('/usr/bin/s3fs') ? '/usr/bin/s3fs' : 's3fs';
const FUSERMOUNT = existsSync('/usr/bin/fusermount') ? '/usr/bin/fusermount' : 'fusermount';
const FUSE_DEVICE = '/dev/fuse';

let server: TestServer;
let work: string;
let mountpoint: string;
let scoped: ScopedBucket;
let client: S3Client;

test.before(async () => {
  if (!existsSync(FUSE_DEVICE)) return;
  server = await TestServer.start();
  work = mkdtempSync(join(tmpdir(), 'hangar-s3fs-'));
  scoped = await scopedBucket(server, 's3fs-e2e');
  client = server.client(scoped);
  mountpoint = join(work, 'mnt');
  mkdirSync(mountpoint);
  // s3fs refuses a password file others may read.
  writeFileSync(join(work, 'passwd'), `${scoped.accessKeyId}:${scoped.secretAccessKey}\n`, {
    mode: 0o600,
  });
});
test.after.always(async () => {
  if (mountpoint !== undefined && mounted()) {
    const run = await runTool(FUSERMOUNT, ['-u', mountpoint], {});
    if (run.code !== 0) await runTool('umount', ['-l', mountpoint], {});
  }
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

function mounted(): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === mountpoint);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function s3fsLog(): string {
  const path = join(work, 's3fs.log');
  return existsSync(path) ? readFileSync(path, 'utf8') : '(no s3fs log)';
}

/**
 * Mounts the bucket: path-style, SigV4, parts of 5 MB, and multipart (UploadPartCopy for renames)
 * from 6 MB, so the 20 MiB file below goes up in parts and is renamed part by part.
 */
async function mount(): Promise<void> {
  const run: Run = await runTool(
    S3FS,
    [
      scoped.bucket,
      mountpoint,
      '-o',
      [
        `url=${server.endpoint}`,
        'use_path_request_style',
        `passwd_file=${join(work, 'passwd')}`,
        'sigv4',
        'endpoint=us-east-1',
        'multipart_size=5',
        'multipart_threshold=6',
        'multipart_copy_size=5',
        'dbglevel=warn',
        `logfile=${join(work, 's3fs.log')}`,
      ].join(','),
    ],
    { HOME: work },
    30_000,
  );
  if (run.code !== 0)
    throw new Error(`s3fs exited ${run.code}:\n${run.stdout}\n${run.stderr}\n${s3fsLog()}`);
  await until(mounted, `${mountpoint} is mounted`);
}

async function unmount(): Promise<void> {
  const run = await runTool(FUSERMOUNT, ['-u', mountpoint], {});
  if (run.code !== 0) throw new Error(`fusermount -u exited ${run.code}: ${run.stderr}`);
  await until(() => !mounted(), `${mountpoint} is unmounted`);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function objectSha(key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: scoped.bucket, Key: key }));
  return sha256(
    await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

async function listKeys(): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: scoped.bucket }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
}

const register = existsSync(FUSE_DEVICE) ? test : test.skip;
if (!existsSync(FUSE_DEVICE))
  process.stderr.write(`s3fs test SKIPPED: this machine has no FUSE device (${FUSE_DEVICE})\n`);

register('s3fs mount: write, list, read, rename, delete, remount and read back', async (t) => {
  t.timeout(180_000);
  await mount();
  const at = (name: string): string => join(mountpoint, name);

  // Write through the mount: text, an empty file, a directory, awkward names, 20 MiB.
  const hello = Buffer.from('hello from s3fs\n');
  const odd = randomBytesSeeded(4096, 7);
  writeFileSync(at('hello.txt'), hello);
  writeFileSync(at('empty'), Buffer.alloc(0));
  mkdirSync(at('dir one'));
  writeFileSync(at('dir one/a+b c é.txt'), odd);
  writeSeededFile(at('big.bin'), 20 * MiB, 500_000);
  const big = sha256(readFileSync(at('big.bin')));
  t.is(statSync(at('big.bin')).size, 20 * MiB);
  t.deepEqual(readdirSync(mountpoint).sort(), ['big.bin', 'dir one', 'empty', 'hello.txt']);

  // The SDK sees the objects s3fs wrote (and its directory marker), byte for byte.
  t.deepEqual(await listKeys(), [
    'big.bin',
    'dir one/',
    'dir one/a+b c é.txt',
    'empty',
    'hello.txt',
  ]);
  t.is(await objectSha('hello.txt'), sha256(hello));
  t.is(await objectSha('empty'), sha256(Buffer.alloc(0)));
  t.is(await objectSha('dir one/a+b c é.txt'), sha256(odd));
  t.is(await objectSha('big.bin'), big);
  const head = await client.send(new HeadObjectCommand({ Bucket: scoped.bucket, Key: 'big.bin' }));
  t.regex(head.ETag ?? '', /-\d+"$/, '20 MiB went up as a multipart upload');

  // An object the SDK writes (no directory markers above it) shows up through the mount.
  const note = Buffer.from('written by the SDK\n');
  await client.send(
    new PutObjectCommand({ Bucket: scoped.bucket, Key: 'from-sdk/nested/note.txt', Body: note }),
  );
  t.true(readdirSync(mountpoint).includes('from-sdk'));
  t.deepEqual(readdirSync(at('from-sdk')), ['nested']);
  t.deepEqual(readFileSync(at('from-sdk/nested/note.txt')), note);

  // Renames are server-side copies (UploadPartCopy for the big file) and deletes.
  renameSync(at('hello.txt'), at('renamed hello.txt'));
  renameSync(at('dir one'), at('dir two'));
  renameSync(at('big.bin'), at('dir two/moved big+.bin'));
  t.deepEqual(readdirSync(at('dir two')).sort(), ['a+b c é.txt', 'moved big+.bin']);
  t.deepEqual(await listKeys(), [
    'dir two/',
    'dir two/a+b c é.txt',
    'dir two/moved big+.bin',
    'empty',
    'from-sdk/nested/note.txt',
    'renamed hello.txt',
  ]);
  t.is(await objectSha('renamed hello.txt'), sha256(hello));
  t.is(await objectSha('dir two/moved big+.bin'), big);

  // Deletes.
  unlinkSync(at('empty'));
  unlinkSync(at('dir two/a+b c é.txt'));
  unlinkSync(at('from-sdk/nested/note.txt'));
  t.deepEqual(await listKeys(), ['dir two/', 'dir two/moved big+.bin', 'renamed hello.txt']);

  // A fresh mount has nothing cached: reads come from hangar.
  await unmount();
  await mount();
  t.deepEqual(readdirSync(mountpoint).sort(), ['dir two', 'renamed hello.txt']);
  t.is(sha256(readFileSync(at('dir two/moved big+.bin'))), big);
  t.deepEqual(readFileSync(at('renamed hello.txt')), hello);
  unlinkSync(at('dir two/moved big+.bin'));
  rmdirSync(at('dir two'));
  t.deepEqual(await listKeys(), ['renamed hello.txt']);
  await unmount();
  t.false(mounted());
  t.notRegex(server.log, /internal error/, 'no request failed inside hangar');
  const complaints = s3fsLog()
    .split('\n')
    .filter((line) => /\[(WAN|ERR|CRT)\]/.test(line));
  if (complaints.length > 0) t.log(`s3fs complained:\n${complaints.join('\n')}`);
});
