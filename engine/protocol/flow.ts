import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { ShardRequest } from './messages.js';

/**
 * Flow control of body bytes between edge threads and shards, both ways, in one place.
 *
 * Bytes cross as transferred ArrayBuffers beside messages (codec.ts); a receiver gives each
 * buffer back with a `Credit` once it is done with the bytes, and a sender keeps at most one
 * window (`LIMITS.windowBytes`) unanswered:
 *  - **Upload (edge → shard):** `UploadStream` stages socket bytes into pooled chunk buffers,
 *    sends them as BodyChunks and pauses the socket while a window is in flight; the shard
 *    (shard.ts `acceptChunk`) replies Credit with the buffer once the chunk is written. A body
 *    of at most one chunk skips all of it and rides with its PutBegin (http/s3/body-upload.ts).
 *  - **Download (shard → edge):** the shard's `ReadSession` sends verified chunks while its
 *    `CreditWindow` of chunks has room; the edge (object-get.ts `streamBody`) sends Credit with
 *    the buffer once uWS has taken the bytes, so a slow client stops the shard's reads.
 *  - **Relay (shard → edge → shard):** a server-side copy forwards each source chunk to the
 *    target's upload and the target's Credit back to the source (http/s3/relay.ts): the edge
 *    holds no bytes and the source never runs more than a window ahead of the target.
 * Returned buffers go to a `BufferPool`, so steady streaming allocates nothing.
 */

/** The window in chunks: the buffers a read session may hold, in flight or read ahead. */
export const WINDOW_CHUNKS = Math.floor(LIMITS.windowBytes / LIMITS.chunkBytes);

/** A receiver is done with a chunk's bytes: its buffer goes back to the sender, with a credit. */
export function returnCredit(
  sink: ChunkSink,
  reqId: number,
  buffer: ArrayBuffer | undefined,
): void {
  sink.send({ kind: 'Credit', reqId }, buffer);
}

/**
 * Units (bytes or chunks) sent and not yet credited, against a limit. The invariant every
 * sender relies on: credits never exceed what was sent.
 */
export class CreditWindow {
  private inFlightUnits = 0;

  constructor(private readonly limit: number) {
    assert(limit > 0, 'a window holds something');
  }

  get inFlight(): number {
    return this.inFlightUnits;
  }

  /** Whether the window is full: the sender must wait for a credit. */
  get full(): boolean {
    return this.inFlightUnits >= this.limit;
  }

  spend(units: number): void {
    assert(units >= 0, 'a send spends a non-negative amount');
    this.inFlightUnits += units;
  }

  credit(units: number): void {
    this.inFlightUnits -= units;
    assert(this.inFlightUnits >= 0, 'credits never exceed what was sent');
  }
}

/**
 * Recycled staging buffers. A body chunk's ArrayBuffer is transferred to a shard and comes back
 * with the shard's credit, so steady-state streaming allocates nothing. Buffers beyond
 * `keepMax` are left to the GC, which bounds the pool's memory.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly keepMax = 256) {}

  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(LIMITS.chunkBytes);
  }

  give(buffer: ArrayBuffer | undefined): void {
    if (buffer === undefined || buffer.byteLength !== LIMITS.chunkBytes) return;
    if (this.free.length < this.keepMax) this.free.push(buffer);
    assert(this.free.length <= this.keepMax, 'the pool stays bounded');
  }
}

/** Where an upload's chunks go: the shard client of the request (only its `send`). */
export interface ChunkSink {
  send(message: ShardRequest, body?: ArrayBuffer): void;
}

/** The HTTP connection's throttle: pause reading the socket, resume it. */
export interface Throttle {
  pause(): void;
  resume(): void;
}

/**
 * Carries one request body from the HTTP thread to its shard with credit-based flow control.
 * Bytes are copied once, out of uWS's transient buffer into a staging buffer; full staging
 * buffers are transferred to the shard. When `windowBytes` are in flight the socket is paused;
 * each credit (the shard has written a chunk and returns its buffer) may resume it.
 */
export class UploadStream {
  private staging: ArrayBuffer | null = null;
  private fill = 0;
  private readonly window = new CreditWindow(LIMITS.windowBytes);
  private paused = false;
  sentBytes = 0;

  constructor(
    private readonly client: ChunkSink,
    private readonly reqId: number,
    private readonly buffers: BufferPool,
    private readonly throttle: Throttle,
    /** The body's length when known: its last (or only) chunk gets a buffer of its exact size. */
    private readonly totalBytes: number | null = null,
  ) {}

  /**
   * A staging buffer: a pooled full-size one, or an exact-size one for the short tail of a
   * body of known length. Small PUTs then hold kilobytes, not a 256 KiB buffer each, while
   * they wait for their shard (64 concurrent 4 KiB PUTs would otherwise pin 16 MiB).
   */
  private takeBuffer(): ArrayBuffer {
    const remaining =
      this.totalBytes === null ? Number.POSITIVE_INFINITY : this.totalBytes - this.sentBytes;
    if (remaining >= LIMITS.chunkBytes || remaining <= 0) return this.buffers.take();
    return new ArrayBuffer(remaining);
  }

  write(view: Uint8Array): void {
    let offset = 0;
    while (offset < view.byteLength) {
      this.staging ??= this.takeBuffer();
      const room = this.staging.byteLength - this.fill;
      const take = Math.min(room, view.byteLength - offset);
      new Uint8Array(this.staging, this.fill, take).set(view.subarray(offset, offset + take));
      this.fill += take;
      offset += take;
      if (this.fill === this.staging.byteLength) this.flush();
    }
    if (this.window.full && !this.paused) {
      this.paused = true;
      this.throttle.pause();
    }
  }

  /** Sends whatever is staged (the body's last, partial chunk). */
  flush(): void {
    if (this.staging === null || this.fill === 0) return;
    const buffer = this.staging;
    const bytes = this.fill;
    this.staging = null;
    this.fill = 0;
    this.window.spend(bytes);
    this.sentBytes += bytes;
    this.client.send({ kind: 'BodyChunk', reqId: this.reqId, bytes }, buffer);
  }

  credit(bytes: number, buffer: ArrayBuffer | undefined): void {
    this.window.credit(bytes);
    this.buffers.give(buffer);
    if (this.paused && !this.window.full) {
      this.paused = false;
      this.throttle.resume();
    }
  }

  /** Returns the staging buffer to the pool when the upload is abandoned. */
  discard(): void {
    if (this.staging !== null) this.buffers.give(this.staging);
    this.staging = null;
    this.fill = 0;
  }
}
