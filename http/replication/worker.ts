import type { S3Client } from '@aws-sdk/client-s3';
import { Counter, Gauge } from 'prom-client';
import { assert } from '../../engine/assert.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { RemoteRecord } from '../../engine/catalog/remotes.js';
import { LIMITS } from '../../engine/limits.js';
import type { Logger } from '../../engine/log.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { ReplicationEntry, ReplicationSettlement } from '../../engine/protocol/messages.js';
import type { SingletonWorker, WorkerStatus } from '../../engine/workers/worker.js';
import { registry } from '../admin/metrics.js';
import { Backoffs, ShardQueueLoop } from '../shard-queue-loop.js';
import { destinationChoicesOf, ruleOfEntry } from './destination.js';
import type { RepairResult } from './repair.js';
import { ReplicationEvents } from './rtc-events.js';
import { RuleMetrics } from './rule-metrics.js';
import type { SourceEndpoint } from './sender.js';

/** The modules that load AWS SDK v3: imported on first use, so that a server without remotes
 *  never loads the SDK (start-up time, memory). */
type Sending = typeof import('./sender.js');
type Repairing = typeof import('./repair.js');

/**
 * Bucket replication's worker, on the main thread: it reads each shard's durable queue
 * (engine/meta/replication-queue.ts, ReadReplication), replicates each change to the remote
 * serving its destination bucket (sender.ts), and settles the row (SettleReplication), which
 * records the version's COMPLETED or FAILED status in the same transaction. A change stays
 * queued until settled, so a kill -9 or a remote that is down only delays it: the next pass (or
 * the next process) takes it again. A failing remote is retried with exponential backoff
 * (LIMITS.replicationBackoff*) while its later changes wait behind it, in order; a change that
 * failed LIMITS.replicationAttemptsMax times (counted in its queue row, so across restarts) is
 * settled FAILED (the repair pass queues it again).
 * Without any remote registered (no bucket can have been configured, or the operator removed them
 * all) it asks the shards nothing: queued rows wait for a remote. Otherwise an empty queue costs
 * one ReadReplication per shard per LIMITS.replicationPollMs; the AWS SDK is loaded only once a
 * row is there to send.
 */

const replicated = new Counter({
  name: 'hangar_replication_objects_replicated_total',
  help: 'Changes (versions and delete markers) acknowledged by their destination',
  labelNames: ['remote'] as const,
  registers: [registry],
});
const replicatedBytes = new Counter({
  name: 'hangar_replication_bytes_total',
  help: 'Object bytes replicated to destinations',
  labelNames: ['remote'] as const,
  registers: [registry],
});
const failedAttempts = new Counter({
  name: 'hangar_replication_attempt_failures_total',
  help: 'Failed replication attempts (each is retried until the attempt bound)',
  labelNames: ['remote'] as const,
  registers: [registry],
});
const givenUp = new Counter({
  name: 'hangar_replication_objects_failed_total',
  help: 'Changes settled FAILED (attempts exhausted, no remote, or too large)',
  registers: [registry],
});
let pendingNow = 0;
new Gauge({
  name: 'hangar_replication_pending',
  help: "Changes in the shards' replication queues",
  registers: [registry],
  collect() {
    this.set(pendingNow);
  },
});

export class ReplicationWorker implements SingletonWorker {
  readonly name = 'Bucket replication';
  private readonly stopping = new AbortController();
  /** Per remote name. */
  private readonly backoff = new Backoffs(
    LIMITS.replicationBackoffBaseMs,
    LIMITS.replicationBackoffMaxMs,
  );
  private readonly loop: ShardQueueLoop;
  private readonly clients = new Map<string, { record: RemoteRecord; client: S3Client }>();
  private readonly pendingByShard: number[];
  private replicatedTotal = 0;
  private failedTotal = 0;
  private lastRepair: (RepairResult & { atMs: number }) | null = null;
  private repairing: Promise<RepairResult> | null = null;
  /** Where hangar's own S3 endpoint is, once the S3 port is open. */
  private sourceEndpoint: SourceEndpoint | null = null;
  /** The sender module and the client of hangar's own endpoint, made on first use. */
  private sending: Promise<{ sender: Sending; source: S3Client }> | null = null;
  /** Per-rule metrics and RTC events (rules with Metrics / ReplicationTime Enabled). */
  private readonly ruleMetrics: RuleMetrics;
  private readonly events: ReplicationEvents;

