import { join } from 'node:path';
import { recordEncoder } from '../codec.js';
import { shardDir } from '../layout.js';
import type { ListEntry } from '../protocol/messages.js';
import type { BlockErrorRecord } from './block-table.js';
import { BodyTable } from './bodies.js';
import { objectKey } from './keys.js';
import type { KvEnv, KvTableOptions } from './kv.js';
import { type ListQuery, type ObjectRecord, ObjectTable, recordBody } from './object-table.js';
import { openShardEnvironment } from './store.js';
import { isVersionId, VersionTable } from './version-table.js';

/**
 * A read-only view of one shard's objects for an edge thread. HEAD, GET of an object whose body
 * is inline, and listings need no shard state (no read session, no pinned blocks), so the edge
 * answers them from here without a message each way to the shard.
 *
 * Why this is safe: LMDB serves any number of readers beside its one writer, and lmdb-js opens
 * an environment once per process and shares it between threads (the catalog relies on the
 * same). A read transaction sees every commit made before it began, and lmdb-js renews the
 * thread's read transaction on the first read of each event-loop turn; a PUT is acknowledged
 * only after its commit, so a request sent after that acknowledgement reads it. Writes, and
 * everything that needs a session or a key check (block bodies, SSE-C), stay with the shard.
 */
export class ObjectReader {
  private readonly env: KvEnv;
  private readonly objects: ObjectTable;
  private readonly bodies: BodyTable;
  private readonly versions: VersionTable;

  constructor(dataDir: string, shardId: number, durable: boolean) {
    // lmdb-js hands back the environment the shard thread opened.
    this.env = openShardEnvironment(join(shardDir(dataDir, shardId), 'meta'), durable);
    const records: KvTableOptions = { encoder: recordEncoder() };
    this.objects = new ObjectTable(this.env, records);
    const errors = this.env.openDB<BlockErrorRecord, string>({ name: 'block_errors', ...records });
    this.bodies = new BodyTable(this.env, records, errors);
    this.versions = new VersionTable(this.env, records, { readOnly: true });
  }

  /**
   * The key's current record, from the latest commit. lmdb-js keeps a thread's read snapshot
   * until a 1 ms timer renews it, so under load a read could see the state from before a write
   * the client has already been told about (a HEAD finding an object DeleteObjects removed):
   * each entry point starts from the newest snapshot instead (a few hundred ns).
   */
  object(bucketId: string, key: string): ObjectRecord | undefined {
    this.env.resetReadTxn();
    return this.objects.get(objectKey(bucketId, key));
  }

  /**
   * A noncurrent version (or delete marker) by the id a client names ("null": the null version),
   * for the authorization decision's look at an object's owner, ACL and tags.
   */
  version(bucketId: string, key: string, shownVersionId: string): ObjectRecord | undefined {
    // A client's version id is anything at all: only a well-formed one can name a record.
    if (shownVersionId !== 'null' && !isVersionId(shownVersionId)) return undefined;
    this.env.resetReadTxn();
    return this.versions.find(bucketId, key, shownVersionId);
  }

  /** One shard's part of a listing page: the same scan the shard runs (ObjectTable.list). */
  list(query: ListQuery): { entries: ListEntry[]; truncated: boolean } {
    this.env.resetReadTxn();
    return this.objects.list(query);
  }

  /**
   * The record's inline body, checked against its CRC32C (null: the body is in blocks). Throws
   * InlineCorruptError for bytes that fail the check: the caller leaves such a read to the
   * shard, which records the damage and answers the error.
   */
  body(bucketId: string, key: string, record: ObjectRecord): Uint8Array | null {
    return recordBody(this.bodies, bucketId, key, record);
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
