/** Objects: PUT (and UploadPart) streaming, GET/HEAD/copy sources, deletes, versions, tags,
 *  ACLs and object lock. Part of the one protocol (../messages.ts). */

import type { BlockCrcs } from '../../blocks/segment-crc.js';
import type { Acl } from '../../catalog/access.js';
import type { ChecksumAlgorithm, StoredChecksum } from '../../checksums/checksums.js';
import type { Preconditions } from '../../preconditions.js';
import type { ManagedSummary } from '../../sse/managed.js';
import type { CustomerKey, EncryptionKey } from '../../sse-c.js';
import type { NotifyContext, ReplicationStatus } from './events.js';
import type { EngineFailure } from './failures.js';
import type { PartTarget } from './uploads.js';

/** Object metadata chosen by the client: standard content headers and x-amz-meta-*. */
export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-website-redirect-location: where a website endpoint redirects a GET of the object. */
  websiteRedirectLocation?: string;
  /** x-amz-meta-* without the prefix, names lower-cased. */
  userMeta: Record<string, string>;
}

export interface BlockRef {
  /** SHA-256 of the block's bytes, hex. */
  hash: string;
  bytes: number;
  /**
   * CRC32Cs of the block's segments, what a GET checks the file against (SHA-256 is ~6x
   * slower). Carried from the writer to the shard's blocks table and from there to readers;
   * object and part records never store them (MetaStore keeps them once per block). Absent for a
   * block written before CRCs were recorded: its reads check the SHA-256 instead.
   */
  crcs?: BlockCrcs;
}

/**
 * A new object's owner and ACL when they are not the defaults (`owner` absent: the bucket's
 * owner; `acl` absent: the owner's FULL_CONTROL only). Most writes carry neither field, so the
 * hot path encodes, sends and stores nothing more (http/s3/acl-on-write.ts).
 */
export interface ObjectAclFields {
  owner?: string;
  acl?: Acl;
}

/** An object tag (S3 tagging): keys are unique within a tag set. */
export interface Tag {
  key: string;
  value: string;
}

/** What GET/HEAD/List need to know about an object. */
export interface ObjectInfo {
  key: string;
  bytes: number;
  /** Quoted, as S3 returns it. */
  etag: string;
  lastModifiedMs: number;
  headers: ObjectHeaders;
  checksum: StoredChecksum | null;
  /** Present when the object is stored inline in its metadata record. */
  inline: boolean;
  /** Sizes of the parts of an object made by a multipart upload, in part order. */
  partSizes: number[] | null;
  /** The parts' own checksums (base64), in part order, when the upload had an algorithm. */
  partChecksums: string[] | null;
  /** base64 MD5 of the customer key an SSE-C object is encrypted with (null: not encrypted). */
  sseKeyMd5: string | null;
  /** SSE-S3 / SSE-KMS: what GET and HEAD report (absent: not managed-encrypted). */
  sseManaged?: ManagedSummary;
  /** The object's tags, sorted by key (empty: none). */
  tags: Tag[];
  /**
   * The version's id as S3 shows it ('null' for the null version) when the object was written
   * under versioning; absent for objects of never-versioned buckets (no x-amz-version-id).
   */
  versionId?: string;
  /** The version's object lock (HEAD/GET report it); absent: none. */
  lock?: ObjectLock;
  /** x-amz-replication-status (absent: not replicated). */
  replication?: ReplicationStatus;
  /** The version's storage class (absent: STANDARD, which S3 does not show in headers). */
  storageClass?: string;
  /** An archived version's restore (absent: never restored, or the restore expired away). */
  restore?: RestoreState;
  /** INTELLIGENT_TIERING: the archive access tier (x-amz-archive-status; absent: none). */
  accessTier?: string;
}

/** Who asked for a restore's speed (RestoreRequest's GlacierJobParameters/Tier). */
export type RestoreTier = 'Expedited' | 'Standard' | 'Bulk';

/**
 * An archived (GLACIER, DEEP_ARCHIVE) version's restore, stored on its record: in progress
 * (expiryMs null) or done, readable until expiryMs. A restore changes only the record: the
 * bytes are served from the archive tier's blocks (no second copy).
 */
export interface RestoreState {
  expiryMs: number | null;
  tier: RestoreTier;
  /** Days asked for: the expiry is counted from the completion. */
  days: number;
  /** When the restore began (server clock): names the restore its queue row completes. */
  requestedMs: number;
}

