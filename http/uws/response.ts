import type { HttpResponse } from 'uWebSockets.js';
import { AssertionError } from 'node:assert';
import { firstUnsafeHeader } from './header-safety.js';

/** HTTP status lines hangar sends. */
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export type Headers = ReadonlyArray<readonly [string, string]>;

/**
 * Every write to a uWS HttpResponse goes through here. It enforces uWS's rules: nothing is
 * written after the client aborted or after the response ended; writes made after an await are
 * corked; `onAborted` is attached as soon as the request is accepted.
 */
export class Responder {
  private aborted = false;
  private paused = false;
  private ended = false;
  private readonly abortHandlers: Array<() => void> = [];
  private readonly queue: Array<{ view: Uint8Array; offset: number | null; done: () => void }> = [];
  private totalBytes = 0;
  private doneHandlers: Array<() => void> | null = [];
  private statusSent = 0;
  private bodyBytesSent = 0;
  /** Headers every response to this request carries, whatever writes it (CORS). */
  private extraHeaders: Headers = [];
  /** Set by a graceful stop: the answer says `Connection: close` and uWS closes after it. */
  private closeAfterAnswer = false;
  private peer: string | null = null;
  /** Chunked writes waiting for uWS to drain its buffer (writeChunked's backpressure). */
  private writableWaiters: Array<() => void> = [];

