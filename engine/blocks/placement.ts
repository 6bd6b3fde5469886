import { statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assert } from '../assert.js';
import { shardDir } from '../layout.js';
import { LIMITS } from '../limits.js';
import {
  type Compression,
  DEFAULT_TIER,
  type StorageConfig,
  tierOfClass,
} from '../storage-config.js';
import { blockKeyOf, splitBlockKey } from './block-key.js';
import { blockOfFileName } from './block-names.js';
import { readBlockContent } from './compressed.js';
import { BlockStore, type BlockWriter, isCode } from './store.js';

/** One data directory as a shard sees it: its BlockStore and its placement state. */
export interface PlacedStore {
  /** The data directory (`[[data_dirs]] path`, or data_dir itself without data_dirs). */
  readonly dir: string;
  readonly tier: string;
  readonly capacityBytes: number;
  readonly readOnly: boolean;
  readonly store: BlockStore;
  /** Smooth weighted round-robin credit (nginx's): capacities decide the share of blocks. */
  credit: number;
  /** Until when the directory is skipped for new blocks (full, or a write failed). */
  skipUntilMs: number;
  freeCheckedMs: number;
}

/** The settings a shard builds its placement from. */
export interface PlacementSettings {
  dataDir: string;
  shardId: number;
  shardCount: number;
  durable: boolean;
  storage: StorageConfig;
  /** Every tier's compression unless the tier sets its own (config `block_compression`). */
  blockCompression?: Compression;
}

/**
 * The shard's block files across data directories and tiers (issue 18). BlockStore stays one
 * directory; this layer picks the store a new block goes to (a writable directory of the
 * block's tier, weighted by capacity, skipping full ones) and finds a block's file in any
 * directory of its tier. Everything here takes block keys (block-key.ts); the stores take bare
 * hashes.
 */
export class BlockPlacement {
  readonly stores: PlacedStore[];

  constructor(
    private readonly settings: PlacementSettings,
    private readonly nowMs: () => number = Date.now,
  ) {
    const { storage, dataDir } = settings;
    const dirs =
      storage.dataDirs.length > 0
        ? storage.dataDirs
        : [{ path: dataDir, capacityBytes: 1, tier: DEFAULT_TIER, readOnly: false }];
    this.stores = dirs.map((dir) => ({
      dir: dir.path,
      tier: dir.tier,
      capacityBytes: dir.capacityBytes,
      readOnly: dir.readOnly,
      store: this.storeIn(dir.path, this.compressionOf(dir.tier)),
      credit: 0,
      skipUntilMs: 0,
      freeCheckedMs: 0,
    }));
  }

  /** The tier's own setting, else the top-level `block_compression` (every tier's default). */
  private compressionOf(tier: string): Compression {
    const own = this.settings.storage.tiers.find((t) => t.name === tier)?.compression;
    return own ?? this.settings.blockCompression ?? 'none';
  }

  private storeIn(dir: string, compression: Compression): BlockStore {
    const { shardId, shardCount, durable } = this.settings;
    const siblings = [];
    for (let i = 0; i < shardCount; i++) {
      if (i !== shardId) siblings.push(join(shardDir(dir, i), 'blocks'));
    }
    return new BlockStore(join(shardDir(dir, shardId), 'blocks'), siblings, durable, {
      compression,
    });
  }

  async init(): Promise<void> {
    for (const placed of this.stores) await placed.store.init();
  }

  /** The tier a write of `storageClass` goes to. */
  tierOf(storageClass: string | undefined): string {
    return tierOfClass(this.settings.storage, storageClass);
  }

  hasTier(tier: string): boolean {
    return this.stores.some((placed) => placed.tier === tier);
  }

  storesOf(tier: string): PlacedStore[] {
    return this.stores.filter((placed) => placed.tier === tier);
  }

