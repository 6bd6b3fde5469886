import type { Logger } from '../engine/log.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import { ErrorRecord, Sleeper } from '../engine/workers/worker.js';

/**
 * What the main-thread workers that drain a queue table of every shard share (event
 * notification delivery, bucket replication): passes over all shards at once, an idle wait when
 * a pass moved nothing, and exponential backoff per failing destination.
 */

/** Per destination (a notification target, a replication remote): failures and their backoff. */
export class Backoffs {
  private readonly byName = new Map<string, { attempts: number; untilMs: number }>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** Whether `name` is waiting out its backoff now. */
  waiting(name: string): boolean {
    const backoff = this.byName.get(name);
    return backoff !== undefined && backoff.untilMs > Date.now();
  }

  /** A failed attempt: the next waits base × 2^(failures − 1), at most max. Returns the wait. */
  failed(name: string): number {
    const attempts = (this.byName.get(name)?.attempts ?? 0) + 1;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(attempts - 1, 20));
    this.byName.set(name, { attempts, untilMs: Date.now() + delay });
    return delay;
  }

  succeeded(name: string): void {
    this.byName.delete(name);
  }

  /** The destinations backing off. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Until the next pass: `pollMs`, or sooner when a backoff ends (10 ms at least). */
  idleWaitMs(pollMs: number): number {
    const now = Date.now();
    let wait = pollMs;
    for (const { untilMs } of this.byName.values()) wait = Math.min(wait, untilMs - now);
    return Math.max(10, wait);
  }
}

export interface ShardQueueLoopOptions {
  shards: readonly ShardClient[];
  /** One batch of one shard's queue; true when something left it. */
  pass(shard: ShardClient): Promise<boolean>;
  idleWaitMs(): number;
  /** True while there can be nothing to do: the round is skipped (no shard message at all). */
  idle?(): boolean;
  /** After each round of passes (e.g. to publish the pending count). */
  afterRound(): void;
  logger: Logger;
  /** The log line of a failed round. */
  failure: string;
}

/** Runs rounds of passes over every shard until stopped. */
export class ShardQueueLoop {
  readonly errors = new ErrorRecord();
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | null = null;
  private stopping = false;
  /** Cluster mode: rounds run only while this holds (the job's leadership). */
  private mayRun: () => boolean = () => true;

  constructor(private readonly options: ShardQueueLoopOptions) {}

  /** Rounds run only while `mayRun` holds (checked before each); wake() after it turns true. */
  gate(mayRun: () => boolean): void {
    this.mayRun = mayRun;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Ends the loop after the round in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.close();
    await this.loop;
  }

  /** Cuts the idle wait short (new work, a backoff to retry now). */
  wake(): void {
    this.sleeper.wake();
  }

  private async run(): Promise<void> {
    const { shards, pass, logger } = this.options;
    while (!this.stopping) {
      let progressed = false;
      if (!this.mayRun() || this.options.idle?.() === true) {
        await this.sleeper.sleep(this.options.idleWaitMs());
        continue;
      }
      try {
        const passes = await Promise.all(shards.map((shard) => pass(shard)));
        progressed = passes.some((moved) => moved);
        this.errors.succeeded();
      } catch (error) {
        // A shard restarting: its queue waits in LMDB; try again after the idle wait.
        this.errors.failed(error);
        logger.warn({ err: error }, this.options.failure);
      }
      this.options.afterRound();
      if (!progressed) await this.sleeper.sleep(this.options.idleWaitMs());
    }
  }
}
