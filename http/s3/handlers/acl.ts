import type { Acl, AclGrant, BucketAccess } from '../../../engine/catalog/access.js';
import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import { LIMITS } from '../../../engine/limits.js';
import { ShardFailure } from '../../../engine/pool/shard-client.js';
import { updateBucketAccess, withoutUndefined } from '../../access/access-record.js';
import {
  aclOf,
  canonicalUsers,
  isDefaultAcl,
  type RequestedAcl,
  requestedAclOf,
  requireKnownGrantees,
} from '../../access/acl.js';
import { ownerOnlyAcl } from '../../access/decide.js';
import { bucketOwnerId } from '../../access/principal.js';
import { requireAclAccepted } from '../acl-on-write.js';
import { parseAclXml, renderAclXml } from '../acl-xml.js';
import { checkBodyDigest } from '../checksum-headers.js';
import { accessOf, type RequestContext, requireBucket, shardFor } from '../context.js';
import type { VersionedObjectEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { notifyField } from '../notifications.js';
import { replicatedMetadataNotify } from '../replica.js';
import { sendEmpty } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { versionIdField, versionIdHeader } from '../versioning.js';

/**
 * Get/PutBucketAcl and Get/PutObjectAcl. A bucket's ACL is the `acl` of its access record (the
 * catalog); an object's is the `acl` of its record on its shard, version by version. Under
 * BucketOwnerEnforced ACLs are off: reads answer the bucket owner's FULL_CONTROL, writes take
 * only that (acl-on-write.ts). Who may call these is the decision's (READ_ACP / WRITE_ACP).
 */

/** What a PutBucketAcl / PutObjectAcl asks for: its headers, else its AccessControlPolicy. */
type AclChange =
  | { readonly from: 'headers'; readonly requested: RequestedAcl }
  | { readonly from: 'xml'; readonly ownerId: string | undefined; readonly grants: AclGrant[] };

async function aclChangeOf(ctx: RequestContext): Promise<AclChange> {
  // The SDKs' model marks both ACL writes requestChecksumRequired, but S3 itself takes them
  // without one: s3cmd's setacl sends none and works against AWS. A digest that is sent is checked.
  const body = await readSignedBody(ctx);
  checkBodyDigest(ctx.req.headers, body);
  const requested = requestedAclOf(ctx.req.headers, ctx.state.catalog);
  if (requested !== undefined) return { from: 'headers', requested };
  if (body.length === 0) {
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', {
      MissingHeaderName: 'x-amz-acl',
    });
  }
  const doc = parseAclXml(body.toString('utf8'));
  requireKnownGrantees(doc.grants, ctx.state.catalog);
  return { from: 'xml', ownerId: doc.ownerId, grants: doc.grants };
}

/** The new ACL of a resource owned by `owner`; an AccessControlPolicy cannot change the owner. */
function aclOfChange(
  change: AclChange,
  owner: string,
  bucketOwner: string,
  scope: 'bucket' | 'object',
): Acl {
  if (change.from === 'headers') return aclOf(change.requested, owner, bucketOwner, scope);
  if (change.ownerId !== undefined && change.ownerId !== owner) throw new S3Error('AccessDenied');
  return { owner, grants: change.grants };
}

function requestedOf(change: AclChange): RequestedAcl | undefined {
  return change.from === 'headers' ? change.requested : undefined;
}

function sendAcl(ctx: RequestContext, acl: Acl, headers: Array<[string, string]> = []): void {
  const xml = renderAclXml(acl, canonicalUsers(ctx.state.catalog));
  ctx.res.send(200, [['content-type', 'application/xml'], ...headers], xml);
}

// ---- bucket ACLs ----

/** The ACL in force on a bucket: its owner's FULL_CONTROL alone when none is set or ACLs are off. */
export function bucketAclOf(bucket: BucketRecord, access: BucketAccess): Acl {
  const owner = bucketOwnerId(bucket);
  if (access.ownership === 'BucketOwnerEnforced' || access.acl === undefined) {
    return ownerOnlyAcl(owner);
  }
  return access.acl;
}

