import { randomBytes } from 'node:crypto';
import { assert } from '../assert.js';
import { type BlockCrcs, sameCrcs } from '../blocks/segment-crc.js';
import { engineFailure } from '../errors.js';
import type { BlockRef, EngineFailure } from '../protocol/messages.js';
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
  // Shared (cluster) mode only, cluster-design §4.4: rows stay at zero references until the GC.
  /** When the references reached zero (or a PUT last claimed the row at zero). */
  zeroSinceMs?: number;
  /** Since when the GC is deleting the block's bytes: no reference may be added to the row,
   *  which goes next. */
  dyingSinceMs?: number;
  /** Random, per row life: a row deleted and created again has another (see claim). */
  epoch?: string;
}

/** What a claim of a block found (shared mode). */
export type BlockClaim =
  /** The GC is deleting the block: wait until its row is gone, then claim again. */
  | { kind: 'dying' }
  /** refs > 0: the bytes are stored. refs 0: the claimer must write them (under `epoch`). */
  | { kind: 'live'; refs: number; epoch: string };

/**
 * The epochs under which this process wrote blocks (shared mode): a reference to a row at zero
 * references is added only when this process wrote the bytes under the row's current epoch, for
 * only then are they known to exist (a row's bytes are deleted only while it is dying, a dying
 * row is deleted, and a row created again gets a new epoch). In memory, held while a PUT or
 * copy pins the block.
 */
export class WrittenBlocks {
  private readonly epochs = new Map<string, string>();

  note(hash: string, epoch: string): void {
    this.epochs.set(hash, epoch);
  }

  forget(hash: string): void {
    this.epochs.delete(hash);
  }

  epochOf(hash: string): string | undefined {
    return this.epochs.get(hash);
  }

  /** Every block noted, with its epoch (the claims a long PUT renews). */
  noted(): Array<{ hash: string; epoch: string }> {
    return [...this.epochs].map(([hash, epoch]) => ({ hash, epoch }));
  }
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
  /**
   * Shared mode: rows at zero references by when they got there (`<zeroSinceMs, 16 digits>/<key>`),
   * so the GC finds the old ones with one range read. Null: embedded (rows at zero are removed).
   */
  private idle: KvTable<number, string> | null = null;
  readonly written = new WrittenBlocks();

  constructor(
    private readonly env: KvEnv,
    private readonly records: KvTableOptions,
    private readonly counters: CounterTable,
  ) {
    this.blocks = env.openDB<BlockRecord, string>({ name: 'blocks', ...records });
    this.errors = env.openDB<BlockErrorRecord, string>({ name: 'block_errors', ...records });
  }

  /**
   * Cluster mode (cluster-design §4.4): several gateways write the partition's blocks, so a row
   * at zero references is kept (its bytes may be about to get a reference from another gateway)
   * until the GC collects it, and references are added under the claim protocol. Set once, before
   * any write.
   */
  shareBlocks(): void {
    assert(this.idle === null, 'blocks are shared once');
    this.idle = this.env.openDB<number, string>({ name: 'block_idle', ...this.records });
  }

