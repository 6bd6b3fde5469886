import { createHash, randomBytes } from 'node:crypto';
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../assert.js';
import type { BlockRef } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import {
  type BlockCompression,
  blockFileName,
  blockOfFileName,
  COMPRESSED_SUFFIX,
  isBlockHash,
  isCompressedTemp,
} from './block-names.js';
import { CompressingBlockWriter, type CompressionOutcome, type TempClaims } from './compressed.js';
import { DirSyncer } from './dir-sync.js';
import { SegmentCrcs } from './segment-crc.js';

export { isBlockHash } from './block-names.js';

/** How a block store writes new blocks. */
export interface BlockStoreOptions {
  /** 'zstd': new blocks are stored compressed where that saves enough (compressed.ts). */
  compression?: BlockCompression;
}

/** Writes one block into a temp file of its store (BlockStore.install puts it under its name). */
export interface BlockWriter {
  /** The temp file (a compressing writer has one once finished). */
  readonly tmpPath: string;
  /** Bytes written so far. */
  readonly bytes: number;
  write(view: Uint8Array): Promise<void>;
  /** Makes the temp file durable and returns its content hash, size and CRC32Cs. */
  finish(): Promise<Required<BlockRef>>;
  discard(): Promise<void>;
}

/**
 * A shard's content-addressed block files: `<root>/<hash[0..2]>/<sha256 hex>`, or
 * `<sha256 hex>.zst` for a block stored compressed (block-names.ts; the hash is always that of
 * the uncompressed bytes). Every method takes either format; a block has one file: installing
 * one format removes a leftover of the other (the newest install wins, as a rename over a name
 * does), so a hash is never stored or counted twice.
 *
 * A block becomes visible under its name only when complete and durable: it is written to
 * `<root>/tmp/`, fsynced, renamed into place, and its directory fsynced (Garage's order, after
 * qmail's syncdir). A block that another shard already stores is hard-linked instead of renamed,
 * so identical bytes occupy the disk once across the whole node while each shard still owns (and
 * alone unlinks) the names in its own directory.
 */
export class BlockStore {
  private readonly dirSync: DirSyncer;
  private readonly tmpDir: string;
  /** Where corrupt block files are moved (kept for the operator; never read again). */
  private readonly quarantineDir: string;
  /** Temp files of block writers still running (orphan cleanup leaves them alone). */
  private readonly writing = new Set<string>();
  /** What compressing writers stored in their temp files, counted once a file is installed. */
  private readonly outcomes = new Map<string, CompressionOutcome>();
  private readonly compression: BlockCompression;
  /** How compressing writers claim their temp files (named only when the block is finished). */
  private readonly claims: TempClaims;

