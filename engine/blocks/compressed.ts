import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Compressor } from 'zstd-napi';
import zstd from 'zstd-napi/binding.js';
import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { BlockRef } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import { COMPRESSED_SUFFIX } from './block-names.js';
import { SegmentCrcs } from './segment-crc.js';

/**
 * zstd block files (block-names.ts says how they are named): the codec, the writer that
 * compresses a finished block, and the reader that decompresses and verifies one before any
 * of its bytes is served.
 */

/** The largest block any configuration writes (config block_bytes' bound): what a writer buffers. */
const BLOCK_BYTES_MAX = 64 * 1024 * 1024;

/** A block file whose bytes are not the block its name promises (or cannot be decoded). */
export class CorruptBlockFileError extends Error {
  override name = 'CorruptBlockFileError';
}

let compressor: Compressor | null = null;
let decompressor: InstanceType<typeof zstd.DCtx> | null = null;

/** One compression context per thread (a shard's): made once, reused by every block. */
function compressorOf(): Compressor {
  if (compressor === null) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: LIMITS.blockCompressionZstdLevel });
  }
  return compressor;
}

/** Whether storing `physical` bytes for `logical` saves enough to be worth decompressing. */
export function savesEnough(logical: number, physical: number): boolean {
  return (logical - physical) * 100 >= logical * LIMITS.blockCompressionSavedPercentMin;
}

/**
 * A block's zstd frame (the content size in its header), or null when zstd saves too little
 * (random or already-compressed bytes): such a block is stored plain.
 */
export function compressBlock(data: Uint8Array): Buffer | null {
  assert(data.byteLength > 0, 'blocks hold bytes');
  const frame = compressorOf().compress(data);
  return savesEnough(data.byteLength, frame.byteLength) ? frame : null;
}

/**
 * The block a compressed file holds, checked: exactly `bytes` bytes (the output buffer is that
 * size, so a forged frame cannot make it allocate more) whose SHA-256 is `hash`. Throws
 * CorruptBlockFileError otherwise.
 */
export function decompressBlock(frame: Uint8Array, hash: string, bytes: number): Buffer {
  // Stored compressed only when smaller: a file as large as its block is not one we wrote.
  if (frame.byteLength >= bytes) {
    throw new CorruptBlockFileError(
      `compressed file holds ${frame.byteLength} bytes, block ${bytes}`,
    );
  }
  const data = Buffer.allocUnsafe(bytes);
  let produced: number;
  try {
    decompressor ??= new zstd.DCtx();
    produced = decompressor.decompress(data, frame);
  } catch (error) {
    throw new CorruptBlockFileError(
      `compressed file does not decode (${(error as Error).message})`,
    );
  }
  if (produced !== bytes) {
    throw new CorruptBlockFileError(
      `compressed file decodes to ${produced} bytes, ${bytes} expected`,
    );
  }
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== hash) throw new CorruptBlockFileError(`block file decodes to ${actual}`);
  return data;
}

/** What a block store is told about a compressing writer's outcome, for its counters. */
export interface CompressionOutcome {
  logicalBytes: number;
  physicalBytes: number;
  compressed: boolean;
}

/** How a compressing writer claims temp files in its store (orphan cleanup leaves them alone). */
export interface TempClaims {
  readonly tmpDir: string;
  claim(path: string, outcome: CompressionOutcome): void;
  release(path: string): void;
}

/**
 * A block writer of a store with compression on: it keeps the block's bytes in memory (a block
 * is at most block_bytes, 64 MiB at most) while hashing and CRC-ing them, and at `finish`
 * compresses the whole block and writes ONE temp file, the frame or (saving too little) the
 * plain bytes, named so the store installs it under the right name. Then the usual order:
 * fsync, close; the store renames and fsyncs the directory.
 */
export class CompressingBlockWriter {
  private readonly hasher = createHash('sha256');
  private readonly crcs = new SegmentCrcs();
  private readonly pieces: Buffer[] = [];
  private path: string | null = null;
  bytes = 0;

