import type { Catalog } from '../../engine/catalog/catalog.js';
import { S3Error } from '../s3/errors.js';

/**
 * PLACEHOLDER: validates `text` and stores it as the bucket's policy (PutBucketPolicy and the
 * admin API share this). A public policy under BlockPublicPolicy is AccessDenied.
 */
export async function putBucketPolicy(
  _catalog: Catalog,
  _bucketId: string,
  _text: string,
): Promise<void> {
  throw new S3Error('NotImplemented', 'Bucket policies are not implemented yet.');
}

/** PLACEHOLDER: removes the bucket's policy (none: nothing to do, as DeleteBucketPolicy). */
export async function deleteBucketPolicy(_catalog: Catalog, _bucketId: string): Promise<void> {
  throw new S3Error('NotImplemented', 'Bucket policies are not implemented yet.');
}