  constructor(
    readonly root: string,
    private readonly siblingRoots: readonly string[],
    private readonly durable: boolean,
    options: BlockStoreOptions = {},
  ) {
    this.dirSync = new DirSyncer(durable);
    this.tmpDir = join(root, 'tmp');
    this.quarantineDir = join(root, '..', 'quarantine');
    this.compression = options.compression ?? 'none';
    this.claims = {
      tmpDir: this.tmpDir,
      claim: (path, outcome) => {
        this.writing.add(path);
        this.outcomes.set(path, outcome);
      },
      release: (path) => this.releaseTemp(path),
    };
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.quarantineDir, { recursive: true });
    for (let i = 0; i < 256; i++) await mkdir(join(this.root, fanout(i)), { recursive: true });
  }

  /** The plain file of a block (a compressed one is this plus `.zst`: openBlockFile reads both). */
  pathOf(hash: string): string {
    return this.fileOf(hash, false);
  }

  private fileOf(hash: string, compressed: boolean): string {
    assert(isBlockHash(hash), 'block names are sha256 hex');
    return join(this.root, hash.slice(0, 2), blockFileName(hash, compressed));
  }

  async beginBlock(): Promise<BlockWriter> {
    if (this.compression === 'zstd') return new CompressingBlockWriter(this.claims, this.durable);
    const path = join(this.tmpDir, `${randomBytes(8).toString('hex')}.tmp`);
    // Claimed before the file exists, so an orphan sweep never sees it unowned.
    this.writing.add(path);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      this.writing.delete(path);
      throw error;
    }
    return new PlainBlockWriter(path, handle, this.durable, () => this.writing.delete(path));
  }

  private releaseTemp(path: string): void {
    this.writing.delete(path);
    this.outcomes.delete(path);
  }

  /** Counts a compressing writer's block whose file was just installed. */
  private countStored(tmpPath: string): void {
    const outcome = this.outcomes.get(tmpPath);
    if (outcome === undefined) return;
    const counters = shardCounters.compression;
    if (outcome.compressed) {
      counters.compressedBlocks++;
      counters.compressedLogicalBytes += outcome.logicalBytes;
      counters.compressedPhysicalBytes += outcome.physicalBytes;
    } else {
      counters.incompressibleBlocks++;
      counters.incompressibleBytes += outcome.logicalBytes;
    }
  }

  /** Removes a leftover file of the block in the format other than the one just put in place. */
  private async dropOtherFormat(hash: string, kept: boolean): Promise<void> {
    await unlink(this.fileOf(hash, !kept)).catch((error: unknown) => {
      if (!isCode(error, 'ENOENT')) throw error;
    });
  }

  /**
   * Moves a finished temp block under its name. `present` says the shard already holds a block
   * of that hash (referenced, or installed by a concurrent writer), in which case the temp file
   * is simply dropped.
   */
  async install(tmpPath: string, hash: string, present: boolean): Promise<void> {
    try {
      if (present) {
        shardCounters.blocksDeduplicated++;
        await unlink(tmpPath);
        return;
      }
      if (await this.linkFromSibling(hash)) {
        shardCounters.blocksDeduplicated++;
        await unlink(tmpPath);
      } else {
        await this.putInPlace(tmpPath, hash);
      }
      await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
    } finally {
      this.releaseTemp(tmpPath);
    }
  }

  /** Renames a temp file under the block's name in its format (the temp's name says which). */
  private async putInPlace(tmpPath: string, hash: string): Promise<void> {
    const compressed = isCompressedTemp(tmpPath);
    await rename(tmpPath, this.fileOf(hash, compressed));
    this.countStored(tmpPath);
    await this.dropOtherFormat(hash, compressed);
  }

  /**
   * Puts a freshly written, verified temp block in place of a damaged or missing file of the
   * same hash (a client re-uploading the bytes heals the block): rename replaces atomically.
   */
  async replace(tmpPath: string, hash: string): Promise<void> {
    try {
      await this.putInPlace(tmpPath, hash);
      await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
    } finally {
      this.releaseTemp(tmpPath);
    }
  }

  /**
   * Moves a corrupt block file out of the way (the quarantine directory keeps it for the
   * operator), if the file at its name is still the one that was checked (same inode).
   */
  async quarantine(hash: string, checkedInode: number): Promise<boolean> {
    for (const compressed of [false, true]) {
      const path = this.fileOf(hash, compressed);
      try {
        if ((await lstat(path)).ino !== checkedInode) continue;
        const kept = `${blockFileName(hash, compressed)}.${Date.now()}`;
        await rename(path, join(this.quarantineDir, kept));
      } catch (error) {
        if (isCode(error, 'ENOENT')) continue;
        throw error;
      }
      await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
      return true;
    }
    return false;
  }

  /** Block names (hashes) in one fan-out directory (0..255), and stray entries. */
  async namesIn(fanoutIndex: number): Promise<string[]> {
    return readdir(join(this.root, fanout(fanoutIndex)));
  }

  /** Size of a block's file on disk (compressed or not), or null when there is none. */
  async sizeOf(hash: string): Promise<number | null> {
    for (const compressed of [false, true]) {
      try {
        return (await stat(this.fileOf(hash, compressed))).size;
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error;
      }
    }
    return null;
  }

  /** Removes temp files no running writer owns (a crash or a lost error left them). */
  async sweepTemp(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      if (this.writing.has(path)) continue;
      await unlink(path).catch(() => undefined);
      removed++;
    }
    return removed;
  }

  /**
   * Adds a name for a block another shard holds (server-side copy across shards). `sourcePath`
   * is its plain path there; a compressed source is linked as compressed.
   */
  async adopt(sourcePath: string, hash: string): Promise<void> {
    const plain = await this.linkFormat(sourcePath, hash, false);
    if (!plain && !(await this.linkFormat(`${sourcePath}${COMPRESSED_SUFFIX}`, hash, true))) {
      throw Object.assign(new Error(`block ${hash} is not at ${sourcePath}`), { code: 'ENOENT' });
    }
    await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
  }

  /** Hard-links `source` as the block's file in one format; false when there is no source. */
  private async linkFormat(source: string, hash: string, compressed: boolean): Promise<boolean> {
    try {
      await link(source, this.fileOf(hash, compressed));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      if (!isCode(error, 'EEXIST')) throw error;
    }
    await this.dropOtherFormat(hash, compressed);
    return true;
  }

  /**
   * Hard-links a sibling shard's file of the block, if one has it. A store that writes plain
   * blocks looks for plain files only (one failed link per sibling per new block, as before
   * compression); a compressing one for either, its own format first.
   */
  private async linkFromSibling(hash: string): Promise<boolean> {
    const formats = this.compression === 'zstd' ? [true, false] : [false];
    for (const sibling of this.siblingRoots) {
      for (const compressed of formats) {
        const source = join(sibling, hash.slice(0, 2), blockFileName(hash, compressed));
        if (await this.linkFormat(source, hash, compressed)) return true;
      }
    }
    return false;
  }

  /** Unlinks a block's file, whichever format it is in. */
  async remove(hash: string): Promise<void> {
    for (const compressed of [false, true]) {
      try {
        await unlink(this.fileOf(hash, compressed));
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error;
      }
    }
  }

  /**
   * Removes temp files and every block not in `referenced`; returns how many blocks went. A block
   * found in both formats (a crash between an install's rename and its removal of the other
   * format's leftover) keeps its plain file, whole and cheaper to read.
   */
  async sweep(referenced: ReadonlySet<string>): Promise<number> {
    for (const name of await readdir(this.tmpDir)) await unlink(join(this.tmpDir, name));
    let removed = 0;
    for (let i = 0; i < 256; i++) {
      const names = await readdir(join(this.root, fanout(i)));
      const present = new Set(names);
      for (const name of names) {
        const block = blockOfFileName(name);
        const kept = block !== null && referenced.has(block.hash);
        if (kept && !(block.compressed && present.has(block.hash))) continue;
        await unlink(join(this.root, fanout(i), name));
        if (!kept) removed++;
      }
    }
    return removed;
  }

  async countFiles(): Promise<number> {
    let count = 0;
    for (let i = 0; i < 256; i++) count += (await readdir(join(this.root, fanout(i)))).length;
    return count;
  }
}

/** Streams one block into a temp file while hashing it (its name) and CRC-ing it (reads check that). */
class PlainBlockWriter implements BlockWriter {
  private readonly hasher = createHash('sha256');
  private readonly crcs = new SegmentCrcs();
  bytes = 0;

  constructor(
    readonly tmpPath: string,
    private readonly handle: FileHandle,
    private readonly durable: boolean,
    private readonly release: () => void,
  ) {}

  async write(view: Uint8Array): Promise<void> {
    this.hasher.update(view);
    this.crcs.update(view);
    let written = 0;
    while (written < view.byteLength) {
      const { bytesWritten } = await this.handle.write(view, written, view.byteLength - written);
      written += bytesWritten;
    }
    this.bytes += view.byteLength;
  }

  /** Makes the temp file durable and returns its content hash, size and CRC32Cs. */
  async finish(): Promise<Required<BlockRef>> {
    if (this.durable) await shardCounters.timeFsync('block', () => this.handle.sync());
    await this.handle.close();
    return { hash: this.hasher.digest('hex'), bytes: this.bytes, crcs: this.crcs.finish() };
  }

  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
    this.release();
  }
}

function fanout(i: number): string {
  return i.toString(16).padStart(2, '0');
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
