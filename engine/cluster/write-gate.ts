import { assert } from '../assert.js';

/**
 * The split-brain guard (Membership.canWrite) as every thread of a gateway sees it: the main
 * thread holds the etcd lease, edge threads refuse S3 writes when it cannot prove the lease
 * alive. One SharedArrayBuffer holds "writes allowed until" (epoch ms, 0 = not now): a check
 * on an edge thread is one atomic load and a clock read, no message, no wait.
 *
 * The main thread publishes the membership's own deadline (the send time of the last
 * acknowledged renewal plus the TTL), so an edge thread stops writing at the same instant the
 * main thread's canWrite() turns false, without waiting for anyone to tell it. A deadline
 * published late is older, hence earlier: publishing can only make the gate stricter.
 */
export class WriteGate {
  private readonly until: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    assert(buffer.byteLength === 8, 'a write gate is one 64-bit slot');
    this.until = new BigInt64Array(buffer);
  }

  /** Main thread: writes are allowed until `epochMs` (0: not now). */
  publish(epochMs: number): void {
    Atomics.store(this.until, 0, BigInt(Math.max(0, Math.floor(epochMs))));
  }

  /** Any thread: whether a write may start now. */
  open(): boolean {
    return Date.now() < Number(Atomics.load(this.until, 0));
  }
}
