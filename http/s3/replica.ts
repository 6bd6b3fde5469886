import type { BucketRecord } from '../../engine/catalog/catalog.js';
import type { NotifyContext } from '../../engine/protocol/messages.js';
import { mayAlso } from './auth.js';
import { accessOf, type RequestContext } from './context.js';
import { S3Error } from './errors.js';

/**
 * The header a hangar source's replication worker (http/replication/sender.ts) sends with each
 * replica it writes, so that the destination's version reports `x-amz-replication-status:
 * REPLICA` as AWS's replicas do. AWS has no public header for this (its replication writes
 * internally), hence hangar's own; other S3 peers ignore it.
 */
export const REPLICA_HEADER = 'x-hangar-replica';

/**
 * `{ replica: true }` for a PutObject that says it is a replica, from a principal allowed
 * s3:ReplicateObject on the bucket (a write grant, or a policy Allow); a request that says so
 * without that permission is refused, never silently stored as an ordinary object.
 */
export function replicaField(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
): { replica?: true } {
  return isReplica(ctx, bucket, key, 's3:ReplicateObject') ? { replica: true } : {};
}

/**
 * A DeleteObject that a source's replication sends (a delete marker): its own marker is not
 * replicated again, so two buckets replicating to each other do not pass markers back and forth.
 */
export function replicatedDeleteNotify(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  fields: { notify?: NotifyContext },
): { notify?: NotifyContext } {
  return withoutReplication(ctx, bucket, key, fields, 's3:ReplicateDelete');
}

/**
 * A PutObjectTagging that a replica's replication sends back to its source (ReplicaModifications):
 * the source's tag change is not replicated again, or the two buckets would pass it back and forth.
 */
export function replicatedTagsNotify(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  fields: { notify?: NotifyContext },
): { notify?: NotifyContext } {
  return withoutReplication(ctx, bucket, key, fields, 's3:ReplicateTags');
}

function withoutReplication(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  fields: { notify?: NotifyContext },
  action: 's3:ReplicateDelete' | 's3:ReplicateTags',
): { notify?: NotifyContext } {
  if (!isReplica(ctx, bucket, key, action)) return fields;
  if (fields.notify?.replication === undefined) return fields;
  const { replication: _replicated, ...notify } = fields.notify;
  return notify.rules.length === 0 ? {} : { notify };
}

/** Whether the request says it is a replica, from a principal allowed `action`; else 403. */
function isReplica(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  action: 's3:ReplicateObject' | 's3:ReplicateDelete' | 's3:ReplicateTags',
): boolean {
  const header = ctx.req.headers[REPLICA_HEADER];
  if (header === undefined) return false;
  if (header.trim().toLowerCase() !== 'true') {
    throw new S3Error('InvalidArgument', `${REPLICA_HEADER} must be true`, {
      ArgumentName: REPLICA_HEADER,
    });
  }
  const allowed = mayAlso(ctx, {
    action,
    grant: 'write',
    bucket,
    access: accessOf(ctx, bucket),
    objectKey: key,
  });
  if (!allowed) throw new S3Error('AccessDenied');
  return true;
}
