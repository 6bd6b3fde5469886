import { EngineFailureError } from '../errors.js';
import { type MetaStore, type ObjectRecord, shownVersionId } from '../meta/store.js';

/**
 * The record a GET, HEAD, copy source or tagging read names: the current object, or the version
 * `versionId` names. Fails as S3 does: NoSuchKey (with the delete marker's id when the latest
 * version is one), NoSuchVersion for an id that names nothing, MethodNotAllowed for a delete
 * marker named by its id.
 */
export function recordToRead(
  meta: MetaStore,
  bucketId: string,
  key: string,
  versionId: string | undefined,
): ObjectRecord {
  if (versionId === undefined) {
    const record = meta.getObject(bucketId, key);
    if (record !== undefined) return record;
    // The miss path only: a hit above costs one LMDB get, as before versioning.
    const marker = meta.latestDeleteMarker(bucketId, key);
    throw new EngineFailureError({
      code: 'NoSuchKey',
      message: 'The specified key does not exist.',
      ...(marker !== undefined ? { deleteMarker: markerOf(marker) } : {}),
    });
  }
  const record = meta.getVersion(bucketId, key, versionId);
  if (record === undefined) {
    throw new EngineFailureError({
      code: 'NoSuchVersion',
      message: 'The specified version does not exist.',
    });
  }
  if (record.deleteMarker === true) {
    throw new EngineFailureError({
      code: 'MethodNotAllowed',
      message: 'The specified method is not allowed against this resource.',
      deleteMarker: markerOf(record),
    });
  }
  return record;
}

function markerOf(record: ObjectRecord): { versionId: string; lastModifiedMs: number } {
  return { versionId: shownVersionId(record), lastModifiedMs: record.lastModifiedMs };
}
