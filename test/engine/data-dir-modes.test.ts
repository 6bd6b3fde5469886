import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, runCli, TestServer, useTempDir } from '../helpers/server.js';

const root = useTempDir(test, 'hangar-modes-');

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
}

/** Every file and directory under `dir` whose mode lets group or others in. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if ((statSync(path).mode & 0o077) !== 0) found.push(`${modeOf(path)} ${path}`);
    if (entry.isDirectory()) found.push(...openToOthers(path));
  }
  return found;
}

test('a fresh data directory is 0700 and its secret-bearing files 0600', async (t) => {
  // A path that does not exist yet (mkdtemp would have made it 0700 already).
  const dataDir = join(root, 'fresh', 'data');
  const server = await TestServer.start({ dataDir, shards: 2 });
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'modes');
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: Buffer.alloc(300_000, 7) }),
    );
    t.is(modeOf(dataDir), '0700');
    t.is(modeOf(join(dataDir, 'catalog')), '0700');
    t.is(modeOf(join(dataDir, 'catalog', 'data.mdb')), '0600');
    t.is(modeOf(join(dataDir, 'catalog', 'lock.mdb')), '0600');
    t.is(modeOf(join(dataDir, 'admin.json')), '0600');
    t.is(modeOf(join(dataDir, 'layout.json')), '0600');
    // Nothing else beneath it (shard metadata, blocks) is open to others either.
    t.deepEqual(openToOthers(dataDir), []);
  } finally {
    await server.destroy();
  }
});

test('an existing data directory open to others is tightened to 0700 at start', async (t) => {
  const dataDir = join(root, 'existing');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  const server = await TestServer.start({ dataDir, shards: 1 });
  try {
    t.is(modeOf(dataDir), '0700');
  } finally {
    await server.destroy();
  }
});

test('the CLI creating the catalog before any server start makes it private too', async (t) => {
  const dataDir = join(root, 'cli-first');
  const created = await runCli(['--data-dir', dataDir, 'key', 'create', 'first'], {});
  t.is(created.code, 0, created.stderr);
  t.is(modeOf(dataDir), '0700');
  t.is(modeOf(join(dataDir, 'catalog')), '0700');
  t.is(modeOf(join(dataDir, 'catalog', 'data.mdb')), '0600');
});
