import { join } from 'node:path';
import { assert } from '../assert.js';
import { recordEncoder } from '../codec.js';
import { shardDir } from '../layout.js';
import type { ListEntry } from '../protocol/messages.js';
import type { BlockErrorRecord } from './block-table.js';
import { BodyTable } from './bodies.js';
import { objectKey } from './keys.js';
import { isRemoteKv, type KvEnv, type KvTableOptions, readKv } from './kv.js';
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
 *
 * In cluster mode the view is over the partition's PostgreSQL instead (a KvEnv like any other):
 * a read is its own transaction there, and sees every commit acknowledged before it began.
 */
export class ObjectReader {
  /**
   * Cluster mode: the store is PostgreSQL (engine/meta/pg-kv), every read a network round trip:
   * only the promise-returning methods (`fetchObject`, `fetchVersion`, `list`) may be used.
   */
  readonly remote: boolean;
  private readonly objects: ObjectTable;
  private readonly bodies: BodyTable;
  private readonly versions: VersionTable;

  private constructor(private readonly env: KvEnv) {
    this.remote = isRemoteKv(env);
    const records: KvTableOptions = { encoder: recordEncoder() };
    this.objects = new ObjectTable(this.env, records);
    const errors = this.env.openDB<BlockErrorRecord, string>({ name: 'block_errors', ...records });
    this.bodies = new BodyTable(this.env, records, errors);
    this.versions = new VersionTable(this.env, records, { readOnly: true });
  }

  /** The embedded view: the LMDB environment the shard thread opened (lmdb-js hands it back). */
  static embedded(dataDir: string, shardId: number, durable: boolean): ObjectReader {
    return new ObjectReader(
      openShardEnvironment(join(shardDir(dataDir, shardId), 'meta'), durable),
    );
  }

  /** A view over any store: cluster mode passes the partition's PostgreSQL (PgKvEnv). */
  static over(env: KvEnv): ObjectReader {
    return new ObjectReader(env);
  }

  /**
   * The key's current record, from the latest commit. lmdb-js keeps a thread's read snapshot
   * until a 1 ms timer renews it, so under load a read could see the state from before a write
   * the client has already been told about (a HEAD finding an object DeleteObjects removed):
   * each entry point starts from the newest snapshot instead (a few hundred ns). Embedded only:
   * synchronous, for the HEAD / inline GET path that must not wait on a promise.
   */
  object(bucketId: string, key: string): ObjectRecord | undefined {
    assert(!this.remote, 'a remote view is read with fetchObject');
    this.env.resetReadTxn();
    return this.objects.get(objectKey(bucketId, key));
  }

  /**
   * A noncurrent version (or delete marker) by the id a client names ("null": the null version),
   * for the authorization decision's look at an object's owner, ACL and tags. Embedded only.
   */
  version(bucketId: string, key: string, shownVersionId: string): ObjectRecord | undefined {
    assert(!this.remote, 'a remote view is read with fetchVersion');
    if (!isVersionId(shownVersionId) && shownVersionId !== 'null') return undefined;
    this.env.resetReadTxn();
    return this.versions.find(bucketId, key, shownVersionId);
  }

  /** `object`, on either store (one read transaction on a remote one). */
  async fetchObject(bucketId: string, key: string): Promise<ObjectRecord | undefined> {
    this.env.resetReadTxn();
    return readKv(this.env, () => this.objects.get(objectKey(bucketId, key)));
  }

  /** `version`, on either store. */
  async fetchVersion(
    bucketId: string,
    key: string,
    shownVersionId: string,
  ): Promise<ObjectRecord | undefined> {
    // A client's version id is anything at all: only a well-formed one can name a record.
    if (!isVersionId(shownVersionId) && shownVersionId !== 'null') return undefined;
    this.env.resetReadTxn();
    return readKv(this.env, () => this.versions.find(bucketId, key, shownVersionId));
  }

  /**
   * One shard's part of a listing page: the same scan the shard runs (ObjectTable.list). At once
   * on the embedded store, a promise on a remote one (the listing's fetch awaits either).
   */
  list(query: ListQuery): ListPart | Promise<ListPart> {
    this.env.resetReadTxn();
    return readKv(this.env, () => this.objects.list(query));
  }

  /**
   * The record's inline body, checked against its CRC32C (null: the body is in blocks). Throws
   * InlineCorruptError for bytes that fail the check: the caller leaves such a read to the
   * shard, which records the damage and answers the error. Embedded only.
   */
  body(bucketId: string, key: string, record: ObjectRecord): Uint8Array | null {
    assert(!this.remote, 'inline bodies are read on the embedded store only');
    return recordBody(this.bodies, bucketId, key, record);
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

/** What one shard contributes to a listing page. */
export interface ListPart {
  entries: ListEntry[];
  truncated: boolean;
}
