import { open } from 'lmdb';
import { assert } from '../assert.js';
import type { BlockCrcs } from '../blocks/segment-crc.js';
import { recordEncoder } from '../codec.js';
import { LIMITS } from '../limits.js';
import type {
  BlockBacklink,
  BlockRef,
  BlockTotals,
  NotifyContext,
  OutboxEntry,
  OutboxMessage,
  PartInfo,
  PartTarget,
  QuotaCheck,
  ReplicationEntry,
  ReplicationSettlement,
  UploadListEntry,
  VersionListEntry,
} from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import type { WriteGuard } from '../write-conditions.js';
import { AccessDays } from './access-days.js';
import { type BlockErrorRecord, BlockTable } from './block-table.js';
import { BodyTable } from './bodies.js';
import { ChangeEvents, createdFacts, type Notify, removalEvent } from './change-events.js';
import { type CounterRecord, CounterTable } from './counter-table.js';
import { bucketIdOf, objectKey } from './keys.js';
import { isRemoteKv, type KvEnv, type KvTableOptions, type RemoteKvEnv, readKv } from './kv.js';
import { StrictKvEnv } from './kv-strict.js';
import {
  type LifecycleBatch,
  LifecycleBatches,
  type LifecycleBatchResult,
  type LifecycleNote,
} from './lifecycle-batches.js';
import { type ObjectRecord, ObjectTable, recordBody, shownVersionId } from './object-table.js';
import { ObjectWrites } from './object-writes.js';
import { OutboxTable } from './outbox-table.js';
import { unwrap } from './outcome.js';
import { RecordRewrites } from './record-rewrites.js';
import { Repairs } from './repairs.js';
import { ReplicationQueue } from './replication-queue.js';
import { Restores } from './restores.js';
import { PROCESS_WRITER_TAG } from './sequencer.js';
import { SharedBlocks } from './shared-blocks.js';
import { TierMoves } from './tier-moves.js';
import {
  noSuchUpload,
  type PartRecord,
  type UploadListQuery,
  type UploadRecord,
  type UploadSpec,
  UploadTable,
} from './upload-table.js';
import { VersionLifecycle } from './version-lifecycle.js';
import { VersionLister, type VersionListQuery } from './version-listing.js';
import { isVersionId, VersionTable } from './version-table.js';
import { VersionedObjects } from './versioned.js';

export type { BlockErrorRecord } from './block-table.js';
export type { Notify } from './change-events.js';
export {
  InlineCorruptError,
  infoOf,
  type ListQuery,
  type ObjectRecord,
  shownVersionId,
  verifyInline,
} from './object-table.js';
export {
  type PartRecord,
  type UploadListQuery,
  type UploadRecord,
  uploadInfoOf,
} from './upload-table.js';
export type { VersionListQuery } from './version-listing.js';
export { isVersionId } from './version-table.js';

/**
 * One shard's metadata: objects and block reference counts in one LMDB environment, changed
 * together in single transactions so a refcount never disagrees with the records that hold it.
 * Each table (object-table, upload-table, block-table, counter-table, bodies) owns its key
 * encoding and invariants; this facade owns the transactions that move several of them at once,
 * the larger ones written out beside it: object writes and deletes (object-writes.ts), in-place
 * record changes (record-rewrites.ts), and what a change records with it (change-events.ts).
 * lmdb-js batches the writes of one event turn into one transaction (group commit); with
 * `overlappingSync` a write resolves when visible, so durable callers also await `flushed()`.
 */
