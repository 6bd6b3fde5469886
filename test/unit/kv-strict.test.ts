/**
 * The strict store (engine/meta/kv-strict.ts) that test servers run with: a metadata read
 * outside `read` or a transaction fails, so the suite would catch shard code a cluster store
 * could not serve. These tests prove the check itself bites.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AssertionError } from '../../engine/assert.js';
import { StrictKvEnv } from '../../engine/meta/kv-strict.js';
import { MetaStore, type ObjectRecord, openShardEnvironment } from '../../engine/meta/store.js';
import { record } from '../helpers/meta-scenarios.js';

const BUCKET = 'cc'.repeat(16);

async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-kv-strict-'));
  try {
    await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads outside a run fail; inside read() and transaction() they answer', async (t) => {
  await withDir(async (dir) => {
    const env = new StrictKvEnv(openShardEnvironment(dir, false));
    const table = env.openDB<string, string>({ name: 't' });
    await table.put('k', 'v');
    t.throws(() => table.get('k'), { instanceOf: AssertionError });
    t.throws(() => table.getKeysCount(), { instanceOf: AssertionError });
    // A range is lazy: walking it is the read.
    const range = await env.read(() => table.getRange({}));
    t.throws(() => [...range], { instanceOf: AssertionError });
    t.is(await env.read(() => table.get('k')), 'v');
    t.deepEqual(await env.read(() => [...table.getKeys({})]), ['k']);
    t.is(await env.transaction(() => table.get('k')), 'v');
    await env.close();
  });
});

test('a strict MetaStore answers through read() and readLocal(), and refuses a bare read', async (t) => {
  await withDir(async (dir) => {
    const meta = MetaStore.open(dir, false, true);
    await meta.putObject(BUCKET, 'key', record(3, 'x'));
    t.throws(() => meta.getObject(BUCKET, 'key'), { instanceOf: AssertionError });
    // On a strict store read() goes the cluster store's way: through a promise.
    const found = meta.read(() => meta.getObject(BUCKET, 'key'));
    t.true(found instanceof Promise);
    t.is((await found)?.bytes, 3);
    t.is(meta.readLocal(() => meta.bucketCounters(BUCKET)).objects, 1);
    await meta.close();
  });
});

test('the embedded store answers read() synchronously: no promise on the hot path', async (t) => {
  await withDir(async (dir) => {
    const meta = MetaStore.open(dir, false);
    await meta.putObject(BUCKET, 'key', record(2, 'x'));
    const found = meta.read(() => meta.getObject(BUCKET, 'key'));
    t.false(found instanceof Promise);
    t.is((found as ObjectRecord | undefined)?.bytes, 2);
    await meta.close();
  });
});
