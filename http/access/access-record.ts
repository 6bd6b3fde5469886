import { type BucketAccess, NO_BUCKET_ACCESS } from '../../engine/catalog/access.js';
import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';

/**
 * A bucket's access record (ACL, policy, PublicAccessBlock, OwnershipControls). Every request
 * needs it and it rarely changes: each thread keeps the decoded records, reused while the
 * bucket record (read by every request anyway) carries the same `accessVersion`. Decoding it
 * each time cost more than the rest of the decision (micro bench `authorize`).
 */
const cached = new Map<string, { readonly version: number; readonly access: BucketAccess }>();

export function bucketAccessOf(catalog: Catalog, bucket: BucketRecord | string): BucketAccess {
  // By id alone (no bucket record at hand): read, not cached (rare paths, admin tools).
  if (typeof bucket === 'string') {
    return catalog.getBucketConfig<BucketAccess>(bucket, 'access') ?? NO_BUCKET_ACCESS;
  }
  const version = bucket.accessVersion ?? 0;
  const hit = cached.get(bucket.id);
  if (hit !== undefined && hit.version === version) return hit.access;
  const access = catalog.getBucketConfig<BucketAccess>(bucket.id, 'access') ?? NO_BUCKET_ACCESS;
  if (cached.size >= LIMITS.accessRecordsCachedMax) cached.clear();
  cached.set(bucket.id, { version, access });
  return access;
}

/** Changes some fields of the access record in one transaction (others stay as they are). */
export async function updateBucketAccess(
  catalog: Catalog,
  bucketId: string,
  change: (current: BucketAccess) => BucketAccess,
): Promise<BucketAccess> {
  const next = await catalog.updateAccessRecord<BucketAccess>(bucketId, (current) => {
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
