import { type DatabaseOptions, open, type RootDatabase } from 'lmdb';
import type { BlockCrcs } from '../blocks/segment-crc.js';
import type { Acl } from '../catalog/access.js';
import { recordEncoder } from '../codec.js';
import type { EventName, ObjectFacts } from '../notify/events.js';
import { changedLock, retentionChangeRefused } from '../object-lock.js';
import type {
  BlockBacklink,
  BlockRef,
  BlockTotals,
  ChosenPart,
  DeleteOutcome,
  DeleteTarget,
  EngineFailure,
  LifecycleRule,
  LockChange,
  LockCheck,
  NotifyContext,
  ObjectLock,
  OutboxEntry,
  OutboxMessage,
  PartInfo,
  PartTarget,
  QuotaCheck,
  ReplicationEntry,
  ReplicationRule,
  ReplicationSettlement,
  Tag,
  UploadListEntry,
  VersioningState,
  VersionListEntry,
  WriteConditions,
} from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import { guardSinceUploadBegan, type WriteGuard } from '../write-conditions.js';
import { type BlockErrorRecord, BlockTable } from './block-table.js';
import { BodyTable, type BodyToStore, bodyToStore } from './bodies.js';
import { type CounterRecord, CounterTable } from './counter-table.js';
import { bucketIdOf, objectKey } from './keys.js';
import { LifecycleBatches } from './lifecycle-batches.js';
import {
  assertSized,
  type ObjectRecord,
  ObjectTable,
  recordBody,
  shownVersionId,
} from './object-table.js';
import { OutboxTable } from './outbox-table.js';
import { failed, unwrap } from './outcome.js';
import { Repairs } from './repairs.js';
import { ReplicationQueue } from './replication-queue.js';
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
import { type Located, VersionedObjects } from './versioned.js';

export type { BlockErrorRecord } from './block-table.js';
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
 * encoding and invariants; this facade owns the transactions that move several of them at once.
 * lmdb-js batches the writes of one event turn into one transaction (group commit); with
 * `overlappingSync` a write resolves when visible, so durable callers also await `flushed()`.
 */
export class MetaStore {
  private readonly env: RootDatabase;
  private readonly objects: ObjectTable;
  private readonly blocks: BlockTable;
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
  /** S3 event notifications waiting for delivery, written with the changes that cause them. */
  readonly outbox: OutboxTable;
  /** Bucket replication's queue, written with the changes that cause its rows. */
  readonly replication: ReplicationQueue;