/** S3 Object Lock retention modes. */
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/**
 * A version's object lock (S3 Object Lock), stored with its record: a retention (mode and
 * retain-until date, both or neither) and a legal hold. Absent: the version was never locked.
 */
export interface ObjectLock {
  mode?: RetentionMode;
  /** Retain-until date, ms since the epoch (with `mode`). */
  retainUntilMs?: number;
  /** The legal hold's status, once set (OFF is kept: HEAD reports it). */
  legalHold?: boolean;
}

/**
 * What a request that may remove a locked version brings: the server's clock (the testing
 * offset applied, as lifecycle's) and whether GOVERNANCE retention may be bypassed (the
 * x-amz-bypass-governance-retention header from a key with the owner grant).
 */
export interface LockCheck {
  nowMs: number;
  bypassGovernance: boolean;
}

/** PutObjectRetention / PutObjectLegalHold: the one lock field a request changes. */
export type LockChange =
  | { kind: 'retention'; mode: RetentionMode | null; retainUntilMs: number | null }
  | { kind: 'legalHold'; on: boolean };

/**
 * A bucket's versioning state as writes see it: absent (undefined) for a never-versioned bucket,
 * whose writes replace the record in place exactly as before versioning existed.
 */
export type VersioningState = 'Enabled' | 'Suspended';

/** A version of a key in a ListObjectVersions page (or a common prefix). */
export type VersionListEntry =
  | {
      kind: 'version';
      key: string;
      versionId: string;
      isLatest: boolean;
      deleteMarker: boolean;
      bytes: number;
      etag: string;
      lastModifiedMs: number;
      /** The version's owner (canonical id; absent: the bucket's owner). */
      owner?: string;
      /** The version's storage class (absent: STANDARD). */
      storageClass?: string;
      /** An archived version's restore (ListObjectVersions' RestoreStatus). */
      restore?: RestoreState;
    }
  | { kind: 'prefix'; prefix: string };

/** One DeleteObjects entry: a key, and the version to remove for good (absent: the current). */
export interface DeleteTarget {
  key: string;
  versionId?: string;
  /** The entry's ETag (DeleteObjects, AWS 2025): delete only the object with this ETag. */
  etag?: string;
  /** A replicated delete marker (no versionId): its version id, the source marker's. */
  markerVersionId?: string;
}

/** What deleting one key or version did (S3's Deleted element). */
export interface DeleteOutcome {
  key: string;
  existed: boolean;
  /** The version removed, or the delete marker created. */
  versionId?: string;
  /** A delete marker was created, or the version removed was one. */
  deleteMarker?: boolean;
  /** The entry's ETag condition failed (PreconditionFailed, or NoSuchKey): nothing removed. */
  failure?: EngineFailure;
  /** The version is locked (retention or legal hold): nothing was removed (AccessDenied). */
  locked?: true;
}

/** Digests the client asked to have checked; the shard computes and compares them before commit. */
export interface PutExpectations {
  md5Base64?: string;
  sha256Hex?: string;
  /** The additional checksum's expected value (base64), when the client sent one. */
  checksumBase64?: string;
}

/** What ends a PUT: the digests to check, and the quota counters read while the body came. */
export interface PutEndFields {
  expect: PutExpectations;
  /** The bucket's quotas read while the body streamed (replaces PutBegin's; absent: that). */
  quota?: QuotaCheck;
}

/**
 * A conditional write's expectations of the key's current object (PutObject, CopyObject,
 * CompleteMultipartUpload, DeleteObject): evaluated by the owning shard inside the transaction
 * that replaces or removes the record (engine/write-conditions.ts).
 */
export interface WriteConditions {
  /** If-Match: the current object's ETag is one of these (a list, or "*": any object). */
  ifMatch?: string;
  /** If-None-Match: "*" (the only value S3 accepts): no object has the key. */
  ifNoneMatch?: '*';
}

/** A listing entry: the few fields a listing shows (lean: a page carries up to 1000 per shard). */
export type ListEntry =
  | {
      kind: 'object';
      key: string;
      bytes: number;
      etag: string;
      lastModifiedMs: number;
      /** The object's owner (canonical id), read only when the listing shows owners. */
      owner?: string;
      /** The object's storage class (absent: STANDARD). */
      storageClass?: string;
      /** An archived object's restore (ListObjects' RestoreStatus). */
      restore?: RestoreState;
    }
  | { kind: 'prefix'; prefix: string };

