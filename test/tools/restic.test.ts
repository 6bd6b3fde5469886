import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import test from 'ava';
import {
  type ScopedBucket,
  scopedBucket,
  smallFilePath,
  writeSmallFiles,
} from '../helpers/scoped.js';
import { randomBytesSeeded, TestServer } from '../helpers/server.js';
import { MiB, type Run, runTool, treeDigest, writeSeededFile } from '../helpers/tree.js';

// restic (Debian's package: restic 0.14, minio-go) backing up to a hangar bucket through its s3:
// backend, with a key that may only read and write that bucket.

/** Debian's restic (installed by .ci/run); the one on PATH otherwise. */
const RESTIC = existsSync('/usr/bin/restic') ? '/usr/bin/restic' : 'restic';
const SMALL_FILES = 3000;

let server: TestServer;
let work: string;
let scoped: ScopedBucket;

test.before(async () => {
  server = await TestServer.start();
  work = mkdtempSync(join(tmpdir(), 'hangar-restic-'));
  scoped = await scopedBucket(server, 'restic-e2e');
});
test.after.always(async () => {
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

function restic(...args: string[]): Promise<Run> {
  return runTool(
    RESTIC,
    ['--repo', `s3:${server.endpoint}/${scoped.bucket}`, ...args],
    {
      HOME: work,
      RESTIC_CACHE_DIR: join(work, 'cache'),
      RESTIC_PASSWORD: 'correct horse battery staple',
      AWS_ACCESS_KEY_ID: scoped.accessKeyId,
      AWS_SECRET_ACCESS_KEY: scoped.secretAccessKey,
    },
    240_000,
  );
}

async function ok(...args: string[]): Promise<string> {
  const run = await restic(...args);
  if (run.code !== 0)
    throw new Error(
      `restic ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}\nserver log:\n${server.log}`,
    );
  return run.stdout;
}

/** Bytes stored under `prefix` in the repository's bucket, listed with the scoped key. */
async function storedBytes(prefix: string): Promise<{ objects: number; bytes: number }> {
  const client = server.client(scoped);
  let objects = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: scoped.bucket,
        Prefix: prefix,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) {
      objects++;
      bytes += object.Size ?? 0;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return { objects, bytes };
}

interface Snapshot {
  id: string;
  paths: string[];
}

test('restic init, backup, check --read-data, restore, second backup, forget --prune', async (t) => {
  t.timeout(300_000);
  const source = join(work, 'source');
  writeSmallFiles(source, SMALL_FILES, 1);
  writeSeededFile(join(source, 'big/a.bin'), 20 * MiB, 500_000);
  writeSeededFile(join(source, 'big/b.bin'), 20 * MiB, 600_000);

  await ok('init');
  await ok('backup', source);
  t.regex(await ok('check', '--read-data'), /no errors were found/);

  // restic restores the absolute path the backup named under the target.
  const first = join(work, 'restore-1');
  await ok('restore', 'latest', '--target', first);
  const digest = treeDigest(source);
  t.is(digest.size, SMALL_FILES + 2);
  t.deepEqual(treeDigest(join(first, source)), digest);
  rmSync(first, { recursive: true, force: true });

  // Change the tree: rewrite 100 small files, delete 50, add 200, overwrite 1 MiB in the middle
  // of a.bin and drop b.bin, whose 20 MiB only the first snapshot then holds.
  for (let i = 0; i < SMALL_FILES; i += 30)
    writeSeededFile(join(source, smallFilePath(i)), 3000 + i, 700_000 + i);
  for (let i = 15; i < SMALL_FILES; i += 60)
    rmSync(join(source, smallFilePath(i)), { force: true });
  writeSmallFiles(join(source, 'new'), 200, 800_000);
  const fd = openSync(join(source, 'big/a.bin'), 'r+');
  writeSync(fd, randomBytesSeeded(MiB, 900_000), 0, MiB, 10 * MiB);
  closeSync(fd);
  rmSync(join(source, 'big/b.bin'));

  await ok('backup', source);
  const both = JSON.parse(await ok('snapshots', '--json')) as Snapshot[];
  t.is(both.length, 2);
  const before = await storedBytes('data/');

  await ok('forget', '--keep-last', '1', '--prune');
  const kept = JSON.parse(await ok('snapshots', '--json')) as Snapshot[];
  t.deepEqual(
    kept.map((s) => s.id),
    [both[1]?.id],
  );
  // Pruning deleted the packs only the first snapshot used (b.bin's 20 MiB among them).
  const after = await storedBytes('data/');
  t.true(
    after.bytes < before.bytes - 15 * MiB,
    `data/ held ${before.bytes} bytes before prune, ${after.bytes} after`,
  );
  t.regex(await ok('check', '--read-data'), /no errors were found/);

  const second = join(work, 'restore-2');
  await ok('restore', 'latest', '--target', second);
  const changed = treeDigest(source);
  t.is(changed.size, SMALL_FILES + 1 - 50 + 200);
  t.deepEqual(treeDigest(join(second, source)), changed);
  t.notRegex(server.log, /internal error/, 'no request failed inside hangar');
});
