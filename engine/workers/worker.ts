/**
 * Background workers as the admin API shows them (Garage's worker model): each has a state, an
 * error record, an optional tranquility and a progress line. hangar's workers: the scrub, the
 * orphan-block cleanup and the lifecycle runner; engine/workers/registry.ts lists them.
 */

/** Garage's WorkerStateResp: busy, throttled (sleeping between batches), idle, done. */
export type WorkerState = 'busy' | { throttled: { durationSecs: number } } | 'idle' | 'done';

export interface WorkerStatus {
  state: WorkerState;
  errors: number;
  consecutiveErrors: number;
  lastError: { message: string; atMs: number } | null;
  tranquility: number | null;
  progress: string | null;
  queueLength: number | null;
  /** Human-readable facts (last run, counts), one per line. */
  freeform: string[];
}

export interface BackgroundWorker {
  readonly name: string;
  status(): WorkerStatus;
  /** Workers running elsewhere (edge threads): fetches their status before a listing. */
  refresh?(): Promise<void>;
}

/**
 * A worker that must run on one gateway of a cluster at a time (engine/cluster/election.ts
 * SINGLETON_JOBS): it works only while `gate`'s function holds, and `wake` starts its work at
 * once when the gateway gains the job's leadership. Embedded servers never gate.
 */
export interface SingletonWorker {
  /** Set before start: the worker's passes run only while `mayRun()` holds. */
  gate(mayRun: () => boolean): void;
  /** `mayRun` turned true: run now rather than at the next interval. */
  wake(): void;
}

/** Counts a worker's errors the way Garage reports them. */
export class ErrorRecord {
  errors = 0;
  consecutiveErrors = 0;
  lastError: { message: string; atMs: number } | null = null;

  failed(error: unknown): void {
    this.errors++;
    this.consecutiveErrors++;
    this.lastError = {
      message: error instanceof Error ? error.message : String(error),
      atMs: Date.now(),
    };
  }

  succeeded(): void {
    this.consecutiveErrors = 0;
  }
}

/**
 * A sleep that `wake()` cuts short (a command arrived, or the server is stopping). Timers are
 * unref'd: a sleeping worker never keeps the process alive.
 */
export class Sleeper {
  private wakeUp: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  sleep(ms: number): Promise<void> {
    this.wake();
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(() => this.wake(), Math.max(0, ms));
      this.timer.unref();
    });
  }

  /** Wakes the sleeper for good: every later sleep returns at once (the worker is stopping). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  wake(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const resolve = this.wakeUp;
    this.wakeUp = null;
    resolve?.();
  }
}

/** "3 h ago", "in 2 d": for freeform lines. */
export function relativeTime(atMs: number, nowMs: number = Date.now()): string {
  const seconds = Math.round((atMs - nowMs) / 1000);
  const magnitude = Math.abs(seconds);
  const unit =
    magnitude < 120
      ? `${magnitude} s`
      : magnitude < 7200
        ? `${Math.round(magnitude / 60)} min`
        : magnitude < 172800
          ? `${Math.round(magnitude / 3600)} h`
          : `${Math.round(magnitude / 86400)} d`;
  return seconds >= 0 ? `in ${unit}` : `${unit} ago`;
}
