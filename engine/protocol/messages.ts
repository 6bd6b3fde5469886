/**
 * The one contract between the HTTP thread and the shard actors. Every message has a `kind` and a
 * `reqId`; body bytes travel beside a message as a transferred ArrayBuffer (see codec.ts), not
 * inside its cbor header: PUT and GET chunks, and the whole body of an inline object a GET opens.
 * One exception: a CopyObject's source (`OpenedObject.inlineBody`, at most the inline limit)
 * crosses inside Opened and CopyFrom. Failures cross as data (`Failed`), never as thrown
 * errors, because structured clone drops Error subclasses.
 */

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

import type { BlockCrcs } from '../blocks/segment-crc.js';
import type { Acl } from '../catalog/access.js';
import type { ChecksumAlgorithm, ChecksumType, StoredChecksum } from '../checksums/checksums.js';
import type { Preconditions } from '../preconditions.js';
import type { KmsS3Code } from '../sse/keyring.js';
import type { ManagedKey, ManagedSummary } from '../sse/managed.js';
import type { CustomerKey, EncryptionKey } from '../sse-c.js';
import type { FsyncKind, LatencyHistogram } from '../stats.js';

export type { ChecksumAlgorithm, ChecksumType, CustomerKey, Preconditions, StoredChecksum };

/** The additional checksum a multipart upload was created with. */
export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
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

/**
 * One notification configuration of a bucket as the shards match it (engine/notify/events.ts):
 * its Id, the S3 event names it subscribes to ('s3:ObjectCreated:*', ...), its key filter and the
 * operator's targets it names.
 */
export interface NotifyRule {
  id: string;
  events: string[];
  prefix: string;
  suffix: string;
  targets: string[];
}

/**
 * Sent with a change only when the bucket has a notification configuration (absent: the shard
 * records nothing, so unnotified buckets pay nothing). The shard writes the matching events into
 * its outbox in the same LMDB transaction as the change (engine/meta/outbox-table.ts).
 */
export interface NotifyContext {
  rules: NotifyRule[];
  bucketName: string;
  region: string;
  /** The bucket owner's canonical id (ownerIdentity.principalId). */
  ownerId: string;
  /** The requester (userIdentity.principalId). */
  principalId: string;
  sourceIp: string;
  requestId: string;
  /** PutBegin of a POST upload or of a re-encrypting copy: ObjectCreated:Post / :Copy, not :Put. */
  via?: 'Post' | 'Copy';
  /**
   * The bucket's enabled replication rules, only when it has a replication configuration: a
   * matching write is marked PENDING and queued (engine/meta/replication-queue.ts) in the same
   * transaction. A context may carry replication rules and no notification rules.
   */
  replication?: ReplicationRule[];
}

/** One enabled replication rule as the shards match it (http/s3/replication-config.ts). */
export interface ReplicationRule {
  id: string;
  /** Among matching rules of one destination, the highest wins (V1 rules: 0). */
  priority: number;
  prefix: string;
  /** Every tag must be on the object. */
  tags: Tag[];
  /** Delete markers (a DELETE without a version id) are replicated too. */
  deleteMarkers: boolean;
  /** The destination bucket's name (its ARN resolved). */
  destination: string;
  storageClass?: string;
}

/** x-amz-replication-status as a version stores it: absent for versions no rule matched. */
export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

/** A replication queue row as the replication worker reads it. */
export interface ReplicationEntry {
  id: string;
  op: 'put' | 'delete';
  bucketId: string;
  /** The source bucket's name when the change was made (the worker reads through it). */
  bucketName: string;
  key: string;
  /** The source version (put) or the delete marker's version (delete). */
  versionId: string;
  ruleId: string;
  destination: string;
  storageClass?: string;
  createdMs: number;
  /** Failed attempts so far, stored in the row (absent: none), so a restart keeps counting. */
  attempts?: number;
}

/** The worker's verdict on a queue row: the row leaves the queue, the version takes `status`. */
export interface ReplicationSettlement {
  id: string;
  /** null: nothing to record (the version is gone, or a delete marker was replicated). */
  status: 'COMPLETED' | 'FAILED' | null;
}

