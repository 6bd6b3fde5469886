/**
 * S3 semantics at the metadata layer, written once and run over both stores behind the seam
 * (engine/meta/kv.ts): the embedded store, strict (test/unit/meta-scenarios.test.ts, in the main
 * suite), and PostgreSQL (test/engine/meta-pg.test.ts). Every read goes through MetaStore.read,
 * as the shard's reads do, so the same steps are valid on both. Each scenario takes a fresh
 * bucket id.
 */
import type { ExecutionContext } from 'ava';
import type { MetaStore, ObjectRecord } from '../../engine/meta/store.js';
import type { WriteGuard } from '../../engine/write-conditions.js';

export interface Scenario {
  title: string;
  run(t: ExecutionContext, meta: MetaStore, bucketId: string): Promise<void>;
}

/** An object record: inline when it names no blocks. */
export function record(bytes: number, etag: string, blocks: readonly string[] = []): ObjectRecord {
  return {
    bytes,
    etag: `"${etag}"`,
    lastModifiedMs: Date.now(),
    headers: { userMeta: {} },
    checksum: null,
    blocks: blocks.map((hash) => ({ hash, bytes: bytes / blocks.length })),
    inline: blocks.length === 0 ? new Uint8Array(bytes) : null,
  };
}

const BLOCK_A = 'a1'.repeat(32);
const BLOCK_B = 'b2'.repeat(32);

export const SCENARIOS: readonly Scenario[] = [
  {
    title: 'versioning: versions newest first, a delete marker hides the key, removing it restores',
    async run(t, meta, bucketId) {
      const ids: string[] = [];
      for (const etag of ['v1', 'v2', 'v3']) {
        const { versionId } = await meta.writeObject(
          bucketId,
          'doc',
          record(4, etag),
          null,
          'Enabled',
        );
        t.truthy(versionId);
        ids.push(versionId as string);
      }
      t.is((await meta.read(() => meta.getObject(bucketId, 'doc')))?.etag, '"v3"');
      const listed = await meta.read(() =>
        meta.listVersions({
          bucketId,
          prefix: '',
          delimiter: '',
          keyMarker: '',
          versionIdMarker: '',
          limit: 100,
        }),
      );
      t.deepEqual(
        listed.entries.map((entry) => (entry.kind === 'version' ? entry.versionId : entry.prefix)),
        [...ids].reverse(),
      );
      const { outcome } = await meta.deleteTarget(bucketId, { key: 'doc' }, 'Enabled', Date.now());
      t.true(outcome.deleteMarker);
      t.is(await meta.read(() => meta.getObject(bucketId, 'doc')), undefined);
      t.truthy(await meta.read(() => meta.latestDeleteMarker(bucketId, 'doc')));
      await meta.deleteTarget(
        bucketId,
        { key: 'doc', versionId: outcome.versionId as string },
        'Enabled',
        Date.now(),
      );
      t.is((await meta.read(() => meta.getObject(bucketId, 'doc')))?.etag, '"v3"');
      const v1 = await meta.read(() => meta.getVersion(bucketId, 'doc', ids[0] as string));
      t.is(v1?.etag, '"v1"');
    },
  },
  {
    title: 'counters and block refcounts follow overwrites, shared blocks and deletes',
    async run(t, meta, bucketId) {
      await meta.putObject(bucketId, 'a', record(2, 'a', [BLOCK_A]));
      await meta.putObject(bucketId, 'b', record(4, 'b', [BLOCK_A, BLOCK_B]));
      t.is(await meta.read(() => meta.blockRefs(BLOCK_A)), 2);
      // An overwrite drops the old record's references and adds the new one's.
      const freed = await meta.putObject(bucketId, 'b', record(3, 'b2'));
      t.deepEqual(freed, [BLOCK_B]);
      t.is(await meta.read(() => meta.blockRefs(BLOCK_A)), 1);
      t.deepEqual(await meta.read(() => meta.bucketCounters(bucketId)), { objects: 2, bytes: 5 });
      const gone = await meta.deleteObject(bucketId, 'a');
      t.true(gone.existed);
      t.deepEqual(gone.freed, [BLOCK_A]);
      t.deepEqual(await meta.read(() => meta.bucketCounters(bucketId)), { objects: 1, bytes: 3 });
    },
  },
  {
    title: 'a quota refusal and a failed write condition store nothing and move nothing',
    async run(t, meta, bucketId) {
      await meta.putObject(bucketId, 'kept', record(5, 'kept'));
      const quota = { maxObjects: 1, maxSize: 100, otherObjects: 0, otherBytes: 0 };
      await t.throwsAsync(meta.putObject(bucketId, 'extra', record(1, 'extra'), quota));
      // If-None-Match: * on a key that exists.
      const exists: WriteGuard = (current) =>
        current === undefined
          ? null
          : { code: 'PreconditionFailed', message: 'At least one of the pre-conditions failed.' };
      await t.throwsAsync(meta.putObject(bucketId, 'kept', record(9, 'again'), null, exists));
      t.is(await meta.read(() => meta.getObject(bucketId, 'extra')), undefined);
      t.is((await meta.read(() => meta.getObject(bucketId, 'kept')))?.etag, '"kept"');
      t.deepEqual(await meta.read(() => meta.bucketCounters(bucketId)), { objects: 1, bytes: 5 });
    },
  },
  {
    title: 'multipart: a part number written again frees the first; abort frees the rest',
    async run(t, meta, bucketId) {
      const upload = await meta.createUpload(
        bucketId,
        'big',
        { headers: { userMeta: {} }, checksum: null, sseKeyMd5: null, tags: [] },
        0,
      );
      const part = (hash: string) => ({
        bytes: 5,
        etag: `"${hash.slice(0, 4)}"`,
        lastModifiedMs: 0,
        blocks: [{ hash, bytes: 5 }],
        checksum: null,
      });
      const target = (partNumber: number) => ({ uploadId: upload.uploadId, partNumber });
      await meta.putPart(bucketId, 'big', target(1), part(BLOCK_A));
      // The same part number again: the first part's block is freed.
      const freed = await meta.putPart(bucketId, 'big', target(1), part(BLOCK_B));
      t.deepEqual(freed, [BLOCK_A]);
      const parts = await meta.read(() => meta.listParts(upload.uploadId, 0, 100));
      t.is(parts.parts.length, 1);
      const aborted = await meta.abortUpload(bucketId, 'big', upload.uploadId);
      t.deepEqual(aborted, [BLOCK_B]);
      t.is(await meta.read(() => meta.getUpload(bucketId, 'big', upload.uploadId)), undefined);
    },
  },
];
