import { assert } from '../engine/assert.js';
import type { Catalog } from '../engine/catalog/catalog.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { RestoreQueueView } from '../engine/meta/restore-view.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import type { NotifyContext, RestoreRow } from '../engine/protocol/messages.js';
import { PeriodicJob } from '../engine/workers/periodic.js';
import type { BackgroundWorker, SingletonWorker, WorkerStatus } from '../engine/workers/worker.js';
import { lifecycleNotifyContext } from './s3/notifications.js';

export interface RestoreRunResult {
  completed: number;
  expired: number;
}

/**
 * Completes RestoreObject's restores once their tier's delay has passed, and expires them once
 * their days are over: each shard's `restores` table holds the steps by due time, so a run reads
 * only what is due (DueRestores; a shard with nothing due, as read from its table on this thread,
 * gets no message) and hands it back with each bucket's notification context
 * (SettleRestores: the record change, the row's removal and the ObjectRestore event commit in one
 * transaction). The clock is Date.now() plus the testing-only offset (HANGAR_CLOCK_OFFSET_MS).
 */
export class RestoreWorker implements BackgroundWorker, SingletonWorker {
  readonly name = 'Object restores';
  private readonly job = new PeriodicJob(LIMITS.restoreCheckIntervalMs, () => this.runOnce());
  private totals: RestoreRunResult = { completed: 0, expired: 0 };

  constructor(
    private readonly catalog: Catalog,
    private readonly shards: readonly ShardClient[],
    private readonly logger: Logger,
    private readonly clockOffsetMs: number,
    /** The region event records name. */
    private readonly region: string,
    /** Each shard's restores table, read here: a shard is asked only when a step is due. */
    /** Each shard's restore queue read in place; null (cluster mode: the queue is in
     *  PostgreSQL, not this machine's LMDB): every shard is asked each pass. */
    private readonly views: readonly RestoreQueueView[] | null,
  ) {}

  start(): void {
    this.job.start({ runNow: true });
  }

  gate(mayRun: () => boolean): void {
    this.job.gate(mayRun);
  }

  wake(): void {
    void this.job.runNow().catch(() => undefined);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  status(): WorkerStatus {
    return {
      ...this.job.statusFields(),
      tranquility: null,
      progress: null,
      freeform: [
        `Restores completed: ${this.totals.completed}, expired: ${this.totals.expired}`,
        this.job.lastCompletedLine(() => ''),
      ],
    };
  }

  private async runOnce(): Promise<RestoreRunResult> {
    const run: RestoreRunResult = { completed: 0, expired: 0 };
    try {
      const nowMs = Date.now() + this.clockOffsetMs;
      const due = this.shards.filter((shard) => this.hasDue(shard.shardId, nowMs));
      const results = await Promise.all(due.map((shard) => this.runShard(shard)));
      for (const result of results) {
        run.completed += result.completed;
        run.expired += result.expired;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'restore run failed');
      throw error;
    }
    this.totals = {
      completed: this.totals.completed + run.completed,
      expired: this.totals.expired + run.expired,
    };
    return run;
  }

  /** Whether the shard has a step due at `nowMs` (read from its table: no message). */
  private hasDue(shardId: number, nowMs: number): boolean {
    if (this.views === null) return true;
    const view = this.views[shardId];
    assert(view !== undefined, 'a view per shard');
    const first = view.firstDueMs();
    return first !== null && first <= nowMs;
  }

  /** Settles one shard's due steps, a batch at a time, until none is due. */
  private async runShard(shard: ShardClient): Promise<RestoreRunResult> {
    const total: RestoreRunResult = { completed: 0, expired: 0 };
    for (;;) {
      if (this.job.stopped) return total;
      const nowMs = Date.now() + this.clockOffsetMs;
      const due = await shard.call(
        { kind: 'DueRestores', nowMs, limit: LIMITS.restoreBatchRows },
        'RestoresDue',
      );
      if (due.rows.length === 0) return total;
      const settled = await shard.call(
        { kind: 'SettleRestores', nowMs, rows: due.rows, notify: this.contextsOf(due.rows) },
        'RestoresSettled',
      );
      total.completed += settled.completed;
      total.expired += settled.expired;
      // Each settled row left the table: a short batch means none is left.
      if (due.rows.length < LIMITS.restoreBatchRows) return total;
    }
  }

  /** The notification context of each bucket the rows name (buckets without none). */
  private contextsOf(rows: readonly RestoreRow[]): Record<string, NotifyContext> {
    const contexts: Record<string, NotifyContext> = {};
    for (const bucketId of new Set(rows.map((row) => row.bucketId))) {
      const bucket = this.catalog.getBucketById(bucketId);
      if (bucket === undefined) continue;
      const context = lifecycleNotifyContext(this.catalog, bucket, this.region);
      if (context !== undefined) contexts[bucketId] = context;
    }
    return contexts;
  }
}
