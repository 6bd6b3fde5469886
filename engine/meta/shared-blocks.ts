import type { BlockClaim, BlockRecord, BlockTable, WrittenBlocks } from './block-table.js';
import type { KvEnv } from './kv.js';

/**
 * Cluster mode's side of the blocks table (cluster-design §4.4): the claim a PUT makes before
 * writing a block's bytes, and the GC's transactions (BlockTable's shared mode has the rules).
 * Each call that changes rows is one metadata transaction, over LMDB or PostgreSQL alike.
 */
export class SharedBlocks {
  constructor(
    private readonly env: KvEnv,
    private readonly blocks: BlockTable,
  ) {}

  /** The epochs under which this process stored blocks it still pins (BlockTable.written). */
  get written(): WrittenBlocks {
    return this.blocks.written;
  }

  /** Claims a block before its bytes are written (BlockTable.claim). */
  async claim(hash: string, bytes: number, nowMs: number): Promise<BlockClaim> {
    return this.env.transaction(() => this.blocks.claim(hash, bytes, nowMs));
  }

  /** Renews this process's claims still at zero (BlockTable.renewClaims); returns how many. */
  async renewClaims(nowMs: number): Promise<number> {
    const claims = this.blocks.written.noted();
    if (claims.length === 0) return 0;
    return this.env.transaction(() => this.blocks.renewClaims(claims, nowMs));
  }

  /** A block's row, dying and zero ones included. Inside a read (MetaStore.read). */
  row(hash: string): BlockRecord | undefined {
    return this.blocks.sharedRow(hash);
  }

  /** GC step 1: rows at zero since before `cutoffMs` become dying; returns their keys. */
  async markIdleDying(cutoffMs: number, nowMs: number, limit: number): Promise<string[]> {
    return this.env.transaction(() => this.blocks.markIdleDying(cutoffMs, nowMs, limit));
  }

  /** Orphan sweep: RADOS objects with no row get a dying one; returns those marked. */
  async markOrphansDying(
    orphans: readonly { hash: string; bytes: number }[],
    nowMs: number,
  ): Promise<string[]> {
    return this.env.transaction(() => this.blocks.markOrphansDying(orphans, nowMs));
  }

  /** GC step 3: deletes the dying rows of blocks whose bytes are gone. */
  async deleteDying(hashes: readonly string[]): Promise<number> {
    return this.env.transaction(() => this.blocks.deleteDying(hashes));
  }
}
