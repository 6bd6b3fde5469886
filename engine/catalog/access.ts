/**
 * The data of AWS's authorization model as hangar stores it (catalog and object records): ACLs, the bucket policy, the
 * PublicAccessBlock and the Object Ownership setting of a bucket. The shapes are AWS's, so that
 * what a client puts is what it gets back; the decision that reads them is http/access/decide.ts.
 */

/** ACL permissions (AccessControlPolicy `Permission`). */
export type AclPermission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';

export const ALL_USERS_URI = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS_URI = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY_URI = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

export type GroupUri =
  | typeof ALL_USERS_URI
  | typeof AUTHENTICATED_USERS_URI
  | typeof LOG_DELIVERY_URI;

/** A grantee: a canonical user (a hangar key, by canonical id) or one of AWS's groups. */
export type Grantee =
  | { readonly type: 'CanonicalUser'; readonly id: string }
  | { readonly type: 'Group'; readonly uri: GroupUri };

export interface AclGrant {
  readonly grantee: Grantee;
  readonly permission: AclPermission;
}

/** An access control list: its owner (canonical id) and its grants, in the order given. */
export interface Acl {
  readonly owner: string;
  readonly grants: readonly AclGrant[];
}

/** PublicAccessBlockConfiguration; absent flags are false, as in AWS. */
export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

export const ALL_PUBLIC_ACCESS_BLOCKED: PublicAccessBlock = Object.freeze({
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
});

/** OwnershipControls' one rule. */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

/**
 * A bucket policy as stored: the document exactly as the client sent it (GetBucketPolicy returns
 * it unchanged), its parsed form, which the policy module defines and evaluates, and whether it
 * is public (AWS's meaning), judged once when it was put. Records from before `isPublic` lack
 * it: the policy module judges those on read (http/access/policy/public.ts).
 */
export interface StoredPolicy<Document = unknown> {
  readonly text: string;
  readonly document: Document;
  readonly isPublic?: boolean;
}

/**
 * Everything about who may do what on one bucket, beyond the keys' grants: one catalog record
 * (kind 'access'), so that a request reads it once. An absent field is AWS's "not configured":
 * no ACL beyond the owner's, no policy, no PublicAccessBlock, no OwnershipControls (a bucket
 * from before they existed: ACLs on, as ObjectWriter).
 */
export interface BucketAccess {
  readonly acl?: Acl;
  readonly policy?: StoredPolicy;
  readonly publicAccessBlock?: PublicAccessBlock;
  readonly ownership?: ObjectOwnership;
}

export const NO_BUCKET_ACCESS: BucketAccess = Object.freeze({});

/**
 * What every new bucket starts with (CreateBucket, the admin API, the CLI): AWS's defaults since
 * April 2023, ACLs disabled (BucketOwnerEnforced) and all public access blocked. A public bucket
 * is then deliberate steps (DeletePublicAccessBlock, PutBucketPolicy), as on AWS. Buckets made
 * before hangar had ACLs carry no access record: ACLs enabled, nothing public, nothing blocked.
 */
export const NEW_BUCKET_ACCESS: BucketAccess = Object.freeze({
  ownership: 'BucketOwnerEnforced',
  publicAccessBlock: ALL_PUBLIC_ACCESS_BLOCKED,
});

/** What the decision needs of one object: its owner (canonical id) and its ACL, if any. */
export interface ObjectAccess {
  readonly owner: string;
  readonly acl?: Acl;
}
