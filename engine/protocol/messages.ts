/**
 * The one contract between the HTTP thread and the shard actors. Every message has a `kind` and a
 * `reqId`; body bytes travel beside a message as a transferred ArrayBuffer (see codec.ts), not
 * inside its cbor header: PUT and GET chunks, and the whole body of an inline object a GET opens.
 * One exception: a CopyObject's source (`OpenedObject.inlineBody`, at most the inline limit)
 * crosses inside Opened and CopyFrom. Failures cross as data (`Failed`), never as thrown
 * errors, because structured clone drops Error subclasses.
 *
 * This file is the protocol's one entry point: the types live by message family under messages/
 * (objects, uploads, buckets, events, blocks, failures), each family with its part of the
 * ShardRequest and ShardResult unions, which are joined here.
 */

import type { BlockRequest, BlockResult } from './messages/blocks.js';
import type { BucketRequest, BucketResult } from './messages/buckets.js';
import type { EventRequest, EventResult } from './messages/events.js';
import type { EngineFailure } from './messages/failures.js';
import type { ObjectRequest, ObjectResult } from './messages/objects.js';
import type { RestoreRequest, RestoreResult } from './messages/restores.js';
import type { UploadRequest, UploadResult } from './messages/uploads.js';

export type { ChecksumAlgorithm, ChecksumType, StoredChecksum } from '../checksums/checksums.js';
export type { Preconditions } from '../preconditions.js';
export type { CustomerKey } from '../sse-c.js';
export type * from './messages/blocks.js';
export type * from './messages/buckets.js';
export type * from './messages/events.js';
export type * from './messages/failures.js';
export type * from './messages/objects.js';
export type * from './messages/restores.js';
export type * from './messages/uploads.js';

/**
 * The HTTP thread's messages to a shard. A PUT is PutBegin, BodyChunk*, PutEnd, each answered
 * in order; a body of at most one chunk rides whole with its PutBegin (`end` set), answered by
 * one Done or Failed and no Credit. A PutBegin the shard refuses (no such upload, SSE-C or checksum mismatch) is answered
 * Failed at once and its reqId enters the *refused* state: BodyChunks and the PutEnd that the HTTP
 * thread sent before that answer reached it are dropped without a reply, until that PutEnd or a
 * Cancel ends the state.
 */
export type ShardRequest =
  | ObjectRequest
  | UploadRequest
  | BucketRequest
  | EventRequest
  | BlockRequest
  | RestoreRequest;

export type ShardResult =
  | { kind: 'Ready'; shardId: number; threadId: number }
  | ObjectResult
  | UploadResult
  | BucketResult
  | EventResult
  | BlockResult
  | RestoreResult;

export type ShardReply =
  | { kind: 'Done'; reqId: number; result: ShardResult }
  | { kind: 'Failed'; reqId: number; failure: EngineFailure }
  /** The shard wrote `bytes` and hands the staging buffer back for reuse. */
  | { kind: 'Credit'; reqId: number; bytes: number }
  /** Part of a GET body; the bytes travel beside the message. */
  | { kind: 'BodyChunk'; reqId: number; bytes: number };

export type ShardRequestKind = ShardRequest['kind'];
