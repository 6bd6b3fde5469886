import { ErrorRecord, relativeTime, type WorkerStatus } from './worker.js';

/**
 * A job that runs every `intervalMs` and on demand, one run at a time: asking while a run is in
 * progress queues one more run after it (so a request always sees work that started after it),
 * and any further asks join that queued run. It records errors, the last result and when the
 * last run ended, for the worker's status. Timers are unref'd.
 */
export class PeriodicJob<T> {
  readonly errors = new ErrorRecord();
  lastCompletedMs: number | null = null;
  last: T | null = null;
  nextRunMs: number | null = null;
  private stopRequested = false;
  /** Cluster mode: scheduled runs happen only while this holds (the job's leadership). */
  private mayRun: () => boolean = () => true;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<T> | null = null;
  private queued: Promise<T> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<T>,
  ) {}

  /**
   * Set by stop(), and while `gate` says no: long runs check it between batches and end early
   * (a gateway that lost a job's leadership stops its run in progress).
   */
  get stopped(): boolean {
    return this.stopRequested || !this.mayRun();
  }

  /**
   * Scheduled runs (and the one at start) happen only while `mayRun` holds; runNow (an
   * operator's ask) is not gated. Set before start.
   */
  gate(mayRun: () => boolean): void {
    this.mayRun = mayRun;
  }

  /** Schedules the job every interval (and runs it now when `runNow`). */
  start(options: { runNow: boolean }): void {
    if (options.runNow && this.mayRun()) void this.runNow().catch(() => undefined);
    this.nextRunMs = Date.now() + this.intervalMs;
    this.timer = setInterval(() => {
      this.nextRunMs = Date.now() + this.intervalMs;
      if (this.mayRun()) void this.runNow().catch(() => undefined);
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops scheduling and waits for the run in progress (which sees `stopped` and ends early). */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.timer !== null) clearInterval(this.timer);
    await Promise.allSettled([this.running, this.queued]);
  }

  /** Starts a run, or queues one after the run in progress; resolves with its result. */
  runNow(): Promise<T> {
    if (this.running === null) {
      this.running = this.runOnce().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.runNow();
      });
    return this.queued;
  }

  private async runOnce(): Promise<T> {
    try {
      const result = await this.work();
      this.errors.succeeded();
      this.last = result;
      this.lastCompletedMs = Date.now();
      return result;
    } catch (error) {
      this.errors.failed(error);
      throw error;
    }
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** The status fields the job itself knows: state, errors, queue. */
  statusFields(): Pick<
    WorkerStatus,
    'state' | 'errors' | 'consecutiveErrors' | 'lastError' | 'queueLength'
  > {
    return {
      state: this.running === null ? 'idle' : 'busy',
      errors: this.errors.errors,
      consecutiveErrors: this.errors.consecutiveErrors,
      lastError: this.errors.lastError,
      queueLength: this.queued === null ? 0 : 1,
    };
  }

  /** "Last completed: <when> (<how long ago>)<detail>" or "...: never". */
  lastCompletedLine(detail: (last: T) => string, never = 'never'): string {
    if (this.lastCompletedMs === null || this.last === null) return `Last completed: ${never}`;
    const at = this.lastCompletedMs;
    return `Last completed: ${new Date(at).toISOString()} (${relativeTime(at)})${detail(this.last)}`;
  }

  nextRunLine(): string | null {
    if (this.nextRunMs === null) return null;
    return `Next run: ${new Date(this.nextRunMs).toISOString()} (${relativeTime(this.nextRunMs)})`;
  }
}
