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
  private inFlight = 0;

  constructor(readonly max: number = LIMITS.requestsInFlightMax) {}

  /** Counts the request in until its response is over; false when the port is full. */
  admit(res: Responder): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    res.whenDone(() => {
      this.inFlight--;
      assert(this.inFlight >= 0, 'a request leaves the gate once');
    });
    return true;
  }
}
