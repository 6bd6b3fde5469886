import { assert } from '../assert.js';
import { removalRefused } from '../object-lock.js';
import type {
  DeleteOutcome,
  EngineFailure,
  LockCheck,
  QuotaCheck,
  VersioningState,
} from '../protocol/messages.js';
import type { WriteGuard } from '../write-conditions.js';
import type { BlockTable } from './block-table.js';
import type { BodyTable, BodyToStore } from './bodies.js';
import type { CounterTable } from './counter-table.js';
import { objectKey } from './keys.js';
import { type ObjectRecord, type ObjectTable, shownVersionId } from './object-table.js';
import { VersionClock, type VersionTable } from './version-table.js';

/** A version located by its shown id: where it is and its record. */
export interface Located {
  record: ObjectRecord;
  current: boolean;
}

/**
 * The writes of versioned buckets (S3's rules), inside the MetaStore's transactions. The current
 * version, when it is an object, lives in the `objects` table; noncurrent versions and delete
 * markers in `versions` (version-table.ts, with the invariants kept here). Every version counts
 * in the bucket's usage (as S3 bills them; a delete marker as an object of 0 bytes) and holds
 * its blocks and body through the same refcounts as a current object: versions share blocks.
 */
export class VersionedObjects {
  private readonly clock = new VersionClock();

  constructor(
    private readonly objects: ObjectTable,
    private readonly versions: VersionTable,
    private readonly counters: CounterTable,
    private readonly blocks: BlockTable,
    private readonly bodies: BodyTable,
  ) {}

  /**
   * Inside a transaction: stores a new current version. Enabled: the previous current one
   * becomes noncurrent. Suspended: the new version is the null version, replacing the previous
   * null version wherever it is. Returns the shown version id and the blocks freed.
   */
  put(
    bucketId: string,
    key: string,
    record: ObjectRecord,
    body: BodyToStore | null,
    quota: QuotaCheck | null,
    mode: VersioningState,
    guard: WriteGuard | null = null,
    /** A replica's version id, the source's (hangar → hangar replication): stored under it. */
    replicaId: string | null = null,
  ): { versionId: string; freed: string[] } | { failure: EngineFailure } {
    if (replicaId !== null) return this.putReplica(bucketId, key, record, body, quota, replicaId);
    const encoded = objectKey(bucketId, key);
    const current = this.objects.get(encoded);
    // Conditional writes judge the current object (a delete marker as latest: none).
    const unmet = guard?.(current) ?? null;
    if (unmet !== null) return { failure: unmet };
    const replaced = mode === 'Suspended' ? this.nullVersions(bucketId, key, current) : [];
    const freedBytes = replaced.reduce((sum, version) => sum + version.record.bytes, 0);
    const refusal = this.counters.quotaRefusal(
      bucketId,
      quota,
      1 - replaced.length,
      record.bytes - freedBytes,
    );
    if (refusal !== null) return refusal;
    // The new version's blocks and body are counted before a replaced null version lets go of
    // them: an overwrite with the same bytes keeps what it shares (as replaceObject does).
    this.blocks.increfAll(record.blocks);
    if (body !== null) this.bodies.incref(body);
    const freed = this.releaseAll(bucketId, key, replaced);
    if (current !== undefined && !replaced.some((r) => r.current)) {
      this.demote(bucketId, key, current);
    }
    const versionId = this.clock.next(Date.now(), this.newestId(bucketId, key));
    const stored: ObjectRecord = {
      ...record,
      versionId,
      ...(mode === 'Suspended' ? { nullVersion: true as const } : {}),
    };
    this.objects.put(encoded, stored, body);
    this.counters.count(bucketId, 1, record.bytes);
    return { versionId: shownVersionId(stored), freed };
  }

  /**
   * Inside a transaction: stores a replica under its source's version id `id` (a versioning-
   * Enabled bucket). Ids order versions (version-table.ts), so a replica that arrives after a
   * newer version of its key (the source's queue sends in order per destination, but a repair
   * or a retry may not) is stored as noncurrent, where its id places it, and never hides the
   * newer one. A second write of the id is idempotent: the same size and ETag succeed (the
   * new copy's blocks let go at once, its tags replace the held ones: the source sends a
   * version again when its tags change), anything else is refused.
   */
  private putReplica(
    bucketId: string,
    key: string,
    record: ObjectRecord,
    body: BodyToStore | null,
    quota: QuotaCheck | null,
    id: string,
  ): { versionId: string; freed: string[] } | { failure: EngineFailure } {
    const held = this.heldReplica(bucketId, key, id, record);
    if (held !== null) {
      if ('failure' in held) return held;
      // The source sends a version again when its tags changed: the replica takes them.
      const { tags: _held, ...rest } = held.located.record;
      const retagged = record.tags !== undefined ? { ...rest, tags: record.tags } : rest;
      this.rewrite(bucketId, key, held.located, retagged);
      // The copy's blocks: counted and let go, so those it shares with the held version stay
      // and the others (another data key's ciphertext) are freed. An inline body is not stored.
      this.blocks.increfAll(record.blocks);
      return { versionId: id, freed: this.blocks.decrefAll(record.blocks) };
    }
    const refusal = this.counters.quotaRefusal(bucketId, quota, 1, record.bytes);
    if (refusal !== null) return refusal;
    this.blocks.increfAll(record.blocks);
    if (body !== null) this.bodies.incref(body);
    const stored: ObjectRecord = { ...record, versionId: id };
    if (this.isNewest(bucketId, key, id)) {
      const current = this.objects.get(objectKey(bucketId, key));
      if (current !== undefined) this.demote(bucketId, key, current);
      this.objects.put(objectKey(bucketId, key), stored, body);
    } else {
      this.versions.put(bucketId, key, stored);
    }
    this.counters.count(bucketId, 1, record.bytes);
    return { versionId: id, freed: [] };
  }

