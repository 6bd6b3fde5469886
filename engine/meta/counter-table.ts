import { assert } from '../assert.js';
import type { BlockTotals, EngineFailure, QuotaCheck } from '../protocol/messages.js';
import type { KvEnv, KvTable, KvTableOptions } from './kv.js';
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

/**
 * The `usage` table: per bucket (key: the bucket id, hex) its objects and bytes on this shard;
 * and under `!` names the shard's block totals. Every count stays non-negative (asserted), and a
 * bucket whose counters reach zero loses its row, so `all()` lists only buckets with data.
 */
export class CounterTable {
  private readonly counters: KvTable<CounterRecord, string>;

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
  ) {
    this.counters = env.openDB<CounterRecord, string>({ name: 'usage', ...records });
  }

  /** Whether the per-bucket counters were ever built (stores from before them have none). */
  built(): boolean {
    return this.counters.get(COUNTERS_BUILT) !== undefined;
  }

  /** Whether the block totals exist (stores from before them have none). */
  hasBlockTotals(): boolean {
    return this.counters.get(BLOCKS_STORED) !== undefined;
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
    const stored = this.counters.get(BLOCKS_STORED) ?? { objects: 0, bytes: 0 };
    const references = this.counters.get(BLOCK_REFERENCES) ?? { objects: 0, bytes: 0 };
    return {
      stored: stored.objects,
      storedBytes: stored.bytes,
      references: references.objects,
      referencedBytes: references.bytes,
    };
  }

  /** Every bucket with objects on this shard, with its counters. */
  all(): Array<{ bucketId: string; objects: number; bytes: number }> {
    const all = [];
    for (const { key, value } of this.counters.getRange({})) {
      if (key.startsWith('!')) continue;
      all.push({ bucketId: key, objects: value.objects, bytes: value.bytes });
    }
    return all;
  }

  /** Inside a transaction: moves one of the `!` totals of the usage table. */
  moveTotal(name: string, objects: number, bytes: number): void {
    const current = this.counters.get(name) ?? { objects: 0, bytes: 0 };
    const next = { objects: current.objects + objects, bytes: current.bytes + bytes };
    assert(next.objects >= 0 && next.bytes >= 0, `${name} stays non-negative`);
    this.counters.put(name, next);
  }

  /** The bucket's objects and bytes on this shard: O(1). */
  bucket(bucketId: string): CounterRecord {
    return this.counters.get(bucketId) ?? { objects: 0, bytes: 0 };
  }

  /** Inside a transaction: moves a bucket's counters. */
  count(bucketId: string, objects: number, bytes: number): void {
    if (objects === 0 && bytes === 0) return;
    const current = this.bucket(bucketId);
    const next = { objects: current.objects + objects, bytes: current.bytes + bytes };
    assert(next.objects >= 0 && next.bytes >= 0, 'bucket counters stay non-negative');
    if (next.objects === 0 && next.bytes === 0) this.counters.remove(bucketId);
    else this.counters.put(bucketId, next);
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
