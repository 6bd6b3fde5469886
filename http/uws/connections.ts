import { assert } from '../../engine/assert.js';
import { LIMITS } from '../../engine/limits.js';
import type { Responder } from './response.js';

/**
 * The cap on what one port serves at once. uWS.js has no event for an HTTP connection opening
 * or closing, so what is counted is requests, from their acceptance to the end of their response
 * (sent, cut or aborted): that is what holds memory (early body bytes, upload and read windows,
 * shard work). An idle keep-alive connection costs uWS a few hundred bytes and is not counted; a
 * request past the cap is answered at once, before a byte of its body is read, and its
 * connection closed, so a flood of connections cannot queue work or buffers.
 *
 * The same count is what a graceful stop waits on (`drain`): the admitted requests are kept
 * (not only counted) so that the stop can ask each to close its connection after its answer,
 * and cut the ones still running when the drain's bound passes.
 */
export class RequestGate {
  private readonly admitted = new Set<Responder>();
  private draining = false;
  private onEmpty: (() => void) | null = null;

  constructor(readonly max: number = LIMITS.requestsInFlightMax) {}

  /**
   * Counts the request in until its response is over. 'full' when the port is at its cap,
   * 'stopping' once a drain began (no new request is served, even on an open connection).
   */
  admit(res: Responder): 'admitted' | 'full' | 'stopping' {
    if (this.draining) return 'stopping';
    if (this.admitted.size >= this.max) return 'full';
    this.admitted.add(res);
    res.whenDone(() => {
      assert(this.admitted.delete(res), 'a request leaves the gate once');
      if (this.admitted.size === 0) this.onEmpty?.();
    });
    return 'admitted';
  }

  get inFlight(): number {
    return this.admitted.size;
  }

  /**
   * Admits nothing more and tells every request in flight to close its connection once
   * answered; resolves when the last one is over.
   */
  drain(): Promise<void> {
    this.draining = true;
    for (const res of this.admitted) res.closeConnectionAfterAnswer();
    if (this.admitted.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onEmpty = resolve;
    });
  }

  /** Drops the connection of every request still in flight (the drain's bound passed). */
  cutRemaining(): number {
    const cut = this.admitted.size;
    for (const res of [...this.admitted]) res.close();
    return cut;
  }
}

/** An edge thread's share of a process-wide bound: each of `threads` gets an equal floor, at
 *  least 1, so together they never exceed it (unless there are more threads than the bound). */
export function shareOf(bound: number, threads: number): number {
  return Math.max(1, Math.floor(bound / threads));
}