  get shared(): boolean {
    return this.idle !== null;
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
    if (this.idle !== null) {
      this.increfShared(block, current, this.idle);
      return;
    }
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

  /**
   * Inside a transaction, before it writes anything (shared mode): why references to `blocks`
   * may not be added (increfShared's rule), or null. A write's transaction asks first and
   * returns the refusal, for a store need not undo what a transaction wrote before it threw
   * (lmdb-js commits it). SlowDown: a retry claims and rewrites the blocks.
   */
  referenceRefusal(blocks: readonly BlockRef[]): { failure: EngineFailure } | null {
    if (this.idle === null) return null;
    for (const block of blocks) {
      const why = this.unreferenceable(block.hash, this.blocks.get(block.hash));
      if (why !== null) return { failure: { code: 'SlowDown', message: why } };
    }
    return null;
  }

  private unreferenceable(hash: string, current: BlockRecord | undefined): string | null {
    if (current === undefined || current.dyingSinceMs !== undefined) {
      return `block ${hash} is being collected; retry the request (it rewrites the block)`;
    }
    if (current.refs > 0) return null;
    if (current.epoch !== undefined && this.written.epochOf(hash) === current.epoch) return null;
    return `block ${hash} lost its claim before the commit; retry the request`;
  }

  /**
   * Shared mode: a reference is added only to a row whose bytes are known to exist: one with
   * references, or one at zero that this process wrote under its current epoch. Never to a
   * dying row, nor to a missing one (the write's claim row was collected: the PUT outlived the
   * grace). Writes check first (referenceRefusal); this throw is the backstop.
   */
  private increfShared(
    block: BlockRef,
    current: BlockRecord | undefined,
    idle: KvTable<number, string>,
  ): void {
    const why = this.unreferenceable(block.hash, current);
    if (why !== null || current === undefined) throw engineFailure('SlowDown', why ?? '');
    assert(current.bytes === block.bytes, 'a hash names one size');
    if (current.refs === 0) {
      idle.remove(idleKey(current.zeroSinceMs ?? 0, block.hash));
      this.counters.moveTotal(BLOCKS_STORED, 1, block.bytes);
    }
    const crcs = block.crcs ?? current.crcs;
    this.blocks.put(block.hash, {
      refs: current.refs + 1,
      bytes: block.bytes,
      ...(crcs !== undefined ? { crcs } : {}),
      ...(current.epoch !== undefined ? { epoch: current.epoch } : {}),
    });
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
      if (current.refs === 1 && this.idle !== null) {
        // Shared mode: the row stays, at zero, for the GC (no bytes are freed here).
        const zeroSinceMs = Date.now();
        this.blocks.put(block.hash, { ...current, refs: 0, zeroSinceMs });
        this.idle.put(idleKey(zeroSinceMs, block.hash), 0);
        this.counters.moveTotal(BLOCKS_STORED, -1, -current.bytes);
        this.errors.remove(block.hash);
      } else if (current.refs === 1) {
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

  // ---- shared mode: the claim protocol and the GC's rows (cluster-design §4.4) ----

  private sharedIdle(): KvTable<number, string> {
    assert(this.idle !== null, 'blocks are shared (cluster mode)');
    return this.idle;
  }

  /**
   * Inside a transaction, before a PUT writes a block's bytes: makes sure the block has a live
   * row, so neither the GC nor the orphan sweep deletes the bytes about to be written for the
   * grace period. A row at zero references has its clock reset (zeroSinceMs); a missing one is
   * created at zero, with a new epoch. A dying row is not touched: the claimer waits for it to go.
   */
  claim(hash: string, bytes: number, nowMs: number): BlockClaim {
    const idle = this.sharedIdle();
    const current = this.blocks.get(hash);
    if (current?.dyingSinceMs !== undefined) return { kind: 'dying' };
    if (current !== undefined && current.refs > 0) {
      assert(current.epoch !== undefined, 'a shared row has an epoch');
      return { kind: 'live', refs: current.refs, epoch: current.epoch };
    }
    if (current !== undefined) {
      assert(current.bytes === bytes, 'a hash names one size');
      idle.remove(idleKey(current.zeroSinceMs ?? 0, hash));
    }
    const epoch = current?.epoch ?? randomBytes(8).toString('hex');
    this.blocks.put(hash, {
      ...(current ?? { bytes }),
      refs: 0,
      zeroSinceMs: nowMs,
      epoch,
    });
    idle.put(idleKey(nowMs, hash), 0);
    return { kind: 'live', refs: 0, epoch };
  }

  /**
   * Inside a transaction, while PUTs run: resets the GC clock of the rows this process claimed
   * and wrote (under `epoch`) that are still at zero references, as a new claim would, so a PUT
   * slower than the grace keeps the blocks it wrote first. A row that has references needs no
   * renewal; one that is dying, gone or of another epoch has lost its claim (its PUT fails at
   * commit, and the client's retry writes the block again). Returns the rows renewed.
   */
  renewClaims(claims: ReadonlyArray<{ hash: string; epoch: string }>, nowMs: number): number {
    const idle = this.sharedIdle();
    let renewed = 0;
    for (const { hash, epoch } of claims) {
      const current = this.blocks.get(hash);
      if (current === undefined || current.refs > 0 || current.dyingSinceMs !== undefined) continue;
      if (current.epoch !== epoch) continue;
      idle.remove(idleKey(current.zeroSinceMs ?? 0, hash));
      this.blocks.put(hash, { ...current, zeroSinceMs: nowMs });
      idle.put(idleKey(nowMs, hash), 0);
      renewed++;
    }
    return renewed;
  }

  /** The block's row as the GC sees it (shared mode), if any. */
  sharedRow(hash: string): BlockRecord | undefined {
    return this.blocks.get(hash);
  }

  /**
   * Inside a transaction (GC step 1): marks up to `limit` rows that have been at zero references
   * since before `cutoffMs` dying, and returns their keys, with those of rows left dying since
   * before `cutoffMs` by a pass that did not finish (a GC pass takes far less than the grace, so
   * such a pass is dead, not slow). From here on no reference is added to them (increfShared,
   * claim), so their bytes may be deleted.
   */
  markIdleDying(cutoffMs: number, nowMs: number, limit: number): string[] {
    const idle = this.sharedIdle();
    const end = `${DYING_PREFIX}${idleKey(cutoffMs, '')}`;
    const dying = [...idle.getKeys({ start: DYING_PREFIX, end, limit })].map(keyOfIdleEntry);
    const room = limit - dying.length;
    const entries = room > 0 ? [...idle.getKeys({ end: idleKey(cutoffMs, ''), limit: room })] : [];
    for (const entry of entries) {
      const hash = keyOfIdleEntry(entry);
      idle.remove(entry);
      const row = this.blocks.get(hash);
      assert(
        row !== undefined && row.refs === 0 && row.dyingSinceMs === undefined,
        'idle rows are at zero',
      );
      this.markDying(hash, { ...row, dyingSinceMs: nowMs });
      dying.push(hash);
    }
    return dying;
  }

  private markDying(hash: string, row: BlockRecord & { dyingSinceMs: number }): void {
    this.blocks.put(hash, row);
    this.sharedIdle().put(`${DYING_PREFIX}${idleKey(row.dyingSinceMs, hash)}`, 0);
  }

  /**
   * Inside a transaction (orphan sweep): RADOS objects found with no row get a dying row, so a
   * claim made meanwhile waits instead of writing bytes the sweep is about to delete. Returns
   * the keys marked (those that still have no row).
   */
  markOrphansDying(orphans: readonly { hash: string; bytes: number }[], nowMs: number): string[] {
    const marked: string[] = [];
    for (const { hash, bytes } of orphans) {
      if (this.blocks.get(hash) !== undefined) continue;
      this.markDying(hash, { refs: 0, bytes, dyingSinceMs: nowMs });
      marked.push(hash);
    }
    return marked;
  }

  /** Inside a transaction (GC step 3): removes the dying rows whose bytes are deleted. */
  deleteDying(hashes: readonly string[]): number {
    const idle = this.sharedIdle();
    let deleted = 0;
    for (const hash of hashes) {
      const since = this.blocks.get(hash)?.dyingSinceMs;
      if (since === undefined) continue;
      idle.remove(`${DYING_PREFIX}${idleKey(since, hash)}`);
      this.blocks.remove(hash);
      this.errors.remove(hash);
      deleted++;
    }
    return deleted;
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

/** The idle index's key: ordered by time (16 digits of ms), then block key. Dying rows are
 *  indexed apart, behind DYING_PREFIX (after every digit), by when they were marked. */
function idleKey(sinceMs: number, hash: string): string {
  return `${String(sinceMs).padStart(16, '0')}/${hash}`;
}

const DYING_PREFIX = 'dying/';

function keyOfIdleEntry(entry: string): string {
  return entry.slice(entry.lastIndexOf('/') + 1);
}

/** Block references as object and part records keep them: CRCs live in the blocks table. */
export function plainRefs(blocks: readonly BlockRef[]): BlockRef[] {
  return blocks.map(({ hash, bytes }) => ({ hash, bytes }));
}
