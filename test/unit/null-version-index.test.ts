import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { open } from 'lmdb';
import { META_TABLES_MAX, MetaStore, type ObjectRecord } from '../../engine/meta/store.js';

const A = 'ab'.repeat(16);

function inline(text: string): ObjectRecord {
  const bytes = Buffer.from(text);
  return {
    bytes: bytes.length,
    etag: `"${text}"`,
    lastModifiedMs: Date.now(),
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: new Uint8Array(bytes),
  };
}

const textOf = (record: ObjectRecord | undefined): string | undefined =>
  record?.inline === null || record === undefined
    ? undefined
    : Buffer.from(record.inline).toString();

/**
 * The null version is found through its index, after the key has a deep history; a store from
 * before the index (the table dropped) has it rebuilt on open, and the index then follows
 * Suspended writes and deletions of the null version.
 */
test('the null-version index follows writes and deletes, and is rebuilt for old stores', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-null-index-'));
  try {
    let meta = MetaStore.open(dir, false);
    // A pre-versioning object becomes the null version once versions pile up on top of it.
    await meta.writeObject(A, 'k', inline('original'), null);
    for (let i = 0; i < 50; i++) await meta.writeObject(A, 'k', inline(`v${i}`), null, 'Enabled');
    t.is(textOf(meta.getVersion(A, 'k', 'null')), 'original');
    // Suspended: the write replaces the null version (the old one goes).
    await meta.writeObject(A, 'k', inline('suspended'), null, 'Suspended');
    t.is(textOf(meta.getVersion(A, 'k', 'null')), 'suspended');
    // Demoted by an Enabled write, it is still found by its index.
    await meta.writeObject(A, 'k', inline('latest'), null, 'Enabled');
    t.is(textOf(meta.getVersion(A, 'k', 'null')), 'suspended');
    await meta.close();

    // A store from before the index: drop it, reopen, the null version is indexed again.
    const env = open({ path: dir, maxDbs: META_TABLES_MAX });
    await env.openDB({ name: 'null_versions', keyEncoding: 'binary' }).drop();
    await env.close();
    meta = MetaStore.open(dir, false);
    t.is(textOf(meta.getVersion(A, 'k', 'null')), 'suspended');
    await meta.deleteTarget(A, { key: 'k', versionId: 'null' }, 'Enabled', Date.now());
    t.is(meta.getVersion(A, 'k', 'null'), undefined);
    // A later Suspended write makes a new null version, indexed.
    await meta.writeObject(A, 'k', inline('again'), null, 'Suspended');
    t.is(textOf(meta.getVersion(A, 'k', 'null')), 'again');
    await meta.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
