import { type BucketAccess, NO_BUCKET_ACCESS } from '../../engine/catalog/access.js';
import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';

/**
 * A bucket's access record (ACL, policy, PublicAccessBlock, OwnershipControls). Every request
 * needs it: given the bucket's record, the catalog answers from its per-thread cache
 * (getBucketConfig), which costs a map lookup instead of a read and a decode (1.5 µs, more than
 * the rest of the decision: micro bench `authorize`).
 */
export function bucketAccessOf(catalog: Catalog, bucket: BucketRecord | string): BucketAccess {
  return catalog.getBucketConfig<BucketAccess>(bucket, 'access') ?? NO_BUCKET_ACCESS;
}

/** Changes some fields of the access record in one transaction (others stay as they are). */
export async function updateBucketAccess(
  catalog: Catalog,
  bucketId: string,
  change: (current: BucketAccess) => BucketAccess,
): Promise<BucketAccess> {
  const next = await catalog.updateBucketConfig<BucketAccess>(bucketId, 'access', (current) => {
    const changed = change(current ?? NO_BUCKET_ACCESS);
    return Object.keys(changed).length === 0 ? undefined : changed;
  });
  return next ?? NO_BUCKET_ACCESS;
}

/** Removes undefined fields so that a cleared setting leaves no key behind. */
export function withoutUndefined(
  access: {
    [K in keyof BucketAccess]: BucketAccess[K] | undefined;
  },
): BucketAccess {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(access)) if (value !== undefined) out[name] = value;
  return out as BucketAccess;
}
