import { assert } from '../../assert.js';

/**
 * Lets at most `max` tasks run at once; the others wait in arrival order. It bounds a block
 * store's RADOS operations in flight (native read buffers, koffi's async queue, librados'
 * throttle all stay bounded however many requests arrive).
 */
export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];

  constructor(private readonly max: number) {
    assert(Number.isSafeInteger(max) && max > 0, 'a gate lets some task through');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Hands the slot to the next waiter (which then counts as running), or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      next();
      return;
    }
    this.running--;
    if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Resolves once no task runs or waits. */
  drained(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
