import { createHash, type Hash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { assert } from '../assert.js';
import { contentHashOf } from '../blocks/block-key.js';
import { type BlockFile, CorruptBlockFileError } from '../blocks/compressed.js';
import { type BlockCrcs, crcsFit } from '../blocks/segment-crc.js';
import type { ShardBlocks } from '../blocks/shard-blocks.js';
import type { BlockRef, OpenedObject } from '../protocol/messages.js';
import { MAC_SEGMENT_BYTES, type RunningTagCheck, type SegmentTags } from '../sse/segment-mac.js';

/**
 * A block file that could not be served as its name promises: its bytes fail their check
 * (CheckUnit), it is shorter than recorded, missing, or unreadable. The read fails; the shard
 * then has the block checked the way the scrub checks it (quarantine + block error).
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

/**
 * Where a verified read opens a block (ShardBlocks.openBlock): a block file read in place
 * (embedded), or a RADOS block read whole and checked against its SHA-256 first (cluster mode;
 * the CRC checks below then run over verified bytes in memory: redundant, cheap, one code path).
 */
export type BlockOpener = Pick<ShardBlocks, 'openBlock'>;

/** Decrypts bytes read from blocks in place, given the object position of their first byte. */
export type Decryptor = (position: number, data: Uint8Array) => void;

/**
 * How an encrypted object is read: its decryptor, and the segment tags its ciphertext is
 * checked against before any decrypted byte leaves (null: an object written before tags).
 */
export interface Decryption {
  readonly decrypt: Decryptor;
  readonly tags: SegmentTags | null;
}

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

/** An inline body, verified when its record was opened (recordBody, engine/meta/bodies.ts). */
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
 * A stretch of a block that a read checks as one: a segment with a CRC32C on record
 * (BlockRef.crcs, ~6x cheaper than SHA-256), or, for a block written before CRCs were kept, the
 * whole block against its name (SHA-256). Its bytes are held until the check passes.
 *
 * A CRC catches what happens to bytes at rest: bit flips, torn or misdirected writes, a stale
 * sector (a miss takes a 1 in 2^32 accident). It is no defence against someone who rewrites
 * block files on purpose; the scrub re-hashes every block with SHA-256 for that, and encrypted
 * objects add a keyed tag per segment (TaggedUnit) that no one without the key can fix up.
 */
interface CheckUnit {
  /** Offset in the block just past the unit. */
  readonly end: number;
  update(view: Uint8Array): void;
  /** Null when the bytes fed are the ones on record; otherwise what they turned out to be. */
  mismatch(): string | null;
}

class CrcUnit implements CheckUnit {
  private crc = 0;

  constructor(
    readonly end: number,
    private readonly index: number,
    private readonly recorded: number,
  ) {}

  update(view: Uint8Array): void {
    this.crc = crc32c(view, this.crc);
  }

  mismatch(): string | null {
    if (this.crc === this.recorded) return null;
    return `segment ${this.index} has CRC32C ${hex32(this.crc)}, ${hex32(this.recorded)} on record`;
  }
}

class Sha256Unit implements CheckUnit {
  private readonly hasher: Hash = createHash('sha256');

  constructor(
    readonly end: number,
    private readonly hash: string,
  ) {}

  update(view: Uint8Array): void {
    this.hasher.update(view);
  }

  mismatch(): string | null {
    const actual = this.hasher.digest('hex');
    return actual === this.hash ? null : `block file hashes to ${actual}`;
  }
}

/**
 * A check unit of an encrypted block with tags: its CRC32C (or SHA-256) check, and the tag of
 * each MAC segment inside it (a CRC unit is exactly one; a whole-block unit may hold several).
 * The unit passes only if every tag does: the CRC is unkeyed, anyone can recompute it.
 */
class TaggedUnit implements CheckUnit {
  private at: number;
  private segment: RunningTagCheck | null = null;
  private segmentEnd = 0;
  private failed: string | null = null;

  constructor(
    private readonly inner: CheckUnit,
    start: number,
    private readonly tagCheckAt: (offset: number, bytes: number) => RunningTagCheck,
    private readonly blockBytes: number,
  ) {
    this.at = start;
  }

  get end(): number {
    return this.inner.end;
  }

  update(view: Uint8Array): void {
    this.inner.update(view);
    let fed = 0;
    while (fed < view.byteLength) {
      if (this.segment === null) {
        this.segmentEnd = Math.min(this.blockBytes, this.at + MAC_SEGMENT_BYTES);
        this.segment = this.tagCheckAt(this.at, this.segmentEnd - this.at);
      }
      const take = Math.min(this.segmentEnd - this.at, view.byteLength - fed);
      this.segment.update(view.subarray(fed, fed + take));
      fed += take;
      this.at += take;
      if (this.at === this.segmentEnd) {
        this.failed ??= this.segment.mismatch();
        this.segment = null;
      }
    }
  }

  mismatch(): string | null {
    assert(this.segment === null, 'a unit ends on a segment end');
    return this.inner.mismatch() ?? this.failed;
  }
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** The block's CRCs when reads can use them (one per segment), else null: SHA-256 it is. */
function usableCrcs(block: BlockRef): BlockCrcs | null {
  return block.crcs !== undefined && crcsFit(block.crcs, block.bytes) ? block.crcs : null;
}

/** The size of the units reads check a block by: its CRC segments, or the whole block. */
function unitBytes(block: BlockRef): number {
  return usableCrcs(block)?.segmentBytes ?? block.bytes;
}

/** The check unit of `block` that starts at `offset` (a unit boundary). */
function unitAt(block: BlockRef, offset: number): CheckUnit {
  const crcs = usableCrcs(block);
  if (crcs === null) {
    assert(offset === 0, 'a block without CRCs is read from its start');
    return new Sha256Unit(block.bytes, contentHashOf(block.hash));
  }
  const index = offset / crcs.segmentBytes;
  const recorded = crcs.values[index];
  assert(Number.isInteger(index) && recorded !== undefined, 'a unit starts on a segment');
  return new CrcUnit(Math.min(offset + crcs.segmentBytes, block.bytes), index, recorded);
}

/**
 * Reads `[start, endExclusive)` of an object's blocks so that no byte reaches the HTTP thread
 * before its check unit (a CRC segment, or a whole block without CRCs) was read and checked,
 * as long as a unit fits in the session's window (CRC segments are one read chunk; blocks
 * without CRCs fit with the defaults: 1 MiB blocks, 1 MiB window). A larger unit streams with
 * only its last window's worth held back: a bad one then ends the response short (the HTTP
 * side cuts the connection), never as a complete wrong body.
 *
 * Every unit the range touches is read whole (bytes outside the range are checked, not sent):
 * a ranged GET of a few bytes costs a read and a check of one segment (256 KiB), or of a whole
 * block for one recorded without CRCs.
 */
export class VerifiedBlockSource implements ChunkSource {
  /** Verified chunks, in order. */
  private readonly ready: Chunk[] = [];
  /** Chunks of the current unit read but not yet verified, in order. */
  private readonly pending: Chunk[] = [];
  private blockIndex: number;
  /** Object position of the current block's first byte. */
  private blockStart: number;
  /** Next offset to read inside the current block. */
  private offset = 0;
  /** Offset in the current block where its reading stops (the end of the range's last unit). */
  private readEnd = 0;
  private unit: CheckUnit | null = null;
  private file: BlockFile | null = null;
  private closed = false;
  /** Last block index the range touches. */
  private readonly lastIndex: number;

  constructor(
    private readonly object: OpenedObject,
    private readonly start: number,
    private readonly endExclusive: number,
    private readonly decryption: Decryption | null,
    private readonly blocks: BlockOpener,
  ) {
    assert(start < endExclusive, 'a block source reads at least one byte');
    const first = blockAt(object, start);
    this.blockIndex = first.index;
    this.blockStart = first.blockStart;
    this.lastIndex = blockAt(object, endExclusive - 1).index;
    this.enterBlock();
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
    const block = this.currentBlock();
    this.unit ??= this.taggedUnitAt(block, this.offset);
    const length = Math.min(buffer.byteLength, this.unit.end - this.offset);
    const view = new Uint8Array(buffer, 0, length);
    await this.readExactly(block.hash, view);
    this.unit.update(view);
    const kept = this.keepInRange(buffer, this.blockStart + this.offset, length);
    this.offset += length;
    if (this.offset === this.unit.end) await this.endUnit(block);
    return kept ? null : buffer;
  }

  /** The check unit at `offset`, with its segments' tags when the object has them. */
  private taggedUnitAt(block: BlockRef, offset: number): CheckUnit {
    const unit = unitAt(block, offset);
    const tags = this.decryption?.tags ?? null;
    if (tags === null) return unit;
    const index = this.blockIndex;
    return new TaggedUnit(
      unit,
      offset,
      (at, bytes) => tags.check(index, at, bytes, block.bytes),
      block.bytes,
    );
  }

  private currentBlock(): BlockRef {
    const block = this.object.blocks[this.blockIndex];
    assert(block !== undefined, 'the block index is inside the object');
    return block;
  }

  /** Where reading the current block starts and stops: the units the range touches. */
  private enterBlock(): void {
    const block = this.currentBlock();
    const size = unitBytes(block);
    const from = Math.max(0, this.start - this.blockStart);
    const to = Math.min(block.bytes, this.endExclusive - this.blockStart);
    this.offset = Math.floor(from / size) * size;
    this.readEnd = Math.min(block.bytes, Math.ceil(to / size) * size);
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
    this.decryption?.decrypt(from, bytes.subarray(0, to - from));
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
      if (error instanceof CorruptBlockFileError) throw new BlockReadError(hash, error.message);
      const code = (error as { code?: string }).code ?? String(error);
      throw new BlockReadError(hash, `block file cannot be read (${code})`);
    }
  }

  /** Checks the unit just read: its held chunks may go, or the read fails. */
  private async endUnit(block: BlockRef): Promise<void> {
    const unit = this.unit;
    assert(unit !== null, 'a unit ends after its bytes were read');
    this.unit = null;
    const mismatch = unit.mismatch();
    if (mismatch !== null) {
      await this.closeFile();
      throw new BlockReadError(block.hash, mismatch);
    }
    this.ready.push(...this.pending.splice(0));
    if (this.offset < this.readEnd) return;
    await this.closeFile();
    this.blockStart += block.bytes;
    this.blockIndex++;
    if (this.more) this.enterBlock();
  }

  /** Opens the current block's file; a compressed one is decoded and verified whole first. */
  private async openBlock(): Promise<BlockFile> {
    const file = await this.blocks.openBlock(this.pathOf(this.blockIndex), this.currentBlock());
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
