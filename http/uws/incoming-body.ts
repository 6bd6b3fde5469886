import { LIMITS } from '../../engine/limits.js';
import type { Responder } from './response.js';

export type BodySink = (view: Uint8Array, isLast: boolean) => void;

/**
 * The request body as uWS delivers it. `onData` is attached when the request is accepted (uWS
 * drops data that arrives with no handler); bytes that arrive before a handler has chosen where
 * they go are copied aside (uWS neuters its buffer on return) and the socket is paused once a
 * window's worth is waiting, so an early body never grows memory without bound.
 */
export class IncomingBody {
  private sink: BodySink | null = null;
  private readonly early: Array<{ view: Uint8Array; isLast: boolean }> = [];
  private earlyBytes = 0;
  private pausedEarly = false;
  private ended = false;
  private receivedBytes = 0;
  private onEnd: (() => void) | null = null;

  /** `expectsBody` is false for requests without one (no Content-Length, or 0, and not
   *  chunked): uWS then never calls onData, and the body is simply empty. */
  constructor(
    private readonly res: Responder,
    expectsBody: boolean,
  ) {
    if (expectsBody) res.onData((chunk, isLast) => this.receive(chunk, isLast));
    else {
      this.ended = true;
      this.early.push({ view: new Uint8Array(0), isLast: true });
    }
    // Once the response is over, nothing will read the rest of the body.
    res.whenDone(() => this.discard());
  }

  /** Body bytes received so far (on the wire: aws-chunked framing included). */
  get bytesReceived(): number {
    return this.receivedBytes;
  }

  get complete(): boolean {
    return this.ended;
  }

  /**
   * Throws away the rest of the body so an early answer (an error before the body was read)
   * can keep the connection open: resolves true once the body ended, false if more than
   * `bytesMax` remain (or the length is unknown) and the caller should close instead.
   */
  async discardRest(
    declaredBytes: number | null,
    bytesMax: number,
    timeoutMs: number,
  ): Promise<boolean> {
    this.discard();
    if (this.ended) return true;
    if (declaredBytes === null || declaredBytes - this.receivedBytes > bytesMax) return false;
    // A client that went away sends nothing more: waiting for its body would hold the request
    // (and its drain timer) open for nothing.
    if (this.res.clientGone) return false;
    const ended = new Promise<void>((resolve) => {
      this.onEnd = resolve;
      this.res.onAbort(resolve);
    });
    this.pausedEarly = false;
    this.res.resume();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([ended, timedOut]);
    clearTimeout(timer);
    return this.ended;
  }

  /**
   * The answer was decided without the rest of the body (an error, a refusal, or the response
   * is over): what arrived early is freed, and what still arrives is counted and dropped, never
   * copied, however long the client goes on sending.
   */
  discard(): void {
    this.sink = () => undefined;
    this.early.length = 0;
    this.earlyBytes = 0;
  }

  /** Routes the body (including what arrived already) to `sink`. `sink` must copy what it keeps. */
  pipe(sink: BodySink): void {
    this.sink = sink;
    for (const { view, isLast } of this.early.splice(0)) sink(view, isLast);
    this.earlyBytes = 0;
    if (this.pausedEarly) {
      this.pausedEarly = false;
      this.res.resume();
    }
  }

  /** Reads a small body whole (XML documents); larger than `bytesMax` is an error. */
  collect(bytesMax: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let total = 0;
      this.pipe((view, isLast) => {
        total += view.byteLength;
        if (total > bytesMax) {
          reject(new RangeError('body too large'));
          this.res.close();
          return;
        }
        parts.push(Buffer.from(view));
        if (isLast) resolve(Buffer.concat(parts));
      });
    });
  }

  private receive(chunk: ArrayBuffer, isLast: boolean): void {
    if (isLast) this.ended = true;
    this.receivedBytes += chunk.byteLength;
    const view = new Uint8Array(chunk);
    if (this.sink !== null) {
      this.sink(view, isLast);
      if (isLast) this.onEnd?.();
      return;
    }
    this.early.push({ view: view.slice(), isLast });
    this.earlyBytes += view.byteLength;
    if (this.earlyBytes >= LIMITS.windowBytes && !this.pausedEarly) {
      this.pausedEarly = true;
      this.res.pause();
    }
  }
}
