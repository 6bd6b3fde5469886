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
import { DirSyncer } from './dir-sync.js';
import { SegmentCrcs } from './segment-crc.js';

export interface BlockStoreOptions {
  compression?: 'none' | 'zstd';
}

/**
 * A shard's content-addressed block files: `<root>/<hash[0..2]>/<sha256 hex>`.
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

  constructor(
    readonly root: string,
    private readonly siblingRoots: readonly string[],
    private readonly durable: boolean,
    /** The tier's settings: `compression` is what the zstd module applies to new blocks. */
    readonly options: BlockStoreOptions = {},
  ) {
    this.dirSync = new DirSyncer(durable);
    this.tmpDir = join(root, 'tmp');
    this.quarantineDir = join(root, '..', 'quarantine');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.quarantineDir, { recursive: true });
    for (let i = 0; i < 256; i++) await mkdir(join(this.root, fanout(i)), { recursive: true });
  }

  pathOf(hash: string): string {
    assert(isBlockHash(hash), 'block names are sha256 hex');
    return join(this.root, hash.slice(0, 2), hash);
  }

  async beginBlock(): Promise<BlockWriter> {
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
    return new BlockWriter(path, handle, this.durable, () => this.writing.delete(path));
  }

  /**
   * Moves a finished temp block under its name. `present` says the shard already holds a block
   * of that hash (referenced, or installed by a concurrent writer), in which case the temp file
   * is simply dropped.
   */
  async install(tmpPath: string, hash: string, present: boolean): Promise<void> {
    try {
      const target = this.pathOf(hash);
      if (present) {
        shardCounters.blocksDeduplicated++;
        await unlink(tmpPath);
        return;
      }
      if (!(await this.linkFromSibling(hash, target))) await rename(tmpPath, target);
      else {
        shardCounters.blocksDeduplicated++;
        await unlink(tmpPath);
      }
      await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
    } finally {
      this.writing.delete(tmpPath);
    }
  }

  /**
   * Puts a freshly written, verified temp block in place of a damaged or missing file of the
   * same hash (a client re-uploading the bytes heals the block): rename replaces atomically.
   */
  async replace(tmpPath: string, hash: string): Promise<void> {
    try {
      await rename(tmpPath, this.pathOf(hash));
      await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
    } finally {
      this.writing.delete(tmpPath);
    }
  }

  /**
   * Moves a corrupt block file out of the way (the quarantine directory keeps it for the
   * operator), if the file at its name is still the one that was checked (same inode).
   */
  async quarantine(hash: string, checkedInode: number): Promise<boolean> {
    const path = this.pathOf(hash);
    try {
      if ((await lstat(path)).ino !== checkedInode) return false;
      await rename(path, join(this.quarantineDir, `${hash}.${Date.now()}`));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
    await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
    return true;
  }

  /** Block names (hashes) in one fan-out directory (0..255), and stray entries. */
  async namesIn(fanoutIndex: number): Promise<string[]> {
    return readdir(join(this.root, fanout(fanoutIndex)));
  }

  /** Size of a block file, or null when there is none. */
  async sizeOf(hash: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(hash))).size;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return null;
      throw error;
    }
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

  /** Adds a name for a block another shard holds (server-side copy across shards). */
  async adopt(sourcePath: string, hash: string): Promise<void> {
    const target = this.pathOf(hash);
    try {
      await link(sourcePath, target);
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    }
    await this.dirSync.sync(join(this.root, hash.slice(0, 2)));
  }

  private async linkFromSibling(hash: string, target: string): Promise<boolean> {
    for (const sibling of this.siblingRoots) {
      try {
        await link(join(sibling, hash.slice(0, 2), hash), target);
        return true;
      } catch (error) {
        if (isCode(error, 'EEXIST')) return true;
        if (!isCode(error, 'ENOENT')) throw error;
      }
    }
    return false;
  }

  async remove(hash: string): Promise<void> {
    try {
      await unlink(this.pathOf(hash));
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
    }
  }

  /** Removes temp files and every block not in `referenced`; returns how many blocks went. */
  async sweep(referenced: ReadonlySet<string>): Promise<number> {
    for (const name of await readdir(this.tmpDir)) await unlink(join(this.tmpDir, name));
    let removed = 0;
    for (let i = 0; i < 256; i++) {
      for (const name of await readdir(join(this.root, fanout(i)))) {
        if (referenced.has(name)) continue;
        await unlink(join(this.root, fanout(i), name));
        removed++;
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
export class BlockWriter {
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

/** Whether a name is a block's: the SHA-256 of its bytes, 64 lowercase hex digits. */
export function isBlockHash(name: string): boolean {
  return /^[0-9a-f]{64}$/.test(name);
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
