import type { BucketRecord } from '../../engine/catalog/catalog.js';
import type { NotifyContext } from '../../engine/protocol/messages.js';
import { mayAlso } from './auth.js';
import { accessOf, type RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { versioningOf } from './versioning.js';

/**
 * The header a hangar source's replication worker (http/replication/sender.ts) sends with each
 * replica it writes, so that the destination's version reports `x-amz-replication-status:
 * REPLICA` as AWS's replicas do. AWS has no public header for this (its replication writes
 * internally), hence hangar's own; other S3 peers ignore it.
 */
export const REPLICA_HEADER = 'x-hangar-replica';

/**
 * The source's version id of a replica (or of a replicated delete marker), sent by a hangar
 * source beside REPLICA_HEADER: a hangar destination stores the version under that id, as AWS's
 * replicas keep their source's version ids (versioned.ts putReplica). Honoured only on a
 * replica from a principal allowed to replicate (the one decision), in a versioning-Enabled
 * bucket; other S3 peers ignore it and assign ids of their own.
 */
export const SOURCE_VERSION_HEADER = 'x-hangar-source-version-id';

const HANGAR_VERSION_ID = /^[0-9a-f]{32}$/;

/**
 * `{ replica: true }` for a PutObject that says it is a replica, from a principal allowed
 * s3:ReplicateObject on the bucket (a write grant, or a policy Allow); a request that says so
 * without that permission is refused, never silently stored as an ordinary object.
 */
export function replicaField(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
): { replica?: true; replicaVersionId?: string } {
  const replica = isReplica(ctx, bucket, key, 's3:ReplicateObject');
  const versionId = sourceVersionIdOf(ctx, bucket, replica);
  if (!replica) return {};
  return versionId === undefined
    ? { replica: true }
    : { replica: true, replicaVersionId: versionId };
}

/** `{ markerVersionId }` for a DeleteObject target that a hangar source's replication sends. */
export function replicatedMarkerField(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
): { markerVersionId?: string } {
  const replica = isReplica(ctx, bucket, key, 's3:ReplicateDelete');
  const versionId = sourceVersionIdOf(ctx, bucket, replica);
  return versionId === undefined ? {} : { markerVersionId: versionId };
}

/**
 * The source version id a replica names, when it is to be honoured: undefined without the
 * header, or in a bucket whose versioning is not Enabled (a replica there gets the id such a
 * bucket gives, as before; AWS requires versioned destinations anyway). 400 InvalidArgument
 * for the header on a request that is not a replica, or for an id hangar never makes.
 */
function sourceVersionIdOf(
  ctx: RequestContext,
  bucket: BucketRecord,
  replica: boolean,
): string | undefined {
  const header = ctx.req.headers[SOURCE_VERSION_HEADER];
  if (header === undefined) return undefined;
  if (!replica) {
    throw new S3Error('InvalidArgument', `${SOURCE_VERSION_HEADER} needs ${REPLICA_HEADER}`, {
      ArgumentName: SOURCE_VERSION_HEADER,
    });
  }
  if (!HANGAR_VERSION_ID.test(header)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', {
      ArgumentName: SOURCE_VERSION_HEADER,
      ArgumentValue: header.slice(0, 64),
    });
  }
  return versioningOf(ctx.state.catalog, bucket) === 'Enabled' ? header : undefined;
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

/**
 * A PutObjectAcl, PutObjectRetention or PutObjectLegalHold that replication sends (a replicated
 * version's metadata change, or a replica's sent back to its source): not replicated again, or
 * two buckets replicating to each other would pass it back and forth.
 */
export function replicatedMetadataNotify(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  fields: { notify?: NotifyContext },
): { notify?: NotifyContext } {
  return withoutReplication(ctx, bucket, key, fields, 's3:ReplicateObject');
}

function withoutReplication(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  fields: { notify?: NotifyContext },
  action: 's3:ReplicateObject' | 's3:ReplicateDelete' | 's3:ReplicateTags',
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
