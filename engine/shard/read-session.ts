import { type FileHandle, open } from 'node:fs/promises';
import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { OpenedObject } from '../protocol/messages.js';

/** Sends one body chunk; the buffer is transferred to the HTTP thread. */
export type ChunkSink = (buffer: ArrayBuffer, bytes: number) => void;

/**
 * Streams a byte range of an opened object to the HTTP thread under credit-based flow control:
 * at most `windowBytes` are in flight; each `Credit` from the HTTP thread hands a staging buffer
 * back (the response accepted its bytes) and lets the next chunk go. Memory per GET is bounded
 * by the window, whatever the object size.
 */
export class ReadSession {
  private readonly spare: ArrayBuffer[] = [];
  private inFlight = 0;
  private position = 0;
  private endExclusive = 0;
  private pumping = false;
  private finished = false;
  private handle: { index: number; file: FileHandle } | null = null;

  constructor(
    readonly object: OpenedObject,
    private readonly send: ChunkSink,
    private readonly onDone: (error: unknown) => void,
    /** SSE-C objects: decrypts bytes read from blocks, in place, given their object position. */
    private readonly decrypt: ((position: number, data: Uint8Array) => void) | null = null,
  ) {}

  start(start: number, endExclusive: number): void {
    assert(start >= 0 && start <= endExclusive, 'range is ordered');
    assert(endExclusive <= this.object.info.bytes, 'range is within the object');
    this.position = start;
    this.endExclusive = endExclusive;
    void this.pump();
  }

  credit(buffer: ArrayBuffer | undefined): void {
    assert(this.inFlight > 0, 'credit matches a chunk in flight');
    this.inFlight--;
    if (buffer !== undefined && buffer.byteLength === LIMITS.chunkBytes) this.spare.push(buffer);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    try {
      while (this.position < this.endExclusive && this.hasCredit()) await this.sendNext();
      if (this.position === this.endExclusive && this.inFlight === 0) this.finish(null);
    } catch (error) {
      this.finish(error);
    } finally {
      this.pumping = false;
    }
  }

  private hasCredit(): boolean {
    return (this.inFlight + 1) * LIMITS.chunkBytes <= LIMITS.windowBytes;
  }

  private async sendNext(): Promise<void> {
    const buffer = this.spare.pop() ?? new ArrayBuffer(LIMITS.chunkBytes);
    const bytes = await this.readInto(new Uint8Array(buffer));
    assert(bytes > 0, 'a read makes progress');
    this.position += bytes;
    this.inFlight++;
    this.send(buffer, bytes);
  }

  /** Reads from the block that holds `position`, up to the chunk size or the block's end. */
  private async readInto(target: Uint8Array): Promise<number> {
    const want = Math.min(target.byteLength, this.endExclusive - this.position);
    if (this.object.inlineBody !== null) {
      target.set(this.object.inlineBody.subarray(this.position, this.position + want));
      return want;
    }
    const { index, offset } = this.locate(this.position);
    const block = this.object.blocks[index];
    assert(block !== undefined, 'position is inside a block');
    const file = await this.fileFor(index);
    const length = Math.min(want, block.bytes - offset);
    const { bytesRead } = await file.read(target, 0, length, offset);
    if (bytesRead !== length) throw new Error(`block ${block.hash} is shorter than recorded`);
    this.decrypt?.(this.position, target.subarray(0, bytesRead));
    return bytesRead;
  }

  private locate(position: number): { index: number; offset: number } {
    let start = 0;
    for (let index = 0; index < this.object.blocks.length; index++) {
      const bytes = this.object.blocks[index]?.bytes ?? 0;
      if (position < start + bytes) return { index, offset: position - start };
      start += bytes;
    }
    throw new Error(`position ${position} is past the object's blocks`);
  }

  private async fileFor(index: number): Promise<FileHandle> {
    if (this.handle?.index === index) return this.handle.file;
    await this.handle?.file.close();
    this.handle = null;
    const path = this.object.blockPaths[index];
    assert(path !== undefined, 'every block has a path');
    this.handle = { index, file: await open(path, 'r') };
    return this.handle.file;
  }

  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    void this.handle?.file.close().catch(() => undefined);
    this.handle = null;
    this.onDone(error);
  }

  /** Stops streaming (client gone or response complete). */
  close(): void {
    this.finished = true;
    void this.handle?.file.close().catch(() => undefined);
    this.handle = null;
  }
}
