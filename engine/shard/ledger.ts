import { assert } from '../assert.js';
import type { BlockPlacement } from '../blocks/placement.js';
import { fileWriterOf, type ShardBlockWriter } from '../blocks/shard-blocks.js';
import type { MetaStore } from '../meta/store.js';

/**
 * What PUTs, reads and copies ask of the shard's block bookkeeping, embedded (BlockLedger) or in
 * cluster mode (ClusterBlockLedger, cluster-ledger.ts).
 */
export interface ShardBlockLedger {
  /** Holds a block while a PUT, GET or copy uses it. */
  pin(hash: string): void;
  unpin(hash: string): void;
  /** Stores a finished writer's block under its key unless it is there already. Caller pins. */
  installBlock(hash: string, writer: ShardBlockWriter): Promise<void>;
  /** Gives this shard a block another shard stores at `location`. Caller pins. */
  adoptBlock(hash: string, location: string, bytes: number): Promise<void>;
  /** A block's references may have reached zero: its bytes go when nothing uses them. */
  freeIfUnused(hash: string): void;
}

/**
 * The shard's in-memory view of blocks in motion, which LMDB refcounts alone cannot express:
 *  - pins: blocks an unfinished PUT has installed but not yet committed, and blocks an open GET
 *    or copy is reading. A pinned block is never unlinked, even at refcount zero.
 *  - installs / removals in flight, so a block is never renamed into place and unlinked at once.
 * Everything runs on the shard's one thread, so plain maps are race-free.
 */
export class BlockLedger implements ShardBlockLedger {
  private readonly pins = new Map<string, number>();
  /** Blocks on disk with no committed reference yet (installed by an uncommitted PUT). */
  private readonly resident = new Set<string>();
  private readonly installs = new Map<string, Promise<void>>();
  private readonly removals = new Map<string, Promise<void>>();

  constructor(
    private readonly meta: MetaStore,
    private readonly store: BlockPlacement,
    private readonly onError: (error: unknown) => void,
  ) {}

  pin(hash: string): void {
    this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1);
  }

  unpin(hash: string): void {
    const count = this.pins.get(hash);
    assert(count !== undefined && count > 0, `block ${hash} was pinned`);
    if (count === 1) this.pins.delete(hash);
    else this.pins.set(hash, count - 1);
    this.freeIfUnused(hash);
  }

  /** Puts a finished temp block under its name unless the shard already has it. Caller pins. */
  async installBlock(hash: string, writer: ShardBlockWriter): Promise<void> {
    const { tmpPath } = fileWriterOf(writer);
    await this.settle(hash);
    if (this.isOnDisk(hash)) {
      if (this.meta.readLocal(() => this.meta.blockError(hash)) === undefined) {
        await this.store.install(tmpPath, hash, true);
        return;
      }
      // The shard's file of this hash is corrupt or missing: the fresh bytes heal it.
      await this.track(hash, this.store.replace(tmpPath, hash));
      await this.meta.clearBlockError(hash);
      return;
    }
    await this.track(hash, this.store.install(tmpPath, hash, false));
  }

  /** Gives this shard a name for a block another shard stores. Caller pins. */
  async adoptBlock(hash: string, sourcePath: string, _bytes: number): Promise<void> {
    await this.settle(hash);
    if (this.isOnDisk(hash)) return;
    await this.track(hash, this.store.adopt(sourcePath, hash));
  }

  /**
   * Moves a referenced block's file between directories of its tier (the drain): tracked like
   * an install, so the scrub leaves the block alone and a removal waits for it.
   */
  async relocate(hash: string, work: () => Promise<void>): Promise<void> {
    await this.stillness(hash);
    await this.track(hash, work());
  }

  /** Whether a PUT, GET or copy holds the block (its file must stay where it was found). */
  isPinned(hash: string): boolean {
    return this.pins.has(hash);
  }

  /** Unlinks a block once nothing references or pins it. Safe to call at any time. */
  freeIfUnused(hash: string): void {
    if (!this.isOrphan(hash)) return;
    this.resident.delete(hash);
    const removal = this.store
      .remove(hash)
      .catch(this.onError)
      .finally(() => this.removals.delete(hash));
    this.removals.set(hash, removal);
  }

  /** Whether a block's file is being installed or removed right now (readers do not count). */
  moving(hash: string): boolean {
    return this.installs.has(hash) || this.removals.has(hash);
  }

  /** Whether nothing references, pins or moves a block: its file may go. */
  isOrphan(hash: string): boolean {
    return (
      !this.pins.has(hash) &&
      !this.moving(hash) &&
      this.meta.readLocal(() => this.meta.blockRefs(hash)) === 0
    );
  }

  /**
   * Takes a damaged or missing block file out of the shard's view: `work` moves it away and
   * records the block error, tracked like a removal, so an install of the same hash waits for it
   * and then sees the error (and heals the block) instead of trusting the old file.
   */
  async takeOut<T>(hash: string, work: () => Promise<T>): Promise<T> {
    await this.stillness(hash);
    this.resident.delete(hash);
    const done = work();
    const tracked = done.then(
      () => undefined,
      () => undefined,
    );
    this.removals.set(hash, tracked);
    try {
      return await done;
    } finally {
      if (this.removals.get(hash) === tracked) this.removals.delete(hash);
    }
  }

  /**
   * Orphan cleanup: removes a block file nothing references and nothing uses. Returns whether
   * it was an orphan (its removal is then under way, tracked like any other).
   */
  removeIfOrphan(hash: string): boolean {
    if (!this.isOrphan(hash)) return false;
    this.freeIfUnused(hash);
    return true;
  }

  /** Resolves when a removal of the block in progress (if any) has finished. */
  async removed(hash: string): Promise<void> {
    await this.removals.get(hash);
  }

  private isOnDisk(hash: string): boolean {
    return this.meta.readLocal(() => this.meta.blockRefs(hash)) > 0 || this.resident.has(hash);
  }

  private async settle(hash: string): Promise<void> {
    assert(this.pins.has(hash), 'blocks are pinned before they are installed');
    await this.stillness(hash);
  }

  /** Waits for an install and a removal of the block in progress, if any. */
  private async stillness(hash: string): Promise<void> {
    await this.installs.get(hash);
    await this.removals.get(hash);
  }

  private async track(hash: string, work: Promise<void>): Promise<void> {
    const install = work.then(() => {
      this.resident.add(hash);
    });
    this.installs.set(hash, install);
    try {
      await install;
    } finally {
      this.installs.delete(hash);
    }
  }

  get pinnedCount(): number {
    return this.pins.size;
  }
}
