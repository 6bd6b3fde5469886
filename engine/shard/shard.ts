import { threadId } from 'node:worker_threads';
import { assertNever } from '../assert.js';
import { laneOf } from '../protocol/lanes.js';
import type { ShardRequest, ShardResult } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import { collectBlocks, gcTargetOf, sweepOrphanBlocks } from './block-gc.js';
import {
  ackOutbox,
  noteReplicationAttempts,
  noteReplicationUpload,
  readOutbox,
  readReplication,
  recordOutbox,
  requeueReplication,
  settleReplication,
} from './event-requests.js';
import {
  applyLifecycle,
  cleanupUploads,
  purgeBlocks,
  purgeBuckets,
  stats,
} from './maintenance-requests.js';
import {
  copyFrom,
  deleteObjects,
  getLock,
  getTags,
  objectAcl,
  setLock,
  setTags,
} from './object-requests.js';
import { PutRequests } from './put-requests.js';
import { ReadRequests } from './read-requests.js';
import { restoreObject, settleRestores } from './restore-requests.js';
import { type ReplySink, ShardCore, type ShardSettings } from './shard-core.js';
import { moveVersionTier } from './tier-requests.js';
import { abortUpload, completeUpload, createUpload, listParts } from './upload-requests.js';

export type { ReplySink, ShardSettings } from './shard-core.js';

/**
 * A shard actor: it alone owns one LMDB environment and one block directory, and serves the
 * requests of its mailbox (one MessagePort) on one thread. Streaming requests keep a session per
 * reqId until they end or the HTTP thread cancels them.
 */
export class Shard {
  private readonly core: ShardCore;
  private readonly puts: PutRequests;
  private readonly reads: ReadRequests;

  private constructor(core: ShardCore) {
    this.core = core;
    this.puts = new PutRequests(core);
    this.reads = new ReadRequests(core);
  }

  static async open(
    settings: ShardSettings,
    reply: ReplySink,
    logError: (error: unknown) => void,
  ): Promise<Shard> {
    return new Shard(await ShardCore.open(settings, reply, logError));
  }

  /**
   * Prepares the blocks and, embedded, removes the block files a crash left behind. Cluster
   * mode has no local block files to sweep: what a crash leaves in RADOS is the cluster GC's
   * orphan sweep's (block-gc.ts), run by the elected leader.
   */
  async start(): Promise<ShardResult> {
    const { meta, settings } = this.core;
    await this.core.openBlocks();
    if (settings.cluster === undefined) {
      const { store } = this.core.local('the start-up sweep');
      shardCounters.orphansRemoved += await store.sweep(
        meta.readLocal(() => meta.referencedBlocks()),
      );
    }
    return { kind: 'Ready', shardId: settings.shardId, threadId };
  }

  async stop(): Promise<void> {
    await this.puts.close();
    this.reads.close();
    await this.core.meta.close();
    await this.core.closeBlocks();
    await this.core.keys.close();
  }

