const MS_HEX = 12;
const COUNTER_HEX = 8;

/**
 * Keys of a queue table that only grow: creation time in ms, then a counter, fixed-width hex, so
 * LMDB's byte order is creation order. Resumes after the table's last key, so a key made after a
 * restart (even with the clock stepped back) still sorts after every earlier one.
 */
export class Sequencer {
  private lastMs = 0;
  private counter = 0;

  constructor(last: string | undefined) {
    if (last !== undefined) {
      this.lastMs = Number.parseInt(last.slice(0, MS_HEX), 16);
      this.counter = Number.parseInt(last.slice(MS_HEX), 16);
    }
  }

  /** The next key: greater than every one before it, in this process or an earlier one. */
  next(nowMs: number): string {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return (
      this.lastMs.toString(16).padStart(MS_HEX, '0') +
      this.counter.toString(16).padStart(COUNTER_HEX, '0')
    );
  }
}