/**
 * A bucket's quotas (null: no limit) and the other shards' counters for the bucket, read by the
 * HTTP thread when the write started. The committing shard adds its own counters, read inside
 * the committing transaction, and refuses a write that would pass a limit. Two shards committing
 * near the limit at once can each pass on the other's stale count: the overshoot is bounded by
 * the writes in flight on other shards.
 */
export interface QuotaCheck {
  maxObjects: number | null;
  maxSize: number | null;
  otherObjects: number;
  otherBytes: number;
}

/**
 * What an OpenObject is for, which decides what its Opened reply carries:
 *  - 'info': metadata only (HEAD, GetObjectAttributes, probes). No session, no body.
 *  - 'read': GetObject. An inline body comes whole beside the reply (a transferred ArrayBuffer,
 *    never inside the cbor header) and no session is opened; an object in blocks gets a read
 *    session (blocks pinned) unless its preconditions answer 304/412. No block list either way:
 *    the session keeps it on the shard.
 *  - 'relay': a read session whatever the object (UploadPartCopy streams the range onward).
 *  - 'copy': CopyObject. A read session (for re-encrypting copies) and the `source`: block
 *    list, block paths and inline body, which CopyFrom hands to the target shard.
 */
export type OpenPurpose = 'info' | 'read' | 'relay' | 'copy';

/** A copy source: an object whose blocks stay pinned until its read session closes. */
export interface OpenedObject {
  info: ObjectInfo;
  /** Shard that holds the blocks, and where they are on disk. */
  shardId: number;
  blocks: BlockRef[];
  blockPaths: string[];
  /** The whole body when stored inline (small objects). */
  inlineBody: Uint8Array | null;
}

