import { createHash } from 'node:crypto';
import { assert } from '../../assert.js';
import { LIMITS } from '../../limits.js';
import type { BlockRef } from '../../protocol/messages.js';
import { shardCounters } from '../../stats.js';
import { isBlockHash } from '../block-names.js';
import { SegmentCrcs } from '../segment-crc.js';
import { Gate } from './gate.js';
import {
  isRadosCode,
  RadosCluster,
  type RadosConnectOptions,
  type RadosIoCtx,
} from './librados.js';

/** The pool blocks go to unless the cluster's layout names another. */
export const DEFAULT_BLOCK_POOL = 'hangar.blocks';

/** A block the store does not hold (code ENOENT, as a missing block file reports). */
export class BlockNotFoundError extends Error {
  override name = 'BlockNotFoundError';
  readonly code = 'ENOENT';
  constructor(readonly hash: string) {
    super(`block ${hash} is not in RADOS`);
  }
}

/** A block whose stored bytes do not hash to its name: its bytes are never returned. */
export class CorruptRadosBlockError extends Error {
  override name = 'CorruptRadosBlockError';
  constructor(
    readonly hash: string,
    detail: string,
  ) {
    super(`block ${hash} in RADOS is corrupt: ${detail}`);
  }
}

/** Where a store's blocks live: a pool, and the namespace of one metadata shard. */
export interface RadosBlockStoreOptions extends RadosConnectOptions {
  /** Default DEFAULT_BLOCK_POOL. */
  pool?: string;
  /** The metadata shard's id: blocks deduplicate (and are collected) per shard. */
  namespace: string;
}

/** A block's size and when RADOS last wrote it (the orphan sweep's grace period reads this). */
export interface RadosBlockStat {
  bytes: number;
  mtimeMs: number;
}

/**
 * Cluster mode's block store (issue 19): one metadata shard's content-addressed blocks as RADOS
 * objects named by their SHA-256 (hex), in the shard's namespace of the block pool.
 *
 * - A block is written whole with write_full once sealed: naming by content makes the write
 *   idempotent (a retry, or two gateways storing the same bytes, store the same object), and a
 *   block is never visible half-written (RADOS applies write_full atomically).
 * - Every read checks the SHA-256 of what came back against the name before returning it, so
 *   bytes that changed anywhere (a bug, an operator's overwrite, a bad disk RADOS missed) are an
 *   error, never a response.
 * - Removal is the GC's (refcounts live in the metadata transaction, cluster-design §4.4); this
 *   store removes what it is told and lists what it holds for the orphan sweep.
 * At most LIMITS.radosInFlightMax operations run at once; more wait in order.
 */
export class RadosBlockStore {
  private readonly gate = new Gate(LIMITS.radosInFlightMax);

  private constructor(
    private readonly cluster: RadosCluster | null,
    private readonly io: RadosIoCtx,
  ) {}

  /** Connects to the cluster and opens the shard's namespace of the pool. */
  static async open(options: RadosBlockStoreOptions): Promise<RadosBlockStore> {
    const cluster = await RadosCluster.connect(options);
    try {
      const io = await cluster.ioctx(options.pool ?? DEFAULT_BLOCK_POOL, options.namespace);
      return new RadosBlockStore(cluster, io);
    } catch (error) {
      await cluster.shutdown();
      throw error;
    }
  }

  /** A store over an ioctx someone else owns (several shards' stores on one connection). */
  static over(io: RadosIoCtx): RadosBlockStore {
    return new RadosBlockStore(null, io);
  }

  get namespace(): string {
    return this.io.namespace;
  }

  /** Starts a block: its bytes gather in memory (a block is at most `blockBytes`). */
  beginBlock(blockBytes: number): RadosBlockWriter {
    return new RadosBlockWriter(blockBytes);
  }

  /**
   * Stores a finished writer's block under its hash, unless `present` (the shard already
   * references a block of that hash: the same bytes are there).
   */
  async install(writer: RadosBlockWriter, present: boolean): Promise<void> {
    const { hash, content } = writer.sealed();
    if (!present) await this.writeBlock(hash, content);
    writer.discard();
  }

  /** Stores `content` as a block, checking that it hashes to `hash` (a copy between stores). */
  async put(hash: string, content: Uint8Array): Promise<void> {
    const actual = sha256Hex(content);
    if (actual !== hash)
      throw new CorruptRadosBlockError(hash, `the bytes to store hash to ${actual}`);
    await this.writeBlock(hash, content);
  }

  private async writeBlock(hash: string, content: Uint8Array): Promise<void> {
    assert(isBlockHash(hash), 'block names are sha256 hex');
    assert(content.byteLength > 0, 'blocks are never empty');
    await shardCounters.timeEngine('rados_write', () =>
      this.gate.run(() => this.io.writeFull(hash, content)),
    );
  }

