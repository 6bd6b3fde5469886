import type { Catalog } from '../engine/catalog/catalog.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import type { LifecycleRule, NotifyContext, VersioningState } from '../engine/protocol/messages.js';
import { PeriodicJob } from '../engine/workers/periodic.js';
import type { BackgroundWorker, WorkerStatus } from '../engine/workers/worker.js';
import { engineLifecycleRules, type StoredLifecycleRule } from './s3/lifecycle-config.js';
import { lifecycleNotifyContext } from './s3/notifications.js';
import { versioningOf } from './s3/versioning.js';

export interface LifecycleRunResult {
  expired: number;
  aborted: number;
}

/**
 * Runs every bucket's lifecycle rules over every shard, in bounded batches (ApplyLifecycle):
 * at start-up, every 24 hours, and on demand (SIGUSR2, RunningServer.runLifecycleNow). A run keeps
 * no state: it walks each bucket from its beginning, and applying rules twice changes nothing,
 * so a run cut short by a stop or a crash is simply redone in full by the next one.
 * The clock is Date.now() plus the testing-only clock offset (HANGAR_CLOCK_OFFSET_MS).
 */
export class LifecycleRunner implements BackgroundWorker {
  readonly name = 'Lifecycle worker';
  private readonly job = new PeriodicJob(LIMITS.lifecycleIntervalMs, () => this.runOnce());

  constructor(
    private readonly catalog: Catalog,
    private readonly shards: readonly ShardClient[],
    private readonly logger: Logger,
    private readonly clockOffsetMs: number,
    /** The region event records of expirations name. */
    private readonly region: string,
  ) {}

  start(): void {
    this.job.start({ runNow: true });
  }

  /** Stops scheduling; waits for the batch in flight (a run stops between batches). */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Starts a run (or queues one after the run in progress) and resolves with its counts. */
  runNow(): Promise<LifecycleRunResult> {
    return this.job.runNow();
  }

  /** When the last run ended (null: none yet). */
  get lastCompleted(): number | null {
    return this.job.lastCompletedMs;
  }

  status(): WorkerStatus {
    const next = this.job.nextRunLine();
    return {
      ...this.job.statusFields(),
      tranquility: null,
      progress: null,
      freeform: [
        this.job.lastCompletedLine(
          (last) => `: ${last.expired} objects expired, ${last.aborted} uploads aborted`,
        ),
        ...(next === null ? [] : [next]),
      ],
    };
  }

  private async runOnce(): Promise<LifecycleRunResult> {
    const total: LifecycleRunResult = { expired: 0, aborted: 0 };
    const nowMs = Date.now() + this.clockOffsetMs;
    try {
      for (const bucket of this.catalog.listBuckets()) {
        if (this.job.stopped) break;
        const stored = this.catalog.getBucketConfig<StoredLifecycleRule[]>(bucket.id, 'lifecycle');
        if (stored === undefined) continue;
        const rules = engineLifecycleRules(stored);
        if (rules.length === 0) continue;
        const versioning = versioningOf(this.catalog, bucket.id);
        const notify = lifecycleNotifyContext(this.catalog, bucket, this.region);
        const results = await Promise.all(
          this.shards.map((shard) =>
            this.runShard(shard, bucket.id, rules, nowMs, versioning, notify),
          ),
        );
        for (const result of results) {
          total.expired += result.expired;
          total.aborted += result.aborted;
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'lifecycle run failed');
      throw error;
    }
    if (total.expired + total.aborted > 0) {
      this.logger.info(total, 'lifecycle run: objects expired, uploads aborted');
    }
    return total;
  }

  private async runShard(
    shard: ShardClient,
    bucketId: string,
    rules: LifecycleRule[],
    nowMs: number,
    versioning: VersioningState | undefined,
    notify: NotifyContext | undefined,
  ): Promise<LifecycleRunResult> {
    const total: LifecycleRunResult = { expired: 0, aborted: 0 };
    const targets: Array<'objects' | 'versions' | 'uploads'> = [];
    if (rules.some((rule) => rule.expirationDays !== null || rule.expirationDateMs !== null)) {
      targets.push('objects');
    }
    // Only a bucket that was ever versioned has noncurrent versions and delete markers.
    const versionRules = rules.some(
      (rule) => rule.noncurrentDays !== undefined || rule.expiredObjectDeleteMarker === true,
    );
    if (versioning !== undefined && versionRules) targets.push('versions');
    if (rules.some((rule) => rule.abortUploadDays !== null)) targets.push('uploads');
    for (const target of targets) {
      let after: string | null = '';
      while (after !== null && !this.job.stopped) {
        const result: { expired: number; aborted: number; next: string | null } = await shard.call(
          {
            kind: 'ApplyLifecycle',
            bucketId,
            rules,
            nowMs,
            target,
            after,
            limit: LIMITS.lifecycleBatchRecords,
            ...(versioning !== undefined ? { versioning } : {}),
            ...(notify !== undefined ? { notify } : {}),
          },
          'LifecycleApplied',
        );
        total.expired += result.expired;
        total.aborted += result.aborted;
        after = result.next;
      }
    }
    return total;
  }
}
