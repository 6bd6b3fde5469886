import { contentHashOf, isBlockKey } from '../blocks/block-key.js';
import { judgeStoredBytes, readStoredBlock } from '../blocks/compressed.js';
import type { BlockPlacement } from '../blocks/placement.js';
import { type BlockCrcs, sameCrcs, segmentCrcsOf } from '../blocks/segment-crc.js';
import type { BlockErrorRecord, MetaStore } from '../meta/store.js';
import type { BlockErrorInfo, ShardResult } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import type { BlockLedger } from './ledger.js';

/** What a check of one block file found. */
type BlockCheck =
  /** The file is whole; crcs: its bytes' CRCs, the ones reads should check against. */
  | { verdict: 'ok'; crcs: BlockCrcs }
  /** Nothing references the block any more (freed while it was checked): not an error. */
  | { verdict: 'gone' }
  | { verdict: 'missing' }
  | { verdict: 'corrupt'; inode: number; message: string };

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
  /** Blocks a failed read is having checked right now. */
  private readonly rechecking = new Set<string>();

  constructor(
    private readonly meta: MetaStore,
    private readonly store: BlockPlacement,
    private readonly ledger: BlockLedger,
  ) {}

  /** Block files are local: their health is judged from synchronous reads (MetaStore.readLocal). */
  private local<T>(work: () => T): T {
    return this.meta.readLocal(work);
  }

  async scrub(after: string, limit: number, maxBytes: number): Promise<ShardResult> {
    const batch = this.local(() => this.meta.blocksAfter(after, limit));
    const corrupt: string[] = [];
    const missing: string[] = [];
    let bytes = 0;
    let checked = 0;
    for (const block of batch) {
      if (checked > 0 && bytes >= maxBytes) break;
      checked++;
      bytes += block.bytes;
      const verdict =
        block.kind === 'body'
          ? await this.meta.checkBody(block.hash, Date.now())
          : await this.judge(block.hash, block.bytes);
      if (verdict === 'corrupt') corrupt.push(block.hash);
      else if (verdict === 'missing') missing.push(block.hash);
    }
    const reachedEnd = checked === batch.length && batch.length < limit;
    const next = reachedEnd ? null : (batch[checked - 1]?.hash ?? after);
    return { kind: 'Scrubbed', checked, bytes, corrupt, missing, next };
  }

  /**
   * A read found a block that does not match its name (or could not read it): checks it the way
   * the scrub does, so a damaged file is quarantined and listed in ListBlockErrors at once rather
   * than at the next scrub pass. Returns what was recorded.
   */
  async checkAfterFailedRead(hash: string): Promise<'ok' | 'corrupt' | 'missing' | 'skipped'> {
    const record = this.local(() => this.meta.blockRecord(hash));
    // A block already recorded (or being checked) is left to the scrub and RetryBlockResync: a
    // flood of GETs of a lost block must not cost a file read and an LMDB commit each.
    if (record === undefined || this.local(() => this.meta.blockError(hash)) !== undefined)
      return 'skipped';
    if (this.rechecking.has(hash)) return 'skipped';
    this.rechecking.add(hash);
    try {
      return await this.judge(hash, record.bytes);
    } finally {
      this.rechecking.delete(hash);
    }
  }

  /**
   * Checks one referenced block and keeps its error record true: a whole file clears an error;
   * a damaged file is quarantined and recorded; a missing one is recorded. A block whose file is
   * being installed or removed right now is left for the next look. Returns what was recorded.
   */
  private async judge(
    hash: string,
    bytes: number,
  ): Promise<'ok' | 'corrupt' | 'missing' | 'skipped'> {
    if (this.ledger.moving(hash)) return 'skipped';
    const check = await this.check(hash, bytes);
    if (check.verdict === 'gone') return 'skipped';
    if (check.verdict === 'ok') {
      if (this.local(() => this.meta.blockError(hash)) !== undefined)
        await this.meta.clearBlockError(hash);
      await this.keepCrcs(hash, check.crcs);
      return 'ok';
    }
    if (this.ledger.moving(hash)) return 'skipped';
    return this.ledger.takeOut(hash, async () => {
      if (check.verdict === 'corrupt') {
        // The file at the name may have been replaced since it was read: then it is not ours.
        // (inode -1: the file could not even be opened; it stays where it is, recorded.)
        const moved = check.inode < 0 || (await this.store.quarantine(hash, check.inode));
        if (!moved) return 'skipped';
      } else if ((await this.store.sizeOf(hash)) !== null) {
        return 'skipped'; // it came back (healed) while we looked
      }
      if (this.local(() => this.meta.blockRefs(hash)) === 0) return 'skipped';
      const message = check.verdict === 'corrupt' ? check.message : 'block file not found';
      await this.meta.recordBlockError(hash, check.verdict, message, Date.now());
      return check.verdict;
    });
  }

  /**
   * Makes the CRCs on record those of a file just found whole: fills them in for a block written
   * before CRCs were kept (its reads then check CRCs, not the slower SHA-256), and corrects wrong
   * ones (a read that failed on them while the file is whole would fail again otherwise).
   */
  private async keepCrcs(hash: string, crcs: BlockCrcs): Promise<void> {
    if (sameCrcs(this.local(() => this.meta.blockRecord(hash))?.crcs, crcs)) return;
    await this.meta.setBlockCrcs(hash, crcs);
  }

  /**
   * Reads a block file whole (a compressed one decoded) and checks its size and hash against its
   * name and record. A file that cannot be read (EIO, EACCES...), or a compressed one that does
   * not decode, is as good as corrupt: its bytes cannot be served.
   */
  private async check(hash: string, bytes: number): Promise<BlockCheck> {
    const stored = await readStoredBlock(this.store.pathOf(hash));
    if (stored.kind === 'missing') {
      return this.local(() => this.meta.blockRefs(hash)) === 0
        ? { verdict: 'gone' }
        : { verdict: 'missing' };
    }
    if (stored.kind === 'unreadable') return unreadable(stored.error, stored.inode);
    const judged = judgeStoredBytes(stored, contentHashOf(hash), bytes);
    if ('block' in judged) return { verdict: 'ok', crcs: segmentCrcsOf(judged.block) };
    if (this.local(() => this.meta.blockRefs(hash)) === 0) return { verdict: 'gone' };
    return { verdict: 'corrupt', inode: stored.inode, message: judged.problem };
  }

  /** Removes the unreferenced block files of one fan-out directory (and, with 0, stale temps). */
  async sweepOrphans(fanout: number): Promise<ShardResult> {
    let removed = fanout === 0 ? await this.store.sweepTemp() : 0;
    let bytes = 0;
    // namesIn gives each block key once, whether its file is plain or compressed.
    for (const name of await this.store.namesIn(fanout)) {
      if (!isBlockKey(name) || !this.ledger.isOrphan(name)) continue;
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
    const record = this.local(() => this.meta.blockRecord(hash));
    const error = this.local(() => this.meta.blockError(hash));
    const size = await this.store.sizeOf(hash);
    return {
      kind: 'BlockInfo',
      hash,
      refs: record?.refs ?? 0,
      bytes: record?.bytes ?? size,
      onDisk: size !== null,
      error: error === undefined ? null : errorInfo(hash, record?.refs ?? 0, error),
      backlinks: this.local(() => this.meta.blockBacklinks(hash, limit)),
    };
  }

  /** Checks blocks with errors again; those whose file is whole now are cleared. */
  async retry(hashes: readonly string[] | null): Promise<ShardResult> {
    const targets = hashes ?? this.local(() => this.meta.listBlockErrors()).map((e) => e.hash);
    let checked = 0;
    let fixed = 0;
    for (const hash of targets) {
      if (this.local(() => this.meta.blockError(hash)) === undefined) continue;
      const record = this.local(() => this.meta.blockRecord(hash));
      // Not a block: an inline body's error (the bodies table), checked there.
      const verdict =
        record === undefined
          ? await this.meta.checkBody(hash, Date.now())
          : await this.judge(hash, record.bytes);
      if (record === undefined && verdict === 'skipped') continue;
      checked++;
      if (verdict === 'ok') fixed++;
    }
    return { kind: 'Retried', checked, fixed };
  }
}

function errorInfo(hash: string, refs: number, error: BlockErrorRecord): BlockErrorInfo {
  return { hash, refs, ...error };
}

function unreadable(error: unknown, inode: number): BlockCheck {
  const code = (error as { code?: string }).code ?? (error as Error).message;
  return { verdict: 'corrupt', inode, message: `block file cannot be read (${code})` };
}