  constructor(
    private readonly claims: TempClaims,
    private readonly durable: boolean,
  ) {}

  /** The temp file, once `finish` wrote it. */
  get tmpPath(): string {
    assert(this.path !== null, 'a compressing writer has a temp file once finished');
    return this.path;
  }

  async write(view: Uint8Array): Promise<void> {
    assert(this.bytes + view.byteLength <= BLOCK_BYTES_MAX, 'a block fits block_bytes');
    this.hasher.update(view);
    this.crcs.update(view);
    // A copy: the caller's buffer goes back to the HTTP thread once this resolves.
    this.pieces.push(Buffer.from(view));
    this.bytes += view.byteLength;
  }

  async finish(): Promise<Required<BlockRef>> {
    const data = Buffer.concat(this.pieces, this.bytes);
    this.pieces.length = 0;
    const frame = compressBlock(data);
    const contents = frame ?? data;
    const suffix = frame === null ? '.tmp' : `${COMPRESSED_SUFFIX}.tmp`;
    this.path = join(this.claims.tmpDir, `${randomBytes(8).toString('hex')}${suffix}`);
    this.claims.claim(this.path, {
      logicalBytes: data.byteLength,
      physicalBytes: contents.byteLength,
      compressed: frame !== null,
    });
    const handle = await open(this.path, 'wx');
    try {
      await writeAll(handle, contents);
      if (this.durable) await shardCounters.timeFsync('block', () => handle.sync());
    } finally {
      await handle.close();
    }
    return { hash: this.hasher.digest('hex'), bytes: this.bytes, crcs: this.crcs.finish() };
  }

  async discard(): Promise<void> {
    this.pieces.length = 0;
    const path = this.path;
    if (path === null) return;
    await unlink(path).catch(() => undefined);
    this.claims.release(path);
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    const { bytesWritten } = await handle.write(data, written, data.byteLength - written);
    written += bytesWritten;
  }
}

/** What a read needs of an open block file: positional reads of the block's bytes. */
export interface BlockFile {
  read(
    view: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** A block held whole in memory (decoded from its compressed file, or read from RADOS), its
 *  bytes verified against its name before this was made. */
export class DecodedBlockFile implements BlockFile {
  constructor(private readonly data: Buffer) {}

  async read(view: Uint8Array, offset: number, length: number, position: number) {
    const end = Math.min(position + length, this.data.byteLength);
    const bytesRead = Math.max(0, end - position);
    if (bytesRead > 0) view.set(this.data.subarray(position, end), offset);
    return { bytesRead };
  }

  async close(): Promise<void> {}
}

/**
 * Opens a block for reading, plain or compressed, from its plain path (`<dir>/<hash>`). A plain
 * file is read in place (its segments checked by their CRCs as they are read); a compressed one
 * is decoded whole (bounded by the block's recorded size) and its SHA-256 checked against the
 * name before this returns, so no byte of a damaged one is ever served: CorruptBlockFileError.
 * A block with neither file fails with the plain name's ENOENT.
 */
export async function openBlockFile(
  plainPath: string,
  block: { hash: string; bytes: number },
): Promise<BlockFile> {
  try {
    return await open(plainPath, 'r');
  } catch (error) {
    if (!isEnoent(error)) throw error;
    const frame = await readCompressedFile(`${plainPath}${COMPRESSED_SUFFIX}`, block.bytes);
    if (frame === null) throw error;
    return new DecodedBlockFile(decompressBlock(frame, block.hash, block.bytes));
  }
}

/**
 * A compressed block file's bytes, or null if there is none. Refuses (as corrupt) a file not
 * smaller than its block before reading it: no read buffers more than a block.
 */
async function readCompressedFile(path: string, bytes: number): Promise<Buffer | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isEnoent(error)) return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size >= bytes) {
      throw new CorruptBlockFileError(`compressed file holds ${size} bytes, block ${bytes}`);
    }
    return await handle.readFile();
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function isEnoent(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}

