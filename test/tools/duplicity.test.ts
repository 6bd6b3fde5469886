import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import test from 'ava';
import {
  type ScopedBucket,
  scopedBucket,
  smallFilePath,
  writeSmallFiles,
} from '../helpers/scoped.js';
import { REGION, TestServer } from '../helpers/server.js';
import { MiB, type Run, runTool, treeDigest, writeSeededFile } from '../helpers/tree.js';

// duplicity (Debian's 0.8.22, run by /usr/bin/python3 with Debian's python3-boto3) backing up to a
// hangar bucket through its boto3+s3:// backend, with a key that may only read and write that
// bucket. Volumes of 12 MiB go up as multipart uploads of 5 MiB parts.

/** Debian's duplicity (installed by .ci/run); the one on PATH otherwise. */
const DUPLICITY = existsSync('/usr/bin/duplicity') ? '/usr/bin/duplicity' : 'duplicity';

let server: TestServer;
let work: string;
let scoped: ScopedBucket;

test.before(async () => {
  server = await TestServer.start();
  work = mkdtempSync(join(tmpdir(), 'hangar-duplicity-'));
  scoped = await scopedBucket(server, 'duplicity-e2e');
});
test.after.always(async () => {
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** duplicity against `boto3+s3://duplicity-e2e/backup`, with its own archive (cache) dir. */
function duplicity(archive: string, command: string, ...args: string[]): Promise<Run> {
  return runTool(
    DUPLICITY,
    [
      command,
      '--no-encryption',
      '--s3-endpoint-url',
      server.endpoint,
      '--s3-region-name',
      REGION,
      '--s3-multipart-chunk-size',
      '5',
      '--volsize',
      '12',
      '--archive-dir',
      join(work, archive),
      '--name',
      'hangar',
      ...args,
    ],
    {
      HOME: work,
      PASSPHRASE: 'unused-without-encryption',
      AWS_ACCESS_KEY_ID: scoped.accessKeyId,
      AWS_SECRET_ACCESS_KEY: scoped.secretAccessKey,
    },
    240_000,
  );
}

async function ok(archive: string, command: string, ...args: string[]): Promise<string> {
  const run = await duplicity(archive, command, ...args);
  if (run.code !== 0)
    throw new Error(
      `duplicity ${command} ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}\nserver log:\n${server.log}`,
    );
  return run.stdout;
}

/** Resolves once the wall clock's whole second has moved past `second` (duplicity's resolution). */
async function afterSecond(second: number): Promise<void> {
  while (Math.floor(Date.now() / 1000) <= second) await new Promise((r) => setTimeout(r, 50));
}

test('duplicity full, incremental, restore latest and restore -t of the full', async (t) => {
  t.timeout(300_000);
  const url = `boto3+s3://${scoped.bucket}/backup`;
  const source = join(work, 'source');
  writeSmallFiles(source, 1000, 1);
  writeSeededFile(join(source, 'big/thirty.bin'), 30 * MiB, 500_000);

  const full = await ok('archive', 'full', source, url);
  t.regex(full, /Errors 0/);
  const v1 = treeDigest(source);
  const fullDone = Math.floor(Date.now() / 1000);
  await afterSecond(fullDone);

  // Incremental: 34 small files rewritten, 17 deleted, 100 added, the big file replaced.
  for (let i = 0; i < 1000; i += 30)
    writeSeededFile(join(source, smallFilePath(i)), 2000 + i, 700_000 + i);
  for (let i = 15; i < 1000; i += 60) rmSync(join(source, smallFilePath(i)));
  writeSmallFiles(join(source, 'added'), 100, 800_000);
  writeSeededFile(join(source, 'big/thirty.bin'), 30 * MiB, 900_000);
  const incremental = await ok('archive', 'incremental', source, url);
  t.regex(incremental, /Errors 0/);
  const v2 = treeDigest(source);

  // What duplicity wrote: a full and an incremental set, volumes of 12 MiB sent in 5 MiB parts.
  const client = server.client(scoped);
  const listed = await client.send(
    new ListObjectsV2Command({ Bucket: scoped.bucket, Prefix: 'backup/' }),
  );
  const names = (listed.Contents ?? []).map((o) => o.Key ?? '');
  t.true(names.some((n) => /duplicity-full\.\d{8}T\d{6}Z\.vol\d+\.difftar\.gz$/.test(n)));
  t.true(names.some((n) => /duplicity-inc\..*\.vol\d+\.difftar\.gz$/.test(n)));
  const volume = names.find((n) => n.endsWith('.vol1.difftar.gz')) ?? '';
  const head = await client.send(new HeadObjectCommand({ Bucket: scoped.bucket, Key: volume }));
  t.regex(head.ETag ?? '', /-[2-9]"$/, `${volume} went up as a multipart upload`);

  const status = await ok('fresh-status', 'collection-status', url);
  t.regex(status, /Full\s+.+\s+\d+\n\s+Incremental\s+.+\s+\d+\n/);

  // Each restore starts from an empty archive dir, so manifests and signatures come from hangar.
  const latest = join(work, 'restore-latest');
  await ok('fresh-1', 'restore', url, latest);
  t.deepEqual(treeDigest(latest), v2);

  const first = join(work, 'restore-first');
  await ok('fresh-2', 'restore', '-t', String(fullDone), url, first);
  t.deepEqual(treeDigest(first), v1);

  const verify = await duplicity('fresh-3', 'verify', '--compare-data', url, source);
  t.is(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  t.notRegex(server.log, /internal error/, 'no request failed inside hangar');
});
