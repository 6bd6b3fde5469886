import { assert } from '../assert.js';
import type { BlockTotals, EngineFailure, QuotaCheck } from '../protocol/messages.js';
import { attemptSeed, type KvEnv, type KvTable, type KvTableOptions } from './kv.js';
import { failed } from './outcome.js';

/** A bucket's objects and their bytes on this shard, kept by every transaction that moves them. */
export interface CounterRecord {
  objects: number;
  bytes: number;
}

/** Marks the `usage` table as built (stores from before it get their counters on open). */
const COUNTERS_BUILT = '!built';
/** In the `usage` table: distinct blocks this shard references (objects) and their bytes. */
export const BLOCKS_STORED = '!blocks';
/** In the `usage` table: references to blocks (objects) and the bytes they name. */
export const BLOCK_REFERENCES = '!refs';

/** Between a counter's name and its slot number in a slotted table's keys. */
const SLOT_MARK = '#';

/**
 * The `usage` table: per bucket (key: the bucket id, hex) its objects and bytes on this shard;
 * and under `!` names the shard's block totals. Every count stays non-negative (asserted), and a
 * bucket whose counters reach zero loses its row, so `all()` lists only buckets with data.
 *
 * Slotted (`slots` > 1, cluster mode): every transaction of a partition moves the block totals,
 * and every write of a bucket its counters; with several gateways (and several transactions of
 * one shard in flight) on PostgreSQL, one row per counter would make every pair of concurrent
 * writes a serialization conflict. A counter is then `slots` rows (`name#slot`) that a write
 * moves one of, picked at random, without reading the others; a read sums them. A slot may go
 * negative (added in one slot, removed in another): the sums are what stays non-negative.
 */
