import { blockKeyOf } from '../blocks/block-key.js';
import { blockOfFileName } from '../blocks/block-names.js';
import type { BlockPlacement, PlacedStore } from '../blocks/placement.js';
import type { MetaStore } from '../meta/store.js';
import type { ShardResult } from '../protocol/messages.js';
import type { BlockLedger } from './ledger.js';

const FANOUTS = 256;

type Verdict = 'moved' | 'skipped';

/**
 * The drain of read-only data directories (issue 18), one bounded batch per DrainBlocks
 * request: each block file found on a read-only directory is copied durably into a writable
 * directory of its tier (temp file, fsync, rename, directory fsync), and only then unlinked
 * from the read-only one. Block keys do not change (the tier is the same), so no record does:
 * the state of a drain is the files themselves, and a drain cut short (kill -9) resumes by
 * looking again: a block found in both places just loses its read-only copy. Reads go on: a
 * reader finds the writable copy first, and a file a reader has pinned is not unlinked until
 * a later batch.
 */
export class BlockDrain {
  /** Where the next batch looks in each read-only store (fan-out directory index). */
  private readonly cursors = new Map<PlacedStore, number>();

  constructor(
    private readonly core: { store: BlockPlacement; ledger: BlockLedger; meta: MetaStore },
  ) {}

  async batch(limit: number): Promise<ShardResult> {
    let moved = 0;
    let skipped = 0;
    for (const source of this.core.store.stores.filter((placed) => placed.readOnly)) {
      for (let looked = 0; looked < FANOUTS && moved + skipped < limit; looked++) {
        const fanout = this.cursors.get(source) ?? 0;
        for (const name of await source.store.namesIn(fanout)) {
          if (moved + skipped >= limit) break;
          // Plain or compressed (block-names.ts): either way the block of that hash moves.
          const hash = blockOfFileName(name)?.hash;
          if (hash === undefined) continue;
          if ((await this.drainOne(source, hash)) === 'moved') moved++;
          else skipped++;
        }
        // A directory not finished is looked at again by the next batch.
        if (moved + skipped < limit) this.cursors.set(source, (fanout + 1) % FANOUTS);
      }
    }
    return { kind: 'Drained', moved, skipped, remaining: await this.remaining() };
  }

  /** Block files left on the shard's read-only directories. */
  async remaining(): Promise<number> {
    let count = 0;
    for (const placed of this.core.store.stores) {
      if (placed.readOnly) count += await placed.store.countFiles();
    }
    return count;
  }

  private async drainOne(source: PlacedStore, hash: string): Promise<Verdict> {
    const { store, ledger, meta } = this.core;
    const key = blockKeyOf(source.tier, hash);
    if (meta.readLocal(() => meta.blockRefs(key)) === 0) {
      // Nothing references it: an orphan goes like any other (from every directory).
      if (!ledger.removeIfOrphan(key)) return 'skipped';
      await ledger.removed(key);
      return 'moved';
    }
    if (ledger.moving(key)) return 'skipped';
    const writable = store.storesOf(source.tier).filter((placed) => !placed.readOnly);
    if (!(await hasCopy(writable, hash))) {
      await ledger.relocate(key, async () => {
        const writer = await store.copyToTemp(source.store.pathOf(hash), key);
        await store.install(writer.tmpPath, key, false);
      });
    }
    // A reader that opened the read-only file keeps it until a later batch.
    if (ledger.isPinned(key) || ledger.moving(key)) return 'skipped';
    await source.store.remove(hash);
    return 'moved';
  }
}

async function hasCopy(stores: readonly PlacedStore[], hash: string): Promise<boolean> {
  for (const placed of stores) if ((await placed.store.sizeOf(hash)) !== null) return true;
  return false;
}