export class MetaStore {
  private readonly env: KvEnv;
  /** How readLocal runs its work (null: a cluster store, which has none). */
  private readonly localReads: (<T>(work: () => T) => T) | null;
  private readonly objects: ObjectTable;
  private readonly blocks: BlockTable;
  /** Cluster mode's claims and GC over the blocks table; null while embedded. */
  private shared: SharedBlocks | null = null;
  private readonly uploads: UploadTable;
  private readonly counters: CounterTable;
  /** Medium inline bodies by SHA-256, and their reference counts. */
  private readonly bodies: BodyTable;
  /** Noncurrent versions and delete markers of versioned buckets. */
  private readonly versions: VersionTable;
  private readonly versioned: VersionedObjects;
  private readonly versionLister: VersionLister;
  private readonly repairs: Repairs;
  private readonly lifecycle: LifecycleBatches;
  private readonly events: ChangeEvents;
  private readonly writes: ObjectWrites;
  private readonly rewrites: RecordRewrites;
  private readonly accessDays: AccessDays;
  /** MoveVersionTier's lookup and commit (tier-moves.ts). */
  readonly tierMoves: TierMoves;
  /** S3 event notifications waiting for delivery, written with the changes that cause them. */
  readonly outbox: OutboxTable;
  /** Bucket replication's queue, written with the changes that cause its rows. */
  readonly replication: ReplicationQueue;
  /** RestoreObject's record changes and the queue of their next steps (restores.ts). */
  readonly restores: Restores;

  /**
   * Runs read-only `work` against the store and answers what it returns: synchronously on the
   * embedded store, once every read it makes is fetched on a cluster store (kv.ts: `work` may
   * run more than once, so it must not change anything but its own locals).
   */
  read<T>(work: () => T): T | Promise<T> {
    return readKv(this.env, work);
  }

  /**
   * A synchronous read, for code that exists only beside local block files (the block ledger,
   * its health checks and drain) and decides in the same turn it reads. A cluster store has no
   * such reads: its blocks are collected by their own protocol.
   */
  readLocal<T>(work: () => T): T {
    assert(this.localReads !== null, 'a local read of a cluster store');
    return this.localReads(work);
  }

  /**
   * The embedded store: the shard's LMDB environment at `path`, brought up to date; `strict`
   * (testing) checks every read for the cluster store's discipline (kv-strict.ts).
   */
  static open(path: string, durable: boolean, strict = false): MetaStore {
    const local = openShardEnvironment(path, durable);
    if (!strict) {
      const meta = new MetaStore(local);
      meta.upgradeLocalStore();
      return meta;
    }
    const env = new StrictKvEnv(local);
    const meta = env.within(() => new MetaStore(env));
    env.within(() => meta.upgradeLocalStore());
    return meta;
  }

  /**
   * A shard's metadata on a cluster store (engine/meta/pg-kv): the tables' constructors read what
   * they keep in memory, so they are built inside a read run, which fetches those reads. A cluster
   * store is always written by this version: there is nothing to upgrade.
   */
  static async openRemote(env: RemoteKvEnv): Promise<MetaStore> {
    const meta = await env.read(() => new MetaStore(env));
    await meta.replication.countQueued();
    return meta;
  }

  /**
   * The tables over any store behind the seam (kv.ts). Their constructors read what they keep in
   * memory (queue sequencers and sizes); nothing here writes.
   */
  constructor(env: KvEnv) {
    this.env = env;
    this.localReads =
      env instanceof StrictKvEnv
        ? (work) => env.within(work)
        : isRemoteKv(env)
          ? null
          : (work) => work();
    const records: KvTableOptions = { encoder: recordEncoder() };
    this.objects = new ObjectTable(this.env, records);
    // A cluster store's counters are slotted: concurrent writers must not all meet on one row.
    const counterSlots = this.localReads === null ? LIMITS.clusterCounterSlots : 1;
    this.counters = new CounterTable(this.env, records, counterSlots);
    this.blocks = new BlockTable(this.env, records, this.counters);
    this.uploads = new UploadTable(this.env, records, this.blocks);
    this.bodies = new BodyTable(this.env, records, this.blocks.errors);
    this.versions = new VersionTable(this.env, records);
    // Other gateways append to a cluster store's queues too: their keys must not collide.
    const writerTag = this.localReads === null ? PROCESS_WRITER_TAG : '';
    this.outbox = new OutboxTable(this.env, records, writerTag);
    this.versioned = new VersionedObjects(
      this.objects,
      this.versions,
      this.counters,
      this.blocks,
      this.bodies,
    );
    this.replication = new ReplicationQueue(this.env, records, this.versioned, writerTag);
    this.versionLister = new VersionLister(this.objects, this.versions);
    this.lifecycle = new LifecycleBatches(
      this.env,
      this.objects,
      this.uploads,
      this.versioned,
      new VersionLifecycle(this.env, this.objects, this.versions, this.versioned),
    );
    this.repairs = new Repairs({
      env: this.env,
      objects: this.objects,
      versions: this.versions,
      uploads: this.uploads,
      blocks: this.blocks,
      bodies: this.bodies,
      versioned: this.versioned,
    });
    this.events = new ChangeEvents(this.outbox, this.replication);
    const tables = {
      env: this.env,
      objects: this.objects,
      counters: this.counters,
      blocks: this.blocks,
      bodies: this.bodies,
      uploads: this.uploads,
      versioned: this.versioned,
    };
    this.writes = new ObjectWrites(tables, this.events);
    this.restores = new Restores(this.env, records, tables, this.events);
    this.rewrites = new RecordRewrites(tables, this.events);
    this.accessDays = new AccessDays(tables);
    this.tierMoves = new TierMoves(tables);
  }

