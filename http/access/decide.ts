import {
  type Acl,
  type AclPermission,
  ALL_USERS_URI,
  AUTHENTICATED_USERS_URI,
  type BucketAccess,
  type ObjectAccess,
} from '../../engine/catalog/access.js';
import type { BucketRecord, Catalog, Grant } from '../../engine/catalog/catalog.js';
import { aclRequirementOf } from './actions.js';
import type { RequestFacts } from './facts.js';
import { evaluatePolicy, isPublicStoredPolicy } from './policy/evaluate.js';
import { bucketOwnerId, type Principal } from './principal.js';

/**
 * THE authorization decision. Every S3 request (signed, presigned, anonymous, a POST form, a
 * website visit) and every second resource a request touches (a copy's source, each key of a
 * DeleteObjects) is decided here and nowhere else. AWS's evaluation order:
 *
 * 1. An explicit Deny in the bucket policy refuses (even the root key, except for the policy
 *    actions themselves, so that an operator can always undo a policy that locks everyone out).
 * 2. Otherwise any Allow allows: the root key; the key's grant on the bucket (hangar's
 *    read / write / owner grants, standing in for IAM identity policies); the bucket owner for
 *    the bucket's own configuration; an ACL grant (unless the bucket's ownership is
 *    BucketOwnerEnforced, and ignoring public grants under IgnorePublicAcls); a policy Allow
 *    (a public policy allows only the bucket's own keys under RestrictPublicBuckets).
 * 3. Otherwise AccessDenied.
 */

export interface AccessRequest {
  readonly principal: Principal;
  /** The IAM action, e.g. "s3:GetObject" (actions.ts). */
  readonly action: string;
  /** The key grant that allows the action (endpoints.ts's AUTHORIZATION). */
  readonly grant: keyof Grant;
  readonly bucket: BucketRecord;
  /** The bucket's access record, read once per request (access-record.ts). */
  readonly access: BucketAccess;
  /** The object the request is about; null for a bucket-level action. */
  readonly objectKey: string | null;
  readonly facts: RequestFacts;
  /** The target object's owner and ACL, read on first use (undefined: no such object). */
  readonly object?: () => ObjectAccess | undefined;
}

/** Why a request was allowed or refused: for tests, logs and the decision table. */
export type Verdict =
  | { readonly allowed: true; readonly by: 'root' | 'grant' | 'bucket-owner' | 'acl' | 'policy' }
  | { readonly allowed: false; readonly by: 'explicit-deny' | 'no-allow' };

/** The actions the root key may take whatever the policy says. */
const ALWAYS_ROOTS: ReadonlySet<string> = new Set([
  's3:GetBucketPolicy',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
]);

/** Object-level actions the bucket owner takes on any object, whoever wrote it (as in AWS). */
const BUCKET_OWNER_OBJECT_ACTIONS: ReadonlySet<string> = new Set([
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
]);

export function decide(catalog: Catalog, request: AccessRequest): Verdict {
  const { principal, access } = request;
  const isRoot = principal.kind === 'key' && principal.key.root;
  let policySays: 'deny' | 'allow' | 'none' = 'none';
  if (access.policy !== undefined) {
    policySays = policyVerdict(catalog, request, access.policy.document);
    if (policySays === 'deny' && !(isRoot && ALWAYS_ROOTS.has(request.action))) {
      return { allowed: false, by: 'explicit-deny' };
    }
  }
  if (isRoot) return { allowed: true, by: 'root' };
  if (principal.kind === 'key') {
    if (catalog.getGrant(request.bucket.id, principal.key.accessKeyId)[request.grant]) {
      return { allowed: true, by: 'grant' };
    }
    if (principal.canonicalId === bucketOwnerId(request.bucket) && ownerTakes(request)) {
      return { allowed: true, by: 'bucket-owner' };
    }
  }
  if (aclAllows(request)) return { allowed: true, by: 'acl' };
  if (policySays === 'allow' && !restrictedAsPublic(catalog, request)) {
    return { allowed: true, by: 'policy' };
  }
  return { allowed: false, by: 'no-allow' };
}

/**
 * What the policy says of the request. A bucket with several global aliases is the same bucket
 * under each name, so its policy may name any of them: a Deny under one name refuses, an Allow
 * under one allows.
 */
