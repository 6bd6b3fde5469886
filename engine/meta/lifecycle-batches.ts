import { objectExpiry, uploadAbortDue } from '../lifecycle.js';
import { dueAccessTier, dueTransition, type TieringFacts } from '../lifecycle-transitions.js';
import type { ObjectFacts } from '../notify/events.js';
import type { LifecycleRule, TieringRule, VersioningState } from '../protocol/messages.js';
import type { AccessTier, StorageClass } from '../storage-classes.js';
import { keyOf, objectKey, prefixEnd } from './keys.js';
import { type KvEnv, readKv } from './kv.js';
import type { ObjectRecord, ObjectTable } from './object-table.js';
import type { UploadRecord, UploadTable } from './upload-table.js';
import type { VersionLifecycle } from './version-lifecycle.js';
import type { VersionedObjects } from './versioned.js';

/**
 * Lifecycle's bounded batches over a bucket's current objects, its uploads and (through
 * VersionLifecycle) its versions. Each reads at most `limit` records after a cursor, then acts
 * in one transaction, re-judging each record as it is then.
 */
export class LifecycleBatches {
  constructor(
    private readonly env: KvEnv,
    private readonly objects: ObjectTable,
    private readonly uploads: UploadTable,
    private readonly versioned: VersionedObjects,
    private readonly versions: VersionLifecycle,
  ) {}

  /**
   * Lifecycle: reads at most `limit` object records (or upload records) of a bucket after the
   * cursor `after` (hex of the last LMDB key read; '' = from the start), then, in one
   * transaction, deletes those an enabled rule has expired (or aborts the uploads due), and
   * changes the class (Transition) or access tier (intelligent tiering) of those due, re-judging
   * each inside the transaction so a record replaced meanwhile is judged as it now is. Returns
   * the counts, the blocks freed, the versions whose class changed (their blocks' tier must
   * follow) and the cursor to resume from (null: the bucket is done).
   */
  async apply(batch: LifecycleBatch, note?: LifecycleNote): Promise<LifecycleBatchResult> {
    const { bucketId, rules, nowMs, after, limit } = batch;
    if (batch.target === 'versions') {
      const done = await this.versions.apply(batch, note);
      return { ...done, aborted: 0 };
    }
    if (batch.target === 'uploads') {
      const done = await this.abortUploadsWhere(bucketId, after, limit, (upload) =>
        uploadAbortDue(rules, upload.key, upload.initiatedMs, nowMs),
      );
      return { ...NOTHING, ...done };
    }
    const range = { start: resumeAt(bucketId, after), end: prefixEnd(bucketId, ''), limit };
    const { due, next } = await readKv(this.env, () => {
      let read = 0;
      let last: Buffer | null = null;
      const due: Buffer[] = [];
      for (const { key, value } of this.objects.range(range)) {
        read++;
        last = Buffer.from(key);
        if (actionOn(batch, last, value) !== null) due.push(last);
      }
      return { due, next: read < limit || last === null ? null : last.toString('hex') };
    });
    if (due.length === 0) return { ...NOTHING, next };
    return this.env.transaction(() => {
      const done: LifecycleBatchResult = { ...NOTHING, freed: [], moved: [], next };
      for (const encoded of due) {
        const record = this.objects.get(encoded);
        const action = actionOn(batch, encoded, record);
        if (record === undefined || action === null) continue;
        if (action.kind === 'expire') {
          if (this.expire(batch, encoded, record, done.freed, note)) done.expired++;
        } else {
          const changed = changedRecord(record, action);
          this.versioned.rewrite(bucketId, keyOf(encoded), { record, current: true }, changed);
          note?.moved(keyOf(encoded), changed, action.kind);
          if (action.kind === 'transition') {
            done.transitioned++;
            done.moved.push(movedVersion(bucketId, keyOf(encoded), changed));
          } else {
            done.tiered++;
          }
        }
      }
      return done;
    });
  }

  /** Inside the transaction: an expired current object goes (behind a marker when versioned). */
  private expire(
    batch: LifecycleBatch,
    encoded: Buffer,
    record: ObjectRecord,
    freed: string[],
    note: LifecycleNote | undefined,
  ): boolean {
    const key = keyOf(encoded);
    if (batch.versioning === undefined) {
      freed.push(...this.versioned.release(batch.bucketId, key, record, true));
      note?.expired({ key }, false);
      return true;
    }
    const deleted = this.versioned.deleteCurrent(
      batch.bucketId,
      key,
      batch.versioning,
      batch.nowMs,
    );
    if ('failure' in deleted) return false; // unguarded: never
    freed.push(...deleted.freed);
    const versionId = deleted.outcome.versionId;
    note?.expired({ key, ...(versionId !== undefined ? { versionId } : {}) }, true);
    return true;
  }