  /**
   * Builds, once, what a store written by an older hangar lacks: per-bucket counters, block
   * totals and the null-version index. Synchronous scans of the whole store: embedded only.
   */
  private upgradeLocalStore(): void {
    if (!this.counters.built()) this.buildCounters();
    if (!this.counters.hasBlockTotals()) this.blocks.buildTotals();
    if (!this.versions.nullIndexBuilt()) {
      this.env.transactionSync(() => this.versions.buildNullIndex());
    }
  }

  /** Distinct blocks and references of this shard: O(1). */
  blockTotals(): BlockTotals {
    return this.counters.blockTotals();
  }

  /** Every bucket with objects on this shard, with its counters. */
  allBucketCounters(): Array<{ bucketId: string; objects: number; bytes: number }> {
    return this.counters.all();
  }

  /** Counts every bucket's objects once (a store from before the counters existed). */
  private buildCounters(): void {
    const sums = new Map<string, CounterRecord>();
    for (const { key, value } of this.objects.range()) {
      const bucketId = bucketIdOf(key);
      const sum = sums.get(bucketId) ?? { objects: 0, bytes: 0 };
      sum.objects++;
      sum.bytes += value.bytes;
      sums.set(bucketId, sum);
    }
    this.counters.rebuild(sums);
  }

  /** The bucket's objects and bytes on this shard: O(1). */
  bucketCounters(bucketId: string): CounterRecord {
    return this.counters.bucket(bucketId);
  }

  /** The record's body, checked against its CRC32C (recordBody in object-table.ts). */
  bodyOf(bucketId: string, key: string, record: ObjectRecord): Uint8Array | null {
    return recordBody(this.bodies, bucketId, key, record);
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }

  /**
   * Resolves when every committed write is on disk. Each wait is timed as a 'meta' fsync (the
   * commits of one event turn share one LMDB sync, so these are waits, not distinct syncs).
   */
  async flushed(): Promise<void> {
    await shardCounters.timeFsync('meta', async () => {
      await this.env.flushed;
    });
  }

  getObject(bucketId: string, key: string): ObjectRecord | undefined {
    return this.objects.get(objectKey(bucketId, key));
  }

  blockRefs(hash: string): number {
    return this.blocks.refs(hash);
  }

  /**
   * Stores `record` under the key, replacing any previous version, and moves the block reference
   * counts in the same transaction. Returns the hashes whose count reached zero (to unlink).
   */
  async putObject(
    bucketId: string,
    key: string,
    record: ObjectRecord,
    quota: QuotaCheck | null = null,
    guard: WriteGuard | null = null,
  ): Promise<string[]> {
    return (await this.writeObject(bucketId, key, record, quota, undefined, guard)).freed;
  }

  /** PutObject and CopyObject (object-writes.ts). */
  writeObject(...args: Parameters<ObjectWrites['writeObject']>) {
    return this.writes.writeObject(...args);
  }

  /** The oldest replication rows waiting for the worker. */
  replicationEntries(limit: number): ReplicationEntry[] {
    return this.replication.oldest(limit);
  }

  /** Removes settled replication rows and records their versions' status. */
  async settleReplication(settled: readonly ReplicationSettlement[]): Promise<number> {
    return this.env.transaction(() => this.replication.settle(settled));
  }