  constructor(
    private readonly catalog: Catalog,
    private readonly shards: readonly ShardClient[],
    private readonly logger: Logger,
    region: string,
  ) {
    this.pendingByShard = shards.map(() => 0);
    this.ruleMetrics = new RuleMetrics(catalog, shards.length);
    this.events = new ReplicationEvents(catalog, region, logger);
    this.loop = new ShardQueueLoop({
      shards,
      pass: (shard) => this.passOver(shard),
      idleWaitMs: () => this.backoff.idleWaitMs(LIMITS.replicationPollMs),
      idle: () => !this.catalog.remotes.any(),
      afterRound: () => {
        pendingNow = this.pendingByShard.reduce((sum, n) => sum + n, 0);
      },
      logger,
      failure: 'replication pass failed',
    });
  }

  start(source: SourceEndpoint): void {
    this.sourceEndpoint = source;
    this.loop.start();
  }

  private senderAndSource(): Promise<{ sender: Sending; source: S3Client }> {
    const endpoint = this.sourceEndpoint;
    assert(endpoint !== null, 'the worker sends once started');
    this.sending ??= import('./sender.js').then((sender) => ({
      sender,
      source: sender.sourceClient(endpoint),
    }));
    return this.sending;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
    this.ruleMetrics.stop();
    await this.repairing?.catch(() => undefined);
    for (const { client } of this.clients.values()) client.destroy();
    if (this.sending !== null) (await this.sending).source.destroy();
  }

  /** Cluster mode: rounds run only while `mayRun` holds (the 'replication' leadership). */
  gate(mayRun: () => boolean): void {
    this.loop.gate(mayRun);
  }

  /** Wakes the worker (a remote was added, a repair queued work). */
  wake(): void {
    this.loop.wake();
  }

  /** One batch of one shard's queue; true when a row was settled. */
  private async passOver(shard: ShardClient): Promise<boolean> {
    const read = await shard.call(
      { kind: 'ReadReplication', limit: LIMITS.replicationBatchMax },
      'ReplicationRead',
    );
    this.pendingByShard[shard.shardId] = read.pending;
    this.ruleMetrics.notePending(shard.shardId, read.byRule);
    await this.events.pending(shard, read.entries, Date.now());
    let settledAny = false;
    // Per destination in queue order: a failure holds that destination's later changes back.
    const blocked = new Set<string>();
    for (const entry of read.entries) {
      if (this.loop.stopped) break;
      if (blocked.has(entry.destination)) continue;
      const settlement = await this.attempt(shard, entry);
      if (settlement === null) {
        blocked.add(entry.destination);
        continue;
      }
      await shard.call({ kind: 'SettleReplication', settled: [settlement] }, 'ReplicationSettled');
      this.pendingByShard[shard.shardId] = Math.max(
        0,
        (this.pendingByShard[shard.shardId] ?? 1) - 1,
      );
      settledAny = true;
    }
    return settledAny;
  }

  /** Replicates one row: its settlement, or null to try again later. */
  private async attempt(
    shard: ShardClient,
    entry: ReplicationEntry,
  ): Promise<ReplicationSettlement | null> {
    const { sender, source } = await this.senderAndSource();
    const remote = this.clientFor(sender, entry.destination);
    if (remote === undefined) {
      const error = new Error(`no remote serves bucket ${entry.destination}`);
      return this.failure(shard, entry, { remoteName: null, error, final: false });
    }
    if (this.backoff.waiting(remote.record.name)) return null;
    // The row's remote multipart upload: the one it held, or the one this attempt creates.
    let uploadId = entry.uploadId;
    const noteUpload = async (id: string): Promise<void> => {
      await shard.call(
        { kind: 'NoteReplicationUpload', id: entry.id, uploadId: id },
        'ReplicationAttemptsNoted',
      );
      uploadId = id;
    };
    let settlement: ReplicationSettlement | null;
    try {
      const choices = destinationChoicesOf(ruleOfEntry(this.catalog, entry));
      const bytes = await sender.replicate(
        source,
        remote.client,
        entry,
        this.stopping.signal,
        noteUpload,
        choices,
      );
      this.backoff.succeeded(remote.record.name);
      this.replicatedTotal++;
      replicated.inc({ remote: remote.record.name });
      replicatedBytes.inc({ remote: remote.record.name }, bytes);
      const nowMs = Date.now();
      this.ruleMetrics.replicated(entry, nowMs);
      await this.events.replicated(shard, entry, nowMs);
      return { id: entry.id, status: entry.op === 'put' ? 'COMPLETED' : null };
    } catch (error) {
      // Stopping: the row stays queued as it was; the next start takes it again.
      if (this.loop.stopped) return null;
      const kind = error instanceof sender.ReplicationFailure ? error.kind : 'retry';
      settlement =
        kind === 'gone'
          ? { id: entry.id, status: null }
          : await this.failure(shard, entry, {
              remoteName: remote.record.name,
              error,
              final: kind === 'final',
            });
    }
    // The row ends without its upload completing: the remote's parts must not stay behind.
    if (settlement !== null && uploadId !== undefined) {
      await sender.abortUpload(remote.client, {
        Bucket: entry.destination,
        Key: entry.key,
        UploadId: uploadId,
      });
    }
    return settlement;
  }

