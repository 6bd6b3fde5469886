import type { Acl } from '../catalog/access.js';
import { changedLock, retentionChangeRefused } from '../object-lock.js';
import type {
  EngineFailure,
  LockChange,
  LockCheck,
  MetadataFacet,
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
    const outcome = await this.t.env.transaction(() => {
      const located = locateToChange(this.t, bucketId, key, versionId);
      if ('failure' in located) return located;
      const { tags: _previous, ...rest } = located.record;
      const tagged = tags.length === 0 ? rest : { ...rest, tags: [...tags] };
      const record = this.rewrite(bucketId, key, located, tagged, 'tags', notify);
      if (notify !== undefined) this.events.noteRewrite(notify, key, record);
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
    const outcome = await this.t.env.transaction(() => {
      const located = locateToChange(this.t, bucketId, key, versionId);
      if ('failure' in located) return located;
      // The ACL names its owner: written over another owner's object it would be a lie.
      if (expectedOwner !== undefined && (located.record.owner ?? null) !== expectedOwner) {
        return failed('ConditionalRequestConflict', 'The object changed owner meanwhile.');
      }
      const { acl: _previous, ...rest } = located.record;
      const changed: ObjectRecord = acl === null ? rest : { ...rest, acl };
      const record = this.rewrite(bucketId, key, located, changed, 'acl', notify);
      if (notify !== undefined) this.events.noteRewrite(notify, key, record);
      return { record };
    });
    return unwrap(outcome).record;
  }

  /**
   * Changes a version's retention or legal hold (S3 Object Lock), judging the change against
   * the lock as it is inside the transaction: a running retention is only ever extended unless
   * the request may bypass GOVERNANCE (object-lock.ts). AccessDenied when refused. S3 has no
   * event for it: `replication` (the bucket's rules) only queues its replication.
   */
  async setLock(
    bucketId: string,
    key: string,
    change: LockChange,
    check: LockCheck,
    versionId?: string,
    replication?: Pick<Notify, 'context'>,
  ): Promise<{ lock: ObjectLock; record: ObjectRecord }> {
    const outcome = await this.t.env.transaction(() => {
      const located = locateToChange(this.t, bucketId, key, versionId);
      if ('failure' in located) return located;
      const { lock: previous, ...rest } = located.record;
      if (
        change.kind === 'retention' &&
        retentionChangeRefused(previous, change.mode, change.retainUntilMs, check)
      ) {
        return failed('AccessDenied', 'Access Denied');
      }
      const lock = changedLock(previous, change);
      const changed: ObjectRecord = lock === undefined ? rest : { ...rest, lock };
      const record = this.rewrite(bucketId, key, located, changed, 'lock', replication);
      return { lock: lock ?? {}, record };
    });
    return unwrap(outcome);
  }

  /**
   * Inside a transaction: writes a version's changed record, with the replication its change
   * queues (replication-queue.ts metadataChange) in the same transaction. Returns the record
   * written (PENDING when the change replicates a FAILED version again).
   */
  private rewrite(
    bucketId: string,
    key: string,
    located: Located,
    changed: ObjectRecord,
    facet: MetadataFacet,
    notify: Pick<Notify, 'context'> | undefined,
  ): ObjectRecord {
    const rules = notify?.context.replication;
    const { targets, record, op } = ReplicationQueue.metadataChange(changed, rules, key);
    this.t.versioned.rewrite(bucketId, key, located, record);
    if (notify !== undefined && targets.length > 0) {
      const shown = record.versionId !== undefined ? shownVersionId(record) : undefined;
      this.events.queueReplication(notify, targets, op, bucketId, key, shown, [facet]);
    }
    return record;
  }
}

/**
 * The object (or version: `versionId`) whose record a request changes in place (tags, ACL, lock,
 * restore): NoSuchKey, NoSuchVersion, or MethodNotAllowed for a delete marker.
 */
export function locateToChange(
  t: Pick<ObjectWriteTables, 'objects' | 'versioned'>,
  bucketId: string,
  key: string,
  versionId: string | undefined,
): Located | { failure: EngineFailure } {
  if (versionId === undefined) {
    const current = t.objects.get(objectKey(bucketId, key));
    if (current === undefined) return failed('NoSuchKey', 'The specified key does not exist.');
    return { record: current, current: true };
  }
  const located =
    versionId === 'null' || isVersionId(versionId)
      ? t.versioned.locate(bucketId, key, versionId)
      : undefined;
  if (located === undefined)
    return failed('NoSuchVersion', 'The specified version does not exist.');
  if (located.record.deleteMarker === true) {
    return failed('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  return located;
}