  /**
   * A block's bytes, verified against its name. `bytes` is its size when the caller knows it
   * (the object record does: one round trip); without it the block is stat'ed first. A block
   * longer or shorter than `bytes` is corrupt.
   */
  async read(hash: string, bytes?: number): Promise<Buffer> {
    assert(isBlockHash(hash), 'block names are sha256 hex');
    const size = bytes ?? (await this.statOrThrow(hash)).bytes;
    assert(Number.isSafeInteger(size) && size > 0, 'a block has bytes');
    // One byte more than expected: an object that grew is caught, not silently truncated.
    const content = await shardCounters.timeEngine('rados_read', () =>
      this.gate.run(() =>
        notFoundAs(hash, this.io.read(hash, Math.min(size + 1, LIMITS.radosReadBytesMax))),
      ),
    );
    if (content.byteLength !== size) {
      throw new CorruptRadosBlockError(
        hash,
        `${content.byteLength} bytes stored, ${size} expected`,
      );
    }
    const actual = sha256Hex(content);
    if (actual !== hash) throw new CorruptRadosBlockError(hash, `its bytes hash to ${actual}`);
    return content;
  }

  /** Bytes [start, endExclusive) of a block: the whole block is read and verified first. */
  async readRange(
    hash: string,
    bytes: number,
    start: number,
    endExclusive: number,
  ): Promise<Buffer> {
    assert(
      0 <= start && start <= endExclusive && endExclusive <= bytes,
      'a range within the block',
    );
    return (await this.read(hash, bytes)).subarray(start, endExclusive);
  }

  /** Size and mtime of a block, or null when the store does not hold it. */
  async stat(hash: string): Promise<RadosBlockStat | null> {
    assert(isBlockHash(hash), 'block names are sha256 hex');
    try {
      return await this.gate.run(() => this.io.stat(hash));
    } catch (error) {
      if (isRadosCode(error, 'ENOENT')) return null;
      throw error;
    }
  }

  private async statOrThrow(hash: string): Promise<RadosBlockStat> {
    const stat = await this.stat(hash);
    if (stat === null) throw new BlockNotFoundError(hash);
    return stat;
  }

  async exists(hash: string): Promise<boolean> {
    return (await this.stat(hash)) !== null;
  }

  /** Removes a block; false when there was none (GC retries are idempotent). */
  async remove(hash: string): Promise<boolean> {
    assert(isBlockHash(hash), 'block names are sha256 hex');
    try {
      await this.gate.run(() => this.io.remove(hash));
      return true;
    } catch (error) {
      if (isRadosCode(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /**
   * Every object name in the shard's namespace (for the orphan sweep), in RADOS' order. Names
   * that are not block hashes are returned too: the sweep reports strays rather than hide them.
   */
  names(): AsyncGenerator<string> {
    return this.io.list();
  }

  /** Closes the ioctx, and the connection when this store opened it. */
  async close(): Promise<void> {
    await this.gate.drained();
    this.io.close();
    await this.cluster?.shutdown();
  }
}

/**
 * One block being gathered: hashed (its name) and CRC'd (the blocks table keeps the CRCs, as
 * for a block file) as it arrives, stored whole by RadosBlockStore.install once finished.
 */
export class RadosBlockWriter {
  private readonly hasher = createHash('sha256');
  private readonly crcs = new SegmentCrcs();
  private buffer: Buffer | null;
  private finished: Required<BlockRef> | null = null;
  bytes = 0;

  constructor(private readonly blockBytes: number) {
    assert(blockBytes > 0 && blockBytes <= LIMITS.radosReadBytesMax, 'a block fits one read');
    this.buffer = Buffer.allocUnsafe(blockBytes);
  }

  write(view: Uint8Array): void {
    const buffer = this.buffer;
    assert(buffer !== null && this.finished === null, 'writes go to an open writer');
    assert(this.bytes + view.byteLength <= this.blockBytes, 'a block holds at most blockBytes');
    buffer.set(view, this.bytes);
    this.hasher.update(view);
    this.crcs.update(view);
    this.bytes += view.byteLength;
  }

  /** The block's hash, size and CRC32Cs (what the blocks table records). */
  finish(): Required<BlockRef> {
    assert(this.buffer !== null && this.finished === null, 'a writer finishes once');
    assert(this.bytes > 0, 'blocks are never empty');
    this.finished = {
      hash: this.hasher.digest('hex'),
      bytes: this.bytes,
      crcs: this.crcs.finish(),
    };
    return this.finished;
  }

  /** The finished block's name and bytes. */
  sealed(): { hash: string; content: Buffer } {
    assert(this.buffer !== null && this.finished !== null, 'a finished, undiscarded writer');
    return { hash: this.finished.hash, content: this.buffer.subarray(0, this.bytes) };
  }

  /** Drops the gathered bytes (after install, or when the PUT failed). */
  discard(): void {
    this.buffer = null;
  }
}

function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A missing object, read: BlockNotFoundError, which callers treat as any missing block. */
async function notFoundAs<T>(hash: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isRadosCode(error, 'ENOENT')) throw new BlockNotFoundError(hash);
    throw error;
  }
}
