import { assertNever } from '../../engine/assert.js';
import { LIMITS } from '../../engine/limits.js';
import { ShardFailure } from '../../engine/pool/shard-client.js';
import type { EngineFailure } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';

/** Maps every failure a shard can report to its S3 error; exhaustive by construction. */
export function fromEngineFailure(failure: EngineFailure): S3Error {
  switch (failure.code) {
    case 'NoSuchKey':
      return new S3Error('NoSuchKey', undefined, {}, deleteMarkerHeaders(failure));
    case 'NoSuchVersion':
      return new S3Error('NoSuchVersion');
    case 'MethodNotAllowed':
      return new S3Error(
        'MethodNotAllowed',
        undefined,
        { Method: 'GET', ResourceType: 'DeleteMarker' },
        deleteMarkerHeaders(failure),
      );
    case 'NoSuchUpload':
      return new S3Error('NoSuchUpload');
    case 'InvalidPart':
      return new S3Error('InvalidPart', failure.message);
    case 'InvalidPartOrder':
      return new S3Error('InvalidPartOrder');
    case 'EntityTooSmall':
      return new S3Error('EntityTooSmall');
    case 'AccessDenied':
      return new S3Error('AccessDenied');
    case 'InvalidRequest':
      return new S3Error('InvalidRequest', failure.message);
    case 'BadDigest':
      return new S3Error('BadDigest', failure.message);
    case 'XAmzContentSHA256Mismatch':
      return new S3Error('XAmzContentSHA256Mismatch');
    case 'IncompleteBody':
      return new S3Error('IncompleteBody');
    case 'StorageFull':
      return new S3Error('XHangarStorageFull');
    case 'SlowDown':
      return slowDown();
    case 'ServiceUnavailable':
      return new S3Error('ServiceUnavailable', undefined, {}, retryAfter());
    case 'QuotaExceeded':
      // Garage answers a write past a bucket quota with 403 AccessDenied ("Object quota is
      // reached..." / "Bucket size quota is reached..."); S3 itself has no bucket quotas.
      return new S3Error('AccessDenied', failure.message);
    case 'PreconditionFailed':
      return new S3Error(
        'PreconditionFailed',
        undefined,
        failure.condition !== undefined ? { Condition: failure.condition } : {},
      );
    case 'ConditionalRequestConflict':
      return new S3Error('ConditionalRequestConflict');
    case 'InvalidObjectState':
      return new S3Error('InvalidObjectState', undefined, {
        ...(failure.storageClass !== undefined ? { StorageClass: failure.storageClass } : {}),
        ...(failure.accessTier !== undefined ? { AccessTier: failure.accessTier } : {}),
      });
    case 'RestoreAlreadyInProgress':
      return new S3Error('RestoreAlreadyInProgress');
    case 'KMS.DisabledException':
    case 'KMS.NotFoundException':
    case 'KMS.KMSInvalidStateException':
      return new S3Error(failure.code, failure.message);
    case 'Internal':
      return new S3Error('InternalError');
    default:
      return assertNever(failure.code);
  }
}

/** A failure caused by a delete marker: x-amz-delete-marker, its id and Last-Modified. */
function deleteMarkerHeaders(failure: EngineFailure): Record<string, string> {
  const marker = failure.deleteMarker;
  if (marker === undefined) return {};
  return {
    'x-amz-delete-marker': 'true',
    'x-amz-version-id': marker.versionId,
    'last-modified': new Date(marker.lastModifiedMs).toUTCString(),
  };
}

/** The answer to a request refused for load (a shard's or a port's): SlowDown + Retry-After. */
export function slowDown(): S3Error {
  return new S3Error('SlowDown', undefined, {}, retryAfter());
}

/** The answer to a request that arrives on an open connection while the server stops. */
export function stopping(): S3Error {
  return new S3Error('ServiceUnavailable', 'The server is stopping.', {}, retryAfter());
}

/** Tells a client refused for load (or a restarting shard) when to come back. */
function retryAfter(): Record<string, string> {
  return { 'retry-after': String(LIMITS.retryAfterSeconds) };
}

/** S3Errors pass through, shard failures are mapped, anything else is an internal error. */
export function toS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  if (error instanceof ShardFailure) return fromEngineFailure(error.failure);
  return new S3Error('InternalError');
}
