import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { BufferPool } from '../protocol/buffer-pool.js';
import type { ShardClient } from './shard-client.js';

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
  private inFlightBytes = 0;
  private paused = false;
  sentBytes = 0;

  constructor(
    private readonly client: ShardClient,
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
    if (this.inFlightBytes >= LIMITS.windowBytes && !this.paused) {
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
    this.inFlightBytes += bytes;
    this.sentBytes += bytes;
    this.client.send({ kind: 'BodyChunk', reqId: this.reqId, bytes }, buffer);
  }

  credit(bytes: number, buffer: ArrayBuffer | undefined): void {
    this.inFlightBytes -= bytes;
    assert(this.inFlightBytes >= 0, 'credits never exceed what was sent');
    this.buffers.give(buffer);
    if (this.paused && this.inFlightBytes < LIMITS.windowBytes) {
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
