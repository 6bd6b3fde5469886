import type { NotifyContext, NotifyRule } from '../protocol/messages.js';

/**
 * S3 event notifications inside the shard: which of a bucket's notification configurations an
 * event matches, and the event record in AWS's S3 event format (eventVersion 2.1), built at
 * commit time so the outbox holds exactly what the targets receive.
 */

/** An event name without the "s3:" prefix, as records carry it ("ObjectCreated:Put"). */
export type EventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete'
  | 'ObjectRemoved:DeleteMarkerCreated'
  | 'ObjectTagging:Put'
  | 'ObjectTagging:Delete'
  | 'ObjectAcl:Put'
  | 'LifecycleExpiration:Delete'
  | 'LifecycleExpiration:DeleteMarkerCreated'
  /** A lifecycle Transition moved a version to another storage class. */
  | 'LifecycleTransition'
  /** Intelligent tiering moved an object to an archive access tier. */
  | 'IntelligentTiering'
  | 'ObjectRestore:Post'
  | 'ObjectRestore:Completed'
  | 'ObjectRestore:Delete'
  | ReplicationEventName;

/** The replication worker's events (S3 Replication Time Control and replication metrics). */
export type ReplicationEventName =
  | 'Replication:OperationFailedReplication'
  | 'Replication:OperationMissedThreshold'
  | 'Replication:OperationReplicatedAfterThreshold'
  | 'Replication:OperationNotTracked';

/** Every event type a configuration may name, wildcards included (AWS's list, those hangar emits). */
export const EVENT_TYPES: readonly string[] = [
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectTagging:*',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
  's3:ObjectAcl:Put',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:LifecycleTransition',
  's3:IntelligentTiering',
  's3:ObjectRestore:*',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:Replication:*',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationMissedThreshold',
  's3:Replication:OperationReplicatedAfterThreshold',
  's3:Replication:OperationNotTracked',
];

/** Whether a configured event type ("s3:ObjectCreated:*") covers the event. */
export function eventTypeCovers(type: string, event: string): boolean {
  const name = type.startsWith('s3:') ? type.slice(3) : type;
  if (name.endsWith(':*')) return event.startsWith(name.slice(0, -1));
  return name === event;
}

/** The rules whose event types and key filter match. */
export function matchingRules(
  rules: readonly NotifyRule[],
  event: EventName,
  key: string,
): NotifyRule[] {
  return rules.filter(
    (rule) =>
      key.startsWith(rule.prefix) &&
      key.endsWith(rule.suffix) &&
      rule.events.some((type) => eventTypeCovers(type, event)),
  );
}

/** What a committed change tells the event record about its object. */
export interface ObjectFacts {
  key: string;
  size?: number;
  /** Unquoted, as AWS's records carry it. */
  eTag?: string;
  versionId?: string;
  /** ObjectRestore:Completed: the restore's expiry and the object's class (glacierEventData). */
  restored?: { expiryMs: number; storageClass: string };
}

/** AWS's object key in records: URL-encoded, spaces as '+'. */
function encodedKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}

/** One record of AWS's S3 event message. */
export function eventRecord(
  context: NotifyContext,
  rule: NotifyRule,
  event: EventName,
  object: ObjectFacts,
  atMs: number,
  sequencer: string,
): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: context.region,
    eventTime: new Date(atMs).toISOString(),
    eventName: event,
    userIdentity: { principalId: context.principalId },
    requestParameters: { sourceIPAddress: context.sourceIp },
    responseElements: {
      'x-amz-request-id': context.requestId,
      'x-amz-id-2': context.requestId,
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: rule.id,
      bucket: {
        name: context.bucketName,
        ownerIdentity: { principalId: context.ownerId },
        arn: `arn:aws:s3:::${context.bucketName}`,
      },
      object: {
        key: encodedKey(object.key),
        ...(object.size !== undefined ? { size: object.size } : {}),
        ...(object.eTag !== undefined ? { eTag: object.eTag } : {}),
        ...(object.versionId !== undefined && object.versionId !== 'null'
          ? { versionId: object.versionId }
          : {}),
        sequencer,
      },
    },
    ...(object.restored !== undefined
      ? {
          glacierEventData: {
            restoreEventData: {
              lifecycleRestorationExpiryTime: new Date(object.restored.expiryMs).toISOString(),
              lifecycleRestoreStorageClass: object.restored.storageClass,
            },
          },
        }
      : {}),
  };
}