  constructor(
    private readonly res: HttpResponse,
    readonly requestId: string,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      for (const handler of this.abortHandlers.splice(0)) handler();
      for (const waiter of this.writableWaiters.splice(0)) waiter();
      this.settle();
    });
  }

  /** Adds headers to whatever response this request gets (success or error). */
  addHeaders(headers: Headers): void {
    // Checked here, not only when written: the error answer carries them too, so unsafe ones
    // must never be kept.
    assertSafeHeaders(headers);
    if (headers.length > 0) this.extraHeaders = [...this.extraHeaders, ...headers];
  }

  /**
   * The answer, when not yet begun, will carry `Connection: close` (a graceful stop: the client
   * must not send its next request on this connection).
   */
  closeConnectionAfterAnswer(): void {
    this.closeAfterAnswer = true;
  }

  /** Whether the response can still be written. */
  get open(): boolean {
    return !this.aborted && !this.ended;
  }

  /** The HTTP status written, or 0 while none was (or the connection ended without one). */
  /**
   * The peer's address as uWS writes it (dotted IPv4, or IPv6 text), read on first use: only a
   * bucket policy with aws:SourceIp asks. Empty once the client is gone.
   */
  remoteAddress(): string {
    if (this.peer === null) {
      this.peer = this.aborted
        ? ''
        : Buffer.from(this.res.getRemoteAddressAsText()).toString('latin1');
    }
    return this.peer;
  }

  get status(): number {
    return this.statusSent;
  }

  /** Response body bytes handed to uWS (headers excluded; a streamed body's completed chunks). */
  get bytesSent(): number {
    return this.bodyBytesSent;
  }

  get clientGone(): boolean {
    return this.aborted;
  }

  /**
   * Runs once the response is over: ended (a streamed body's last byte handed to uWS), closed, or
   * aborted by the client. At once if it is over already.
   */
  whenDone(handler: () => void): void {
    if (this.doneHandlers === null) handler();
    else this.doneHandlers.push(handler);
  }

  private settle(): void {
    if (this.open || this.doneHandlers === null) return;
    const handlers = this.doneHandlers;
    this.doneHandlers = null;
    for (const handler of handlers) handler();
  }

  /** Runs when the client goes away before the response ended. */
  onAbort(handler: () => void): void {
    if (this.aborted) handler();
    else this.abortHandlers.push(handler);
  }

  /** Stops reading the request body (backpressure toward the client). */
  pause(): void {
    if (!this.open || this.paused) return;
    this.paused = true;
    this.res.pause();
  }

  /** Reads the body again. Only after a pause: uWS 20.30 drops the connection when a response
   *  that is not paused is resumed. */
  resume(): void {
    if (!this.open || !this.paused) return;
    this.paused = false;
    this.res.resume();
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.res.onData(handler);
  }

  /** Sends a whole response. `body` may be empty; HEAD responses pass `headLength`. */
  send(
    status: number,
    headers: Headers,
    body: string | Uint8Array = '',
    options: SendOptions = {},
  ): void {
    if (!this.open) return;
    assertSafeHeaders(headers);
    this.ended = true;
    const close = options.close === true || this.closeAfterAnswer;
    try {
      this.res.cork(() => {
        this.writeHead(status, headers);
        if (options.headLength !== undefined) this.endHead(options.headLength, close);
        else if (status === 304 || status === 204) this.res.endWithoutBody(0, close);
        else {
          // A string is encoded once, here: uWS would convert it to UTF-8 itself and
          // Buffer.byteLength walk it again (a listing page is ~250 KB of XML).
          const bytes = typeof body === 'string' ? Buffer.from(body) : body;
          this.bodyBytesSent += bytes.byteLength;
          this.res.end(bytes, close);
        }
      });
    } finally {
      // Even when a write throws: the done handlers (request gate, access log) must run.
      this.settle();
    }
  }

  /**
   * Ends a response that reports a length but carries no body (HEAD). uWS 20.30's
   * `endWithoutBody(n)` with n > 0 leaves the response unfinished and drops the next request on a
   * keep-alive connection, so the length is written as a plain header instead.
   */
  private endHead(length: number, close: boolean | undefined): void {
    if (length === 0) {
      this.res.endWithoutBody(0, close);
      return;
    }
    this.res.writeHeader('content-length', String(length));
    if (close) this.res.writeHeader('connection', 'close');
    this.res.endWithoutBody();
  }

  /** Starts a streamed body of known total size (Content-Length is written by tryEnd). */
  beginStream(status: number, headers: Headers, totalBytes: number): void {
    if (!this.open) return;
    assertSafeHeaders(headers);
    this.totalBytes = totalBytes;
    // tryEnd takes no close flag: the header alone tells the client not to reuse the connection
    // (a graceful stop cuts it at the end in any case).
    const close: Headers = this.closeAfterAnswer ? [['connection', 'close']] : [];
    this.res.cork(() => this.writeHead(status, [...headers, ...close]));
    this.res.onWritable(() => this.retryPending());
  }

  /**
   * Writes one chunk of a streamed body; `done` runs once uWS has taken all of its bytes (at
   * once, or later from onWritable), which is when the caller may reuse the buffer. Chunks queue
   * behind one that met backpressure, so bytes always leave in order.
   */
  writeChunk(view: Uint8Array, done: () => void): void {
    if (!this.open) return;
    this.queue.push({ view, offset: null, done });
    if (this.queue.length === 1) this.drain();
  }

  /** Writes queued chunks until one meets backpressure; onWritable continues from there. */
  private drain(): void {
    while (this.open) {
      const head = this.queue[0];
      if (head === undefined) return;
      if (head.offset === null) head.offset = this.res.getWriteOffset();
      const rest = head.view.subarray(this.res.getWriteOffset() - head.offset);
      let ok = false;
      let finished = false;
      this.res.cork(() => {
        [ok, finished] = this.res.tryEnd(rest, this.totalBytes);
      });
      if (finished) this.ended = true;
      if (!ok && !finished) return;
      this.queue.shift();
      this.bodyBytesSent += head.view.byteLength;
      head.done();
    }
    this.settle();
  }

  private retryPending(): boolean {
    this.drain();
    return this.queue.length === 0 || !this.open;
  }

  /**
   * Starts a streamed body of unknown length (chunked transfer encoding): S3 Select's event
   * stream, whose size is known only at its end.
   */
  beginChunked(status: number, headers: Headers): void {
    if (!this.open) return;
    assertSafeHeaders(headers);
    const close: Headers = this.closeAfterAnswer ? [['connection', 'close']] : [];
    this.res.cork(() => this.writeHead(status, [...headers, ...close]));
    this.res.onWritable(() => {
      for (const waiter of this.writableWaiters.splice(0)) waiter();
      return true;
    });
  }

  /**
   * Writes one chunk of a chunked body. uWS keeps what the socket did not take; `done` runs at
   * once, or when that backlog drained (or the client left), so a writer that waits for it
   * holds at most one chunk in uWS's buffer.
   */
  writeChunked(view: Uint8Array, done: () => void): void {
    if (!this.open) {
      done();
      return;
    }
    let drained = false;
    this.res.cork(() => {
      drained = this.res.write(view);
    });
    this.bodyBytesSent += view.byteLength;
    if (drained) done();
    else this.writableWaiters.push(done);
  }

  /** Ends a chunked body. */
  endChunked(): void {
    if (!this.open) return;
    this.ended = true;
    try {
      this.res.cork(() => this.res.end());
    } finally {
      this.settle();
    }
  }

  /** Drops the connection (unrecoverable mid-stream failure, or a body we refuse to drain). */
  close(): void {
    if (!this.open) return;
    this.ended = true;
    this.res.close();
    this.settle();
  }

  private writeHead(status: number, headers: Headers): void {
    this.statusSent = status;
    this.res.writeStatus(`${status} ${STATUS_TEXT[status] ?? 'Unknown'}`);
    this.res.writeHeader('x-amz-request-id', this.requestId);
    for (const [name, value] of headers) this.res.writeHeader(name, value);
    for (const [name, value] of this.extraHeaders) this.res.writeHeader(name, value);
  }
}

/**
 * Throws (before anything is written) when a header could split the response or corrupt the
 * header section. Inputs are validated where they enter; this is the last line, so a value that
 * slipped through (an older stored object, a new code path) fails its request with a 500
 * instead of reaching the wire. Never strips silently: that would hide the bug.
 */
/** Throws (AssertionError) when a header would carry a control character: check before writing. */
export function assertSafeHeaders(headers: Headers): void {
  const unsafe = firstUnsafeHeader(headers);
  if (unsafe === null) return;
  throw new AssertionError({
    message: `refusing to write the unsafe response header ${JSON.stringify(unsafe[0])}: ${JSON.stringify(unsafe[1])}`,
    actual: unsafe[1],
    operator: 'isHeaderValue',
  });
}

export interface SendOptions {
  headLength?: number;
  close?: boolean;
}
