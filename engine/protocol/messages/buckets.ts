/** Whole buckets on a shard: usage, counters, purge, lifecycle. Part of the one protocol
 *  (../messages.ts). */

import type { NotifyContext } from './events.js';
import type { Tag, VersioningState } from './objects.js';

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
  /** Transition actions on current objects (absent: none). */
  transitions?: LifecycleTransition[];
  /** NoncurrentVersionTransition actions (absent: none). */
  noncurrentTransitions?: NoncurrentTransition[];
}

/**
 * A Transition: current objects move to `storageClass` `days` after creation (the same
 * midnight rounding as expiration) or from `dateMs` on. `minBytes`: smaller objects stay
 * (x-amz-transition-default-minimum-object-size, or 0 when the rule filters on size itself).
 */
export interface LifecycleTransition {
  days: number | null;
  dateMs: number | null;
  storageClass: string;
  minBytes: number;
}

/** A NoncurrentVersionTransition: like NoncurrentVersionExpiration, but to a class. */
export interface NoncurrentTransition {
  days: number;
  /** How many newest noncurrent versions stay where they are. */
  newerVersions?: number;
  storageClass: string;
  minBytes: number;
}

/**
 * One Tiering of an enabled IntelligentTieringConfiguration, as the shards apply it: objects of
 * class INTELLIGENT_TIERING under the filter, not read for `days` days, move to `accessTier`.
 */
export interface TieringRule {
  prefix: string;
  tags: Tag[];
  accessTier: 'ARCHIVE_ACCESS' | 'DEEP_ARCHIVE_ACCESS';
  days: number;
}

/** The bucket family of ShardRequest. */
export type BucketRequest =
  | { kind: 'BucketUsage'; reqId: number; bucketId: string }
  /** A bucket's object and byte counters on this shard (O(1): kept by every commit). */
  | { kind: 'BucketCounters'; reqId: number; bucketId: string }
  | { kind: 'PurgeBuckets'; reqId: number; liveBucketIds: string[] }
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
      /** The bucket's intelligent-tiering configurations (objects, versions; absent: none). */
      tiering?: TieringRule[];
    };

/** The bucket family of ShardResult. */
export type BucketResult =
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
  | { kind: 'Purged'; objects: number }
  /** `next`: the cursor to resume from, or null when the batch reached the end. */
  | {
      kind: 'LifecycleApplied';
      expired: number;
      aborted: number;
      next: string | null;
      /** Versions moved to a colder class by a (Noncurrent)Transition (absent: none). */
      transitioned?: number;
      /** INTELLIGENT_TIERING objects moved to an archive access tier (absent: none). */
      tiered?: number;
    };
