import { Counter } from 'prom-client';
import type { BucketRecord, Catalog } from '../engine/catalog/catalog.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import type {
  LifecycleRule,
  NotifyContext,
  ShardResult,
  TieringRule,
  VersioningState,
} from '../engine/protocol/messages.js';
import { PeriodicJob } from '../engine/workers/periodic.js';
import type { BackgroundWorker, SingletonWorker, WorkerStatus } from '../engine/workers/worker.js';
import { registry } from './admin/metrics.js';
import { tieringRulesOf } from './s3/intelligent-tiering-config.js';
import {
  engineLifecycleRules,
  lifecycleOptionsOf,
  type StoredLifecycleRule,
} from './s3/lifecycle-config.js';
import { lifecycleNotifyContext } from './s3/notifications.js';
import { versioningOf } from './s3/versioning.js';

export interface LifecycleRunResult {
  expired: number;
  aborted: number;
  /** Versions a (Noncurrent)Transition moved to a colder class. */
  transitioned: number;
  /** INTELLIGENT_TIERING objects moved to an archive access tier. */
  tiered: number;
}

const transitionsCounter = new Counter({
  name: 'hangar_lifecycle_transitions_total',
  help: 'Object versions lifecycle Transition / NoncurrentVersionTransition moved to a colder class',
  registers: [registry],
});
const tieredCounter = new Counter({
  name: 'hangar_intelligent_tiering_archived_total',
  help: 'INTELLIGENT_TIERING objects moved to ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS',
  registers: [registry],
});

function noResult(): LifecycleRunResult {
  return { expired: 0, aborted: 0, transitioned: 0, tiered: 0 };
}

/**
 * Runs every bucket's lifecycle rules over every shard, in bounded batches (ApplyLifecycle):
 * at start-up, every 24 hours, and on demand (SIGUSR2, RunningServer.runLifecycleNow). A run keeps
 * no state: it walks each bucket from its beginning, and applying rules twice changes nothing,
 * so a run cut short by a stop or a crash is simply redone in full by the next one.
 * The clock is Date.now() plus the testing-only clock offset (HANGAR_CLOCK_OFFSET_MS).
 */
export class LifecycleRunner implements BackgroundWorker, SingletonWorker {
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

  gate(mayRun: () => boolean): void {
    this.job.gate(mayRun);
  }

  wake(): void {
    void this.job.runNow().catch(() => undefined);
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
          (last) =>
            `: ${last.expired} objects expired, ${last.aborted} uploads aborted, ` +
            `${last.transitioned} transitioned, ${last.tiered} archived by intelligent tiering`,
        ),
        ...(next === null ? [] : [next]),
      ],
    };
  }

  private async runOnce(): Promise<LifecycleRunResult> {
    const total = noResult();
    const nowMs = Date.now() + this.clockOffsetMs;
    try {
      for (const bucket of this.catalog.listBuckets()) {
        if (this.job.stopped) break;
        const plan = this.planOf(bucket, nowMs);
        if (plan === null) continue;
        const results = await Promise.all(this.shards.map((shard) => this.runShard(shard, plan)));
        for (const result of results) addTo(total, result);
      }
    } catch (error) {
      this.logger.error({ err: error }, 'lifecycle run failed');
      throw error;
    }
    transitionsCounter.inc(total.transitioned);
    tieredCounter.inc(total.tiered);
    if (total.expired + total.aborted + total.transitioned + total.tiered > 0) {
      this.logger.info(total, 'lifecycle run: objects expired or transitioned, uploads aborted');
    }
    return total;
  }

  /** What a run does to one bucket (null: nothing: no enabled rule, no tiering). */
  private planOf(bucket: BucketRecord, nowMs: number): BucketPlan | null {
    const stored = this.catalog.getBucketConfig<StoredLifecycleRule[]>(bucket.id, 'lifecycle');
    const options = lifecycleOptionsOf(this.catalog, bucket.id);
    const rules = stored === undefined ? [] : engineLifecycleRules(stored, options);
    const tiering = tieringRulesOf(this.catalog, bucket);
    if (rules.length === 0 && tiering.length === 0) return null;
    const versioning = versioningOf(this.catalog, bucket.id);
    const targets: LifecycleTarget[] = [];
    const expires = rules.some(
      (rule) =>
        rule.expirationDays !== null ||
        rule.expirationDateMs !== null ||
        rule.transitions !== undefined,
    );
    if (expires || tiering.length > 0) targets.push('objects');
    // Only a bucket that was ever versioned has noncurrent versions and delete markers.
    const versionRules = rules.some(
      (rule) =>
        rule.noncurrentDays !== undefined ||
        rule.noncurrentTransitions !== undefined ||
        rule.expiredObjectDeleteMarker === true,
    );
    // Intelligent tiering watches noncurrent versions too.
    if (versioning !== undefined && (versionRules || tiering.length > 0)) targets.push('versions');
    if (rules.some((rule) => rule.abortUploadDays !== null)) targets.push('uploads');
    const notify = lifecycleNotifyContext(this.catalog, bucket, this.region);
    return { bucketId: bucket.id, rules, tiering, nowMs, versioning, notify, targets };
  }

  private async runShard(shard: ShardClient, plan: BucketPlan): Promise<LifecycleRunResult> {
    const total = noResult();
    const { bucketId, rules, nowMs, versioning, notify, tiering } = plan;
    for (const target of plan.targets) {
      let after: string | null = '';
      while (after !== null && !this.job.stopped) {
        const result: LifecycleApplied = await shard.call(
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
            ...(target !== 'uploads' && tiering.length > 0 ? { tiering } : {}),
          },
          'LifecycleApplied',
        );
        addTo(total, {
          expired: result.expired,
          aborted: result.aborted,
          transitioned: result.transitioned ?? 0,
          tiered: result.tiered ?? 0,
        });
        after = result.next;
      }
    }
    return total;
  }
}

type LifecycleTarget = 'objects' | 'versions' | 'uploads';
type LifecycleApplied = Extract<ShardResult, { kind: 'LifecycleApplied' }>;

/** One bucket's part of a run. */
interface BucketPlan {
  bucketId: string;
  rules: LifecycleRule[];
  tiering: TieringRule[];
  nowMs: number;
  versioning: VersioningState | undefined;
  notify: NotifyContext | undefined;
  targets: LifecycleTarget[];
}

function addTo(total: LifecycleRunResult, result: LifecycleRunResult): void {
  total.expired += result.expired;
  total.aborted += result.aborted;
  total.transitioned += result.transitioned;
  total.tiered += result.tiered;
}
