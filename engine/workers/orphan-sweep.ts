import type { Logger } from '../log.js';
import type { ShardClient } from '../pool/shard-client.js';
import {
  type BackgroundWorker,
  ErrorRecord,
  relativeTime,
  Sleeper,
  type WorkerStatus,
} from './worker.js';

/** Block directories are fanned out by the first byte of the hash: 256 per shard. */
const FANOUTS = 256;
export const ORPHAN_SWEEP_INTERVAL_MS = 24 * 60 * 60 * 1000;

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
  private readonly errors = new ErrorRecord();
  private readonly sleeper = new Sleeper();
  private running: Promise<OrphanSweepResult> | null = null;
  private done = 0;
  private lastCompletedMs: number | null = null;
  private last: OrphanSweepResult | null = null;
  private total: OrphanSweepResult = { removed: 0, bytes: 0 };
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly shards: readonly ShardClient[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      void this.runNow().catch(() => undefined);
    }, ORPHAN_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.sleeper.wake();
    await this.running?.catch(() => undefined);
  }

  /** Starts a pass (or joins the one running) and resolves with what it removed. */
  runNow(): Promise<OrphanSweepResult> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<OrphanSweepResult> {
    this.done = 0;
    const result: OrphanSweepResult = { removed: 0, bytes: 0 };
    try {
      await Promise.all(
        this.shards.map(async (shard) => {
          for (let fanout = 0; fanout < FANOUTS && !this.stopped; fanout++) {
            const swept = await shard.call({ kind: 'SweepOrphans', fanout }, 'Swept');
            result.removed += swept.removed;
            result.bytes += swept.bytes;
            this.done++;
          }
        }),
      );
      this.errors.succeeded();
    } catch (error) {
      this.errors.failed(error);
      this.logger.error({ err: error }, 'orphan block cleanup failed');
      throw error;
    }
    this.last = result;
    this.total.removed += result.removed;
    this.total.bytes += result.bytes;
    this.lastCompletedMs = Date.now();
    if (result.removed > 0) this.logger.warn(result, 'orphan block cleanup removed block files');
    return result;
  }

  status(): WorkerStatus {
    const freeform = [
      this.lastCompletedMs === null
        ? 'Last completed: never since start (the start-up sweep ran)'
        : `Last completed: ${new Date(this.lastCompletedMs).toISOString()} (${relativeTime(this.lastCompletedMs)}), removed ${this.last?.removed ?? 0} files (${this.last?.bytes ?? 0} bytes)`,
      `Removed since start: ${this.total.removed} files (${this.total.bytes} bytes)`,
    ];
    const directories = FANOUTS * this.shards.length;
    return {
      state: this.running === null ? 'idle' : 'busy',
      errors: this.errors.errors,
      consecutiveErrors: this.errors.consecutiveErrors,
      lastError: this.errors.lastError,
      tranquility: null,
      progress:
        this.running === null
          ? null
          : `${((100 * this.done) / directories).toFixed(2)}% (${this.done}/${directories} directories)`,
      queueLength: null,
      freeform,
    };
  }
}