  /** Starts a new block of `tier` in one of its writable directories. */
  async beginBlock(tier: string = DEFAULT_TIER): Promise<BlockWriter> {
    let lastError: unknown = null;
    for (let tries = 0; tries < this.stores.length; tries++) {
      await this.refreshFree(tier);
      const placed = this.pick(tier);
      if (placed === null) break;
      try {
        return await placed.store.beginBlock();
      } catch (error) {
        // An unwritable or full disk is skipped for a while; the block goes to another.
        lastError = error;
        placed.skipUntilMs = this.nowMs() + LIMITS.dataDirSkipMs;
      }
    }
    if (lastError !== null) throw lastError;
    throw Object.assign(new Error(`no writable data directory in tier ${tier}`), {
      code: 'ENOSPC',
    });
  }

  /**
   * Smooth weighted round-robin over the tier's writable directories not skipped: over any run
   * of picks each gets its capacity's share, in an even interleaving.
   */
  private pick(tier: string): PlacedStore | null {
    const now = this.nowMs();
    const open = this.stores.filter(
      (placed) => placed.tier === tier && !placed.readOnly && placed.skipUntilMs <= now,
    );
    if (open.length === 0) {
      // Every directory is skipped: try the writable ones anyway rather than fail outright.
      const writable = this.stores.filter((p) => p.tier === tier && !p.readOnly);
      return writable[0] ?? null;
    }
    let total = 0;
    let best: PlacedStore | null = null;
    for (const placed of open) {
      placed.credit += placed.capacityBytes;
      total += placed.capacityBytes;
      if (best === null || placed.credit > best.credit) best = placed;
    }
    assert(best !== null, 'a tier with an open directory picks one');
    best.credit -= total;
    return best;
  }

  /** Marks directories with less than LIMITS.dataDirFreeBytesMin free as full (checked rarely). */
  private async refreshFree(tier: string): Promise<void> {
    const now = this.nowMs();
    for (const placed of this.stores) {
      if (placed.tier !== tier || placed.readOnly) continue;
      if (now - placed.freeCheckedMs < LIMITS.dataDirFreeCheckMs) continue;
      placed.freeCheckedMs = now;
      const free = await freeBytesOf(placed.store.root);
      if (free !== null && free < LIMITS.dataDirFreeBytesMin) {
        placed.skipUntilMs = now + LIMITS.dataDirFreeCheckMs;
      }
    }
  }

  /** The store of a temp file a writer of this placement made. */
  private storeOfTemp(tmpPath: string): BlockStore {
    const tmpDir = dirname(tmpPath);
    const placed = this.stores.find((p) => join(p.store.root, 'tmp') === tmpDir);
    assert(placed !== undefined, 'a temp block lies in one of the stores');
    return placed.store;
  }

  async install(tmpPath: string, key: string, present: boolean): Promise<void> {
    await this.storeOfTemp(tmpPath).install(tmpPath, splitBlockKey(key).hash, present);
  }

  /** Puts fresh bytes in place of a damaged or missing block; other copies of it go. */
  async replace(tmpPath: string, key: string): Promise<void> {
    const target = this.storeOfTemp(tmpPath);
    const { tier, hash } = splitBlockKey(key);
    await target.replace(tmpPath, hash);
    for (const placed of this.storesOf(tier)) {
      if (placed.store !== target) await placed.store.remove(hash);
    }
  }

  /** The store holding a block's file (writable directories first), or null. */
  locate(key: string): PlacedStore | null {
    const { tier, hash } = splitBlockKey(key);
    const candidates = this.storesOf(tier).sort((a, b) => Number(a.readOnly) - Number(b.readOnly));
    if (candidates.length === 1) return candidates[0] ?? null;
    for (const placed of candidates) {
      if (placed.store.holds(hash)) return placed;
    }
    return null;
  }

  /**
   * The path to read a block from. A tier of one directory costs nothing; with several the
   * file is looked up (a stat per directory tried). No file anywhere: a path where it would
   * be, so the read fails as for any missing block.
   */
  pathOf(key: string): string {
    const { tier, hash } = splitBlockKey(key);
    const placed = this.locate(key) ?? this.storesOf(tier)[0] ?? this.stores[0];
    assert(placed !== undefined, 'a placement has a store');
    return placed.store.pathOf(hash);
  }

