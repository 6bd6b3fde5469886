import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import { type BufferPool, CreditWindow, WINDOW_CHUNKS } from '../protocol/flow.js';
import type { OpenedObject } from '../protocol/messages.js';
import {
  type BlockOpener,
  type ChunkSource,
  type Decryption,
  InlineSource,
  VerifiedBlockSource,
} from './verified-read.js';

/** Sends one body chunk; the buffer is transferred to the HTTP thread. */
export type ChunkSink = (buffer: ArrayBuffer, bytes: number) => void;

/**
 * Streams a byte range of an opened object to the HTTP thread under credit-based flow control:
 * at most `windowBytes` are in flight; each `Credit` from the HTTP thread hands a staging buffer
 * back (the response accepted its bytes) and lets the next chunk go. Memory per GET is bounded
 * by the window, whatever the object size. Every block is verified against its name before its
 * bytes go (verified-read.ts).
 */
export class ReadSession {
  private readonly spare: ArrayBuffer[] = [];
  /** Chunks sent and not yet credited; with those read ahead, at most a window's worth. */
  private readonly window = new CreditWindow(WINDOW_CHUNKS);
  private source: ChunkSource | null = null;
  private pumping = false;
  private finished = false;

  constructor(
    readonly object: OpenedObject,
    private readonly send: ChunkSink,
    private readonly onDone: (error: unknown) => void,
    /** The shard's chunk buffers: taken from at need, given back when the session ends. */
    private readonly buffers: BufferPool,
    /** Where the object's blocks are opened (the shard's block seam). */
    private readonly blocks: BlockOpener,
    /** Encrypted objects: decrypts bytes read from blocks, once their tags are checked. */
    private readonly decrypt: Decryption | null = null,
  ) {}

  start(start: number, endExclusive: number): void {
    assert(start >= 0 && start <= endExclusive, 'range is ordered');
    assert(endExclusive <= this.object.info.bytes, 'range is within the object');
    assert(this.source === null, 'a session reads one range');
    this.source = sourceFor(this.object, start, endExclusive, this.decrypt, this.blocks);
    void this.pump();
  }

  credit(buffer: ArrayBuffer | undefined): void {
    this.window.credit(1);
    if (buffer !== undefined && buffer.byteLength === LIMITS.chunkBytes) this.spare.push(buffer);
    void this.pump();
  }

  private async pump(): Promise<void> {
    const source = this.source;
    if (this.pumping || this.finished || source === null) return;
    this.pumping = true;
    try {
      while (!this.finished && (await this.step(source)));
      if (!source.more && source.held === 0 && this.window.inFlight === 0) this.finish(null);
    } catch (error) {
      this.finish(error);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Moves the read on by one chunk: sends a verified one, reads the next, or (a block larger
   * than the window) lets the oldest unverified one go. False when only a credit can help.
   */
  private async step(source: ChunkSource): Promise<boolean> {
    const ready = source.takeReady();
    if (ready !== undefined) {
      this.window.spend(1);
      this.send(ready.buffer, ready.bytes);
      return true;
    }
    if (!source.more) return false;
    if (this.buffersInUse(source) < WINDOW_CHUNKS) {
      const buffer = this.spare.pop() ?? this.buffers.take();
      const unused = await source.readNext(buffer);
      if (unused !== null) this.spare.push(unused);
      return true;
    }
    return this.window.inFlight === 0 && source.releaseOldest();
  }

  private buffersInUse(source: ChunkSource): number {
    return this.window.inFlight + source.held;
  }

  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    void this.source?.close();
    this.onDone(error);
  }

  /** Stops streaming (client gone or response complete); its spare buffers serve the next. */
  close(): void {
    this.finished = true;
    void this.source?.close();
    for (const buffer of this.spare.splice(0)) this.buffers.give(buffer);
  }
}

function sourceFor(
  object: OpenedObject,
  start: number,
  endExclusive: number,
  decrypt: Decryption | null,
  blocks: BlockOpener,
): ChunkSource {
  if (object.inlineBody !== null) return new InlineSource(object.inlineBody, start, endExclusive);
  if (start === endExclusive) return new InlineSource(new Uint8Array(0), 0, 0);
  return new VerifiedBlockSource(object, start, endExclusive, decrypt, blocks);
}
