import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { type BlockStore, isCode } from '../blocks/store.js';
import type { BlockErrorRecord, MetaStore } from '../meta/store.js';
import type { BlockErrorInfo, ShardResult } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import type { BlockLedger } from './ledger.js';

/** What a check of one block file found. */
type BlockCheck =
  | { verdict: 'ok' }
  /** Nothing references the block any more (freed while it was checked): not an error. */
  | { verdict: 'gone' }
  | { verdict: 'missing' }
  | { verdict: 'corrupt'; inode: number; message: string };

const HASH = /^[0-9a-f]{64}$/;

/**
 * A shard's block maintenance, run in bounded batches driven by the background workers
 * (engine/workers) and the admin API: scrub (re-hash every referenced block), orphan cleanup
 * (unreferenced block files), and the operator's view of and remedies for damaged blocks.
 *
 * hangar keeps one copy of each block, so a corrupt block cannot be repaired from a replica:
 * the scrub quarantines the file and records a block error; the objects referencing it fail
 * reads until a client uploads the same bytes again (the write heals the block, see
 * BlockLedger.installBlock) or the operator purges them (PurgeBlocks).
 */
export class BlockHealth {
  constructor(
    private readonly meta: MetaStore,
    private readonly store: BlockStore,
    private readonly ledger: BlockLedger,
  ) {}

  async scrub(after: string, limit: number, maxBytes: number): Promise<ShardResult> {
    const batch = this.meta.blocksAfter(after, limit);
    const corrupt: string[] = [];
    const missing: string[] = [];
    let bytes = 0;
    let checked = 0;
    for (const block of batch) {
      if (checked > 0 && bytes >= maxBytes) break;
      checked++;
      bytes += block.bytes;
      const check = await this.check(block.hash, block.bytes);
      if (check.verdict === 'missing') {
        missing.push(block.hash);
        await this.meta.recordBlockError(block.hash, 'missing', 'block file not found', Date.now());
      } else if (check.verdict === 'corrupt' && (await this.quarantine(block.hash, check.inode))) {
        corrupt.push(block.hash);
        await this.meta.recordBlockError(block.hash, 'corrupt', check.message, Date.now());
      }
    }
    const reachedEnd = checked === batch.length && batch.length < limit;
    const next = reachedEnd ? null : (batch[checked - 1]?.hash ?? after);
    return { kind: 'Scrubbed', checked, bytes, corrupt, missing, next };
  }

  /** Reads a block file whole and checks its size and hash against its name and record. */
  private async check(hash: string, bytes: number): Promise<BlockCheck> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.store.pathOf(hash), 'r');
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
      return this.meta.blockRefs(hash) === 0 ? { verdict: 'gone' } : { verdict: 'missing' };
    }
    try {
      const { ino } = await handle.stat();
      const data = await handle.readFile();
      const actual = createHash('sha256').update(data).digest('hex');
      if (actual === hash && data.byteLength === bytes) return { verdict: 'ok' };
      if (this.meta.blockRefs(hash) === 0) return { verdict: 'gone' };
      const message =
        data.byteLength !== bytes
          ? `block file holds ${data.byteLength} bytes, ${bytes} expected`
          : `block file hashes to ${actual}`;
      return { verdict: 'corrupt', inode: ino, message };
    } finally {
      await handle.close();
    }
  }

  /**
   * Moves a corrupt file away, unless a write is replacing it right now or it was replaced since
   * it was read (then the next pass judges the new file). Returns whether it was quarantined.
   */
  private async quarantine(hash: string, inode: number): Promise<boolean> {
    if (this.ledger.busy(hash)) return false;
    return this.store.quarantine(hash, inode);
  }

  /** Removes the unreferenced block files of one fan-out directory (and, with 0, stale temps). */
  async sweepOrphans(fanout: number): Promise<ShardResult> {
    let removed = fanout === 0 ? await this.store.sweepTemp() : 0;
    let bytes = 0;
    for (const name of await this.store.namesIn(fanout)) {
      if (!HASH.test(name) || this.ledger.busy(name) || this.meta.blockRefs(name) > 0) continue;
      const size = await this.store.sizeOf(name);
      if (!this.ledger.removeIfOrphan(name)) continue;
      await this.ledger.removed(name);
      removed++;
      bytes += size ?? 0;
    }
    shardCounters.orphansRemoved += removed;
    return { kind: 'Swept', removed, bytes };
  }

  listErrors(): ShardResult {
    return {
      kind: 'BlockErrors',
      errors: this.meta
        .listBlockErrors()
        .map(({ hash, error, refs }) => errorInfo(hash, refs, error)),
    };
  }

  async info(hash: string, limit: number): Promise<ShardResult> {
    const record = this.meta.blockRecord(hash);
    const error = this.meta.blockError(hash);
    const size = await this.store.sizeOf(hash);
    return {
      kind: 'BlockInfo',
      hash,
      refs: record?.refs ?? 0,
      bytes: record?.bytes ?? size,
      onDisk: size !== null,
      error: error === undefined ? null : errorInfo(hash, record?.refs ?? 0, error),
      backlinks: this.meta.blockBacklinks(hash, limit),
    };
  }

  /** Checks blocks with errors again; those whose file is whole now are cleared. */
  async retry(hashes: readonly string[] | null): Promise<ShardResult> {
    const targets = hashes ?? this.meta.listBlockErrors().map((e) => e.hash);
    let checked = 0;
    let fixed = 0;
    for (const hash of targets) {
      const record = this.meta.blockRecord(hash);
      if (this.meta.blockError(hash) === undefined || record === undefined) continue;
      checked++;
      const check = await this.check(hash, record.bytes);
      if (check.verdict === 'ok' || check.verdict === 'gone') {
        if (await this.meta.clearBlockError(hash)) fixed++;
      } else {
        if (check.verdict === 'corrupt' && !(await this.quarantine(hash, check.inode))) continue;
        const message = check.verdict === 'corrupt' ? check.message : 'block file not found';
        await this.meta.recordBlockError(hash, check.verdict, message, Date.now());
      }
    }
    return { kind: 'Retried', checked, fixed };
  }
}

function errorInfo(hash: string, refs: number, error: BlockErrorRecord): BlockErrorInfo {
  return { hash, refs, ...error };
}
