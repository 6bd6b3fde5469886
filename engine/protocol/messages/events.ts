/** Event notifications (the outbox) and bucket replication (its queue). Part of the one
 *  protocol (../messages.ts). */

import type { Tag } from './objects.js';

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
  /** SourceSelectionCriteria/SseKmsEncryptedObjects Enabled: SSE-KMS objects replicate too
   *  (absent or false: they are left out, with no replication status, as AWS does). */
  sseKms?: boolean;
  /** SourceSelectionCriteria/ReplicaModifications Enabled: a replica's metadata changes (tags,
   *  ACL, object lock) go back to its source. */
  replicaModifications?: boolean;
}

/** x-amz-replication-status as a version stores it: absent for versions no rule matched. */
export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

/** What a metadata row ('meta') carries to the destination's version: the facets that changed. */
export type MetadataFacet = 'tags' | 'acl' | 'lock';

/** A replication queue row as the replication worker reads it. */
export interface ReplicationEntry {
  id: string;
  /**
   * 'meta': a replicated version's metadata changed (`facets`), or a replica's did
   * (ReplicaModifications, sent back to its source). 'tags': such a row from before facets
   * existed (its tags only), still read from older data dirs.
   */
  op: 'put' | 'delete' | 'meta' | 'tags';
  /** The facets a 'meta' row sends (absent on other ops). */
  facets?: MetadataFacet[];
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
  /** The version's size when queued (replication metrics' pending bytes; absent: 0). */
  bytes?: number;
  /** The remote multipart upload an attempt began, so that the next one resumes it. */
  uploadId?: string;
}

/** What one rule of one bucket has queued in one shard (replication metrics). */
export interface PendingByRule {
  bucketId: string;
  /** The bucket's name when its first row counted was queued. */
  bucketName: string;
  ruleId: string;
  operations: number;
  bytes: number;
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

/** The outbox and replication-queue family of ShardRequest. */
export type EventRequest =
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
  /** Records a row's remote multipart upload, to resume (answered ReplicationAttemptsNoted). */
  | { kind: 'NoteReplicationUpload'; reqId: number; id: string; uploadId: string }
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
  | { kind: 'RecordOutbox'; reqId: number; messages: OutboxMessage[] };

/** The outbox and replication-queue family of ShardResult. */
export type EventResult =
  | { kind: 'OutboxRead'; entries: OutboxEntry[]; pending: number }
  | { kind: 'OutboxAcked'; removed: number }
  | {
      kind: 'ReplicationRead';
      entries: ReplicationEntry[];
      pending: number;
      /** Every rule with rows queued in the shard (rules with none are left out). */
      byRule?: PendingByRule[];
    }
  | { kind: 'ReplicationSettled'; removed: number }
  /** `noted`: false when the row was settled meanwhile (nothing to record). */
  | { kind: 'ReplicationAttemptsNoted'; noted: boolean }
  | { kind: 'ReplicationQueued'; added: number }
  | { kind: 'OutboxRecorded'; written: number };