/** An outbox entry as the delivery worker reads it: one event for one target. */
export interface OutboxEntry {
  id: string;
  target: string;
  /** The event's record (AWS's Records[0]), JSON; with `whole`, the whole message. */
  record: string;
  createdMs: number;
  /** The record is the whole message (s3:TestEvent), sent as it is. */
  whole?: true;
}

/** A whole message for one target (s3:TestEvent), recorded by RecordOutbox. */
export interface OutboxMessage {
  target: string;
  /** The message, JSON. */
  body: string;
}

/** An object tag (S3 tagging): keys are unique within a tag set. */
export interface Tag {
  key: string;
  value: string;
}

/**
 * One enabled lifecycle rule as the shards apply it (plain data, built from a bucket's stored
 * configuration by the HTTP side): a filter, and the actions hangar implements.
 */
export interface LifecycleRule {
  id: string;
  prefix: string;
  /** Every tag must be on the object. */
  tags: Tag[];
  /** Exclusive bounds on the object's size, when given. */
  sizeGreaterThan: number | null;
  sizeLessThan: number | null;
  /** Expiration.Days: expires at the first midnight UTC after lastModified + days. */
  expirationDays: number | null;
  /** Expiration.Date (ms since the epoch, a midnight UTC): expires every object at that time. */
  expirationDateMs: number | null;
  /** AbortIncompleteMultipartUpload.DaysAfterInitiation. */
  abortUploadDays: number | null;
  /** NoncurrentVersionExpiration.NoncurrentDays (absent: none). */
  noncurrentDays?: number;
  /** NoncurrentVersionExpiration.NewerNoncurrentVersions: how many noncurrent versions stay. */
  newerNoncurrentVersions?: number;
  /** Expiration.ExpiredObjectDeleteMarker: a delete marker left alone is removed. */
  expiredObjectDeleteMarker?: boolean;
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
    }
  | { kind: 'prefix'; prefix: string };

/** One DeleteObjects entry: a key, and the version to remove for good (absent: the current). */
export interface DeleteTarget {
  key: string;
  versionId?: string;
  /** The entry's ETag (DeleteObjects, AWS 2025): delete only the object with this ETag. */
  etag?: string;
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
    }
  | { kind: 'prefix'; prefix: string };

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
}

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

/** Block totals of one shard (O(1): kept by every transaction that moves a reference). */
export interface BlockTotals {
  /** Distinct blocks referenced, and their bytes (what the shard's block names hold). */
  stored: number;
  storedBytes: number;
  /** References from objects and parts; references beyond the first are deduplicated. */
  references: number;
  referencedBytes: number;
}

/** What a shard reports about itself (admin API, /metrics). */
export interface ShardStats {
  /** Every bucket with objects on the shard. */
  buckets: Array<{ bucketId: string; objects: number; bytes: number }>;
  blocks: BlockTotals;
  /** Blocks with a recorded error (ListBlockErrors). */
  blockErrors: number;
  /** Writes of a block the shard (or a sibling, by hard link) already held, since start. */
  blocksDeduplicated: number;
  /** Unreferenced block files removed since start (start-up sweep, orphan cleanup). */
  orphansRemoved: number;
  fsync: Record<FsyncKind, LatencyHistogram>;
  /** Seconds the shard's thread spent working (event-loop utilization), since start. */
  busySeconds: number;
  /** Messages the shard has taken from its mailbox since start. */
  messagesHandled: number;
  /** Streaming requests (PUT and GET sessions) open on the shard now. */
  openSessions: number;
}

/** A block error as the shard reports it (with the block's live reference count). */
export interface BlockErrorInfo {
  hash: string;
  refs: number;
  kind: 'corrupt' | 'missing';
  message: string;
  errorCount: number;
  firstErrorMs: number;
  lastTryMs: number;
}

/** Who references a block. */
export type BlockBacklink =
  | { kind: 'object'; bucketId: string; key: string }
  | { kind: 'upload'; bucketId: string; key: string; uploadId: string; partNumber: number };