  /** Records a queue row's failed attempts; false when the row is gone. */
  async noteReplicationAttempts(id: string, attempts: number): Promise<boolean> {
    return this.env.transaction(() => this.replication.noteAttempts(id, attempts));
  }

  /** Records a queue row's remote multipart upload; false when the row is gone. */
  async noteReplicationUpload(id: string, uploadId: string): Promise<boolean> {
    return this.env.transaction(() => this.replication.noteUpload(id, uploadId));
  }

  /** The repair pass: queues versions again (those not queued already); returns rows added. */
  async requeueReplication(
    entries: ReadonlyArray<Omit<ReplicationEntry, 'id' | 'createdMs'>>,
  ): Promise<number> {
    return this.env.transaction(() => this.replication.requeue(entries));
  }

  /** The oldest events waiting for delivery. */
  outboxEntries(limit: number): OutboxEntry[] {
    return this.outbox.oldest(limit);
  }

  /** Records whole messages (s3:TestEvent) for delivery; returns how many. */
  async recordOutbox(messages: readonly OutboxMessage[]): Promise<number> {
    return this.env.transaction(() => this.outbox.recordMessages(messages, Date.now()));
  }

  /** Removes delivered events; returns how many there were. */
  async ackOutbox(ids: readonly string[]): Promise<number> {
    return this.env.transaction(() => this.outbox.remove(ids));
  }

  /**
   * A version by its shown id ('null' or an id) for GET/HEAD/tagging: the record (a delete
   * marker included) or undefined. An id of the wrong form names nothing.
   */
  getVersion(bucketId: string, key: string, versionId: string): ObjectRecord | undefined {
    if (versionId !== 'null' && !isVersionId(versionId)) return undefined;
    return this.versioned.locate(bucketId, key, versionId)?.record;
  }

  /** The delete marker that is the key's latest version, when it has no current object. */
  latestDeleteMarker(bucketId: string, key: string): ObjectRecord | undefined {
    return this.versioned.latestMarker(bucketId, key);
  }

  /** DeleteObject / one DeleteObjects entry (object-writes.ts). */
  deleteTarget(...args: Parameters<ObjectWrites['deleteTarget']>) {
    return this.writes.deleteTarget(...args);
  }

  /** One shard's page of ListObjectVersions (version-listing.ts). */
  listVersions(query: VersionListQuery): { entries: VersionListEntry[]; truncated: boolean } {
    return this.versionLister.list(query);
  }

  /** Notes a read of an INTELLIGENT_TIERING version on a day (access-days.ts). */
  noteAccess(...args: Parameters<AccessDays['note']>) {
    return this.accessDays.note(...args);
  }

  /** Replaces an object's (or version's) tags (record-rewrites.ts). */
  setTags(...args: Parameters<RecordRewrites['setTags']>) {
    return this.rewrites.setTags(...args);
  }

  /** Replaces an object's (or version's) ACL (record-rewrites.ts). */
  setAcl(...args: Parameters<RecordRewrites['setAcl']>) {
    return this.rewrites.setAcl(...args);
  }

  /** Changes a version's retention or legal hold (record-rewrites.ts). */
  setLock(...args: Parameters<RecordRewrites['setLock']>) {
    return this.rewrites.setLock(...args);
  }

  /** Removes the object if its guard allows (object-writes.ts). */
  deleteObject(...args: Parameters<ObjectWrites['deleteObject']>) {
    return this.writes.deleteObject(...args);
  }

  /**
   * A bucket's objects and bytes (O(1) counters) and its unfinished uploads with their parts
   * (counted: uploads in progress are few).
   */
  usage(bucketId: string): {
    objects: number;
    bytes: number;
    uploads: number;
    uploadParts: number;
    uploadBytes: number;
  } {
    return { ...this.bucketCounters(bucketId), ...this.uploads.usage(bucketId) };
  }

  // ---- multipart uploads ----

  async createUpload(
    bucketId: string,
    key: string,
    spec: UploadSpec,
    nowMs: number,
  ): Promise<UploadRecord> {
    return this.uploads.create(bucketId, key, spec, nowMs);
  }

  getUpload(bucketId: string, key: string, uploadId: string): UploadRecord | undefined {
    return this.uploads.get(bucketId, key, uploadId);
  }