  /**
   * One bounded batch (at most `limit` records after the cursor `after`) of a bucket's multipart
   * uploads: aborts those `due` selects, re-judging each inside the transaction, and frees their
   * parts' blocks. Lifecycle rules and the admin API's CleanupIncompleteUploads use it.
   */
  async abortUploadsWhere(
    bucketId: string,
    after: string,
    limit: number,
    due: (upload: UploadRecord) => boolean,
  ): Promise<{ aborted: number; freed: string[]; next: string | null }> {
    const range = { start: resumeAt(bucketId, after), end: prefixEnd(bucketId, ''), limit };
    const { selected, next } = await readKv(this.env, () => {
      let read = 0;
      let last: Buffer | null = null;
      const selected: Buffer[] = [];
      for (const { key, value } of this.uploads.range(range)) {
        read++;
        last = Buffer.from(key);
        if (due(value)) selected.push(last);
      }
      return { selected, next: read < limit || last === null ? null : last.toString('hex') };
    });
    if (selected.length === 0) return { aborted: 0, freed: [], next };
    return this.env.transaction(() => {
      const freed: string[] = [];
      let aborted = 0;
      for (const encoded of selected) {
        const upload = this.uploads.getEncoded(encoded);
        if (upload === undefined || !due(upload)) continue;
        freed.push(...this.uploads.drop(bucketId, upload.key, upload.uploadId));
        aborted++;
      }
      return { aborted, freed, next };
    });
  }
}

const ZERO = Buffer.from([0]);

/** Where a batch resumes: after the LMDB key `after` (hex), or at the bucket's first record. */
function resumeAt(bucketId: string, after: string): Buffer {
  return after === '' ? objectKey(bucketId, '') : Buffer.concat([Buffer.from(after, 'hex'), ZERO]);
}

/** What a lifecycle batch is asked to do (the ApplyLifecycle message, less its envelope). */
export interface LifecycleBatch {
  bucketId: string;
  rules: readonly LifecycleRule[];
  nowMs: number;
  target: 'objects' | 'versions' | 'uploads';
  after: string;
  limit: number;
  versioning?: VersioningState;
  tiering?: readonly TieringRule[];
}

export interface LifecycleBatchResult {
  expired: number;
  aborted: number;
  transitioned: number;
  tiered: number;
  freed: string[];
  /** Versions whose storage class a transition changed: their blocks move tier after commit. */
  moved: MovedVersion[];
  next: string | null;
}

const NOTHING: LifecycleBatchResult = {
  expired: 0,
  aborted: 0,
  transitioned: 0,
  tiered: 0,
  freed: [],
  moved: [],
  next: null,
};

type ObjectAction =
  | { kind: 'expire' }
  | { kind: 'transition'; storageClass: StorageClass }
  | { kind: 'tier'; accessTier: AccessTier };

/**
 * What lifecycle does to a current object now: expiration wins over a transition due the same
 * day (AWS), and a transition over intelligent tiering (the object leaves INTELLIGENT_TIERING).
 */
function actionOn(
  batch: LifecycleBatch,
  encoded: Buffer,
  record: ObjectRecord | undefined,
): ObjectAction | null {
  if (record === undefined) return null;
  const key = keyOf(encoded);
  const tags = record.tags ?? [];
  const expiry = objectExpiry(batch.rules, key, record.bytes, tags, record.lastModifiedMs);
  if (expiry !== null && expiry.atMs <= batch.nowMs) return { kind: 'expire' };
  const facts = { key, bytes: record.bytes, tags, storageClass: record.storageClass };
  const storageClass = dueTransition(batch.rules, facts, record.lastModifiedMs, batch.nowMs);
  if (storageClass !== null) return { kind: 'transition', storageClass };
  if (batch.tiering === undefined || batch.tiering.length === 0) return null;
  const accessTier = dueAccessTier(batch.tiering, tieringFactsOf(key, record), batch.nowMs);
  return accessTier === null ? null : { kind: 'tier', accessTier };
}

/** What intelligent tiering judges a version on. */
export function tieringFactsOf(key: string, record: ObjectRecord): TieringFacts {
  return {
    key,
    bytes: record.bytes,
    tags: record.tags ?? [],
    storageClass: record.storageClass,
    accessTier: record.accessTier,
    accessedDay: record.accessedDay,
    lastModifiedMs: record.lastModifiedMs,
  };
}

function changedRecord(
  record: ObjectRecord,
  action: Exclude<ObjectAction, { kind: 'expire' }>,
): ObjectRecord {
  if (action.kind === 'tier') return { ...record, accessTier: action.accessTier };
  return transitionedRecord(record, action.storageClass);
}

/**
 * A version's record after a transition: only its class changes (AWS keeps the version id,
 * Last-Modified and ETag); intelligent tiering's access state belongs to the class it leaves.
 */
export function transitionedRecord(record: ObjectRecord, storageClass: StorageClass): ObjectRecord {
  const { accessTier: _tier, accessedDay: _day, storageClass: _from, ...rest } = record;
  // The class first: listings' lean decoder reads it before the fields it stops at.
  return { storageClass, ...rest };
}

export function movedVersion(bucketId: string, key: string, record: ObjectRecord): MovedVersion {
  return {
    bucketId,
    key,
    versionId: record.versionId ?? null,
    storageClass: record.storageClass ?? 'STANDARD',
  };
}

/** A version a transition moved to another class (the shard then moves its blocks' tier). */
export interface MovedVersion {
  bucketId: string;
  key: string;
  /** The stored version id (null: a never-versioned bucket's record). */
  versionId: string | null;
  storageClass: StorageClass;
}

/**
 * Inside the transaction: tells the outbox what lifecycle did. `expired`: an object or version
 * went (marker: one was left); `moved`: a version's class (transition) or access tier (tier)
 * changed, its record as now stored.
 */
export interface LifecycleNote {
  expired(object: ObjectFacts, marker: boolean): void;
  moved(key: string, record: ObjectRecord, change: 'transition' | 'tier'): void;
}
