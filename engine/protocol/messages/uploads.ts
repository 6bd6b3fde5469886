/** Multipart uploads. Part of the one protocol (../messages.ts). */

import type { Acl } from '../../catalog/access.js';
import type { ChecksumAlgorithm, ChecksumType, StoredChecksum } from '../../checksums/checksums.js';
import type { ManagedKey, ManagedSummary } from '../../sse/managed.js';
import type { NotifyContext } from './events.js';
import type {
  ObjectHeaders,
  ObjectLock,
  QuotaCheck,
  Tag,
  VersioningState,
  WriteConditions,
} from './objects.js';

/** The additional checksum a multipart upload was created with. */
export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
}

/** Where an UploadPart's bytes go. */
export interface PartTarget {
  uploadId: string;
  partNumber: number;
}

/** An in-progress multipart upload. */
export interface UploadInfo {
  key: string;
  uploadId: string;
  initiatedMs: number;
  headers: ObjectHeaders;
  checksum: UploadChecksum | null;
  /** SSE-C uploads: the MD5 of the key every part must be sent with. */
  sseKeyMd5: string | null;
  /** The canonical id of the key that created the upload (absent: anonymous, or an old upload). */
  initiator?: string;
  /** The owner the completed object will have (absent: the bucket's owner). */
  owner?: string;
}

export interface PartInfo {
  partNumber: number;
  etag: string;
  bytes: number;
  lastModifiedMs: number;
  checksum: StoredChecksum | null;
  /** UploadPart's answer for an SSE-S3/KMS upload: what to report (absent otherwise). */
  sseManaged?: ManagedSummary;
}

/** A part as CompleteMultipartUpload lists it: number, ETag, and any checksums the client gave. */
export interface ChosenPart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export type UploadListEntry =
  | { kind: 'upload'; upload: UploadInfo }
  | { kind: 'prefix'; prefix: string };

/** The multipart-upload family of ShardRequest. */
export type UploadRequest =
  | {
      kind: 'CreateUpload';
      reqId: number;
      bucketId: string;
      key: string;
      headers: ObjectHeaders;
      checksum: UploadChecksum | null;
      sseKeyMd5: string | null;
      /** SSE-S3 / SSE-KMS uploads: the upload's data key, sealed (every part uses it). */
      sseManaged?: ManagedKey;
      /** Tags the object gets when the upload completes. */
      tags: Tag[];
      /** The object lock the object gets when the upload completes (x-amz-object-lock-*). */
      lock?: ObjectLock;
      /** The canonical id of the key creating the upload (ListParts' Initiator). */
      initiator?: string;
      /** The owner and ACL the object gets when the upload completes (absent: the defaults). */
      owner?: string;
      acl?: Acl;
      /** x-amz-storage-class (absent: STANDARD); the parts' blocks go to its tier. */
      storageClass?: string;
    }
  | {
      kind: 'CompleteUpload';
      reqId: number;
      bucketId: string;
      key: string;
      uploadId: string;
      parts: ChosenPart[];
      /** A FULL_OBJECT checksum the client asserts for the whole object (base64). */
      fullObjectBase64: string | null;
      quota?: QuotaCheck;
      versioning?: VersioningState;
      /** The bucket's default retention, for an upload created without lock headers. */
      defaultLock?: ObjectLock;
      /** Checked inside the commit; a write of the key since the upload began makes a 409. */
      conditions?: WriteConditions;
      notify?: NotifyContext;
      /** Completed by a source's replication: the version says REPLICA. */
      replica?: true;
      /** A replica's version id, its source's (hangar → hangar, x-hangar-source-version-id). */
      replicaVersionId?: string;
    }
  | { kind: 'AbortUpload'; reqId: number; bucketId: string; key: string; uploadId: string }
  | {
      kind: 'ListParts';
      reqId: number;
      bucketId: string;
      key: string;
      uploadId: string;
      afterPartNumber: number;
      limit: number;
    }
  | {
      kind: 'ListUploads';
      reqId: number;
      bucketId: string;
      prefix: string;
      delimiter: string;
      /** Exclusive lower bound on (key, uploadId); uploadId '' means "after every upload of key". */
      afterKey: string;
      afterUploadId: string;
      limit: number;
    };

/** The multipart-upload family of ShardResult. */
export type UploadResult =
  | { kind: 'UploadCreated'; uploadId: string }
  | { kind: 'PartStored'; part: PartInfo }
  | { kind: 'Aborted' }
  | { kind: 'Parts'; upload: UploadInfo; parts: PartInfo[]; truncated: boolean }
  | { kind: 'Uploads'; entries: UploadListEntry[]; truncated: boolean };
