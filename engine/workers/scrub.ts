import { join } from 'node:path';
import { LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { ShardClient } from '../pool/shard-client.js';
import { StateFile } from './state-file.js';
import {
  type BackgroundWorker,
  ErrorRecord,
  relativeTime,
  Sleeper,
  type WorkerStatus,
} from './worker.js';

/** Garage's defaults: tranquility 4 (sleep 4× the time worked), a full pass every 25 to 35 days. */
export const SCRUB_DEFAULT_TRANQUILITY = 4;

export type ScrubCommand = 'start' | 'pause' | 'resume' | 'cancel';

interface ScrubState {
  /** Per shard: the last block hash checked ('' = none yet), or null when the shard is done. */
  cursors: Array<string | null>;
  running: boolean;
  pausedUntilMs: number | null;
  lastCompletedMs: number | null;
  nextRunMs: number;
  tranquility: number;
  corruptionsDetected: number;
  missingDetected: number;
  checkedBlocks: number;
  checkedBytes: number;
  /** Blocks referenced when the pass started (for the progress figure). */
  totalBlocks: number;
}

function nextScheduledRun(fromMs: number): number {
  return (
    fromMs + LIMITS.scrubPassIntervalMinMs + Math.floor(Math.random() * LIMITS.scrubPassJitterMs)
  );
}

/**
 * The scrub: walks every referenced block of every shard in hash order, re-reading and
 * re-hashing it (ScrubBlocks batches), so silent disk corruption is found before a client
 * reads it. It starts on its own every 25 to 35 days and on the operator's command (admin
 * LaunchRepairOperation {"scrub": "start" | "pause" | "resume" | "cancel"}); after each batch it
 * sleeps `tranquility` times as long as the batch took, so foreground traffic keeps the disk.
 * Its position is saved after every batch: a restart resumes where it stopped.
 */
export class ScrubWorker implements BackgroundWorker {
  readonly name = 'Block scrub worker';
  private state!: ScrubState;
  private readonly file: StateFile<ScrubState>;
  private readonly sleeper = new Sleeper();
  private readonly errors = new ErrorRecord();
  private loop: Promise<void> | null = null;
  private throttledUntilMs: number | null = null;
  /**
   * Bumped by start and cancel: a batch that was in flight across one belongs to a pass that no
   * longer exists, and its results are dropped instead of moving the new pass's cursors.
   */
  private generation = 0;
  private scheduleTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    dataDir: string,
    private readonly shards: readonly ShardClient[],
    private readonly logger: Logger,
  ) {
    this.file = new StateFile<ScrubState>(join(dataDir, 'workers', 'scrub.json'), () => ({
      cursors: shards.map(() => null),
      running: false,
      pausedUntilMs: null,
      lastCompletedMs: null,
      nextRunMs: nextScheduledRun(Date.now()),
      tranquility: SCRUB_DEFAULT_TRANQUILITY,
      corruptionsDetected: 0,
      missingDetected: 0,
      checkedBlocks: 0,
      checkedBytes: 0,
      totalBlocks: 0,
    }));
  }

  async start(): Promise<void> {
    this.state = await this.file.load();
    if (this.state.cursors.length !== this.shards.length) {
      this.state.cursors = this.shards.map(() => null);
      this.state.running = false;
    }
    if (this.state.running) this.kick();
    this.scheduleTimer = setInterval(() => this.startIfDue(), LIMITS.scrubScheduleCheckMs);
    this.scheduleTimer.unref();
    this.startIfDue();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduleTimer !== null) clearInterval(this.scheduleTimer);
    this.sleeper.close();
    await this.loop;
  }

  private startIfDue(): void {
    if (this.state.running || Date.now() < this.state.nextRunMs) return;
    this.command('start').catch((error: unknown) => {
      this.errors.failed(error);
      this.logger.error({ err: error }, 'scheduled scrub could not start');
    });
  }

  async command(command: ScrubCommand): Promise<void> {
    const s = this.state;
    switch (command) {
      case 'start':
        this.generation++;
        s.cursors = this.shards.map(() => '');
        s.running = true;
        s.pausedUntilMs = null;
        s.checkedBlocks = 0;
        s.checkedBytes = 0;
        s.totalBlocks = await this.referencedBlocks();
        break;
      case 'pause':
        if (s.running) s.pausedUntilMs = Date.now() + LIMITS.scrubPauseCommandMs;
        break;
      case 'resume':
        s.pausedUntilMs = null;
        break;
      case 'cancel':
        this.generation++;
        s.running = false;
        s.pausedUntilMs = null;
        s.cursors = this.shards.map(() => null);
        break;
    }
    await this.file.save(s);
    this.sleeper.wake();
    if (s.running) this.kick();
  }

  get tranquility(): number {
    return this.state.tranquility;
  }

  async setTranquility(value: number): Promise<void> {
    this.state.tranquility = value;
    await this.file.save(this.state);
    this.sleeper.wake();
  }

  get lastCompletedMs(): number | null {
    return this.state.lastCompletedMs;
  }

  get nextRunMs(): number {
    return this.state.nextRunMs;
  }

  async setNextRun(atMs: number): Promise<void> {
    this.state.nextRunMs = atMs;
    await this.file.save(this.state);
    this.startIfDue();
  }

  get corruptionsDetected(): number {
    return this.state.corruptionsDetected;
  }

  private async referencedBlocks(): Promise<number> {
    const all = await Promise.all(
      this.shards.map((shard) => shard.call({ kind: 'Stats' }, 'Stats')),
    );
    return all.reduce((sum, { stats }) => sum + stats.blocks.stored, 0);
  }

  private kick(): void {
    this.loop ??= this.run()
      .catch((error: unknown) => {
        // run() records its own failures; this is the last guard against an unhandled rejection.
        this.errors.failed(error);
        this.logger.error({ err: error }, 'scrub worker stopped on an error');
      })
      .finally(() => {
        this.loop = null;
      });
  }

  /** Saves the state; a failure (a full disk) is recorded, and the pass goes on from memory. */
  private async saveState(): Promise<void> {
    try {
      await this.file.save(this.state);
    } catch (error) {
      this.errors.failed(error);
      this.logger.error({ err: error }, 'scrub: saving its position failed');
    }
  }

  private async run(): Promise<void> {
    const s = this.state;
    while (s.running && !this.stopped) {
      if (s.pausedUntilMs !== null) {
        if (Date.now() < s.pausedUntilMs) {
          await this.sleeper.sleep(Math.min(s.pausedUntilMs - Date.now(), LIMITS.scrubSleepMaxMs));
          continue;
        }
        s.pausedUntilMs = null;
      }
      const startedMs = Date.now();
      const generation = this.generation;
      try {
        await this.batch(generation);
        this.errors.succeeded();
      } catch (error) {
        this.errors.failed(error);
        this.logger.error({ err: error }, 'scrub batch failed');
        await this.sleeper.sleep(LIMITS.scrubErrorBackoffMs);
        continue;
      }
      if (generation !== this.generation) continue; // started anew or cancelled meanwhile
      if (s.cursors.every((cursor) => cursor === null)) {
        s.running = false;
        s.lastCompletedMs = Date.now();
        s.nextRunMs = nextScheduledRun(s.lastCompletedMs);
        await this.saveState();
        this.logger.info(
          { blocks: s.checkedBlocks, bytes: s.checkedBytes, corrupt: s.corruptionsDetected },
          'scrub completed',
        );
        break;
      }
      await this.saveState();
      const pauseMs = Math.min((Date.now() - startedMs) * s.tranquility, LIMITS.scrubSleepMaxMs);
      if (pauseMs > 0) {
        this.throttledUntilMs = Date.now() + pauseMs;
        await this.sleeper.sleep(pauseMs);
        this.throttledUntilMs = null;
      }
    }
  }

  /** One batch on every shard that still has blocks to check, in parallel. */
  private async batch(generation: number): Promise<void> {
    const s = this.state;
    await Promise.all(
      this.shards.map(async (shard, index) => {
        const after = s.cursors[index];
        if (after === null || after === undefined) return;
        const result = await shard.call(
          {
            kind: 'ScrubBlocks',
            after,
            limit: LIMITS.scrubBatchBlocks,
            maxBytes: LIMITS.scrubBatchBytes,
          },
          'Scrubbed',
        );
        if (generation !== this.generation) return;
        s.cursors[index] = result.next;
        s.checkedBlocks += result.checked;
        s.checkedBytes += result.bytes;
        s.corruptionsDetected += result.corrupt.length;
        s.missingDetected += result.missing.length;
        for (const hash of result.corrupt) {
          this.logger.error(
            { shard: shard.shardId, block: hash },
            'scrub: corrupt block quarantined',
          );
        }
        for (const hash of result.missing) {
          this.logger.error({ shard: shard.shardId, block: hash }, 'scrub: block file missing');
        }
      }),
    );
  }

  status(): WorkerStatus {
    const s = this.state;
    const now = Date.now();
    const paused = s.running && s.pausedUntilMs !== null && s.pausedUntilMs > now;
    const throttled = this.throttledUntilMs !== null && this.throttledUntilMs > now;
    const freeform = [
      `Corruptions detected: ${s.corruptionsDetected}, missing blocks: ${s.missingDetected}`,
      s.lastCompletedMs === null
        ? 'Last completed: never'
        : `Last completed: ${new Date(s.lastCompletedMs).toISOString()} (${relativeTime(s.lastCompletedMs, now)})`,
      `Next scheduled run: ${new Date(s.nextRunMs).toISOString()} (${relativeTime(s.nextRunMs, now)})`,
    ];
    if (paused && s.pausedUntilMs !== null) {
      freeform.unshift(`Paused until ${new Date(s.pausedUntilMs).toISOString()}`);
    }
    return {
      state: !s.running
        ? 'idle'
        : paused
          ? 'idle'
          : throttled && this.throttledUntilMs !== null
            ? { throttled: { durationSecs: (this.throttledUntilMs - now) / 1000 } }
            : 'busy',
      errors: this.errors.errors,
      consecutiveErrors: this.errors.consecutiveErrors,
      lastError: this.errors.lastError,
      tranquility: s.tranquility,
      progress: s.running
        ? `${s.totalBlocks === 0 ? '0.00' : ((100 * s.checkedBlocks) / s.totalBlocks).toFixed(2)}% (${s.checkedBlocks}/${s.totalBlocks} blocks, ${s.checkedBytes} bytes)`
        : null,
      queueLength: null,
      freeform,
    };
  }
}
