import {
  type Acl,
  type AclGrant,
  type AclPermission,
  ALL_USERS_URI,
  AUTHENTICATED_USERS_URI,
  type Grantee,
  type GroupUri,
  LOG_DELIVERY_URI,
} from '../../engine/catalog/access.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import { canonicalIdOf, ROOT_CANONICAL_ID } from './principal.js';

/**
 * AWS's access control lists as requests state them: canned ACLs (`x-amz-acl`, a POST form's
 * `acl` field) and explicit grants (`x-amz-grant-*` headers), expanded into the grants AWS
 * stores. The XML form (AccessControlPolicy) is http/s3/acl-xml.ts; what a bucket's Object
 * Ownership allows is http/s3/acl-on-write.ts; what a stored ACL allows is decide.ts's.
 */

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

/** A bucket's ACL or an object's: canned bucket-owner-* ACLs name the bucket owner on objects only. */
export type AclScope = 'bucket' | 'object';

/** What a request asks for: a canned ACL or explicit grants. */
export type RequestedAcl =
  | { readonly canned: CannedAcl }
  | { readonly grants: readonly AclGrant[] };

const GROUP_URIS: ReadonlySet<string> = new Set([
  ALL_USERS_URI,
  AUTHENTICATED_USERS_URI,
  LOG_DELIVERY_URI,
]);

/** The x-amz-grant-* headers and the permission each grants. */
const GRANT_HEADERS: ReadonlyArray<readonly [string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/** A canned ACL's name, checked: anything else is AWS's InvalidArgument. */
export function cannedAclOf(value: string): CannedAcl {
  const found = CANNED_ACLS.find((name) => name === value);
  if (found === undefined) {
    throw new S3Error('InvalidArgument', undefined, {
      ArgumentName: 'x-amz-acl',
      ArgumentValue: value,
    });
  }
  return found;
}

/**
 * The ACL a request's headers ask for; undefined when they ask for none (the common case: no
 * header looked at beyond six absent ones). Canned and explicit together are InvalidRequest.
 */
export function requestedAclOf(
  headers: Readonly<Record<string, string>>,
  catalog: Catalog,
): RequestedAcl | undefined {
  const canned = headers['x-amz-acl'];
  let grants: AclGrant[] | undefined;
  for (const [name, permission] of GRANT_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    grants ??= [];
    for (const grantee of granteesOfHeader(name, value)) grants.push({ grantee, permission });
  }
  if (canned !== undefined && grants !== undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Specifying both Canned ACLs and Header Grants is not allowed',
    );
  }
  if (canned !== undefined) return { canned: cannedAclOf(canned.trim()) };
  if (grants === undefined) return undefined;
  if (grants.length > LIMITS.aclGrantsMax) {
    throw new S3Error('InvalidArgument', `An ACL may have at most ${LIMITS.aclGrantsMax} grants.`);
  }
  requireKnownGrantees(grants, catalog);
  return { grants };
}

/** `id="…", uri="…", emailAddress="…"`, comma-separated, values quoted or not. */
const GRANTEE_ITEM = /\s*(id|uri|emailAddress)\s*=\s*(?:"([^"]*)"|([^,\s"]*))\s*(,|$)/y;

function granteesOfHeader(name: string, value: string): Grantee[] {
  const grantees: Grantee[] = [];
  GRANTEE_ITEM.lastIndex = 0;
  while (GRANTEE_ITEM.lastIndex < value.length) {
    const start = GRANTEE_ITEM.lastIndex;
    const match = GRANTEE_ITEM.exec(value);
    if (match === null) throw invalidGrantHeader(name, value);
    const [, type, quoted, bare, comma] = match;
    grantees.push(granteeOf(type ?? '', quoted ?? bare ?? ''));
    // `id="a",` with nothing after the comma is malformed; so is a match that consumed nothing.
    if (
      GRANTEE_ITEM.lastIndex === start ||
      (comma === ',' && GRANTEE_ITEM.lastIndex === value.length)
    ) {
      throw invalidGrantHeader(name, value);
    }
  }
  if (grantees.length === 0) throw invalidGrantHeader(name, value);
  return grantees;
}

function invalidGrantHeader(name: string, value: string): S3Error {
  return new S3Error('InvalidArgument', undefined, { ArgumentName: name, ArgumentValue: value });
}

