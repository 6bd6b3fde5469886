import { assert } from '../assert.js';
import { type BlockCrcs, sameCrcs } from '../blocks/segment-crc.js';
import type { BlockRef } from '../protocol/messages.js';
import { BLOCK_REFERENCES, BLOCKS_STORED, type CounterTable } from './counter-table.js';
import type { KvEnv, KvTable, KvTableOptions } from './kv.js';

/**
 * A block's reference count: how many object records (and repeats within them) point at it;
 * and the CRC32Cs of its segments, which reads check the file against (BlockRef.crcs). Records
 * written before CRCs were kept have none: their reads check the SHA-256, and the scrub fills
 * them in (setCrcs).
 */
export interface BlockRecord {
  refs: number;
  bytes: number;
  crcs?: BlockCrcs;
}

/** A block that failed a check (scrub, or a read of its file): kept until fixed or freed. */
export interface BlockErrorRecord {
  /** corrupt: the file's bytes do not hash to its name (it was quarantined); missing: no file. */
  kind: 'corrupt' | 'missing';
  message: string;
  errorCount: number;
  firstErrorMs: number;
  lastTryMs: number;
}

/**
 * The `blocks` table (SHA-256 hex → refs, size, CRCs) and `block_errors` (SHA-256 hex → the
 * last failed check). Invariants, asserted: a hash names one size; a block in the table has
 * refs > 0 (the last decref removes it, and its error with it); the shard's block totals in the
 * usage table move with every incref and decref.
 */
export class BlockTable {
  private readonly blocks: KvTable<BlockRecord, string>;
  readonly errors: KvTable<BlockErrorRecord, string>;

  constructor(
    env: KvEnv,
    records: KvTableOptions,
    private readonly counters: CounterTable,
  ) {
    this.blocks = env.openDB<BlockRecord, string>({ name: 'blocks', ...records });
    this.errors = env.openDB<BlockErrorRecord, string>({ name: 'block_errors', ...records });
  }

  /** Sums the blocks table once (a store from before the block totals existed). */
  buildTotals(): void {
    const stored = { objects: 0, bytes: 0 };
    const references = { objects: 0, bytes: 0 };
    for (const { value } of this.blocks.getRange({})) {
      stored.objects++;
      stored.bytes += value.bytes;
      references.objects += value.refs;
      references.bytes += value.refs * value.bytes;
    }
    this.counters.setBlockTotals(stored, references);
  }

  refs(hash: string): number {
    return this.blocks.get(hash)?.refs ?? 0;
  }

  record(hash: string): BlockRecord | undefined {
    return this.blocks.get(hash);
  }

  /**
   * Inside a transaction: one more reference to a block. CRCs the reference brings (fresh from
   * a writer, or a copy source's record) are kept; those the block already has stay otherwise.
   */
  incref(block: BlockRef): void {
    const current = this.blocks.get(block.hash);
    assert(current === undefined || current.bytes === block.bytes, 'a hash names one size');
    const crcs = block.crcs ?? current?.crcs;
    this.blocks.put(block.hash, {
      refs: (current?.refs ?? 0) + 1,
      bytes: block.bytes,
      ...(crcs !== undefined ? { crcs } : {}),
    });
    if (current === undefined) this.counters.moveTotal(BLOCKS_STORED, 1, block.bytes);
    this.counters.moveTotal(BLOCK_REFERENCES, 1, block.bytes);
  }

  increfAll(blocks: readonly BlockRef[]): void {
    for (const block of blocks) this.incref(block);
  }

  /** Inside a transaction: one reference less to each block; returns the hashes freed. */
  decrefAll(blocks: readonly BlockRef[]): string[] {
    const freed: string[] = [];
    for (const block of blocks) {
      const current = this.blocks.get(block.hash);
      assert(current !== undefined && current.refs > 0, `block ${block.hash} is referenced`);
      this.counters.moveTotal(BLOCK_REFERENCES, -1, -current.bytes);
      if (current.refs === 1) {
        this.blocks.remove(block.hash);
        this.counters.moveTotal(BLOCKS_STORED, -1, -current.bytes);
        // A freed block's file goes: whatever error it had goes with it.
        this.errors.remove(block.hash);
        freed.push(block.hash);
      } else {
        this.blocks.put(block.hash, { ...current, refs: current.refs - 1 });
      }
    }
    return freed;
  }

  /** The references with the CRCs each block has on record (none for a block from before). */
  withStoredCrcs(blocks: readonly BlockRef[]): BlockRef[] {
    return blocks.map((block) => {
      const crcs = this.blocks.get(block.hash)?.crcs;
      return crcs === undefined ? block : { ...block, crcs };
    });
  }

  /** Inside a transaction: records a block's CRCs; returns whether the record changed. */
  setCrcs(hash: string, crcs: BlockCrcs): boolean {
    const current = this.blocks.get(hash);
    if (current === undefined || sameCrcs(current.crcs, crcs)) return false;
    this.blocks.put(hash, { ...current, crcs });
    return true;
  }

  /** Up to `limit` referenced blocks from the hash `start` on. */
  *from(start: string, limit: number): Iterable<{ hash: string; bytes: number }> {
    for (const { key, value } of this.blocks.getRange({ start, limit })) {
      yield { hash: key, bytes: value.bytes };
    }
  }

  /** Every block hash with a reference. */
  referenced(): Set<string> {
    return new Set(this.blocks.getKeys({}) as Iterable<string>);
  }

  /** Inside a transaction: records a failed check of a referenced block (none for others). */
  recordError(hash: string, kind: BlockErrorRecord['kind'], message: string, nowMs: number): void {
    if (this.refs(hash) === 0) return;
    const previous = this.errors.get(hash);
    // A quarantined corrupt file is missing afterwards: it stays reported as corrupt.
    const keep = previous?.kind === 'corrupt' && kind === 'missing';
    this.errors.put(hash, {
      kind: keep ? previous.kind : kind,
      message: keep ? previous.message : message,
      errorCount: (previous?.errorCount ?? 0) + 1,
      firstErrorMs: previous?.firstErrorMs ?? nowMs,
      lastTryMs: nowMs,
    });
  }
}

/** Block references as object and part records keep them: CRCs live in the blocks table. */
export function plainRefs(blocks: readonly BlockRef[]): BlockRef[] {
  return blocks.map(({ hash, bytes }) => ({ hash, bytes }));
}