function policyVerdict(
  catalog: Catalog,
  request: AccessRequest,
  document: unknown,
): 'deny' | 'allow' | 'none' {
  const query = (name: string) => ({
    principal: request.principal,
    action: request.action,
    resource: resourceArn(name, request.objectKey),
    facts: request.facts,
  });
  const names = catalog.bucketNamesOf(request.bucket);
  if (names.length <= 1) return evaluatePolicy(document, query(request.bucket.name));
  let verdict: 'deny' | 'allow' | 'none' = 'none';
  for (const name of names) {
    const says = evaluatePolicy(document, query(name));
    if (says === 'deny') return 'deny';
    if (says === 'allow') verdict = 'allow';
  }
  return verdict;
}

/** The ARN a policy's Resource matches: the bucket, or one of its objects. */
export function resourceArn(bucketName: string, objectKey: string | null): string {
  return objectKey === null
    ? `arn:aws:s3:::${bucketName}`
    : `arn:aws:s3:::${bucketName}/${objectKey}`;
}

/** The bucket owner configures its bucket and writes or deletes any object in it. */
function ownerTakes(request: AccessRequest): boolean {
  if (request.objectKey === null) return true;
  if (BUCKET_OWNER_OBJECT_ACTIONS.has(request.action)) return true;
  // Under BucketOwnerEnforced the bucket owner owns every object, so it reads them all too.
  return request.access.ownership === 'BucketOwnerEnforced';
}

/** Whether an ACL grant (bucket or object, as the action needs) allows the request. */
function aclAllows(request: AccessRequest): boolean {
  const { access, principal } = request;
  if (access.ownership === 'BucketOwnerEnforced') return false;
  const requirement = aclRequirementOf(request.action);
  if (requirement === null) return false;
  const ignorePublic = access.publicAccessBlock?.ignorePublicAcls === true;
  if (requirement.on === 'bucket') {
    const acl = access.acl ?? ownerOnlyAcl(bucketOwnerId(request.bucket));
    return aclGrants(acl, principal, requirement.permission, ignorePublic);
  }
  const object = request.object?.();
  if (object === undefined) return false;
  // An object's owner may always read and change its ACL, whatever the ACL now says.
  const isOwner = principal.kind === 'key' && principal.canonicalId === object.owner;
  if (isOwner && requirement.permission !== 'READ') return true;
  const acl = object.acl ?? ownerOnlyAcl(object.owner);
  return aclGrants(acl, principal, requirement.permission, ignorePublic);
}

/** The ACL of a bucket or object nobody set one on: its owner's FULL_CONTROL. */
export function ownerOnlyAcl(owner: string): Acl {
  return {
    owner,
    grants: [{ grantee: { type: 'CanonicalUser', id: owner }, permission: 'FULL_CONTROL' }],
  };
}

/** Whether `acl` gives `principal` `permission` (FULL_CONTROL gives every permission). */
export function aclGrants(
  acl: Acl,
  principal: Principal,
  permission: AclPermission,
  ignorePublic: boolean,
): boolean {
  for (const grant of acl.grants) {
    if (grant.permission !== permission && grant.permission !== 'FULL_CONTROL') continue;
    const grantee = grant.grantee;
    if (grantee.type === 'CanonicalUser') {
      if (principal.kind === 'key' && principal.canonicalId === grantee.id) return true;
    } else if (!ignorePublic) {
      if (grantee.uri === ALL_USERS_URI) return true;
      if (grantee.uri === AUTHENTICATED_USERS_URI && principal.kind === 'key') return true;
    }
  }
  return false;
}

/** AWS counts grants to AllUsers and AuthenticatedUsers as public (BlockPublicAcls). */
export function isPublicAcl(acl: Acl): boolean {
  return acl.grants.some(
    (grant) =>
      grant.grantee.type === 'Group' &&
      (grant.grantee.uri === ALL_USERS_URI || grant.grantee.uri === AUTHENTICATED_USERS_URI),
  );
}

/**
 * RestrictPublicBuckets: a public policy allows only the bucket's own keys (its owner and keys
 * the operator granted access to), never anonymous requests or other keys.
 */
function restrictedAsPublic(catalog: Catalog, request: AccessRequest): boolean {
  const { access, principal } = request;
  if (access.publicAccessBlock?.restrictPublicBuckets !== true) return false;
  if (access.policy === undefined || !isPublicStoredPolicy(access.policy)) return false;
  if (principal.kind === 'anonymous') return true;
  if (principal.canonicalId === bucketOwnerId(request.bucket)) return false;
  const grant = catalog.getGrant(request.bucket.id, principal.key.accessKeyId);
  return !(grant.read || grant.write || grant.owner);
}
