import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import type { VersioningState } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';

/**
 * A bucket's versioning state, from the catalog's bucket configs: undefined for a bucket never
 * versioned (its writes keep the record layout and path of before versioning).
 */
export function versioningOf(
  catalog: Catalog,
  bucket: BucketRecord | string,
): VersioningState | undefined {
  return catalog.getBucketConfig<VersioningState>(bucket, 'versioning');
}

/** `{ versioning }` for a shard request, `{}` for a never-versioned bucket. */
export function versioningField(
  catalog: Catalog,
  bucket: BucketRecord | string,
): { versioning?: VersioningState } {
  const versioning = versioningOf(catalog, bucket);
  return versioning === undefined ? {} : { versioning };
}

const VERSION_ID = /^(null|[0-9a-f]{32})$/;

/**
 * A versionId parameter: 'null' or one of hangar's ids; anything else is AWS's 400
 * InvalidArgument "Invalid version id specified".
 */
export function checkVersionId(versionId: string | undefined, name = 'versionId'): void {
  if (versionId === undefined || VERSION_ID.test(versionId)) return;
  throw new S3Error('InvalidArgument', 'Invalid version id specified', {
    ArgumentName: name,
    ArgumentValue: versionId,
  });
}

/** `{ versionId }` for a shard request naming a version (checked), `{}` for the current one. */
export function versionIdField(versionId: string | undefined): { versionId?: string } {
  checkVersionId(versionId);
  return versionId === undefined ? {} : { versionId };
}

/** `x-amz-version-id` for an answer that names a version (none in never-versioned buckets). */
export function versionIdHeader(versionId: string | undefined): Array<[string, string]> {
  return versionId === undefined ? [] : [['x-amz-version-id', versionId]];
}
