import { daysDueMs, ruleMatchesObject } from '../lifecycle.js';
import { dueAccessTier, dueNoncurrentTransition } from '../lifecycle-transitions.js';
import { lockHolds } from '../object-lock.js';
import type { LifecycleRule } from '../protocol/messages.js';
import { keyOf, objectKey, prefixEnd } from './keys.js';
import { type KvEnv, readKv } from './kv.js';
import {
  type LifecycleBatch,
  type LifecycleNote,
  type MovedVersion,
  movedVersion,
  tieringFactsOf,
  transitionedRecord,
} from './lifecycle-batches.js';
import { type ObjectRecord, type ObjectTable, shownVersionId } from './object-table.js';
import { splitVersionKey, type VersionTable, versionsOf } from './version-table.js';
import type { VersionedObjects } from './versioned.js';

const ONE = Buffer.from([1]);

/**
 * Lifecycle over the `versions` table: NoncurrentVersionExpiration (a noncurrent version is due
 * NoncurrentDays after it became noncurrent, i.e. after its successor was written, unless it is
 * among the NewerNoncurrentVersions newest noncurrent ones) and ExpiredObjectDeleteMarker (a
 * delete marker that is the only version left of its key goes). A batch reads at most `limit`
 * records to find keys, then judges each key whole (its versions in order), so the cursor is a
 * key: the next batch starts past the last key's versions.
 */
export class VersionLifecycle {
  constructor(
    private readonly env: KvEnv,
    private readonly objects: ObjectTable,
    private readonly versions: VersionTable,
    private readonly versioned: VersionedObjects,
  ) {}

  async apply(batch: LifecycleBatch, note?: LifecycleNote): Promise<VersionBatchResult> {
    const { bucketId, after, limit } = batch;
    const start = after === '' ? objectKey(bucketId, '') : Buffer.from(after, 'hex');
    const { keys, read } = await readKv(this.env, () => {
      const keys: string[] = [];
      let read = 0;
      for (const { key } of this.versions.range({ start, end: prefixEnd(bucketId, ''), limit })) {
        read++;
        const name = keyOf(splitVersionKey(key).objectKey);
        if (keys[keys.length - 1] !== name) keys.push(name);
      }
      return { keys, read };
    });
    const lastKey = keys[keys.length - 1];
    const next =
      read < limit || lastKey === undefined
        ? null
        : Buffer.concat([objectKey(bucketId, lastKey), ONE]).toString('hex');
    const done: VersionBatchResult = {
      expired: 0,
      transitioned: 0,
      tiered: 0,
      freed: [],
      moved: [],
      next,
    };
    if (keys.length === 0) return done;
    return this.env.transaction(() => {
      for (const key of keys) this.applyToKey(batch, key, note, done);
      done.transitioned = done.moved.length;
      return done;
    });
  }

  /**
   * Inside the transaction: removes what the rules expire among one key's versions, and moves
   * to a colder class the noncurrent ones a NoncurrentVersionTransition makes due (expiration
   * wins: a version that goes is not moved first), or to an archive access tier under the
   * bucket's intelligent tiering. Adds what it did to `done`.
   */
  private applyToKey(
    batch: LifecycleBatch,
    key: string,
    note: LifecycleNote | undefined,
    done: VersionBatchResult,
  ): void {
    const { bucketId, rules, nowMs } = batch;
    const freed = done.freed;
    const current = this.objects.get(objectKey(bucketId, key));
    // Read whole before anything is removed: no cursor walks the table the transaction changes.
    const stored = [...this.versions.range(versionsOf(bucketId, key))].map((entry) => entry.value);
    let successorMs = current?.lastModifiedMs ?? null;
    let noncurrentIndex = 0;
    const kept: ObjectRecord[] = [];
    for (const version of stored) {
      // With no current object the newest stored version (a delete marker) is the latest.
      const noncurrent = successorMs !== null;
      if (
        successorMs !== null &&
        this.noncurrentDue(rules, key, version, successorMs, noncurrentIndex, nowMs)
      ) {
        freed.push(...this.versioned.release(bucketId, key, version, false));
        note?.expired({ key, versionId: shownVersionId(version) }, false);
        done.expired++;
      } else {
        kept.push(version);
        if (successorMs !== null && version.deleteMarker !== true) {
          this.moveNoncurrent(batch, key, version, successorMs, noncurrentIndex, note, done);
        }
        if (noncurrent) noncurrentIndex++;
      }
      successorMs = version.lastModifiedMs;
    }
    const lone = kept[0];
    if (
      current === undefined &&
      kept.length === 1 &&
      lone?.deleteMarker === true &&
      rules.some((rule) => rule.expiredObjectDeleteMarker === true && key.startsWith(rule.prefix))
    ) {
      freed.push(...this.versioned.release(bucketId, key, lone, false));
      note?.expired({ key, versionId: shownVersionId(lone) }, false);
      done.expired++;
    }
  }

