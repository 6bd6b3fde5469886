import type {
  ChosenPart,
  DeleteOutcome,
  DeleteTarget,
  EngineFailure,
  LockCheck,
  ObjectLock,
  QuotaCheck,
  VersioningState,
  WriteConditions,
} from '../protocol/messages.js';
import { guardSinceUploadBegan, type WriteGuard } from '../write-conditions.js';
import type { BlockTable } from './block-table.js';
import { type BodyTable, type BodyToStore, bodyToStore } from './bodies.js';
import {
  type ChangeEvents,
  createdFacts,
  type Notify,
  removalEvent,
  versionIdOf,
} from './change-events.js';
import type { CounterTable } from './counter-table.js';
import { bucketIdOf, objectKey } from './keys.js';
import type { KvEnv } from './kv.js';
import { assertSized, type ObjectRecord, type ObjectTable } from './object-table.js';
import { unwrap } from './outcome.js';
import { encryptionKindOf, ReplicationQueue } from './replication-queue.js';
import { noSuchUpload, type UploadTable } from './upload-table.js';
import { isVersionId } from './version-table.js';
import type { VersionedObjects } from './versioned.js';

/** The tables a write or delete of an object moves together. */
export interface ObjectWriteTables {
  env: KvEnv;
  objects: ObjectTable;
  counters: CounterTable;
  blocks: BlockTable;
  bodies: BodyTable;
  uploads: UploadTable;
  versioned: VersionedObjects;
}

/**
 * The transactions that write or remove an object (PutObject, CopyObject,
 * CompleteMultipartUpload, DeleteObject(s)): each moves the record, the bucket's counters, the
 * block and body refcounts, and the change's events and replication rows at once (MetaStore
 * delegates here).
 */
export class ObjectWrites {
  constructor(
    private readonly t: ObjectWriteTables,
    private readonly events: ChangeEvents,
  ) {}

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
    const previous = this.t.objects.get(encoded);
    const unmet = guard?.(previous) ?? null;
    if (unmet !== null) return { failure: unmet };
    const objects = previous === undefined ? 1 : 0;
    const bytes = record.bytes - (previous?.bytes ?? 0);
    const refusal = this.t.counters.quotaRefusal(bucketId, quota, objects, bytes);
    if (refusal !== null) return refusal;
    this.t.objects.put(encoded, record, body);
    this.t.counters.count(bucketId, objects, bytes);
    this.t.blocks.increfAll(record.blocks);
    // The new body is counted before the old one is let go: an overwrite with the same bytes
    // keeps the body it shares.
    if (body !== null) this.t.bodies.incref(body);
    if (previous === undefined) return { freed: [] };
    if (previous.body !== undefined) this.t.bodies.decref(previous.body);
    return { freed: this.t.blocks.decrefAll(previous.blocks) };
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
    /** A replica's version id, its source's (versioned.ts putReplica). */
    replicaId: string | null = null,
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
        : ReplicationQueue.targetsOf(
            notify?.context.replication,
            key,
            record.tags ?? [],
            encryptionKindOf(record),
          );
    const stored = ReplicationQueue.pendingRecord(record, targets);
    const outcome = await this.t.env.transaction(() => {
      const refused = this.t.blocks.referenceRefusal(record.blocks);
      if (refused !== null) return refused;
      const written =
        versioning === undefined
          ? this.replaceObject(bucketId, encoded, stored, quota, body, guard)
          : this.t.versioned.put(bucketId, key, stored, body, quota, versioning, guard, replicaId);
      if (notify !== undefined && !('failure' in written)) {
        this.events.note(notify, createdFacts(key, record, versionIdOf(written)));
        this.events.queueReplication(notify, targets, 'put', bucketId, key, versionIdOf(written));
      }
      return written;
    });
    return unwrap(outcome);
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
      const outcome = await this.t.env.transaction(() =>
        this.noteRemoval(
          bucketId,
          notify,
          this.t.versioned.deleteVersion(bucketId, key, versionId, check, guard),
          false,
        ),
      );
      return unwrap(outcome);
    }
    if (versioning !== undefined) {
      // If-Match is judged against the current object, which the marker then hides.
      const outcome = await this.t.env.transaction(() =>
        this.noteRemoval(
          bucketId,
          notify,
          this.t.versioned.deleteCurrent(
            bucketId,
            key,
            versioning,
            nowMs,
            guard,
            target.markerVersionId ?? null,
          ),
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
    this.events.note(
      notify,
      { key: outcome.key, ...(versionId !== undefined ? { versionId } : {}) },
      removalEvent(notify.event, marker),
    );
    if (marker) {
      const targets = ReplicationQueue.markerTargetsOf(notify.context, outcome.key);
      this.events.queueReplication(notify, targets, 'delete', bucketId, outcome.key, versionId);
    }
    return removed;
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
    const outcome = await this.t.env.transaction(
      (): { existed: boolean; freed: string[] } | { failure: EngineFailure } => {
        const previous = this.t.objects.get(encoded);
        const unmet = guard?.(previous) ?? null;
        if (unmet !== null) return { failure: unmet };
        if (previous === undefined) return { existed: false, freed: [] };
        if (notify !== undefined)
          this.events.note(notify, { key }, removalEvent(notify.event, false));
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
    this.t.objects.remove(encoded);
    this.t.counters.count(bucketIdOf(encoded), -1, -record.bytes);
    if (record.body !== undefined) this.t.bodies.decref(record.body);
    return this.t.blocks.decrefAll(record.blocks);
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
    /** The replica's version id, its source's (versioned.ts putReplica). */
    replicaId: string | null = null,
  ): Promise<{ record: ObjectRecord; freed: string[]; versionId?: string }> {
    const outcome = await this.t.env.transaction(() => {
      const upload = this.t.uploads.get(bucketId, key, uploadId);
      if (upload === undefined) return noSuchUpload();
      const assembled = this.t.uploads.assemble(upload, chosen, fullObjectBase64);
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
        ...(upload.storageClass !== undefined ? { storageClass: upload.storageClass } : {}),
      };
      const guard = conditions && guardSinceUploadBegan(conditions, upload.initiatedMs);
      const encoded = objectKey(bucketId, key);
      const targets = replica
        ? []
        : ReplicationQueue.targetsOf(
            notify?.context.replication,
            key,
            record.tags ?? [],
            encryptionKindOf(record),
          );
      const stored = ReplicationQueue.pendingRecord(record, targets);
      const replaced: { freed: string[]; versionId?: string } | { failure: EngineFailure } =
        versioning === undefined
          ? this.replaceObject(bucketId, encoded, stored, quota, null, guard)
          : this.t.versioned.put(bucketId, key, stored, null, quota, versioning, guard, replicaId);
      if ('failure' in replaced) return replaced;
      if (notify !== undefined) {
        this.events.note(notify, createdFacts(key, record, replaced.versionId));
        this.events.queueReplication(notify, targets, 'put', bucketId, key, replaced.versionId);
      }
      const freed = [...replaced.freed, ...this.t.uploads.drop(bucketId, key, uploadId)];
      return { ...replaced, record, freed };
    });
    return unwrap(outcome);
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
