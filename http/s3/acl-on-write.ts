import type { Acl, BucketAccess } from '../../engine/catalog/access.js';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import type { ObjectAclFields } from '../../engine/protocol/messages.js';
import {
  aclOf,
  isDefaultAcl,
  isOwnerOnly,
  type RequestedAcl,
  requestedAclOf,
} from '../access/acl.js';
import { isPublicAcl } from '../access/decide.js';
import { bucketOwnerId, type Principal } from '../access/principal.js';
import { accessOf, type RequestContext } from './context.js';
import { S3Error } from './errors.js';

/**
 * What a bucket's Object Ownership and PublicAccessBlock make of an ACL a request sets
 * (on a write, or by PutBucketAcl / PutObjectAcl), and who owns the objects it writes. The
 * permission to make the request is the decision's (decide.ts): these are AWS's rules on the
 * ACL itself.
 */

/**
 * Refuses an ACL the bucket does not take: under BucketOwnerEnforced (ACLs disabled) anything
 * but the bucket owner's FULL_CONTROL (bucket-owner-full-control, and private, which on an
 * object the bucket owner owns says the same) is AccessControlListNotSupported; under
 * BlockPublicAcls a grant to AllUsers or AuthenticatedUsers is AccessDenied.
 */
export function requireAclAccepted(
  access: BucketAccess,
  acl: Acl,
  bucketOwner: string,
  requested?: RequestedAcl,
): void {
  if (access.ownership === 'BucketOwnerEnforced') {
    // By name too: bucket-owner-read on the bucket owner's object expands to private, but AWS
    // takes only the two canned ACLs that mean "the bucket owner has full control".
    const canned = requested !== undefined && 'canned' in requested ? requested.canned : null;
    if (
      !isOwnerOnly(acl, bucketOwner) ||
      (canned !== null && canned !== 'private' && canned !== 'bucket-owner-full-control')
    ) {
      throw new S3Error('AccessControlListNotSupported');
    }
  }
  if (access.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(acl)) {
    throw new S3Error('AccessDenied');
  }
}

/**
 * The owner and ACL of an object a request writes, as the fields its shard message carries:
 * none when they are the defaults (the bucket owner owns it, no ACL asked), which is every
 * write to a BucketOwnerEnforced bucket (AWS's default) and every write by the bucket's owner
 * without an ACL. The owner is the writer's canonical id, except under BucketOwnerEnforced, and
 * under BucketOwnerPreferred with bucket-owner-full-control: the bucket owner's. An anonymous
 * writer (a public-read-write bucket) leaves the object to the bucket owner.
 */
export function newObjectAcl(
  access: BucketAccess,
  bucket: BucketRecord,
  principal: Principal,
  requested: RequestedAcl | undefined,
): ObjectAclFields {
  const enforced = access.ownership === 'BucketOwnerEnforced';
  if (requested === undefined && enforced) return {};
  const bucketOwner = bucketOwnerId(bucket);
  const writer = principal.kind === 'key' ? principal.canonicalId : bucketOwner;
  const preferred =
    access.ownership === 'BucketOwnerPreferred' &&
    requested !== undefined &&
    'canned' in requested &&
    requested.canned === 'bucket-owner-full-control';
  const owner = enforced || preferred ? bucketOwner : writer;
  const fields: ObjectAclFields = owner === bucketOwner ? {} : { owner };
  if (requested === undefined) return fields;
  const acl = aclOf(requested, owner, bucketOwner, 'object');
  requireAclAccepted(access, acl, bucketOwner, requested);
  if (isDefaultAcl(acl, owner)) return fields;
  fields.acl = acl;
  return fields;
}

/** The owner and ACL of the object a request writes, from its x-amz-acl / x-amz-grant-* headers. */
export function newObjectAclOf(ctx: RequestContext, bucket: BucketRecord): ObjectAclFields {
  const requested = requestedAclOf(ctx.req.headers, ctx.state.catalog);
  return newObjectAcl(accessOf(ctx, bucket), bucket, ctx.principal, requested);
}