  handle(request: ShardRequest, body: ArrayBuffer | undefined): void {
    shardCounters.messagesHandled++;
    switch (request.kind) {
      case 'PutBegin':
        this.puts.beginPut(request, body);
        break;
      case 'BodyChunk':
        this.puts.acceptChunk(request.reqId, request.bytes, body);
        break;
      case 'PutEnd':
        this.puts.endRequest(request);
        break;
      case 'Cancel':
        this.cancel(request.reqId);
        break;
      case 'OpenObject':
        this.reads.openObject(request);
        break;
      case 'ReadRange':
        this.reads.readRange(request.reqId, request.start, request.endExclusive);
        break;
      case 'Credit':
        this.reads.credit(request.reqId, body);
        break;
      case 'DeleteObjects':
        this.core.answer(request.reqId, () => deleteObjects(this.core, request));
        break;
      case 'ListVersions':
        this.core.answerRead(request.reqId, () => ({
          kind: 'VersionsListed',
          ...this.core.meta.listVersions(request),
        }));
        break;
      case 'CopyFrom':
        this.core.answer(request.reqId, () => copyFrom(this.core, request));
        break;
      case 'BucketUsage':
        this.core.answerRead(request.reqId, () => ({
          kind: 'Usage',
          ...this.core.meta.usage(request.bucketId),
        }));
        break;
      case 'BucketCounters':
        this.core.answerRead(request.reqId, () => ({
          kind: 'Counters',
          ...this.core.meta.bucketCounters(request.bucketId),
        }));
        break;
      case 'CreateUpload':
        this.core.answer(request.reqId, () => createUpload(this.core, request));
        break;
      case 'CompleteUpload':
        this.core.answer(request.reqId, () => completeUpload(this.core, request));
        break;
      case 'AbortUpload':
        this.core.answer(request.reqId, () => abortUpload(this.core, request));
        break;
      case 'ListParts':
        this.core.answerRead(request.reqId, () => listParts(this.core, request));
        break;
      case 'ListUploads':
        this.core.answerRead(request.reqId, () => ({
          kind: 'Uploads',
          ...this.core.meta.listUploads(request),
        }));
        break;
      case 'PurgeBuckets':
        this.core.answer(request.reqId, () => purgeBuckets(this.core, request.liveBucketIds));
        break;
      case 'GetTags':
        this.core.answerRead(request.reqId, () => getTags(this.core, request));
        break;
      case 'SetTags':
        this.core.answer(request.reqId, () => setTags(this.core, request));
        break;
      case 'ObjectAcl':
        this.core.answer(request.reqId, () => objectAcl(this.core, request));
        break;
      case 'GetLock':
        this.core.answerRead(request.reqId, () => getLock(this.core, request));
        break;
      case 'SetLock':
        this.core.answer(request.reqId, () => setLock(this.core, request));
        break;
      case 'ApplyLifecycle':
        this.core.answer(request.reqId, () => applyLifecycle(this.core, request));
        break;
      case 'CleanupUploads':
        this.core.answer(request.reqId, () => cleanupUploads(this.core, request));
        break;
      case 'Stats':
        this.core.answerRead(request.reqId, () =>
          stats(this.core, this.puts.size + this.reads.size),
        );
        break;
      case 'ScrubBlocks':
        this.core.answer(request.reqId, async () =>
          this.core
            .local('ScrubBlocks')
            .health.scrub(request.after, request.limit, request.maxBytes),
        );
        break;
      case 'SweepOrphans':
        this.core.answer(request.reqId, async () =>
          this.core.local('SweepOrphans').health.sweepOrphans(request.fanout),
        );
        break;
      case 'ListBlockErrors':
        this.core.answerRead(request.reqId, () =>
          this.core.local('ListBlockErrors').health.listErrors(),
        );
        break;
      case 'GetBlockInfo':
        this.core.answer(request.reqId, async () =>
          this.core.local('GetBlockInfo').health.info(request.hash, request.limit),
        );
        break;
      case 'RetryBlocks':
        this.core.answer(request.reqId, async () =>
          this.core.local('RetryBlocks').health.retry(request.hashes),
        );
        break;
      case 'MoveVersionTier':
        this.core.answer(request.reqId, () => moveVersionTier(this.core, request));
        break;
      case 'DrainBlocks':
        this.core.answer(request.reqId, async () =>
          this.core.local('DrainBlocks').drain.batch(request.limit),
        );
        break;
      case 'CollectBlocks':
        this.core.answer(request.reqId, async () => ({
          kind: 'BlocksCollected',
          ...(await collectBlocks(gcTargetOf(this.core), request.nowMs)),
        }));
        break;
      case 'SweepOrphanBlocks':
        this.core.answer(request.reqId, async () => ({
          kind: 'OrphanBlocksSwept',
          ...(await sweepOrphanBlocks(gcTargetOf(this.core), request.nowMs)),
        }));
        break;
      case 'PurgeBlocks':
        this.core.answer(request.reqId, () => purgeBlocks(this.core, request.hashes));
        break;
      case 'ReadOutbox':
        this.core.answerRead(request.reqId, () => readOutbox(this.core, request.limit));
        break;
      case 'AckOutbox':
        this.core.answer(request.reqId, () => ackOutbox(this.core, request.ids));
        break;
      case 'ReadReplication':
        this.core.answerRead(request.reqId, () => readReplication(this.core, request.limit));
        break;
      case 'SettleReplication':
        this.core.answer(request.reqId, () => settleReplication(this.core, request.settled));
        break;
      case 'NoteReplicationAttempts':
        this.core.answer(request.reqId, () =>
          noteReplicationAttempts(this.core, request.id, request.attempts),
        );
        break;
      case 'NoteReplicationUpload':
        this.core.answer(request.reqId, () =>
          noteReplicationUpload(this.core, request.id, request.uploadId),
        );
        break;
      case 'RequeueReplication':
        this.core.answer(request.reqId, () => requeueReplication(this.core, request.entries));
        break;
      case 'RecordOutbox':
        this.core.answer(request.reqId, () => recordOutbox(this.core, request.messages));
        break;
      case 'RestoreObject':
        this.core.answer(request.reqId, () => restoreObject(this.core, request));
        break;
      case 'DueRestores':
        this.core.answerRead(request.reqId, () => ({
          kind: 'RestoresDue',
          rows: this.core.meta.restores.due(request.nowMs, request.limit),
        }));
        break;
      case 'SettleRestores':
        this.core.answer(request.reqId, () => settleRestores(this.core, request));
        break;
      default:
        assertNever(request);
    }
  }

  /** A lane's port closed (its edge thread ended): its sessions end as if each was cancelled. */
  cancelLane(lane: number): void {
    const ids = new Set([...this.puts.ids(), ...this.reads.ids()]);
    for (const reqId of ids) if (laneOf(reqId) === lane) this.cancel(reqId);
  }

  private cancel(reqId: number): void {
    this.puts.cancel(reqId);
    this.reads.cancel(reqId);
  }
}
