/**
 * What one transaction has fetched of one table: the rows it read and the key intervals it knows
 * completely (every stored key inside is among the rows). A point read covers [key, key+0x00),
 * a range page covers the span it scanned; touching intervals merge. Keys are the encoded bytes,
 * ordered by memcmp (Buffer.compare), which is bytea's and LMDB's order.
 */

/** [lo, hi): hi null is past every key. */
export interface Interval {
  lo: Buffer;
  hi: Buffer | null;
}

export interface Row {
  key: Buffer;
  value: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** The smallest key after `key` in memcmp order. */
export function successor(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}

/** a < b where null is +infinity. */
function before(a: Buffer, b: Buffer | null): boolean {
  return b === null || Buffer.compare(a, b) < 0;
}

function maxHi(a: Buffer | null, b: Buffer | null): Buffer | null {
  if (a === null || b === null) return null;
  return Buffer.compare(a, b) >= 0 ? a : b;
}

export class FetchedTable {
  /** Sorted by key, no duplicates. */
  private readonly rows: Row[] = [];
  /** Sorted, disjoint and not touching. */
  private intervals: Interval[] = [];
  /** Rows held, for the per-transaction bound. */
  get size(): number {
    return this.rows.length;
  }

  /** Records a fetched span: `rows` are every stored row with a key in [lo, hi). */
  learn(span: Interval, rows: readonly Row[]): void {
    for (const row of rows) this.addRow(row);
    this.cover(span);
  }

  /** The interval that holds `key`, if any. */
  containing(key: Buffer): Interval | undefined {
    const i = this.lastIntervalStartingAtOrBefore(key);
    const interval = i >= 0 ? this.intervals[i] : undefined;
    return interval !== undefined && before(key, interval.hi) ? interval : undefined;
  }

  /** The interval that holds the keys just below `upper` (exclusive; null: the last keys). */
  containingBelow(upper: Buffer | null): Interval | undefined {
    if (upper === null) {
      const last = this.intervals[this.intervals.length - 1];
      return last !== undefined && last.hi === null ? last : undefined;
    }
    if (upper.length === 0) return undefined;
    for (const interval of this.intervals) {
      const startsBelow = Buffer.compare(interval.lo, upper) < 0;
      const reaches = interval.hi === null || Buffer.compare(interval.hi, upper) >= 0;
      if (startsBelow && reaches) return interval;
    }
    return undefined;
  }

  /** The stored value of a key inside a known interval (undefined: not stored). */
  value(key: Buffer): Buffer | undefined {
    const i = this.rowIndex(key);
    const row = this.rows[i];
    return row?.key.equals(key) ? row.value : undefined;
  }

  /** Rows with lo <= key < hi (hi null: no bound), ascending. */
  rowsIn(lo: Buffer, hi: Buffer | null): Row[] {
    return [...this.rowsFrom(lo, hi)];
  }

  /**
   * rowsIn, lazily: a range read that stops after a few rows costs those rows, not the whole
   * interval (rows change only when a fetch is learned, between runs of the work).
   */
  *rowsFrom(lo: Buffer, hi: Buffer | null): Generator<Row> {
    for (let i = this.rowIndex(lo); i < this.rows.length; i++) {
      const row = this.rows[i] as Row;
      if (!before(row.key, hi)) return;
      yield row;
    }
  }

  /** Index of the first row with key >= `key`. */
  private rowIndex(key: Buffer): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare((this.rows[mid] as Row).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private addRow(row: Row): void {
    const i = this.rowIndex(row.key);
    const there = this.rows[i];
    if (there?.key.equals(row.key)) there.value = row.value;
    else this.rows.splice(i, 0, row);
  }

  private lastIntervalStartingAtOrBefore(key: Buffer): number {
    let lo = 0;
    let hi = this.intervals.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare((this.intervals[mid] as Interval).lo, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Adds a span, merging it with every interval it overlaps or touches. */
  private cover(span: Interval): void {
    let lo = span.lo;
    let hi = span.hi;
    const kept: Interval[] = [];
    for (const interval of this.intervals) {
      const apart =
        (interval.hi !== null && Buffer.compare(interval.hi, lo) < 0) ||
        (hi !== null && Buffer.compare(interval.lo, hi) > 0);
      if (apart) {
        kept.push(interval);
        continue;
      }
      if (Buffer.compare(interval.lo, lo) < 0) lo = interval.lo;
      hi = maxHi(hi, interval.hi);
    }
    kept.push({ lo, hi });
    kept.sort((a, b) => Buffer.compare(a.lo, b.lo));
    this.intervals = kept;
  }
}

export { EMPTY as MIN_KEY };
