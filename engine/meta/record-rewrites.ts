import type { Acl } from '../catalog/access.js';
import { changedLock, retentionChangeRefused } from '../object-lock.js';
import type {
  EngineFailure,
  LockChange,
  LockCheck,
  ObjectLock,
  Tag,
} from '../protocol/messages.js';
import type { ChangeEvents, Notify } from './change-events.js';
import { objectKey } from './keys.js';
import { type ObjectRecord, shownVersionId } from './object-table.js';
import type { ObjectWriteTables } from './object-writes.js';
import { failed, unwrap } from './outcome.js';
import { ReplicationQueue } from './replication-queue.js';
import { isVersionId } from './version-table.js';
import type { Located } from './versioned.js';

/**
 * The transactions that change one field of an object's (or version's) record in place: its
 * tags, its ACL, its object lock. Blocks and their counts do not move (MetaStore delegates here).
 */
export class RecordRewrites {
  constructor(
    private readonly t: Pick<ObjectWriteTables, 'env' | 'objects' | 'versioned'>,
    private readonly events: ChangeEvents,
  ) {}

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
    const outcome = await this.t.env.transaction(() => {
      const located = this.locateForTags(bucketId, key, encoded, versionId);
      if ('failure' in located) return located;
      const { tags: _previous, ...rest } = located.record;
      const tagged = tags.length === 0 ? rest : { ...rest, tags: [...tags] };
      const change = ReplicationQueue.tagChange(tagged, notify?.context.replication, key, tags);
      const { targets, record } = change;
      this.t.versioned.rewrite(bucketId, key, located, record);
      if (notify !== undefined) {
        this.events.noteRewrite(notify, key, record);
        const shown = record.versionId !== undefined ? shownVersionId(record) : undefined;
        this.events.queueReplication(notify, targets, change.op, bucketId, key, shown);
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
    const outcome = await this.t.env.transaction(() => {
      const located = this.locateForTags(bucketId, key, encoded, versionId);
      if ('failure' in located) return located;
      // The ACL names its owner: written over another owner's object it would be a lie.
      if (expectedOwner !== undefined && (located.record.owner ?? null) !== expectedOwner) {
        return failed('ConditionalRequestConflict', 'The object changed owner meanwhile.');
      }
      const { acl: _previous, ...rest } = located.record;
      const record: ObjectRecord = acl === null ? rest : { ...rest, acl };
      this.t.versioned.rewrite(bucketId, key, located, record);
      if (notify !== undefined) this.events.noteRewrite(notify, key, record);
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
    const outcome = await this.t.env.transaction(() => {
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
      this.t.versioned.rewrite(bucketId, key, located, record);
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
      const current = this.t.objects.get(encoded);
      if (current === undefined) return failed('NoSuchKey', 'The specified key does not exist.');
      return { record: current, current: true };
    }
    const located =
      versionId === 'null' || isVersionId(versionId)
        ? this.t.versioned.locate(bucketId, key, versionId)
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
}
