import type { EventName, ObjectFacts } from '../notify/events.js';
import type { MetadataFacet, NotifyContext, ReplicationRule } from '../protocol/messages.js';
import { type ObjectRecord, shownVersionId } from './object-table.js';
import type { OutboxTable } from './outbox-table.js';
import type { ReplicationQueue } from './replication-queue.js';

/**
 * What a change records beside itself, inside its own transaction: its event in the outbox
 * (buckets with notifications) and its replication rows (buckets with replication).
 */
export class ChangeEvents {
  constructor(
    private readonly outbox: OutboxTable,
    private readonly replication: ReplicationQueue,
  ) {}

  /** Inside a transaction: records the change's event in the outbox (buckets with notifications). */
  note(notify: Notify, object: ObjectFacts, event: EventName = notify.event): void {
    this.outbox.record(notify.context, event, object, Date.now());
  }

  /** Inside a transaction: the change's replication rows (buckets with replication only). */
  queueReplication(
    notify: Pick<Notify, 'context'>,
    targets: readonly ReplicationRule[],
    op: 'put' | 'delete' | 'meta',
    bucketId: string,
    key: string,
    versionId: string | undefined,
    facets: readonly MetadataFacet[] = [],
  ): void {
    this.replication.queue(notify.context, targets, op, bucketId, key, versionId, facets);
  }

  /** The event of a change to an existing version's record (its tags or ACL). */
  noteRewrite(notify: Notify, key: string, record: ObjectRecord): void {
    const shown = record.versionId !== undefined ? shownVersionId(record) : undefined;
    this.note(notify, createdFacts(key, record, shown));
  }
}

/** A change's notification: the bucket's configurations and the event the change is. */
export interface Notify {
  context: NotifyContext;
  event: EventName;
}

/** A created (or re-tagged) object's facts for its event record. */
export function createdFacts(
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
export function versionIdOf(written: object): string | undefined {
  return 'versionId' in written && typeof written.versionId === 'string'
    ? written.versionId
    : undefined;
}

/** ObjectRemoved:* or LifecycleExpiration:*, by what the delete did. */
export function removalEvent(requested: EventName, marker: boolean): EventName {
  if (requested.startsWith('LifecycleExpiration')) {
    return marker ? 'LifecycleExpiration:DeleteMarkerCreated' : 'LifecycleExpiration:Delete';
  }
  return marker ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectRemoved:Delete';
}
