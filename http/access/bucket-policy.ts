import type { BucketAccess } from '../../engine/catalog/access.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { S3Error } from '../s3/errors.js';
import { updateBucketAccess, withoutUndefined } from './access-record.js';
import { isPublicPolicy, isPublicStoredPolicy } from './policy/evaluate.js';
import { parsePolicy } from './policy/parse.js';

/**
 * Validates `text` and stores it as the bucket's policy, beside its parsed form (so that a
 * request never parses JSON): PutBucketPolicy and the admin API share this. A public policy
 * under BlockPublicPolicy is AccessDenied, judged in the same transaction as the write so that
 * a PutPublicAccessBlock racing it cannot let one through.
 */
export async function putBucketPolicy(
  catalog: Catalog,
  bucketId: string,
  text: string,
): Promise<void> {
  const names = catalog.aliasesOf(bucketId);
  if (names.length === 0) throw new S3Error('NoSuchBucket');
  const document = parsePolicy(text, names);
  const isPublic = isPublicPolicy(document);
  await updateBucketAccess(catalog, bucketId, (current) => {
    if (isPublic && current.publicAccessBlock?.blockPublicPolicy === true) {
      throw new S3Error('AccessDenied');
    }
    return { ...current, policy: { text, document, isPublic } };
  });
}

/** Removes the bucket's policy (none: nothing to do, as DeleteBucketPolicy). */
export async function deleteBucketPolicy(catalog: Catalog, bucketId: string): Promise<void> {
  await updateBucketAccess(catalog, bucketId, (current) =>
    withoutUndefined({ ...current, policy: undefined }),
  );
}

/** GetBucketPolicyStatus's one answer: whether the stored policy is public (none: not). */
export function policyStatusOf(access: BucketAccess): { readonly isPublic: boolean } {
  return { isPublic: access.policy !== undefined && isPublicStoredPolicy(access.policy) };
}