/** The object family of ShardRequest (see there for the PUT protocol). */
export type ObjectRequest =
  | {
      kind: 'PutBegin';
      reqId: number;
      bucketId: string;
      key: string;
      headers: ObjectHeaders;
      /** The body's length; null when known only at PutEnd (PostObject), checked by the caller. */
      declaredBytes: number | null;
      payloadSha256: boolean;
      /** Set for UploadPart: the bytes become a part of an upload, not an object. */
      part: PartTarget | null;
      /** The additional checksum to compute (the expected value comes with PutEnd). */
      checksumAlgorithm: ChecksumAlgorithm | null;
      /** SSE-C, SSE-S3 or SSE-KMS: encrypt the bytes with this key (parts of an SSE-S3/KMS
       *  upload: null, the shard takes the upload's key). */
      sse: EncryptionKey | null;
      /** The new object's tags (x-amz-tagging); absent: none. Parts take no tags. */
      tags?: Tag[];
      /** The bucket's quotas, checked when the object commits (absent: no quota). */
      quota?: QuotaCheck;
      /** The bucket's versioning (absent: never versioned). */
      versioning?: VersioningState;
      /** The new version's object lock (headers or the bucket's default retention). */
      lock?: ObjectLock;
      /** The new object's owner, when not the bucket's; parts take none. */
      owner?: string;
      /** The new object's ACL, when not its owner's FULL_CONTROL only. */
      acl?: Acl;
      /**
       * Set when the whole body (at most chunkBytes) travels beside this message: the shard
       * begins, takes the body and ends the PUT at once. No BodyChunk or PutEnd follows.
       */
      end?: PutEndFields;
      /** Objects only: checked at PutBegin (refused at once) and again inside the commit. */
      conditions?: WriteConditions;
      /** Objects only, buckets with notifications only. */
      notify?: NotifyContext;
      /** A replica written by a source's replication (s3:ReplicateObject allowed): REPLICA. */
      replica?: true;
      /** A replica's version id, its source's (hangar → hangar, x-hangar-source-version-id). */
      replicaVersionId?: string;
      /** x-amz-storage-class, validated (absent: STANDARD). Parts take none. */
      storageClass?: string;
    }
  | { kind: 'BodyChunk'; reqId: number; bytes: number }
  | ({ kind: 'PutEnd'; reqId: number } & PutEndFields)
  | { kind: 'Cancel'; reqId: number }
  | {
      kind: 'OpenObject';
      reqId: number;
      bucketId: string;
      key: string;
      purpose: OpenPurpose;
      /** SSE-C: the key the object was encrypted with (required for encrypted objects). */
      sse: CustomerKey | null;
      /**
       * 'read' only: the request's If-* values. When they answer 304 or 412 the shard opens no
       * read session and sends no body (the HTTP thread evaluates them alike and answers).
       */
      conditions?: Preconditions;
      /** A version by its id ('null': the null version); absent: the current one. */
      versionId?: string;
      /**
       * Reads of the bytes (GET, copy sources, Select): an archived version not restored at this
       * time (the server's clock, test offset applied) is refused with InvalidObjectState.
       */
      readableAtMs?: number;
    }
  | { kind: 'ReadRange'; reqId: number; start: number; endExclusive: number }
  | { kind: 'Credit'; reqId: number }
  | {
      kind: 'DeleteObjects';
      reqId: number;
      bucketId: string;
      targets: DeleteTarget[];
      versioning?: VersioningState;
      /** Removing a version for good checks its lock against this (absent: now, no bypass). */
      lockCheck?: LockCheck;
      /** DeleteObject's If-Match (one key only): delete only the object with this ETag. */
      ifMatch?: string;
      notify?: NotifyContext;
    }
  | {
      kind: 'ListVersions';
      reqId: number;
      bucketId: string;
      prefix: string;
      delimiter: string;
      keyMarker: string;
      /** '' for none; 'null' or a version id of keyMarker otherwise. */
      versionIdMarker: string;
      limit: number;
    }
  | {
      kind: 'CopyFrom';
      reqId: number;
      bucketId: string;
      key: string;
      source: OpenedObject;
      headers: ObjectHeaders;
      /** The copy's tags (the source's, or x-amz-tagging's with the REPLACE directive). */
      tags: Tag[];
      quota?: QuotaCheck;
      versioning?: VersioningState;
      lock?: ObjectLock;
      /** The copy's owner and ACL (the request's, never the source's; absent: the defaults). */
      owner?: string;
      acl?: Acl;
      /** The target key's conditions (If-Match / If-None-Match), checked inside the commit. */
      conditions?: WriteConditions;
      notify?: NotifyContext;
      /** The copy's storage class (x-amz-storage-class; absent: STANDARD, never the source's). */
      storageClass?: string;
    }
  /** An object's tags, without opening it (no SSE-C key needed, no block pinned). */
  | { kind: 'GetTags'; reqId: number; bucketId: string; key: string; versionId?: string }
  /** Replaces an object's tags (empty: removes them), keeping everything else of the record. */
  | {
      kind: 'SetTags';
      reqId: number;
      bucketId: string;
      key: string;
      tags: Tag[];
      versionId?: string;
      notify?: NotifyContext;
    }
  /**
   * An object's (or version's) owner and ACL (GetObjectAcl); with `acl` also replaces its ACL
   * (PutObjectAcl; null: back to the owner's FULL_CONTROL only), keeping the rest of its record.
   */
  | {
      kind: 'ObjectAcl';
      reqId: number;
      bucketId: string;
      key: string;
      versionId?: string;
      acl?: Acl | null;
      /**
       * With `acl`: the owner the new ACL was built for, as stored (null: absent, the bucket's
       * owner). The ACL is written only if the record still has it, in the same transaction;
       * otherwise ConditionalRequestConflict (an overwrite by another owner came between).
       */
      expectedOwner?: string | null;
      /** A change (acl present) on a bucket with notifications: records s3:ObjectAcl:Put. */
      notify?: NotifyContext;
    }
  /** A version's object lock (GetObjectRetention / GetObjectLegalHold). */
  | { kind: 'GetLock'; reqId: number; bucketId: string; key: string; versionId?: string }
  /** Changes a version's retention or legal hold, under S3 Object Lock's rules. */
  | {
      kind: 'SetLock';
      reqId: number;
      bucketId: string;
      key: string;
      versionId?: string;
      change: LockChange;
      check: LockCheck;
      /** The bucket's replication rules: a replicated version's lock change replicates. */
      notify?: NotifyContext;
    };

/** The object family of ShardResult. */
export type ObjectResult =
  | { kind: 'Put'; info: ObjectInfo }
  /**
   * `session`: a read session holds the object (ReadRange streams it; Cancel releases it).
   * `source`: with purpose 'copy' only. A 'read' of an inline object has its body beside.
   */
  | { kind: 'Opened'; info: ObjectInfo; session: boolean; source: OpenedObject | null }
  | { kind: 'Deleted'; results: DeleteOutcome[] }
  | { kind: 'VersionsListed'; entries: VersionListEntry[]; truncated: boolean }
  | { kind: 'Tags'; tags: Tag[]; versionId?: string }
  | { kind: 'Lock'; lock: ObjectLock; versionId?: string }
  /** An object's owner and ACL as stored (absent: the defaults, see ObjectAclFields). */
  | { kind: 'Acl'; owner?: string; acl?: Acl; versionId?: string }
  | { kind: 'ReadDone' };