  constructor(path: string, durable: boolean) {
    this.env = openShardEnvironment(path, durable);
    const records = { encoder: recordEncoder() } as DatabaseOptions;
    this.objects = new ObjectTable(this.env, records);
    this.counters = new CounterTable(this.env, records);
    this.blocks = new BlockTable(this.env, records, this.counters);
    this.uploads = new UploadTable(this.env, records, this.blocks);
    this.bodies = new BodyTable(this.env, records, this.blocks.errors);
    this.versions = new VersionTable(this.env, records);
    this.outbox = new OutboxTable(this.env, records);
    this.versioned = new VersionedObjects(
      this.objects,
      this.versions,
      this.counters,
      this.blocks,
      this.bodies,
    );
    this.replication = new ReplicationQueue(this.env, records, this.versioned);
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

  /**
   * Inside a transaction: stores `record` under `encoded`, replacing any previous version,
   * after the write's condition (`guard`, on the record it replaces) and the quota check; moves
   * the usage counters and block refcounts. Returns the hashes whose count reached zero, or the
   * refusal.
   */
  private replaceObject(
    bucketId: string,
    encoded: Buffer,
    record: ObjectRecord,
    quota: QuotaCheck | null,
    body: BodyToStore | null = null,
    guard: WriteGuard | null = null,
  ): { freed: string[] } | { failure: EngineFailure } {
    const previous = this.objects.get(encoded);
    const unmet = guard?.(previous) ?? null;
    if (unmet !== null) return { failure: unmet };
    const objects = previous === undefined ? 1 : 0;
    const bytes = record.bytes - (previous?.bytes ?? 0);
    const refusal = this.counters.quotaRefusal(bucketId, quota, objects, bytes);
    if (refusal !== null) return refusal;
    this.objects.put(encoded, record, body);
    this.counters.count(bucketId, objects, bytes);
    this.blocks.increfAll(record.blocks);
    // The new body is counted before the old one is let go: an overwrite with the same bytes
    // keeps the body it shares.
    if (body !== null) this.bodies.incref(body);
    if (previous === undefined) return { freed: [] };
    if (previous.body !== undefined) this.bodies.decref(previous.body);
    return { freed: this.blocks.decrefAll(previous.blocks) };
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

  /**
   * PutObject and CopyObject: in a never-versioned bucket (`versioning` undefined) the record
   * replaces the key's; in a versioned one it becomes a new version (versioned.ts). Returns the
   * hashes whose count reached zero and the version id S3 shows (versioned buckets only).
   */
  async writeObject(
    bucketId: string,
    key: string,
    record: ObjectRecord,
    quota: QuotaCheck | null,
    versioning?: VersioningState,
    guard: WriteGuard | null = null,
    notify?: Notify,
  ): Promise<{ freed: string[]; versionId?: string }> {
    assertSized(record);
    const encoded = objectKey(bucketId, key);
    // Hashed here, not inside the transaction: the commit batch of this event turn waits for it.
    const body = bodyToStore(record.inline);
    // A replica is not replicated again (AWS's default): two buckets replicating to each other
    // would otherwise send each version back and forth for ever.
    const targets =
      record.replication === 'REPLICA'
        ? []
        : ReplicationQueue.targetsOf(notify?.context.replication, key, record.tags ?? []);
    const stored = ReplicationQueue.pendingRecord(record, targets);
    const outcome = await this.env.transaction(() => {
      const written =
        versioning === undefined
          ? this.replaceObject(bucketId, encoded, stored, quota, body, guard)
          : this.versioned.put(bucketId, key, stored, body, quota, versioning, guard);
      if (notify !== undefined && !('failure' in written)) {
        this.noteEvent(notify, createdFacts(key, record, versionIdOf(written)));
        this.queueReplication(notify, targets, 'put', bucketId, key, versionIdOf(written));
      }
      return written;
    });
    return unwrap(outcome);
  }

  /** Inside a transaction: records the change's event in the outbox (buckets with notifications). */
  private noteEvent(notify: Notify, object: ObjectFacts, event: EventName = notify.event): void {
    this.outbox.record(notify.context, event, object, Date.now());
  }

  /** Inside a transaction: the change's replication rows (buckets with replication only). */
  private queueReplication(
    notify: Notify,
    targets: readonly ReplicationRule[],
    op: 'put' | 'delete',
    bucketId: string,
    key: string,
    versionId: string | undefined,
  ): void {
    this.replication.queue(notify.context, targets, op, bucketId, key, versionId);
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

  /** The repair pass: queues versions again (those not queued already); returns rows added. */
  async requeueReplication(
    entries: ReadonlyArray<Omit<ReplicationEntry, 'id' | 'createdMs'>>,
  ): Promise<number> {
    return this.env.transaction(() => this.replication.requeue(entries));
  }

  /** The event of a change to an existing version's record (its tags or ACL). */
  private noteRewrite(notify: Notify, key: string, record: ObjectRecord): void {
    const shown = record.versionId !== undefined ? shownVersionId(record) : undefined;
    this.noteEvent(notify, createdFacts(key, record, shown));
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

  /**
   * DeleteObject / one DeleteObjects entry: with a versionId, that version goes for good (any
   * bucket); without, a versioned bucket gets a delete marker and a never-versioned one loses
   * the object. Returns what S3 reports and the hashes whose count reached zero.
   */
  async deleteTarget(
    bucketId: string,
    target: DeleteTarget,
    versioning: VersioningState | undefined,
    nowMs: number,
    guard: WriteGuard | null = null,
    check: LockCheck = { nowMs, bypassGovernance: false },
    notify?: Notify,
  ): Promise<{ outcome: DeleteOutcome; freed: string[] }> {
    const { key, versionId } = target;
    if (versionId !== undefined) {
      if (versionId !== 'null' && !isVersionId(versionId)) {
        return { outcome: { key, existed: false, versionId }, freed: [] };
      }
      // The lock is judged inside the transaction that would remove the version.
      const outcome = await this.env.transaction(() =>
        this.noteRemoval(
          bucketId,
          notify,
          this.versioned.deleteVersion(bucketId, key, versionId, check, guard),
          false,
        ),
      );
      return unwrap(outcome);
    }
    if (versioning !== undefined) {
      // If-Match is judged against the current object, which the marker then hides.
      const outcome = await this.env.transaction(() =>
        this.noteRemoval(
          bucketId,
          notify,
          this.versioned.deleteCurrent(bucketId, key, versioning, nowMs, guard),
          true,
        ),
      );
      return unwrap(outcome);
    }
    const { existed, freed } = await this.deleteObject(bucketId, key, guard, notify);
    return { outcome: { key, existed }, freed };
  }

  /**
   * Inside a transaction: records a delete's event when it removed something. A delete without a
   * version id that leaves a marker is DeleteMarkerCreated; removing a version (a marker too) is
   * Delete, as AWS names them.
   */
  private noteRemoval<T extends { outcome: DeleteOutcome } | { failure: EngineFailure }>(
    bucketId: string,
    notify: Notify | undefined,
    removed: T,
    current: boolean,
  ): T {
    if (notify === undefined || 'failure' in removed) return removed;
    const { outcome } = removed as { outcome: DeleteOutcome };
    if (outcome.failure !== undefined || outcome.locked === true) return removed;
    const marker = current && outcome.deleteMarker === true;
    if (!marker && !outcome.existed) return removed;
    const versionId = outcome.versionId;
    this.noteEvent(
      notify,
      { key: outcome.key, ...(versionId !== undefined ? { versionId } : {}) },
      removalEvent(notify.event, marker),
    );
    if (marker) {
      const targets = ReplicationQueue.markerTargetsOf(notify.context, outcome.key);
      this.queueReplication(notify, targets, 'delete', bucketId, outcome.key, versionId);
    }
    return removed;
  }

  /** One shard's page of ListObjectVersions (version-listing.ts). */
  listVersions(query: VersionListQuery): { entries: VersionListEntry[]; truncated: boolean } {
    return this.versionLister.list(query);
  }

  /**
   * Replaces the object's tags (an empty set removes them), keeping the rest of its record:
   * blocks and their counts do not move. Fails with NoSuchKey if the object does not exist.
   */
  async setTags(
    bucketId: string,
    key: string,
    tags: readonly Tag[],
    versionId?: string,
    notify?: Notify,
  ): Promise<{ tags: Tag[]; record: ObjectRecord }> {
    const encoded = objectKey(bucketId, key);
    const outcome = await this.env.transaction(() => {
      const located = this.locateForTags(bucketId, key, encoded, versionId);
      if ('failure' in located) return located;
      const { tags: _previous, ...rest } = located.record;
      const tagged = tags.length === 0 ? rest : { ...rest, tags: [...tags] };
      // A tag change replicates the version again (its tags travel with its bytes), unless
      // it is queued already: that row will read the new tags.
      const targets =
        (tagged.replicationRows ?? 0) > 0 || tagged.replication === 'REPLICA'
          ? []
          : ReplicationQueue.targetsOf(notify?.context.replication, key, tags);
      const record = ReplicationQueue.pendingRecord(tagged, targets);
      this.versioned.rewrite(bucketId, key, located, record);
      if (notify !== undefined) {
        this.noteRewrite(notify, key, record);
        const shown = record.versionId !== undefined ? shownVersionId(record) : undefined;
        this.queueReplication(notify, targets, 'put', bucketId, key, shown);
      }
      return { tags: [...tags], record };
    });
    return unwrap(outcome);
  }

  /**
   * Replaces an object's (or version's) ACL (null: back to its owner's FULL_CONTROL only),
   * keeping the rest of its record, its owner included. NoSuchKey if there is no such object.
   */
  async setAcl(
    bucketId: string,
    key: string,
    acl: Acl | null,
    versionId?: string,
    expectedOwner?: string | null,
    notify?: Notify,
  ): Promise<ObjectRecord> {
    const encoded = objectKey(bucketId, key);
    const outcome = await this.env.transaction(() => {
      const located = this.locateForTags(bucketId, key, encoded, versionId);
      if ('failure' in located) return located;
      // The ACL names its owner: written over another owner's object it would be a lie.
      if (expectedOwner !== undefined && (located.record.owner ?? null) !== expectedOwner) {
        return failed('ConditionalRequestConflict', 'The object changed owner meanwhile.');
      }
      const { acl: _previous, ...rest } = located.record;
      const record: ObjectRecord = acl === null ? rest : { ...rest, acl };
      this.versioned.rewrite(bucketId, key, located, record);
      if (notify !== undefined) this.noteRewrite(notify, key, record);
      return { record };
    });
    return unwrap(outcome).record;
  }

  /**
   * Changes a version's retention or legal hold (S3 Object Lock), judging the change against
   * the lock as it is inside the transaction: a running retention is only ever extended unless
   * the request may bypass GOVERNANCE (object-lock.ts). AccessDenied when refused.
   */
  async setLock(
    bucketId: string,
    key: string,
    change: LockChange,
    check: LockCheck,
    versionId?: string,
  ): Promise<{ lock: ObjectLock; record: ObjectRecord }> {
    const encoded = objectKey(bucketId, key);
    const outcome = await this.env.transaction(() => {
      const located = this.locateForTags(bucketId, key, encoded, versionId);
      if ('failure' in located) return located;
      const { lock: previous, ...rest } = located.record;
      if (
        change.kind === 'retention' &&
        retentionChangeRefused(previous, change.mode, change.retainUntilMs, check)
      ) {
        return failed('AccessDenied', 'Access Denied');
      }
      const lock = changedLock(previous, change);
      const record: ObjectRecord = lock === undefined ? rest : { ...rest, lock };
      this.versioned.rewrite(bucketId, key, located, record);
      return { lock: lock ?? {}, record };
    });
    return unwrap(outcome);
  }

  /** The object (or version) whose tags a request reads or writes; markers have none. */
  private locateForTags(
    bucketId: string,
    key: string,
    encoded: Buffer,
    versionId: string | undefined,
  ): Located | { failure: EngineFailure } {
    if (versionId === undefined) {
      const current = this.objects.get(encoded);
      if (current === undefined) return failed('NoSuchKey', 'The specified key does not exist.');
      return { record: current, current: true };
    }
    const located =
      versionId === 'null' || isVersionId(versionId)
        ? this.versioned.locate(bucketId, key, versionId)
        : undefined;
    if (located === undefined)
      return failed('NoSuchVersion', 'The specified version does not exist.');
    if (located.record.deleteMarker === true) {
      return failed(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
      );
    }
    return located;
  }

  /**
   * Removes the object if `guard` (DeleteObject's If-Match) allows; returns whether it existed
   * and the hashes whose count reached zero.
   */
  async deleteObject(
    bucketId: string,
    key: string,
    guard: WriteGuard | null = null,
    notify?: Notify,
  ): Promise<{ existed: boolean; freed: string[] }> {
    const encoded = objectKey(bucketId, key);
    const outcome = await this.env.transaction(
      (): { existed: boolean; freed: string[] } | { failure: EngineFailure } => {
        const previous = this.objects.get(encoded);
        const unmet = guard?.(previous) ?? null;
        if (unmet !== null) return { failure: unmet };
        if (previous === undefined) return { existed: false, freed: [] };
        if (notify !== undefined)
          this.noteEvent(notify, { key }, removalEvent(notify.event, false));
        return { existed: true, freed: this.removeObjectRecord(encoded, previous) };
      },
    );
    return unwrap(outcome);
  }

  /**
   * Inside a transaction: removes an object record (`encoded`, holding `record`), moving its
   * bucket's counters and its blocks' refcounts. Returns the hashes whose count reached zero.
   */
  private removeObjectRecord(encoded: Buffer, record: ObjectRecord): string[] {
    this.objects.remove(encoded);
    this.counters.count(bucketIdOf(encoded), -1, -record.bytes);
    if (record.body !== undefined) this.bodies.decref(record.body);
    return this.blocks.decrefAll(record.blocks);
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

  /**
   * Completes an upload: the object record takes the chosen parts' blocks (no byte is copied),
   * every part record and the upload are removed, and all refcounts move in one transaction.
   */
  async completeUpload(
    bucketId: string,
    key: string,
    uploadId: string,
    chosen: readonly ChosenPart[],
    fullObjectBase64: string | null,
    nowMs: number,
    quota: QuotaCheck | null = null,
    conditions: WriteConditions | null = null,
    versioning?: VersioningState,
    defaultLock?: ObjectLock,
    notify?: Notify,
    /** Completed by a source's replication: REPLICA, and not replicated again (see put). */
    replica = false,
  ): Promise<{ record: ObjectRecord; freed: string[]; versionId?: string }> {
    const outcome = await this.env.transaction(() => {
      const upload = this.getUpload(bucketId, key, uploadId);
      if (upload === undefined) return noSuchUpload();
      const assembled = this.uploads.assemble(upload, chosen, fullObjectBase64);
      if ('failure' in assembled) return assembled;
      const record: ObjectRecord = {
        ...assembled.record,
        lastModifiedMs: nowMs,
        headers: upload.headers,
        ...(upload.tags !== undefined && upload.tags.length > 0 ? { tags: upload.tags } : {}),
        ...lockField(uploadLock(upload.lock, defaultLock)),
        ...(upload.owner !== undefined ? { owner: upload.owner } : {}),
        ...(upload.acl !== undefined ? { acl: upload.acl } : {}),
        ...(replica ? { replication: 'REPLICA' as const } : {}),
      };
      const guard = conditions && guardSinceUploadBegan(conditions, upload.initiatedMs);
      const encoded = objectKey(bucketId, key);
      const targets = replica
        ? []
        : ReplicationQueue.targetsOf(notify?.context.replication, key, record.tags ?? []);
      const stored = ReplicationQueue.pendingRecord(record, targets);
      const replaced: { freed: string[]; versionId?: string } | { failure: EngineFailure } =
        versioning === undefined
          ? this.replaceObject(bucketId, encoded, stored, quota, null, guard)
          : this.versioned.put(bucketId, key, stored, null, quota, versioning, guard);
      if ('failure' in replaced) return replaced;
      if (notify !== undefined) {
        this.noteEvent(notify, createdFacts(key, record, replaced.versionId));
        this.queueReplication(notify, targets, 'put', bucketId, key, replaced.versionId);
      }
      const freed = [...replaced.freed, ...this.uploads.drop(bucketId, key, uploadId)];
      return { ...replaced, record, freed };
    });
    return unwrap(outcome);
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
    bucketId: string,
    rules: readonly LifecycleRule[],
    nowMs: number,
    target: 'objects' | 'versions' | 'uploads',
    after: string,
    limit: number,
    versioning?: VersioningState,
    notify?: NotifyContext,
  ): Promise<{ expired: number; aborted: number; freed: string[]; next: string | null }> {
    const expiry: Notify | undefined =
      notify === undefined ? undefined : { context: notify, event: 'LifecycleExpiration:Delete' };
    const note =
      expiry === undefined
        ? undefined
        : (object: ObjectFacts, marker: boolean): void =>
            this.noteEvent(expiry, object, removalEvent(expiry.event, marker));
    return this.lifecycle.apply(bucketId, rules, nowMs, target, after, limit, versioning, note);
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

  /** Every block hash with a reference, for the start-up sweep of unreferenced block files. */
  referencedBlocks(): Set<string> {
    return this.blocks.referenced();
  }
}

function lockField(lock: ObjectLock | undefined): { lock?: ObjectLock } {
  return lock === undefined ? {} : { lock };
}

/** A completed upload's lock: its own headers' retention, else the bucket's default; its hold. */
function uploadLock(
  own: ObjectLock | undefined,
  defaultLock: ObjectLock | undefined,
): ObjectLock | undefined {
  if (own?.mode !== undefined || defaultLock === undefined) return own;
  return { ...defaultLock, ...own };
}

/** objects, blocks, uploads, parts, usage, block_errors, bodies, body_refs, versions,
 *  null_versions, outbox, replq; room to grow. */
export const META_TABLES_MAX = 16;

/**
 * A shard's LMDB environment, with the options every opener in the process must share: the
 * shard thread (MetaStore) and the edge threads' read-only views (ObjectReader) get the one
 * environment lmdb-js keeps per path.
 */
export function openShardEnvironment(path: string, durable: boolean): RootDatabase {
  return open({ path, maxDbs: META_TABLES_MAX, noSync: !durable, mapSize: 2 ** 34 });
}

/** A change's notification: the bucket's configurations and the event the change is. */
export interface Notify {
  context: NotifyContext;
  event: EventName;
}

/** A created (or re-tagged) object's facts for its event record. */
function createdFacts(
  key: string,
  record: ObjectRecord,
  versionId: string | undefined,
): ObjectFacts {
  return {
    key,
    size: record.bytes,
    eTag: record.etag.replace(/^"|"$/g, ''),
    ...(versionId !== undefined ? { versionId } : {}),
  };
}

/** The version id a write reports (versioned buckets only). */
function versionIdOf(written: object): string | undefined {
  return 'versionId' in written && typeof written.versionId === 'string'
    ? written.versionId
    : undefined;
}

/** ObjectRemoved:* or LifecycleExpiration:*, by what the delete did. */
function removalEvent(requested: EventName, marker: boolean): EventName {
  if (requested.startsWith('LifecycleExpiration')) {
    return marker ? 'LifecycleExpiration:DeleteMarkerCreated' : 'LifecycleExpiration:Delete';
  }
  return marker ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectRemoved:Delete';
}