/**
 * The HTTP thread's messages to a shard. A PUT is PutBegin, BodyChunk*, PutEnd, each answered
 * in order; a body of at most one chunk rides whole with its PutBegin (`end` set), answered by
 * one Done or Failed and no Credit. A PutBegin the shard refuses (no such upload, SSE-C or checksum mismatch) is answered
 * Failed at once and its reqId enters the *refused* state: BodyChunks and the PutEnd that the HTTP
 * thread sent before that answer reached it are dropped without a reply, until that PutEnd or a
 * Cancel ends the state.
 */
export type ShardRequest =
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
    }
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
    }
  | { kind: 'BucketUsage'; reqId: number; bucketId: string }
  /** A bucket's object and byte counters on this shard (O(1): kept by every commit). */
  | { kind: 'BucketCounters'; reqId: number; bucketId: string }
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
    }
  | { kind: 'PurgeBuckets'; reqId: number; liveBucketIds: string[] }
  /** The oldest `limit` events of the shard's outbox (answered OutboxRead). */
  | { kind: 'ReadOutbox'; reqId: number; limit: number }
  /** Removes delivered (or given-up) events from the outbox (answered OutboxAcked). */
  | { kind: 'AckOutbox'; reqId: number; ids: string[] }
  /** The oldest `limit` rows of the shard's replication queue (answered ReplicationRead). */
  | { kind: 'ReadReplication'; reqId: number; limit: number }
  /** Removes settled rows and records their versions' status (answered ReplicationSettled). */
  | { kind: 'SettleReplication'; reqId: number; settled: ReplicationSettlement[] }
  /** Records a row's failed attempts so far (answered ReplicationAttemptsNoted). */
  | { kind: 'NoteReplicationAttempts'; reqId: number; id: string; attempts: number }
  /**
   * The repair pass: queues the version again (PENDING) unless a row for it is queued already
   * (answered ReplicationQueued with how many rows were added).
   */
  | {
      kind: 'RequeueReplication';
      reqId: number;
      entries: Array<Omit<ReplicationEntry, 'id' | 'createdMs'>>;
    }
  /** Records whole messages (s3:TestEvent) in the outbox, durably (answered OutboxRecorded). */
  | { kind: 'RecordOutbox'; reqId: number; messages: OutboxMessage[] }
  | { kind: 'Stats'; reqId: number }
  /**
   * Aborts a bucket's multipart uploads initiated before `initiatedBeforeMs`, in one bounded
   * batch (like ApplyLifecycle's); answered with LifecycleApplied.
   */
  | {
      kind: 'CleanupUploads';
      reqId: number;
      bucketId: string;
      initiatedBeforeMs: number;
      after: string;
      limit: number;
    }
  /**
   * Scrub: re-reads at most `limit` referenced blocks (or `maxBytes`) after `after` in hash
   * order ('' = from the first) and checks each file's size and hash; a corrupt file is
   * quarantined, and corrupt or missing blocks get a block error.
   */
  | { kind: 'ScrubBlocks'; reqId: number; after: string; limit: number; maxBytes: number }
  /** Orphan cleanup of one fan-out directory (0..255): removes unreferenced, unused blocks. */
  | { kind: 'SweepOrphans'; reqId: number; fanout: number }
  | { kind: 'ListBlockErrors'; reqId: number }
  | { kind: 'GetBlockInfo'; reqId: number; hash: string; limit: number }
  /** Checks blocks with errors again now (null: every one); a block found whole is cleared. */
  | { kind: 'RetryBlocks'; reqId: number; hashes: string[] | null }
  /** Deletes every object and upload referencing one of the blocks. */
  | { kind: 'PurgeBlocks'; reqId: number; hashes: string[] }
  /**
   * Applies a bucket's lifecycle rules to one bounded batch (at most `limit` records) of its
   * objects or of its multipart uploads, from an opaque cursor ('' = the beginning).
   */
  | {
      kind: 'ApplyLifecycle';
      reqId: number;
      bucketId: string;
      rules: LifecycleRule[];
      nowMs: number;
      /** objects: current ones; versions: noncurrent ones and delete markers; uploads. */
      target: 'objects' | 'versions' | 'uploads';
      after: string;
      limit: number;
      /** The bucket's versioning: Expiration then leaves a delete marker (absent: never). */
      versioning?: VersioningState;
      /** Buckets with notifications: expirations record LifecycleExpiration events. */
      notify?: NotifyContext;
    };

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