  /**
   * The version `id` already stored for a replica: a success when it holds the same bytes as
   * `record` (a delete marker when `record` is none), a failure when it holds others, null when
   * there is no such version.
   */
  private heldReplica(
    bucketId: string,
    key: string,
    id: string,
    record: ObjectRecord | null,
  ): { located: Located } | { failure: EngineFailure } | null {
    const found = this.locate(bucketId, key, id);
    if (found === undefined) return null;
    const same =
      record === null
        ? found.record.deleteMarker === true
        : found.record.deleteMarker !== true &&
          found.record.bytes === record.bytes &&
          found.record.etag === record.etag;
    if (same) return { located: found };
    const message = `Version ${id} of this key exists with other content.`;
    return { failure: { code: 'InvalidRequest', message } };
  }

  /** Whether a version `id` would be the key's newest (ids sort newest first). */
  private isNewest(bucketId: string, key: string, id: string): boolean {
    const current = this.objects.get(objectKey(bucketId, key));
    // A current record from before versioning has no id: any versioned write is newer.
    if (current !== undefined && current.versionId === undefined) return true;
    const newest = this.newestId(bucketId, key);
    return newest === null || id < newest;
  }

  /**
   * Inside a transaction: DeleteObject without a versionId: a delete marker becomes the current
   * version (Suspended: the null version, replacing the previous one).
   */
  deleteCurrent(
    bucketId: string,
    key: string,
    mode: VersioningState,
    nowMs: number,
    guard: WriteGuard | null = null,
    /** A replicated delete marker's version id, the source's: stored under it (putReplica). */
    replicaId: string | null = null,
  ): { outcome: DeleteOutcome; freed: string[] } | { failure: EngineFailure } {
    if (replicaId !== null) return this.deleteReplica(bucketId, key, nowMs, replicaId);
    const current = this.objects.get(objectKey(bucketId, key));
    const unmet = guard?.(current) ?? null;
    if (unmet !== null) return { failure: unmet };
    const replaced = mode === 'Suspended' ? this.nullVersions(bucketId, key, current) : [];
    const freed = this.releaseAll(bucketId, key, replaced);
    if (current !== undefined && !replaced.some((r) => r.current))
      this.demote(bucketId, key, current);
    const versionId = this.clock.next(nowMs, this.newestId(bucketId, key));
    const marker = markerRecord(nowMs, versionId, mode === 'Suspended');
    this.versions.put(bucketId, key, marker);
    this.counters.count(bucketId, 1, 0);
    const outcome = { key, existed: true, versionId: shownVersionId(marker), deleteMarker: true };
    return { outcome, freed };
  }

  /** A replicated delete marker under its source's id `id`: putReplica's rules for markers. */
  private deleteReplica(
    bucketId: string,
    key: string,
    nowMs: number,
    id: string,
  ): { outcome: DeleteOutcome; freed: string[] } | { failure: EngineFailure } {
    const outcome = { key, existed: true, versionId: id, deleteMarker: true };
    const held = this.heldReplica(bucketId, key, id, null);
    if (held !== null) return 'failure' in held ? held : { outcome, freed: [] };
    if (this.isNewest(bucketId, key, id)) {
      const current = this.objects.get(objectKey(bucketId, key));
      if (current !== undefined) this.demote(bucketId, key, current);
    }
    this.versions.put(bucketId, key, markerRecord(nowMs, id, false));
    this.counters.count(bucketId, 1, 0);
    return { outcome, freed: [] };
  }