  /**
   * Stores a part (replacing a previous upload of the same number) and moves refcounts in the
   * same transaction. Fails with NoSuchUpload if the upload was completed or aborted meanwhile.
   */
  async putPart(
    bucketId: string,
    key: string,
    target: PartTarget,
    part: PartRecord,
  ): Promise<string[]> {
    const outcome = await this.env.transaction(() => {
      if (this.getUpload(bucketId, key, target.uploadId) === undefined) return noSuchUpload();
      const refused = this.blocks.referenceRefusal(part.blocks);
      if (refused !== null) return refused;
      if (this.localReads === null) this.uploads.touch(bucketId, key, target.uploadId);
      return { freed: this.uploads.putPart(target.uploadId, target.partNumber, part) };
    });
    return unwrap(outcome).freed;
  }

  listParts(
    uploadId: string,
    afterPartNumber: number,
    limit: number,
  ): { parts: PartInfo[]; truncated: boolean } {
    return this.uploads.listParts(uploadId, afterPartNumber, limit);
  }

  /** Completes an upload into an object (object-writes.ts). */
  completeUpload(...args: Parameters<ObjectWrites['completeUpload']>) {
    return this.writes.completeUpload(...args);
  }

  async abortUpload(bucketId: string, key: string, uploadId: string): Promise<string[]> {
    const outcome = await this.env.transaction(() => {
      if (this.getUpload(bucketId, key, uploadId) === undefined) return noSuchUpload();
      return { freed: this.uploads.drop(bucketId, key, uploadId) };
    });
    return unwrap(outcome).freed;
  }

  /** One page of in-progress uploads, ordered by key then initiation, with prefix rollup. */
  listUploads(query: UploadListQuery): { entries: UploadListEntry[]; truncated: boolean } {
    return this.uploads.list(query);
  }

  /** Deletes every object, version and upload whose bucket is gone (repairs.ts). */
  async purgeBuckets(
    liveBucketIds: ReadonlySet<string>,
  ): Promise<{ objects: number; freed: string[] }> {
    return this.repairs.purgeBuckets(liveBucketIds);
  }

  /** One bounded lifecycle batch of a bucket (lifecycle-batches.ts). */
  async applyLifecycle(
    batch: LifecycleBatch,
    notify?: NotifyContext,
  ): Promise<LifecycleBatchResult> {
    if (notify === undefined) return this.lifecycle.apply(batch);
    const expiry: Notify = { context: notify, event: 'LifecycleExpiration:Delete' };
    const note: LifecycleNote = {
      expired: (object, marker) =>
        this.events.note(expiry, object, removalEvent(expiry.event, marker)),
      moved: (key, record, change) => {
        const event = change === 'transition' ? 'LifecycleTransition' : 'IntelligentTiering';
        const shown = record.versionId !== undefined ? shownVersionId(record) : undefined;
        this.events.note(expiry, createdFacts(key, record, shown), event);
      },
    };
    return this.lifecycle.apply(batch, note);
  }

  /** One bounded batch of uploads aborted where `due` says (lifecycle-batches.ts). */
  async abortUploadsWhere(
    bucketId: string,
    after: string,
    limit: number,
    due: (upload: UploadRecord) => boolean,
  ): Promise<{ aborted: number; freed: string[]; next: string | null }> {
    return this.lifecycle.abortUploadsWhere(bucketId, after, limit, due);
  }

  // ---- block health (scrub, orphan cleanup, operator repairs) ----

  /** A block's reference record, if anything references it. */
  blockRecord(hash: string): { refs: number; bytes: number; crcs?: BlockCrcs } | undefined {
    return this.blocks.record(hash);
  }

  /** The references with the CRCs each block has on record (none for a block from before). */
  withStoredCrcs(blocks: readonly BlockRef[]): BlockRef[] {
    return this.blocks.withStoredCrcs(blocks);
  }

  /**
   * Records the CRC32Cs of a block's bytes, computed by a check that found the file whole (its
   * SHA-256 equal to its name): fills them in for a block written before CRCs were kept, and
   * corrects wrong ones. Returns whether the record changed.
   */
  async setBlockCrcs(hash: string, crcs: BlockCrcs): Promise<boolean> {
    return this.env.transaction(() => this.blocks.setCrcs(hash, crcs));
  }

