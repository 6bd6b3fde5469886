import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';
import { assert } from '../assert.js';
import type { BlockRef, OpenedObject } from '../protocol/messages.js';

/**
 * A block file that could not be served as its name promises: its bytes fail their check
 * (BlockDigest), it is shorter than recorded, missing, or unreadable. The read fails; the shard then has the
 * block checked the way the scrub checks it (quarantine + block error).
 */
export class BlockReadError extends Error {
  constructor(
    readonly hash: string,
    detail: string,
  ) {
    super(`block ${hash}: ${detail}`);
    this.name = 'BlockReadError';
  }
}

/** Body bytes ready to go to the HTTP thread: `bytes` bytes at the start of `buffer`. */
export interface Chunk {
  buffer: ArrayBuffer;
  bytes: number;
}

/** Decrypts bytes read from blocks in place, given the object position of their first byte. */
export type Decryptor = (position: number, data: Uint8Array) => void;

/**
 * Where a read session gets its chunks. The session owns a fixed number of chunk buffers (its
 * window): those in flight to the HTTP thread plus those the source `held`. It calls `readNext`
 * with a free buffer while it has one and `more` is true, and sends what `takeReady` gives.
 */
export interface ChunkSource {
  /** Buffers this source keeps (read, not yet given out by takeReady). */
  readonly held: number;
  /** Whether bytes are left to read. */
  readonly more: boolean;
  /** Reads into `buffer`; returns it when the source did not keep it (hash-only bytes). */
  readNext(buffer: ArrayBuffer): Promise<ArrayBuffer | null>;
  /** The next chunk that may be sent, in order. */
  takeReady(): Chunk | undefined;
  /**
   * Called when every buffer of the window is held unverified (a block larger than the window):
   * gives up the hold on the oldest one so the read can go on. Returns false if nothing is held.
   */
  releaseOldest(): boolean;
  close(): Promise<void>;
}

/** An inline body, verified when its record was opened (MetaStore.verifyInline). */
export class InlineSource implements ChunkSource {
  private readonly ready: Chunk[] = [];
  private position: number;

  constructor(
    private readonly body: Uint8Array,
    start: number,
    private readonly endExclusive: number,
  ) {
    this.position = start;
  }

  get held(): number {
    return this.ready.length;
  }

  get more(): boolean {
    return this.position < this.endExclusive;
  }

  async readNext(buffer: ArrayBuffer): Promise<ArrayBuffer | null> {
    const bytes = Math.min(buffer.byteLength, this.endExclusive - this.position);
    new Uint8Array(buffer).set(this.body.subarray(this.position, this.position + bytes));
    this.position += bytes;
    this.ready.push({ buffer, bytes });
    return null;
  }

  takeReady(): Chunk | undefined {
    return this.ready.shift();
  }

  releaseOldest(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}

/**
 * What a read checks a block's bytes against: the CRC32C on record for it (BlockRef.crc32c,
 * ~6x cheaper), or, for a block written before CRCs were kept, its name (SHA-256).
 *
 * A CRC catches what happens to bytes at rest: bit flips, torn or misdirected writes, a stale
 * sector (a miss takes a 1 in 2^32 accident). It is no defence against someone who rewrites
 * block files on purpose; the scrub re-hashes every block with SHA-256 for that.
 */
export class BlockDigest {
  private readonly sha256: Hash | null;
  private crc = 0;

  constructor(private readonly block: BlockRef) {
    this.sha256 = block.crc32c === undefined ? createHash('sha256') : null;
  }

  update(view: Uint8Array): void {
    if (this.sha256 !== null) this.sha256.update(view);
    else this.crc = crc32c(view, this.crc);
  }

  /** Null when the bytes fed are the block's; otherwise what they turned out to be. */
  mismatch(): string | null {
    if (this.sha256 !== null) {
      const actual = this.sha256.digest('hex');
      return actual === this.block.hash ? null : `block file hashes to ${actual}`;
    }
    const recorded = this.block.crc32c;
    if (this.crc === recorded) return null;
    return `block file's CRC32C is ${hex32(this.crc)}, ${hex32(recorded ?? 0)} on record`;
  }
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/**
 * Reads `[start, endExclusive)` of an object's blocks so that no byte of a block reaches the
 * HTTP thread before the whole block was checked against its CRC32C or name (BlockDigest), as long
 * as a block fits in the session's window (the default: 1 MiB blocks, 1 MiB window). A block
 * larger than the window streams with only its last window's worth held back: a bad block then
 * ends the response short (the HTTP side cuts the connection), never as a complete wrong body.
 *
 * Every block the range touches is read whole (bytes outside the range are checked, not sent):
 * a ranged GET of a few bytes costs a read and a check of up to one block.
 */
export class VerifiedBlockSource implements ChunkSource {
  /** Verified chunks, in order. */
  private readonly ready: Chunk[] = [];
  /** Chunks of the current block read but not yet verified, in order. */
  private readonly pending: Chunk[] = [];
  private blockIndex: number;
  /** Object position of the current block's first byte. */
  private blockStart: number;
  /** Next offset to read inside the current block. */
  private offset = 0;
  private digest: BlockDigest | null = null;
  private file: FileHandle | null = null;
  private closed = false;
  /** Last block index the range touches. */
  private readonly lastIndex: number;