/** A block's file read whole for a check (scrub, a failed read's recheck). */
export type StoredBlock =
  | { kind: 'missing' }
  /** The file exists but could not be opened (inode -1) or read. */
  | { kind: 'unreadable'; inode: number; error: unknown }
  /** `data`: the file's bytes, a zstd frame when `compressed`. */
  | { kind: 'read'; inode: number; data: Buffer; compressed: boolean };

/** Reads a block's file whole, plain or compressed, from its plain path. */
export async function readStoredBlock(plainPath: string): Promise<StoredBlock> {
  for (const compressed of [false, true]) {
    let handle: FileHandle;
    try {
      handle = await open(compressed ? `${plainPath}${COMPRESSED_SUFFIX}` : plainPath, 'r');
    } catch (error) {
      if (isEnoent(error)) continue;
      return { kind: 'unreadable', inode: -1, error };
    }
    try {
      const { ino } = await handle.stat();
      try {
        return { kind: 'read', inode: ino, data: await handle.readFile(), compressed };
      } catch (error) {
        return { kind: 'unreadable', inode: ino, error };
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
  return { kind: 'missing' };
}

/**
 * The problem with a block file's bytes read whole (null: it is the block `hash` of `bytes`
 * bytes), and, when whole, the block's uncompressed bytes.
 */
export function judgeStoredBytes(
  stored: { data: Buffer; compressed: boolean },
  hash: string,
  bytes: number,
): { problem: string } | { block: Buffer } {
  if (stored.compressed) {
    try {
      return { block: decompressBlock(stored.data, hash, bytes) };
    } catch (error) {
      if (error instanceof CorruptBlockFileError) return { problem: error.message };
      throw error;
    }
  }
  const { data } = stored;
  if (data.byteLength !== bytes) {
    return { problem: `block file holds ${data.byteLength} bytes, ${bytes} expected` };
  }
  const actual = createHash('sha256').update(data).digest('hex');
  return actual === hash ? { block: data } : { problem: `block file hashes to ${actual}` };
}

/**
 * A block's bytes read whole from its plain path, whichever format its file has, checked
 * against its hash (tier moves, drains, copies across directories), where the block's size is
 * not at hand: a zstd frame's header names it, and no more than a block is ever allocated.
 */
export async function readBlockContent(plainPath: string, hash: string): Promise<Buffer> {
  const stored = await readStoredBlock(plainPath);
  if (stored.kind === 'missing') {
    throw Object.assign(new Error(`block ${hash} is not at ${plainPath}`), { code: 'ENOENT' });
  }
  if (stored.kind === 'unreadable') throw stored.error;
  return checkedContent(stored, hash);
}

/**
 * A block file's bytes (a zstd frame when `compressed`) as the block's content, checked against
 * its hash: a frame is decoded by the size it declares (at most a block's) and checked by
 * decompressBlock; plain bytes are hashed here. CorruptBlockFileError otherwise. Synchronous,
 * for fsck as well as for moves.
 */
export function checkedContent(
  stored: { data: Buffer; compressed: boolean },
  hash: string,
): Buffer {
  if (stored.compressed) return decodeWhole(stored.data, hash);
  const actual = createHash('sha256').update(stored.data).digest('hex');
  if (actual !== hash) {
    throw new CorruptBlockFileError(`block file hashes to ${actual}, not ${hash}`);
  }
  return stored.data;
}

/** A compressed file decoded by the content size its frame declares (at most a block's). */
function decodeWhole(frame: Buffer, hash: string): Buffer {
  const bytes = zstd.getFrameContentSize(frame);
  if (bytes === null || bytes <= 0 || bytes > BLOCK_BYTES_MAX) {
    throw new CorruptBlockFileError(`compressed file declares ${bytes ?? 'no'} content bytes`);
  }
  return decompressBlock(frame, hash, bytes);
}