  /**
   * Up to `limit` referenced blocks and bodies after `after`, merged in hash order ('' = from
   * the first): the scrub walks both. (A body and a block of the same bytes share a hash: a
   * batch that ends between the two leaves the second for the next pass.)
   */
  blocksAfter(
    after: string,
    limit: number,
  ): Array<{ hash: string; bytes: number; kind: 'block' | 'body' }> {
    const start = after === '' ? '' : `${after}\0`;
    const out: Array<{ hash: string; bytes: number; kind: 'block' | 'body' }> = [];
    for (const block of this.blocks.from(start, limit)) out.push({ ...block, kind: 'block' });
    for (const body of this.bodies.range(start, limit)) out.push({ ...body, kind: 'body' });
    out.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    return out.slice(0, limit);
  }

  /** The scrub's check of a stored body (BodyTable.check). */
  async checkBody(hash: string, nowMs: number): Promise<'ok' | 'corrupt' | 'skipped'> {
    return this.bodies.check(hash, nowMs);
  }

  blockError(hash: string): BlockErrorRecord | undefined {
    return this.blocks.errors.get(hash);
  }

  blockErrorCount(): number {
    return this.blocks.errors.getKeysCount();
  }

  listBlockErrors(): Array<{ hash: string; error: BlockErrorRecord; refs: number }> {
    const out = [];
    for (const { key, value } of this.blocks.errors.getRange({})) {
      const refs = this.blockRefs(key) || (this.bodies.record(key)?.refs ?? 0);
      out.push({ hash: key, error: value, refs });
    }
    return out;
  }

  /** Records a failed check of a referenced block (a block nothing references has no error). */
  async recordBlockError(
    hash: string,
    kind: BlockErrorRecord['kind'],
    message: string,
    nowMs: number,
  ): Promise<void> {
    await this.env.transaction(() => this.blocks.recordError(hash, kind, message, nowMs));
  }

  async clearBlockError(hash: string): Promise<boolean> {
    return this.env.transaction(() => this.blocks.errors.remove(hash));
  }

  /** Who references a block (repairs.ts): an operator's question, not a request path. */
  blockBacklinks(hash: string, limit: number): BlockBacklink[] {
    return this.repairs.blockBacklinks(hash, limit);
  }

  /** Gives up on blocks: removes every object, version and upload that references one. */
  async purgeBlocks(
    hashes: readonly string[],
  ): Promise<{ objects: number; uploads: number; freed: string[] }> {
    return this.repairs.purgeBlocks(hashes);
  }

  /**
   * Cluster mode: rows at zero references stay for the GC (BlockTable.shareBlocks); returns the
   * claims and GC transactions over them. Once, before any write.
   */
  shareBlocks(): SharedBlocks {
    assert(this.shared === null, 'blocks are shared once');
    this.blocks.shareBlocks();
    this.shared = new SharedBlocks(this.env, this.blocks);
    return this.shared;
  }

  /** Cluster mode's block claims and GC (after shareBlocks). */
  get sharedBlocks(): SharedBlocks {
    assert(this.shared !== null, 'blocks are shared (cluster mode)');
    return this.shared;
  }

  /** Every block hash with a reference, for the start-up sweep of unreferenced block files. */
  referencedBlocks(): Set<string> {
    return this.blocks.referenced();
  }
}

/** objects, blocks, uploads, parts, usage, block_errors, bodies, body_refs, versions,
 *  null_versions, outbox, replq; room to grow. */
export const META_TABLES_MAX = 16;

/**
 * A shard's LMDB environment, with the options every opener in the process must share: the
 * shard thread (MetaStore) and the edge threads' read-only views (ObjectReader) get the one
 * environment lmdb-js keeps per path. lmdb-js's environment is the embedded side of the
 * metadata seam as it is (kv.ts): the return type checks that it still satisfies KvEnv.
 */
export function openShardEnvironment(path: string, durable: boolean): KvEnv {
  return open({ path, maxDbs: META_TABLES_MAX, noSync: !durable, mapSize: 2 ** 34 });
}