  constructor(
    private readonly object: OpenedObject,
    private readonly start: number,
    private readonly endExclusive: number,
    private readonly decrypt: Decryptor | null,
  ) {
    assert(start < endExclusive, 'a block source reads at least one byte');
    const first = blockAt(object, start);
    this.blockIndex = first.index;
    this.blockStart = first.blockStart;
    this.lastIndex = blockAt(object, endExclusive - 1).index;
  }

  get held(): number {
    return this.ready.length + this.pending.length;
  }

  get more(): boolean {
    return this.blockIndex <= this.lastIndex;
  }

  takeReady(): Chunk | undefined {
    return this.ready.shift();
  }

  releaseOldest(): boolean {
    const oldest = this.pending.shift();
    if (oldest === undefined) return false;
    this.ready.push(oldest);
    return true;
  }

  async readNext(buffer: ArrayBuffer): Promise<ArrayBuffer | null> {
    assert(this.more, 'a read is asked only while bytes are left');
    const block = this.object.blocks[this.blockIndex];
    assert(block !== undefined, 'the block index is inside the object');
    const length = Math.min(buffer.byteLength, block.bytes - this.offset);
    const view = new Uint8Array(buffer, 0, length);
    await this.readExactly(block.hash, view);
    this.digest ??= new BlockDigest(block);
    this.digest.update(view);
    const kept = this.keepInRange(buffer, this.blockStart + this.offset, length);
    this.offset += length;
    if (this.offset === block.bytes) await this.endBlock(block);
    return kept ? null : buffer;
  }

  /**
   * Keeps the part of a chunk read at object position `position` that lies in the range, moved
   * to the buffer's start (the HTTP side sends `bytes` bytes from offset 0) and decrypted.
   */
  private keepInRange(buffer: ArrayBuffer, position: number, length: number): boolean {
    const from = Math.max(position, this.start);
    const to = Math.min(position + length, this.endExclusive);
    if (from >= to) return false;
    const bytes = new Uint8Array(buffer);
    if (from > position) bytes.copyWithin(0, from - position, to - position);
    this.decrypt?.(from, bytes.subarray(0, to - from));
    this.pending.push({ buffer, bytes: to - from });
    return true;
  }

  private async readExactly(hash: string, view: Uint8Array): Promise<void> {
    try {
      this.file ??= await this.openBlock();
      const { bytesRead } = await this.file.read(view, 0, view.byteLength, this.offset);
      if (bytesRead !== view.byteLength) throw new BlockReadError(hash, 'shorter than recorded');
    } catch (error) {
      if (error instanceof BlockReadError || this.closed) throw error;
      const code = (error as { code?: string }).code ?? String(error);
      throw new BlockReadError(hash, `block file cannot be read (${code})`);
    }
  }

  /** Checks the whole block read: its held chunks may go, or the read fails. */
  private async endBlock(block: BlockRef): Promise<void> {
    const digest = this.digest;
    assert(digest !== null, 'a block ends after its bytes were read');
    this.digest = null;
    await this.closeFile();
    const mismatch = digest.mismatch();
    if (mismatch !== null) throw new BlockReadError(block.hash, mismatch);
    this.ready.push(...this.pending.splice(0));
    this.blockStart += block.bytes;
    this.blockIndex++;
    this.offset = 0;
  }

  private async openBlock(): Promise<FileHandle> {
    const file = await open(this.pathOf(this.blockIndex), 'r');
    if (!this.closed) return file;
    await file.close();
    throw new Error('read session closed');
  }

  private pathOf(index: number): string {
    const path = this.object.blockPaths[index];
    assert(path !== undefined, 'every block has a path');
    return path;
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.closeFile();
  }
}

/** The block holding object position `position`, and where that block starts. */
function blockAt(object: OpenedObject, position: number): { index: number; blockStart: number } {
  let blockStart = 0;
  for (let index = 0; index < object.blocks.length; index++) {
    const bytes = object.blocks[index]?.bytes ?? 0;
    if (position < blockStart + bytes) return { index, blockStart };
    blockStart += bytes;
  }
  throw new Error(`position ${position} is past the object's blocks`);
}