export type ShardResult =
  | { kind: 'Ready'; shardId: number; threadId: number }
  | { kind: 'Put'; info: ObjectInfo }
  /**
   * `session`: a read session holds the object (ReadRange streams it; Cancel releases it).
   * `source`: with purpose 'copy' only. A 'read' of an inline object has its body beside.
   */
  | { kind: 'Opened'; info: ObjectInfo; session: boolean; source: OpenedObject | null }
  | { kind: 'Deleted'; results: DeleteOutcome[] }
  | { kind: 'VersionsListed'; entries: VersionListEntry[]; truncated: boolean }
  | {
      kind: 'Usage';
      objects: number;
      bytes: number;
      uploads: number;
      /** Parts stored by the unfinished uploads, and their bytes. */
      uploadParts: number;
      uploadBytes: number;
    }
  | { kind: 'Counters'; objects: number; bytes: number }
  | { kind: 'UploadCreated'; uploadId: string }
  | { kind: 'PartStored'; part: PartInfo }
  | { kind: 'Aborted' }
  | { kind: 'Parts'; upload: UploadInfo; parts: PartInfo[]; truncated: boolean }
  | { kind: 'Uploads'; entries: UploadListEntry[]; truncated: boolean }
  | { kind: 'Purged'; objects: number }
  | { kind: 'OutboxRead'; entries: OutboxEntry[]; pending: number }
  | { kind: 'OutboxAcked'; removed: number }
  | { kind: 'ReplicationRead'; entries: ReplicationEntry[]; pending: number }
  | { kind: 'ReplicationSettled'; removed: number }
  /** `noted`: false when the row was settled meanwhile (nothing to record). */
  | { kind: 'ReplicationAttemptsNoted'; noted: boolean }
  | { kind: 'ReplicationQueued'; added: number }
  | { kind: 'OutboxRecorded'; written: number }
  | { kind: 'Tags'; tags: Tag[]; versionId?: string }
  | { kind: 'Lock'; lock: ObjectLock; versionId?: string }
  /** An object's owner and ACL as stored (absent: the defaults, see ObjectAclFields). */
  | { kind: 'Acl'; owner?: string; acl?: Acl; versionId?: string }
  /** `next`: the cursor to resume from, or null when the batch reached the end. */
  | { kind: 'LifecycleApplied'; expired: number; aborted: number; next: string | null }
  | { kind: 'ReadDone' }
  | { kind: 'Stats'; stats: ShardStats }
  /** `next`: the hash to resume after, or null when the scrub reached the last block. */
  | {
      kind: 'Scrubbed';
      checked: number;
      bytes: number;
      corrupt: string[];
      missing: string[];
      next: string | null;
    }
  | { kind: 'Swept'; removed: number; bytes: number }
  | { kind: 'BlockErrors'; errors: BlockErrorInfo[] }
  | {
      kind: 'BlockInfo';
      hash: string;
      refs: number;
      bytes: number | null;
      onDisk: boolean;
      error: BlockErrorInfo | null;
      backlinks: BlockBacklink[];
    }
  | { kind: 'Retried'; checked: number; fixed: number }
  | { kind: 'BlocksPurged'; objects: number; uploads: number; blocks: number };

export type ShardReply =
  | { kind: 'Done'; reqId: number; result: ShardResult }
  | { kind: 'Failed'; reqId: number; failure: EngineFailure }
  /** The shard wrote `bytes` and hands the staging buffer back for reuse. */
  | { kind: 'Credit'; reqId: number; bytes: number }
  /** Part of a GET body; the bytes travel beside the message. */
  | { kind: 'BodyChunk'; reqId: number; bytes: number };

export type ShardRequestKind = ShardRequest['kind'];
