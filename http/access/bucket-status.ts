import type {
  BucketAccess,
  ObjectOwnership,
  PublicAccessBlock,
} from '../../engine/catalog/access.js';
import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { bucketAccessOf, updateBucketAccess } from './access-record.js';
import { isPublicAcl } from './decide.js';
import { isPublicStoredPolicy } from './policy/evaluate.js';
import { bucketOwnerId } from './principal.js';

/**
 * What an operator asks of a bucket's access (the admin API's GetBucketInfo and `hangar bucket
 * info`): who owns it, its Object Ownership and PublicAccessBlock, whether its policy and its
 * ACL are public, and whether the bucket is public after the block applies, with the reason.
 * "Public" is AWS's: a policy that grants anyone outside the account (isPublicPolicy), an ACL
 * grant to AllUsers or AuthenticatedUsers (isPublicAcl). Object ACLs are not read (a bucket
 * may hold millions): the reason says when they could still make single objects public.
 */
export interface BucketAccessStatus {
  readonly owner: {
    /** The owning key's access key id (the root key's for the account); null: a deleted key. */
    readonly accessKeyId: string | null;
    /** Its canonical user id (64 hex digits), as S3's Owner elements show it. */
    readonly canonicalId: string;
    /** The bucket belongs to the account (made by the root key, the CLI or the admin API). */
    readonly root: boolean;
  };
  /** The Object Ownership setting; null: none (a bucket from before ACLs: as ObjectWriter). */
  readonly objectOwnership: ObjectOwnership | null;
  /** The PublicAccessBlock; null: none (nothing blocked). */
  readonly publicAccessBlock: PublicAccessBlock | null;
  readonly hasPolicy: boolean;
  readonly policyPublic: boolean;
  readonly aclPublic: boolean;
  /** Whether anyone outside the bucket's own keys may reach it now, after the block. */
  readonly public: boolean;
  readonly publicReason: string;
}

export function bucketAccessStatus(catalog: Catalog, bucket: BucketRecord): BucketAccessStatus {
  const access = bucketAccessOf(catalog, bucket.id);
  return {
    owner: ownerOf(catalog, bucket),
    objectOwnership: access.ownership ?? null,
    publicAccessBlock: access.publicAccessBlock ?? null,
    hasPolicy: access.policy !== undefined,
    ...publicityOf(access),
  };
}

function ownerOf(catalog: Catalog, bucket: BucketRecord): BucketAccessStatus['owner'] {
  const canonicalId = bucketOwnerId(bucket);
  if (bucket.ownerKey !== undefined) {
    const exists = catalog.getKey(bucket.ownerKey) !== undefined;
    return { accessKeyId: exists ? bucket.ownerKey : null, canonicalId, root: false };
  }
  const rootKey = catalog.listKeys().find((key) => key.root);
  return { accessKeyId: rootKey?.accessKeyId ?? null, canonicalId, root: true };
}

/** The public verdict and its reason, in the order the decision (decide.ts) applies them. */
export function publicityOf(
  access: BucketAccess,
): Pick<BucketAccessStatus, 'policyPublic' | 'aclPublic' | 'public' | 'publicReason'> {
  const block = access.publicAccessBlock;
  const aclsOff = access.ownership === 'BucketOwnerEnforced';
  const policyPublic = access.policy !== undefined && isPublicStoredPolicy(access.policy);
  const aclPublic = access.acl !== undefined && isPublicAcl(access.acl);
  const open: string[] = [];
  const held: string[] = [];
  if (policyPublic) {
    if (block?.restrictPublicBuckets === true) {
      held.push(
        "the bucket policy is public, but RestrictPublicBuckets limits it to the bucket's own keys",
      );
    } else open.push('the bucket policy grants public access');
  }
  if (aclPublic) {
    if (aclsOff) held.push('the bucket ACL is public, but ACLs are disabled (BucketOwnerEnforced)');
    else if (block?.ignorePublicAcls === true) {
      held.push('the bucket ACL is public, but IgnorePublicAcls ignores it');
    } else open.push('the bucket ACL grants access to AllUsers or AuthenticatedUsers');
  }
  if (open.length > 0) {
    return { policyPublic, aclPublic, public: true, publicReason: open.join('; ') };
  }
  const reasons =
    held.length > 0 ? held : ['neither the bucket policy nor the bucket ACL is public'];
  if (!aclsOff && block?.ignorePublicAcls !== true) {
    reasons.push("objects' own ACLs may still make single objects public");
  }
  return { policyPublic, aclPublic, public: false, publicReason: reasons.join('; ') };
}

/** A change of the PublicAccessBlock: flags to set (the others kept), or null to remove it. */
export type PublicAccessBlockChange = Partial<PublicAccessBlock> | null;

/**
 * Applies a PublicAccessBlock change (the admin API, the CLI) in one transaction of the access
 * record: flags not named keep their value (false when the bucket had no block, as AWS reads
 * absent flags); null removes the block.
 */
export async function changePublicAccessBlock(
  catalog: Catalog,
  bucketId: string,
  change: PublicAccessBlockChange,
): Promise<void> {
  await updateBucketAccess(catalog, bucketId, (current) => {
    const { publicAccessBlock: before, ...rest } = current;
    if (change === null) return rest;
    const base: PublicAccessBlock = before ?? {
      blockPublicAcls: false,
      ignorePublicAcls: false,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    };
    return { ...rest, publicAccessBlock: { ...base, ...change } };
  });
}
