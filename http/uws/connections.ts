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
 */
export class RequestGate {
  private readonly inFlight = new Set<Responder>();
  private idleWaiters: Array<() => void> = [];

  constructor(readonly max: number = LIMITS.requestsInFlightMax) {}

  /** Counts the request in until its response is over; false when the port is full. */
  admit(res: Responder): boolean {
    if (this.inFlight.size >= this.max) return false;
    this.inFlight.add(res);
    res.whenDone(() => {
      assert(this.inFlight.delete(res), 'a request leaves the gate once');
      if (this.inFlight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
    return true;
  }

  /** Resolves once no request is in flight (a stopping edge thread drains by it). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cuts every request still in flight (a drain that ran out of time). */
  cutAll(): void {
    for (const res of [...this.inFlight]) res.close();
  }
}

/** An edge thread's share of a process-wide bound: each of `threads` gets an equal floor, at
 *  least 1, so together they never exceed it (unless there are more threads than the bound). */
export function shareOf(bound: number, threads: number): number {
  return Math.max(1, Math.floor(bound / threads));
}
