import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { open } from 'lmdb';
import { MetaStore, type ObjectRecord } from '../../engine/meta/store.js';

const A = 'aa'.repeat(16);
const B = 'bb'.repeat(16);

function inline(bytes: number): ObjectRecord {
  return {
    bytes,
    etag: '"x"',
    lastModifiedMs: 0,
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: new Uint8Array(bytes),
  };
}

test('bucket counters follow put, overwrite, delete and purge, and are rebuilt for old stores', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-counters-'));
  try {
    let meta = MetaStore.open(dir, false);
    await meta.putObject(A, 'a', inline(10));
    await meta.putObject(A, 'b', inline(20));
    await meta.putObject(A, 'a', inline(5)); // overwrite: same count, bytes move by -5
    await meta.putObject(B, 'x', inline(7));
    t.deepEqual(meta.bucketCounters(A), { objects: 2, bytes: 25 });
    t.deepEqual(meta.bucketCounters(B), { objects: 1, bytes: 7 });
    await meta.deleteObject(A, 'b');
    await meta.deleteObject(A, 'missing');
    t.deepEqual(meta.bucketCounters(A), { objects: 1, bytes: 5 });
    // Quota refusals store nothing and move nothing.
    const quota = { maxObjects: 2, maxSize: 100, otherObjects: 1, otherBytes: 0 };
    await t.throwsAsync(meta.putObject(A, 'c', inline(1), quota));
    t.is(meta.getObject(A, 'c'), undefined);
    await meta.putObject(A, 'a', inline(100), quota); // overwrite at maxObjects; exactly maxSize
    await t.throwsAsync(meta.putObject(A, 'a', inline(101), quota));
    t.deepEqual(meta.bucketCounters(A), { objects: 1, bytes: 100 });
    await meta.purgeBuckets(new Set([A]));
    t.deepEqual(meta.bucketCounters(B), { objects: 0, bytes: 0 });
    await meta.putObject(B, 'y', inline(3));
    await meta.close();
    // A store from before the counters: drop the table, reopen, the counts are rebuilt.
    const env = open({ path: dir, maxDbs: 8 });
    await env.openDB({ name: 'usage' }).drop();
    await env.close();
    meta = MetaStore.open(dir, false);
    t.deepEqual(meta.bucketCounters(A), { objects: 1, bytes: 100 });
    t.deepEqual(meta.bucketCounters(B), { objects: 1, bytes: 3 });
    t.deepEqual(meta.usage(A), {
      objects: 1,
      bytes: 100,
      uploads: 0,
      uploadParts: 0,
      uploadBytes: 0,
    });
    await meta.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
