import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { objectExpiry } from '../../engine/lifecycle.js';
import type { ObjectInfo } from '../../engine/protocol/messages.js';
import { engineLifecycleRules, type StoredLifecycleRule } from './lifecycle-config.js';
import { httpDate } from './object-headers.js';

/**
 * S3's `x-amz-expiration` response header (PutObject, CopyObject, CompleteMultipartUpload,
 * GetObject, HeadObject): when the bucket's lifecycle rules will expire the object, and by which
 * rule — `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="<URL-encoded rule id>"`. The
 * earliest matching enabled Expiration rule wins (engine/lifecycle.ts, as the shards apply them).
 * Buckets without a lifecycle configuration pay one catalog lookup.
 */
export function expirationHeader(
  catalog: Catalog,
  bucket: BucketRecord | string,
  info: Pick<ObjectInfo, 'key' | 'bytes' | 'tags' | 'lastModifiedMs'>,
): Array<[string, string]> {
  const stored = catalog.getBucketConfig<StoredLifecycleRule[]>(bucket, 'lifecycle');
  if (stored === undefined) return [];
  const expiry = objectExpiry(
    engineLifecycleRules(stored),
    info.key,
    info.bytes,
    info.tags,
    info.lastModifiedMs,
  );
  if (expiry === null) return [];
  return [
    [
      'x-amz-expiration',
      `expiry-date="${httpDate(expiry.atMs)}", rule-id="${encodeURIComponent(expiry.ruleId)}"`,
    ],
  ];
}
