import { randomBytes } from 'node:crypto';

const MS_HEX = 12;
const COUNTER_HEX = 8;

/**
 * Keys of a queue table that only grow: creation time in ms, then a counter, fixed-width hex, so
 * LMDB's byte order is creation order. Resumes after the table's last key, so a key made after a
 * restart (even with the clock stepped back) still sorts after every earlier one.
 *
 * In cluster mode several gateways append to one partition's queue, each with its own
 * sequencer: two of them can make the same time and counter, and a blind write of the second
 * would replace the first's row. `writer` (hex, unique per process) ends every key there, so
 * keys never collide; order between gateways then follows their clocks.
 */
export class Sequencer {
  private lastMs = 0;
  private counter = 0;

  constructor(
    last: string | undefined,
    private readonly writer = '',
  ) {
    if (last !== undefined) {
      this.lastMs = Number.parseInt(last.slice(0, MS_HEX), 16);
      this.counter = Number.parseInt(last.slice(MS_HEX, MS_HEX + COUNTER_HEX), 16);
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
      this.counter.toString(16).padStart(COUNTER_HEX, '0') +
      this.writer
    );
  }
}

/** This process's writer tag for queue keys in a shared (cluster) store: 8 random hex digits. */
export const PROCESS_WRITER_TAG = randomBytes(4).toString('hex');
