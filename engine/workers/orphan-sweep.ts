import { LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { ShardClient } from '../pool/shard-client.js';
import { PeriodicJob } from './periodic.js';
import type { BackgroundWorker, WorkerStatus } from './worker.js';

/** Block directories are fanned out by the first byte of the hash: 256 per shard. */
const FANOUTS = 256;

export interface OrphanSweepResult {
  removed: number;
  bytes: number;
}

/**
 * Orphan-block cleanup: removes block files that nothing references and nothing is using
 * (left by a failed unlink, or by a crash between a block's rename and its commit — the
 * start-up sweep catches those before serving; this worker catches the rest while serving).
 * Each shard does one fan-out directory per request (SweepOrphans), so a pass never holds a
 * shard for long. Runs every 24 hours and on demand (admin LaunchRepairOperation "blocks").
 */
export class OrphanSweeper implements BackgroundWorker {
  readonly name = 'Orphan block cleanup';
  private readonly job = new PeriodicJob(LIMITS.orphanSweepIntervalMs, () => this.pass());
  /** Fan-out directories swept in the pass in progress. */
  private done = 0;
  private total: OrphanSweepResult = { removed: 0, bytes: 0 };

  constructor(
    private readonly shards: readonly ShardClient[],
    private readonly logger: Logger,
  ) {}

  /** The start-up sweep has just run in every shard: the first pass is a day away. */
  start(): void {
    this.job.start({ runNow: false });
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Starts a pass (or queues one after the pass in progress); resolves with what it removed. */
  runNow(): Promise<OrphanSweepResult> {
    return this.job.runNow();
  }

  private async pass(): Promise<OrphanSweepResult> {
    this.done = 0;
    const result: OrphanSweepResult = { removed: 0, bytes: 0 };
    try {
      await Promise.all(
        this.shards.map(async (shard) => {
          for (let fanout = 0; fanout < FANOUTS && !this.job.stopped; fanout++) {
            const swept = await shard.call({ kind: 'SweepOrphans', fanout }, 'Swept');
            result.removed += swept.removed;
            result.bytes += swept.bytes;
            this.done++;
          }
        }),
      );
    } catch (error) {
      this.logger.error({ err: error }, 'orphan block cleanup failed');
      throw error;
    }
    this.total.removed += result.removed;
    this.total.bytes += result.bytes;
    if (result.removed > 0) this.logger.warn(result, 'orphan block cleanup removed block files');
    return result;
  }

  status(): WorkerStatus {
    const directories = FANOUTS * this.shards.length;
    const next = this.job.nextRunLine();
    return {
      ...this.job.statusFields(),
      tranquility: null,
      progress: this.job.busy
        ? `${((100 * this.done) / directories).toFixed(2)}% (${this.done}/${directories} directories)`
        : null,
      freeform: [
        this.job.lastCompletedLine(
          (last) => `, removed ${last.removed} files (${last.bytes} bytes)`,
          'never since start (the start-up sweep ran)',
        ),
        `Removed since start: ${this.total.removed} files (${this.total.bytes} bytes)`,
        ...(next === null ? [] : [next]),
      ],
    };
  }
}