/** One grantee by its kind (`id`, `uri`, `emailAddress`); e-mail grantees are AWS's error. */
export function granteeOf(type: string, value: string): Grantee {
  if (type === 'id') return { type: 'CanonicalUser', id: value };
  if (type === 'uri') {
    if (!GROUP_URIS.has(value)) {
      throw new S3Error('InvalidArgument', 'Invalid group uri', {
        ArgumentName: 'uri',
        ArgumentValue: value,
      });
    }
    return { type: 'Group', uri: value as GroupUri };
  }
  throw new S3Error('UnresolvableGrantByEmailAddress');
}

/** Every canonical user an ACL names must be a key of this hangar (AWS: "Invalid id"). */
export function requireKnownGrantees(grants: readonly AclGrant[], catalog: Catalog): void {
  const wanted = grants.filter((grant) => grant.grantee.type === 'CanonicalUser');
  if (wanted.length === 0) return;
  const known = canonicalUsers(catalog);
  for (const { grantee } of wanted) {
    if (grantee.type === 'CanonicalUser' && !known.has(grantee.id)) {
      throw new S3Error('InvalidArgument', 'Invalid id', {
        ArgumentName: 'CanonicalUser/ID',
        ArgumentValue: grantee.id,
      });
    }
  }
}

/**
 * Every canonical user of this hangar (each key, the root key as the account) and its display
 * name (the key's name). A scan of the keys: ACL requests only, never the hot path.
 */
export function canonicalUsers(catalog: Catalog): Map<string, string> {
  const users = new Map<string, string>([[ROOT_CANONICAL_ID, 'root']]);
  for (const key of catalog.listKeys()) users.set(canonicalIdOf(key), key.name);
  return users;
}

function userGrant(id: string, permission: AclPermission): AclGrant {
  return { grantee: { type: 'CanonicalUser', id }, permission };
}

function groupGrant(uri: GroupUri, permission: AclPermission): AclGrant {
  return { grantee: { type: 'Group', uri }, permission };
}

/**
 * A canned ACL's grants, as AWS expands them: the owner's FULL_CONTROL and the canned extras.
 * bucket-owner-read / -full-control name the bucket owner on an object (nothing more when the
 * writer is the bucket owner) and are plain private on a bucket. aws-exec-read's READ for
 * Amazon EC2 has no one to name in hangar: it is private too.
 */
export function cannedGrants(
  canned: CannedAcl,
  owner: string,
  bucketOwner: string,
  scope: AclScope,
): AclGrant[] {
  const grants = [userGrant(owner, 'FULL_CONTROL')];
  switch (canned) {
    case 'private':
    case 'aws-exec-read':
      break;
    case 'public-read':
      grants.push(groupGrant(ALL_USERS_URI, 'READ'));
      break;
    case 'public-read-write':
      grants.push(groupGrant(ALL_USERS_URI, 'READ'), groupGrant(ALL_USERS_URI, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(groupGrant(AUTHENTICATED_USERS_URI, 'READ'));
      break;
    case 'bucket-owner-read':
      if (scope === 'object' && bucketOwner !== owner) grants.push(userGrant(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (scope === 'object' && bucketOwner !== owner) {
        grants.push(userGrant(bucketOwner, 'FULL_CONTROL'));
      }
      break;
    case 'log-delivery-write':
      grants.push(groupGrant(LOG_DELIVERY_URI, 'WRITE'), groupGrant(LOG_DELIVERY_URI, 'READ_ACP'));
      break;
  }
  return grants;
}

/** The ACL a request asks for, for a resource owned by `owner`. */
export function aclOf(
  requested: RequestedAcl,
  owner: string,
  bucketOwner: string,
  scope: AclScope,
): Acl {
  const grants =
    'canned' in requested
      ? cannedGrants(requested.canned, owner, bucketOwner, scope)
      : requested.grants;
  return { owner, grants };
}

/** Whether an ACL gives nobody anything beyond its owner's FULL_CONTROL (AWS's "private"). */
export function isOwnerOnly(acl: Acl, owner: string): boolean {
  return acl.grants.every(
    (grant) =>
      grant.permission === 'FULL_CONTROL' &&
      grant.grantee.type === 'CanonicalUser' &&
      grant.grantee.id === owner,
  );
}

/** Whether an ACL is exactly what an absent one means: its owner's FULL_CONTROL, once. */
export function isDefaultAcl(acl: Acl, owner: string): boolean {
  return acl.grants.length === 1 && isOwnerOnly(acl, owner);
}