  async quarantine(key: string, checkedInode: number): Promise<boolean> {
    const placed = this.locate(key);
    if (placed === null) return false;
    return placed.store.quarantine(splitBlockKey(key).hash, checkedInode);
  }

  async sizeOf(key: string): Promise<number | null> {
    const { tier, hash } = splitBlockKey(key);
    for (const placed of this.storesOf(tier)) {
      const size = await placed.store.sizeOf(hash);
      if (size !== null) return size;
    }
    return null;
  }

  /** Unlinks a block's file in every directory of its tier. */
  async remove(key: string): Promise<void> {
    const { tier, hash } = splitBlockKey(key);
    for (const placed of this.storesOf(tier)) await placed.store.remove(hash);
  }

  /**
   * Adds a name for a block another shard holds: a hard link within the same data directory
   * when that one is writable, else a durable copy into a writable directory of the tier.
   */
  async adopt(sourcePath: string, key: string): Promise<void> {
    const { tier, hash } = splitBlockKey(key);
    const same = this.storesOf(tier).find(
      (placed) => !placed.readOnly && sourcePath.startsWith(join(placed.dir, 'shards')),
    );
    if (same !== undefined) {
      await same.store.adopt(sourcePath, hash);
      return;
    }
    await this.copyIn(sourcePath, key);
  }

  /**
   * Copies a block file into a writable directory of the key's tier, durably (temp file,
   * fsync, rename, directory fsync), checking that the bytes hash to the key.
   */
  async copyIn(sourcePath: string, key: string): Promise<void> {
    const writer = await this.copyToTemp(sourcePath, key);
    await this.install(writer.tmpPath, key, false);
  }

  /**
   * Copies a block, plain or compressed, into a fresh temp block of the key's tier (written in
   * that tier's format), checked against the key's hash and fsynced. The block is read whole:
   * it is at most one block (config blockBytes).
   */
  async copyToTemp(sourcePath: string, key: string): Promise<BlockWriter> {
    const { tier, hash } = splitBlockKey(key);
    const content = await readBlockContent(sourcePath, hash);
    const writer = await this.beginBlock(tier);
    try {
      await writer.write(content);
      const sealed = await writer.finish();
      if (sealed.hash !== hash) throw new Error(`block ${key} read back as ${sealed.hash}`);
      return writer;
    } catch (error) {
      await writer.discard();
      throw error;
    }
  }

  async sweepTemp(): Promise<number> {
    let removed = 0;
    for (const placed of this.stores) removed += await placed.store.sweepTemp();
    return removed;
  }

  /** Block keys (and stray entries) in one fan-out directory (0..255) of every store. */
  async namesIn(fanoutIndex: number): Promise<string[]> {
    const names = new Set<string>();
    for (const placed of this.stores) {
      for (const name of await placed.store.namesIn(fanoutIndex)) {
        const hash = blockOfFileName(name)?.hash;
        names.add(hash === undefined ? name : blockKeyOf(placed.tier, hash));
      }
    }
    return [...names];
  }

  /** Start-up cleanup: temp files, and block files whose key nothing references. */
  async sweep(referenced: ReadonlySet<string>): Promise<number> {
    const byTier = new Map<string, Set<string>>();
    for (const key of referenced) {
      const { tier, hash } = splitBlockKey(key);
      const hashes = byTier.get(tier) ?? new Set<string>();
      byTier.set(tier, hashes);
      hashes.add(hash);
    }
    let removed = 0;
    for (const placed of this.stores) {
      removed += await placed.store.sweep(byTier.get(placed.tier) ?? new Set());
    }
    return removed;
  }
}

/** Free bytes for an unprivileged writer on the file system of `path` (null: unknown). */
async function freeBytesOf(path: string): Promise<number | null> {
  try {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOSYS')) return null;
    throw error;
  }
}
