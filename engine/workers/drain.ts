import { LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { ShardClient } from '../pool/shard-client.js';
import type { StorageConfig } from '../storage-config.js';
import { ErrorRecord, Sleeper, type WorkerStatus } from './worker.js';

/**
 * Drains the data directories marked `read_only` (issue 18): every shard moves their block
 * files to its tier's writable directories, a batch (DrainBlocks) at a time, until none are
 * left (engine/shard/block-drain.ts does the moving). Nothing to persist: the files are the
 * state, so after a restart the drain picks up where the files say. Idle (done) once every
 * read-only directory is empty; it looks again now and then (a restarted drain of pinned
 * blocks, an operator's rsync into a read-only dir).
 */
export class DrainWorker {
  readonly name = 'Data directory drain';
  private readonly errors = new ErrorRecord();
  private readonly sleeper = new Sleeper();
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Block files left on read-only dirs at the last look (null: not looked yet). */
  private remaining: number | null = null;
  private moved = 0;
  private busy = false;

  constructor(
    private readonly shards: readonly ShardClient[],
    private readonly storage: StorageConfig,
    private readonly logger: Logger,
  ) {}

  /** Whether any data directory is read_only (else the worker never runs). */
  get hasWork(): boolean {
    return this.storage.dataDirs.some((dir) => dir.readOnly);
  }

  start(): void {
    if (this.hasWork) this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.close();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let pause: number = LIMITS.drainPauseMs;
      try {
        this.busy = true;
        const results = await Promise.all(
          this.shards.map((shard) =>
            shard.call({ kind: 'DrainBlocks', limit: LIMITS.drainBatchBlocks }, 'Drained'),
          ),
        );
        this.errors.succeeded();
        const moved = results.reduce((sum, r) => sum + r.moved, 0);
        this.moved += moved;
        this.remaining = results.reduce((sum, r) => sum + r.remaining, 0);
        if (this.remaining === 0) pause = LIMITS.drainRecheckMs;
        else if (moved === 0) pause = LIMITS.drainBusyRetryMs;
      } catch (error) {
        this.errors.failed(error);
        this.logger.error({ err: error }, 'data directory drain failed; retrying');
        pause = LIMITS.drainBusyRetryMs;
      } finally {
        this.busy = false;
      }
      await this.sleeper.sleep(pause);
    }
  }

  status(): WorkerStatus {
    const done = this.remaining === 0;
    return {
      state: !this.hasWork || done ? 'done' : this.busy ? 'busy' : 'idle',
      errors: this.errors.errors,
      consecutiveErrors: this.errors.consecutiveErrors,
      lastError: this.errors.lastError,
      tranquility: null,
      progress:
        this.hasWork && this.remaining !== null
          ? `${this.remaining} block files left on read-only data directories`
          : null,
      queueLength: this.remaining,
      freeform: this.hasWork
        ? [`Moved since start: ${this.moved} block files`]
        : ['No data directory is read_only'],
    };
  }
}