  /**
   * Inside the transaction: a kept noncurrent version moves to a colder class when a
   * NoncurrentVersionTransition is due, else (INTELLIGENT_TIERING) to an archive access tier
   * when it has not been read for a Tiering's days.
   */
  private moveNoncurrent(
    batch: LifecycleBatch,
    key: string,
    version: ObjectRecord,
    becameNoncurrentMs: number,
    newerNoncurrent: number,
    note: LifecycleNote | undefined,
    done: VersionBatchResult,
  ): void {
    const located = { record: version, current: false };
    const changed = this.transitioned(
      batch.rules,
      key,
      version,
      becameNoncurrentMs,
      newerNoncurrent,
      batch.nowMs,
    );
    if (changed !== null) {
      this.versioned.rewrite(batch.bucketId, key, located, changed);
      done.moved.push(movedVersion(batch.bucketId, key, changed));
      note?.moved(key, changed, 'transition');
      return;
    }
    if (batch.tiering === undefined || batch.tiering.length === 0) return;
    const accessTier = dueAccessTier(batch.tiering, tieringFactsOf(key, version), batch.nowMs);
    if (accessTier === null) return;
    const tiered = { ...version, accessTier };
    this.versioned.rewrite(batch.bucketId, key, located, tiered);
    note?.moved(key, tiered, 'tier');
    done.tiered++;
  }

  /** A noncurrent version's record after a NoncurrentVersionTransition due now (null: none). */
  private transitioned(
    rules: readonly LifecycleRule[],
    key: string,
    version: ObjectRecord,
    becameNoncurrentMs: number,
    newerNoncurrent: number,
    nowMs: number,
  ): ObjectRecord | null {
    const facts = {
      key,
      bytes: version.bytes,
      tags: version.tags ?? [],
      storageClass: version.storageClass,
    };
    const storageClass = dueNoncurrentTransition(
      rules,
      facts,
      becameNoncurrentMs,
      newerNoncurrent,
      nowMs,
    );
    return storageClass === null ? null : transitionedRecord(version, storageClass);
  }

  private noncurrentDue(
    rules: readonly LifecycleRule[],
    key: string,
    version: ObjectRecord,
    becameNoncurrentMs: number,
    newerNoncurrent: number,
    nowMs: number,
  ): boolean {
    // Lifecycle never removes a locked version (no bypass: it is nobody's request).
    if (lockHolds(version.lock, nowMs)) return false;
    return rules.some(
      (rule) =>
        rule.noncurrentDays !== undefined &&
        newerNoncurrent >= (rule.newerNoncurrentVersions ?? 0) &&
        daysDueMs(becameNoncurrentMs, rule.noncurrentDays) <= nowMs &&
        ruleMatchesObject(rule, key, version.bytes, version.tags ?? []),
    );
  }
}

export interface VersionBatchResult {
  expired: number;
  transitioned: number;
  tiered: number;
  freed: string[];
  moved: MovedVersion[];
  next: string | null;
}