export function handleGetBucketAcl(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  sendAcl(ctx, bucketAclOf(bucket, accessOf(ctx, bucket)));
}

/** PutBucketAcl: canned or x-amz-grant-* headers, or an AccessControlPolicy body. */
export async function handlePutBucketAcl(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const change = await aclChangeOf(ctx);
  const owner = bucketOwnerId(bucket);
  const acl = aclOfChange(change, owner, owner, 'bucket');
  await updateBucketAccess(ctx.state.catalog, bucket.id, (current) => {
    // Judged against the record as it is inside the transaction (ownership may just have changed).
    requireAclAccepted(current, acl, owner, requestedOf(change));
    return withoutUndefined({ ...current, acl: isDefaultAcl(acl, owner) ? undefined : acl });
  });
  sendEmpty(ctx, 200);
}

// ---- object ACLs ----

/** GetObjectAcl: the object's (or version's) owner and ACL; NoSuchKey without one. */
export async function handleGetObjectAcl(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  const stored = await shardFor(ctx.state, bucket, e.key).call(
    { kind: 'ObjectAcl', bucketId: bucket.id, key: e.key, ...version },
    'Acl',
  );
  const bucketOwner = bucketOwnerId(bucket);
  const owner = stored.owner ?? bucketOwner;
  const acl =
    accessOf(ctx, bucket).ownership === 'BucketOwnerEnforced'
      ? ownerOnlyAcl(bucketOwner)
      : (stored.acl ?? ownerOnlyAcl(owner));
  sendAcl(ctx, acl, versionIdHeader(stored.versionId));
}

/**
 * PutObjectAcl: replaces the object's (or version's) ACL; its owner stays. The owner is read
 * first (canned ACLs name it, and an AccessControlPolicy must name it too), and the shard writes
 * the ACL only if the owner is still that one, in one transaction: an overwrite by another owner
 * in between makes the handler read again rather than give the new object an ACL built for the
 * old owner. The same owner's overwrite keeps the write: as if the ACL came after it.
 */
export async function handlePutObjectAcl(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const change = await aclChangeOf(ctx);
  for (let attempt = 1; ; attempt++) {
    try {
      const versionId = await writeObjectAcl(ctx, e, bucket, change);
      sendEmpty(ctx, 200, versionIdHeader(versionId));
      return;
    } catch (error) {
      const conflict =
        error instanceof ShardFailure && error.failure.code === 'ConditionalRequestConflict';
      if (!conflict || attempt >= LIMITS.objectAclAttemptsMax) throw error;
    }
  }
}

/** One read of the owner and one conditional write of the ACL; the version written. */
async function writeObjectAcl(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
  bucket: BucketRecord,
  change: AclChange,
): Promise<string | undefined> {
  const version = versionIdField(e.versionId);
  const shard = shardFor(ctx.state, bucket, e.key);
  const current = await shard.call(
    { kind: 'ObjectAcl', bucketId: bucket.id, key: e.key, ...version },
    'Acl',
  );
  const access = accessOf(ctx, bucket);
  const bucketOwner = bucketOwnerId(bucket);
  const owner =
    access.ownership === 'BucketOwnerEnforced' ? bucketOwner : (current.owner ?? bucketOwner);
  const acl = aclOfChange(change, owner, bucketOwner, 'object');
  requireAclAccepted(access, acl, bucketOwner, requestedOf(change));
  const stored = await shard.call(
    {
      kind: 'ObjectAcl',
      bucketId: bucket.id,
      key: e.key,
      ...version,
      acl: isDefaultAcl(acl, owner) ? null : acl,
      expectedOwner: current.owner ?? null,
      ...replicatedMetadataNotify(ctx, bucket, e.key, notifyField(ctx, bucket)),
    },
    'Acl',
  );
  return stored.versionId;
}
