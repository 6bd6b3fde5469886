/** How a request fails: failures cross as data (Failed), never as thrown errors. Part of the
 *  one protocol (../messages.ts). */

import type { KmsS3Code } from '../../sse/keyring.js';

export type EngineFailureCode =
  | 'NoSuchKey'
  | 'NoSuchUpload'
  | 'InvalidPart'
  | 'InvalidPartOrder'
  | 'EntityTooSmall'
  | 'InvalidRequest'
  | 'AccessDenied'
  | 'BadDigest'
  | 'XAmzContentSHA256Mismatch'
  | 'IncompleteBody'
  | 'StorageFull'
  | 'SlowDown'
  /** The shard's thread died; the request failed with it (the shard restarts). */
  | 'ServiceUnavailable'
  /** The write would take the bucket past its maxObjects or maxSize quota. */
  | 'QuotaExceeded'
  /** A versionId that names no version of the key. */
  | 'NoSuchVersion'
  /** GET/HEAD of a delete marker by its version id. */
  | 'MethodNotAllowed'
  /** A write's condition did not hold when it began (or, for a copy or delete, at commit). */
  | 'PreconditionFailed'
  /** A write's condition held when it began, but a conflicting write or delete committed first. */
  | 'ConditionalRequestConflict'
  /** A read of an archived (GLACIER, DEEP_ARCHIVE) version that is not restored; a restore
   *  of a version that is not archived. */
  | 'InvalidObjectState'
  /** RestoreObject while the version's restore is in progress. */
  | 'RestoreAlreadyInProgress'
  /** SSE-KMS: the object's keyring key is disabled, pending deletion, or gone. */
  | KmsS3Code
  | 'Internal';

export interface EngineFailure {
  code: EngineFailureCode;
  message: string;
  /** NoSuchKey or MethodNotAllowed caused by a delete marker: its id (x-amz-version-id). */
  deleteMarker?: { versionId: string; lastModifiedMs: number };
  /** PreconditionFailed: the header whose condition failed (S3's <Condition>). */
  condition?: 'If-Match' | 'If-None-Match';
  /** InvalidObjectState: the version's storage class (S3's <StorageClass>). */
  storageClass?: string;
  /** InvalidObjectState of an INTELLIGENT_TIERING version: its archive tier (<AccessTier>). */
  accessTier?: string;
}
