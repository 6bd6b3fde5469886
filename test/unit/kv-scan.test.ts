/**
 * The paged table scan (engine/meta/scan.ts; fsck, queue counts) over lmdb-js: every entry once, in key order,
 * across page boundaries, for string and binary keys; and a key a page ended at that is deleted
 * before the next page is read loses nothing after it. (The same scan over PostgreSQL is in
 * test/cluster/fsck.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { open, type RootDatabase } from 'lmdb';
import { LIMITS } from '../../engine/limits.js';
import type { KvEnv, KvTable } from '../../engine/meta/kv.js';
import { scanTable } from '../../engine/meta/scan.js';

/** Two full pages and part of a third. */
const ROWS = LIMITS.kvScanPageRows * 2 + 7;

async function withEnv(work: (env: RootDatabase) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-fsck-scan-'));
  const env = open({ path: dir, maxDbs: 4 });
  try {
    await work(env);
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** lmdb-js's environment and tables satisfy the metadata seam structurally. */
const asKv = (env: RootDatabase): KvEnv => env as unknown as KvEnv;

test('string keys: every entry once, in order, over several pages', async (t) => {
  await withEnv(async (env) => {
    const table = env.openDB<number, string>({ name: 's' });
    const keys = Array.from({ length: ROWS }, (_, i) => `k${String(i).padStart(6, '0')}`);
    await env.transaction(() => {
      for (const [i, key] of keys.entries()) void table.put(key, i);
    });
    const seen: string[] = [];
    const kv = table as unknown as KvTable<number, string>;
    for await (const { key } of scanTable(asKv(env), kv)) seen.push(key);
    t.deepEqual(seen, keys);
  });
});

test('binary keys, and the key a page ended at deleted before the next page', async (t) => {
  await withEnv(async (env) => {
    const table = env.openDB<number, Buffer>({ name: 'b', keyEncoding: 'binary' });
    const keys = Array.from({ length: ROWS }, (_, i) => Buffer.from([i >> 8, i & 0xff, 1]));
    await env.transaction(() => {
      for (const [i, key] of keys.entries()) void table.put(key, i);
    });
    const boundary = keys[LIMITS.kvScanPageRows - 1];
    const seen: number[] = [];
    const kv = table as unknown as KvTable<number, Buffer>;
    for await (const { key, value } of scanTable(asKv(env), kv)) {
      seen.push(value);
      if (boundary !== undefined && key.equals(boundary)) {
        await table.remove(boundary);
        env.resetReadTxn();
      }
    }
    t.deepEqual(
      seen,
      keys.map((_, i) => i),
    );
    t.is(table.get(keys[LIMITS.kvScanPageRows - 1] ?? Buffer.alloc(0)), undefined);
  });
});