  /**
   * Inside a transaction: removes one version for good (S3's DeleteObject with versionId),
   * releasing its blocks; when it was the current object, the newest noncurrent version takes
   * its place unless that is a delete marker. Deleting a version that does not exist succeeds.
   * A version under object lock (legal hold, running retention not bypassed) stays: `locked`.
   * `guard` (If-Match) refuses when the version is absent or its ETag differs. `check` null: an operator's repair of lost blocks (repairs.ts), which no lock stops.
   */
  deleteVersion(
    bucketId: string,
    key: string,
    shown: string,
    check: LockCheck | null,
    guard: WriteGuard | null = null,
  ): { outcome: DeleteOutcome; freed: string[] } | { failure: EngineFailure } {
    const found = this.locate(bucketId, key, shown);
    // DeleteObject's If-Match names that version: judged against it, not the current object.
    const unmet = guard?.(found?.record) ?? null;
    if (unmet !== null) return { failure: unmet };
    if (found === undefined)
      return { outcome: { key, existed: false, versionId: shown }, freed: [] };
    if (check !== null && removalRefused(found.record.lock, check)) {
      return { outcome: { key, existed: true, versionId: shown, locked: true }, freed: [] };
    }
    const freed = this.release(bucketId, key, found.record, found.current);
    this.promoteNewest(bucketId, key);
    const outcome: DeleteOutcome = { key, existed: true, versionId: shown };
    if (found.record.deleteMarker === true) outcome.deleteMarker = true;
    return { outcome, freed };
  }

  /** The version shown as `shown` ('null' or an id): the current object or a stored version. */
  locate(bucketId: string, key: string, shown: string): Located | undefined {
    const current = this.objects.get(objectKey(bucketId, key));
    if (current !== undefined && shownVersionId(current) === shown) {
      return { record: current, current: true };
    }
    const record = this.versions.find(bucketId, key, shown);
    return record === undefined ? undefined : { record, current: false };
  }

  /** The delete marker that is the key's latest version, if the key has no current object. */
  latestMarker(bucketId: string, key: string): ObjectRecord | undefined {
    const newest = this.versions.newest(bucketId, key);
    return newest?.deleteMarker === true ? newest : undefined;
  }

  /** Inside a transaction: rewrites a located version's record in place (its tags). */
  rewrite(bucketId: string, key: string, located: Located, record: ObjectRecord): void {
    if (located.current) this.objects.putRaw(objectKey(bucketId, key), record);
    else this.versions.put(bucketId, key, record);
  }

  /** The key's null versions (at most one): the current one, or one in the versions table. */
  private nullVersions(
    bucketId: string,
    key: string,
    current: ObjectRecord | undefined,
  ): Located[] {
    if (current !== undefined && shownVersionId(current) === 'null') {
      return [{ record: current, current: true }];
    }
    const stored = this.versions.nullVersion(bucketId, key);
    return stored === undefined ? [] : [{ record: stored, current: false }];
  }

  /** The id of the key's newest version, current or not (null: the key has none). */
  private newestId(bucketId: string, key: string): string | null {
    const current = this.objects.get(objectKey(bucketId, key));
    if (current?.versionId !== undefined) return current.versionId;
    return this.versions.newest(bucketId, key)?.versionId ?? null;
  }

  /** Moves the current object into the versions table (a legacy record gets an id by mtime). */
  private demote(bucketId: string, key: string, current: ObjectRecord): void {
    const versioned: ObjectRecord =
      current.versionId !== undefined
        ? current
        : {
            ...current,
            versionId: VersionClock.ofLegacy(current.lastModifiedMs),
            nullVersion: true,
          };
    this.objects.remove(objectKey(bucketId, key));
    this.versions.put(bucketId, key, versioned);
  }

  private releaseAll(bucketId: string, key: string, located: readonly Located[]): string[] {
    return located.flatMap(({ record, current }) => this.release(bucketId, key, record, current));
  }

  /**
   * Inside a transaction: removes a version's record (no promotion: the caller keeps the
   * invariants) and lets go of what it held; returns the blocks freed.
   */
  release(bucketId: string, key: string, record: ObjectRecord, current: boolean): string[] {
    if (current) this.objects.remove(objectKey(bucketId, key));
    else {
      assert(record.versionId !== undefined, 'a stored version has an id');
      this.versions.remove(bucketId, key, record.versionId);
    }
    this.counters.count(bucketId, -1, -record.bytes);
    if (record.body !== undefined) this.bodies.decref(record.body);
    return this.blocks.decrefAll(record.blocks);
  }

  /** With no current object, the newest version becomes current unless it is a delete marker. */
  private promoteNewest(bucketId: string, key: string): void {
    const encoded = objectKey(bucketId, key);
    if (this.objects.get(encoded) !== undefined) return;
    const newest = this.versions.newest(bucketId, key);
    if (newest === undefined || newest.deleteMarker === true) return;
    assert(newest.versionId !== undefined, 'a stored version has an id');
    this.versions.remove(bucketId, key, newest.versionId);
    this.objects.putRaw(encoded, newest);
  }
}

function markerRecord(nowMs: number, versionId: string, nullVersion: boolean): ObjectRecord {
  return {
    bytes: 0,
    etag: '',
    lastModifiedMs: nowMs,
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: null,
    versionId,
    deleteMarker: true,
    ...(nullVersion ? { nullVersion: true as const } : {}),
  };
}