export class CounterTable {
  private readonly counters: KvTable<CounterRecord, string>;

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
    private readonly slots = 1,
  ) {
    assert(Number.isInteger(slots) && slots >= 1 && slots <= 256, 'counter slots 1..256');
    this.counters = env.openDB<CounterRecord, string>({ name: 'usage', ...records });
  }

  /**
   * The row a write moves: the counter's own, or one of its slots, picked by the attempt's seed
   * (random per attempt, the same over its runs: a re-run reads the slot the last run fetched).
   */
  private rowOf(name: string): string {
    if (this.slots === 1) return name;
    const slot = Math.floor(attemptSeed(this.env) * this.slots);
    return `${name}${SLOT_MARK}${slot.toString(16).padStart(2, '0')}`;
  }

  /** A counter's value: its row, or the sum of its slots. */
  private sumOf(name: string): CounterRecord | undefined {
    if (this.slots === 1) return this.counters.get(name);
    let sum: CounterRecord | undefined;
    for (const { value } of this.counters.getRange({
      start: `${name}${SLOT_MARK}`,
      end: `${name}${String.fromCharCode(SLOT_MARK.charCodeAt(0) + 1)}`,
    })) {
      sum = {
        objects: (sum?.objects ?? 0) + value.objects,
        bytes: (sum?.bytes ?? 0) + value.bytes,
      };
    }
    if (sum !== undefined) {
      assert(sum.objects >= 0 && sum.bytes >= 0, `${name}'s slots sum non-negative`);
    }
    return sum;
  }

  /** Adds to the row a write moves; a row back at zero goes. */
  private move(name: string, objects: number, bytes: number): void {
    const row = this.rowOf(name);
    const current = this.counters.get(row) ?? { objects: 0, bytes: 0 };
    const next = { objects: current.objects + objects, bytes: current.bytes + bytes };
    if (this.slots === 1) {
      assert(next.objects >= 0 && next.bytes >= 0, `${name} stays non-negative`);
    }
    if (next.objects === 0 && next.bytes === 0) this.counters.remove(row);
    else this.counters.put(row, next);
  }

  /** Whether the per-bucket counters were ever built (stores from before them have none). */
  built(): boolean {
    return this.slots > 1 || this.counters.get(COUNTERS_BUILT) !== undefined;
  }

  /** Whether the block totals exist (stores from before them have none). */
  hasBlockTotals(): boolean {
    return this.slots > 1 || this.counters.get(BLOCKS_STORED) !== undefined;
  }

  /** Replaces every bucket's counters with `sums`, once (a store from before the counters). */
  rebuild(sums: ReadonlyMap<string, CounterRecord>): void {
    this.env.transactionSync(() => {
      for (const key of this.counters.getKeys({})) this.counters.remove(key);
      for (const [bucketId, sum] of sums) this.counters.put(bucketId, sum);
      this.counters.put(COUNTERS_BUILT, { objects: 0, bytes: 0 });
    });
  }

  /** Writes the block totals once (a store from before they existed). */
  setBlockTotals(stored: CounterRecord, references: CounterRecord): void {
    this.env.transactionSync(() => {
      this.counters.put(BLOCKS_STORED, stored);
      this.counters.put(BLOCK_REFERENCES, references);
    });
  }

  /** Distinct blocks and references of this shard: O(1). */
  blockTotals(): BlockTotals {
    const stored = this.sumOf(BLOCKS_STORED) ?? { objects: 0, bytes: 0 };
    const references = this.sumOf(BLOCK_REFERENCES) ?? { objects: 0, bytes: 0 };
    return {
      stored: stored.objects,
      storedBytes: stored.bytes,
      references: references.objects,
      referencedBytes: references.bytes,
    };
  }

  /** Every bucket with objects on this shard, with its counters. */
  all(): Array<{ bucketId: string; objects: number; bytes: number }> {
    const sums = new Map<string, CounterRecord>();
    for (const { key, value } of this.counters.getRange({})) {
      if (key.startsWith('!')) continue;
      const bucketId = this.slots === 1 ? key : key.slice(0, key.lastIndexOf(SLOT_MARK));
      const sum = sums.get(bucketId) ?? { objects: 0, bytes: 0 };
      sums.set(bucketId, { objects: sum.objects + value.objects, bytes: sum.bytes + value.bytes });
    }
    const all = [];
    for (const [bucketId, { objects, bytes }] of sums) {
      // Slots of a bucket emptied in other slots than it was filled in sum to nothing.
      if (objects !== 0 || bytes !== 0) all.push({ bucketId, objects, bytes });
    }
    return all;
  }

  /** Inside a transaction: moves one of the `!` totals of the usage table. */
  moveTotal(name: string, objects: number, bytes: number): void {
    if (this.slots === 1) {
      // The totals' rows stay at zero (their presence says the totals were built).
      const current = this.counters.get(name) ?? { objects: 0, bytes: 0 };
      const next = { objects: current.objects + objects, bytes: current.bytes + bytes };
      assert(next.objects >= 0 && next.bytes >= 0, `${name} stays non-negative`);
      this.counters.put(name, next);
      return;
    }
    this.move(name, objects, bytes);
  }

  /** The bucket's objects and bytes on this shard: O(1). */
  bucket(bucketId: string): CounterRecord {
    return this.sumOf(bucketId) ?? { objects: 0, bytes: 0 };
  }

  /** Inside a transaction: moves a bucket's counters. */
  count(bucketId: string, objects: number, bytes: number): void {
    if (objects === 0 && bytes === 0) return;
    this.move(bucketId, objects, bytes);
  }

  /**
   * Inside a transaction: whether a write adding `objects` and `bytes` (negative: freeing) would
   * pass a quota, counting this shard's counters now and the other shards' as the HTTP side read
   * them. As Garage: a write that adds nothing to a measure is never refused for it (overwriting
   * a key at maxObjects, replacing an object with a smaller one).
   */
  quotaRefusal(
    bucketId: string,
    quota: QuotaCheck | null,
    objects: number,
    bytes: number,
  ): { failure: EngineFailure } | null {
    if (quota === null) return null;
    const own = this.bucket(bucketId);
    const total = {
      objects: own.objects + quota.otherObjects,
      bytes: own.bytes + quota.otherBytes,
    };
    if (quota.maxObjects !== null && objects > 0 && total.objects + objects > quota.maxObjects) {
      return failed(
        'QuotaExceeded',
        `Object quota is reached, maximum objects for this bucket: ${quota.maxObjects}`,
      );
    }
    if (quota.maxSize !== null && bytes > 0 && total.bytes + bytes > quota.maxSize) {
      return failed(
        'QuotaExceeded',
        `Bucket size quota is reached, maximum total size of objects for this bucket: ${quota.maxSize}. The bucket is already ${total.bytes} bytes, and this object would add ${bytes} bytes.`,
      );
    }
    return null;
  }
}