  /**
   * A failed attempt: FAILED once the row's attempts are spent (or retrying cannot help); else
   * the count is stored in the row (NoteReplicationAttempts) and the row waits for its retry.
   * A pass tries each row at most once (a failure blocks its destination for the rest of the
   * pass), so the count the pass read plus one is the row's count now.
   */
  private async failure(
    shard: ShardClient,
    entry: ReplicationEntry,
    failed: {
      remoteName: string | null;
      error: unknown;
      /** Retrying cannot help (an SSE-C source, an object over S3's bound). */
      final: boolean;
    },
  ): Promise<ReplicationSettlement | null> {
    const { remoteName, error } = failed;
    this.loop.errors.failed(error);
    failedAttempts.inc({ remote: remoteName ?? '' });
    const attempts = (entry.attempts ?? 0) + 1;
    this.logger.warn(
      {
        err: error,
        bucket: entry.bucketName,
        key: entry.key,
        destination: entry.destination,
        attempts,
      },
      'replication attempt failed',
    );
    if (failed.final || attempts >= LIMITS.replicationAttemptsMax) {
      this.failedTotal++;
      givenUp.inc();
      this.ruleMetrics.failed(entry);
      const reason = error instanceof Error ? error.message : String(error);
      await this.events.failed(shard, entry, reason);
      return { id: entry.id, status: entry.op === 'put' ? 'FAILED' : null };
    }
    await shard.call(
      { kind: 'NoteReplicationAttempts', id: entry.id, attempts },
      'ReplicationAttemptsNoted',
    );
    if (remoteName !== null) this.backoff.failed(remoteName);
    return null;
  }

  /** The client of the remote serving `bucket`, rebuilt when the remote's record changed. */
  private clientFor(
    sender: Sending,
    bucket: string,
  ): { record: RemoteRecord; client: S3Client } | undefined {
    const record = this.catalog.remotes.serving(bucket);
    if (record === undefined) return undefined;
    const held = this.clients.get(record.name);
    if (held !== undefined && held.record.createdMs === record.createdMs) return held;
    held?.client.destroy();
    const fresh = { record, client: sender.remoteClient(record) };
    this.clients.set(record.name, fresh);
    return fresh;
  }

  /**
   * The repair pass: queues again every version of every replicated bucket that a destination
   * lacks or holds other bytes for, or that FAILED (repair.ts). Joins a pass in progress.
   */
  repairNow(): Promise<RepairResult> {
    if (this.sourceEndpoint === null) return Promise.resolve({ checked: 0, requeued: 0 });
    this.repairing ??= this.repair()
      .then((result) => {
        this.lastRepair = { ...result, atMs: Date.now() };
        this.wake();
        return result;
      })
      .finally(() => {
        this.repairing = null;
      });
    return this.repairing;
  }

  private async repair(): Promise<RepairResult> {
    const [{ sender, source }, repairing]: [{ sender: Sending; source: S3Client }, Repairing] =
      await Promise.all([this.senderAndSource(), import('./repair.js')]);
    return repairing.repairBuckets({
      catalog: this.catalog,
      shards: this.shards,
      source,
      clientFor: (bucket) => this.clientFor(sender, bucket)?.client,
      stopped: () => this.loop.stopped,
    });
  }

  status(): WorkerStatus {
    const pending = this.pendingByShard.reduce((sum, n) => sum + n, 0);
    const backingOff = this.backoff.names();
    const errors = this.loop.errors;
    const remotes = this.catalog.remotes.list().map((remote) => remote.name);
    const repair = this.lastRepair;
    return {
      state: remotes.length === 0 ? 'idle' : pending > 0 || this.repairing ? 'busy' : 'idle',
      errors: errors.errors,
      consecutiveErrors: errors.consecutiveErrors,
      lastError: errors.lastError,
      tranquility: null,
      progress: null,
      queueLength: pending,
      freeform: [
        `Remotes: ${remotes.join(', ') || 'none registered'}`,
        `Replicated: ${this.replicatedTotal}, failed: ${this.failedTotal}`,
        ...(backingOff.length > 0 ? [`Retrying with backoff: ${backingOff.join(', ')}`] : []),
        repair === null
          ? 'Repair: never run'
          : `Repair ${new Date(repair.atMs).toISOString()}: ${repair.checked} checked, ${repair.requeued} queued again`,
      ],
    };
  }
}
