import { assert } from '../../assert.js';
import { LIMITS } from '../../limits.js';
import { FetchedTable, type Interval, MIN_KEY, type Row, successor } from './fetched.js';

/** What a run could not answer from what the transaction has fetched. */
export type FetchRequest =
  | { kind: 'point'; table: string; key: Buffer }
  /** Rows with from <= key < end (null: no end), ascending, at most `rows`. */
  | { kind: 'forward'; table: string; from: Buffer; end: Buffer | null; rows: number }
  /** Rows with floor <= key < below (null: no bound), descending, at most `rows`. */
  | { kind: 'reverse'; table: string; below: Buffer | null; floor: Buffer; rows: number }
  /** The table's row count, counted by the server (no row crosses the network). */
  | { kind: 'count'; table: string };

/**
 * Thrown by a read the transaction has not fetched: it unwinds the work to the store, which
 * fetches and runs the work again. Not an Error: it carries no stack and is never shown.
 */
export class FetchNeeded {
  constructor(readonly request: FetchRequest) {}
}

/** One buffered write: a value, or null for a removal. */
export interface Write {
  table: string;
  key: Buffer;
  value: Buffer | null;
}

/** Everything one transaction has fetched, kept across its runs (inside one PG transaction). */
export class TxnCache {
  private readonly tables = new Map<string, FetchedTable>();
  rows = 0;
  /** Row counts of whole tables, as the transaction's snapshot has them (Run.count). */
  readonly counts = new Map<string, number>();
  /** kv.ts attemptSeed: one per attempt (a retry gets a new cache, so a new seed). */
  readonly seed = Math.random();

  table(name: string): FetchedTable {
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new FetchedTable();
      this.tables.set(name, table);
    }
    return table;
  }

  /** Whether the transaction's reads saw `key` stored, saw it absent, or never looked. */
  wasRead(name: string, key: Buffer): 'present' | 'absent' | 'unread' {
    const table = this.tables.get(name);
    if (table === undefined || table.containing(key) === undefined) return 'unread';
    return table.value(key) === undefined ? 'absent' : 'present';
  }

  learn(name: string, span: Interval, rows: readonly Row[]): void {
    const table = this.table(name);
    const before = table.size;
    table.learn(span, rows);
    this.rows += table.size - before;
  }
}

/** One run of a transaction's work: its reads answer from the cache and its own writes. */
export class Run {
  /** Per table, encoded key (hex) → the latest write of this run. */
  private readonly overlay = new Map<string, Map<string, Write>>();
  /** The first read this run could not answer (set even if the work swallowed the signal). */
  missed: FetchRequest | undefined;
  /** The first range read this run could not answer: a run ends at it. */
  rangeMissed: FetchRequest | undefined;
  /**
   * Point reads this run could not answer. A point miss does not end the run: the read answers
   * "not stored" and the work goes on, so one run finds every point read it makes (or most: a
   * guess may send it down another path), and they are fetched together in one round trip
   * instead of one run and one round trip each. The run's outcome is void all the same.
   */
  readonly guessed: Array<{ table: string; key: Buffer }> = [];
  /** Effects outside the store the work asked for (kv.ts afterCommit): run once it commits. */
  readonly effects: Array<() => void> = [];

  constructor(
    readonly cache: TxnCache,
    readonly writable: boolean,
    /** Resolves true when the transaction commits, false when it fails. */
    readonly committed: Promise<boolean>,
  ) {}

  /** The run's writes, the last one per key, in the order their keys were first written. */
  writes(): Write[] {
    const all: Write[] = [];
    for (const table of this.overlay.values()) all.push(...table.values());
    return all;
  }

  write(table: string, key: Buffer, value: Buffer | null): void {
    assert(this.writable, 'pg-kv: a write inside read()');
    let writes = this.overlay.get(table);
    if (writes === undefined) {
      writes = new Map();
      this.overlay.set(table, writes);
    }
    writes.set(key.toString('hex'), { table, key, value });
  }

  /** The value bytes of `key`, undefined when it is not stored. */
  get(table: string, key: Buffer): Buffer | undefined {
    const own = this.overlay.get(table)?.get(key.toString('hex'));
    if (own !== undefined) return own.value ?? undefined;
    const fetched = this.cache.table(table);
    if (fetched.containing(key) === undefined) return this.guess(table, key);
    return fetched.value(key);
  }

  /**
   * Every row of `table`: the snapshot's count, by the server (a backlog's size without reading
   * it), moved by this run's own writes (a key written counts when it was absent before, a key
   * removed when it was there: those keys are read, as point reads).
   */
  count(table: string): number {
    const counted = this.cache.counts.get(table);
    if (counted === undefined) this.need({ kind: 'count', table });
    let rows = counted;
    const fetched = this.cache.table(table);
    for (const write of this.overlay.get(table)?.values() ?? []) {
      const before =
        fetched.containing(write.key) === undefined
          ? this.guess(table, write.key)
          : fetched.value(write.key);
      rows += (write.value === null ? 0 : 1) - (before === undefined ? 0 : 1);
    }
    return rows;
  }

  /** Rows with from <= key < end, ascending, at most `limit`. */
  *forward(table: string, from: Buffer, end: Buffer | null, limit: number): Generator<Row> {
    const fetched = this.cache.table(table);
    let pos = from;
    let count = 0;
    while (count < limit && (end === null || Buffer.compare(pos, end) < 0)) {
      const interval = fetched.containing(pos);
      if (interval === undefined) {
        this.need({ kind: 'forward', table, from: pos, end, rows: pageRows(limit - count) });
      }
      const segmentEnd = lowerOf(interval.hi, end);
      for (const row of this.mergedAscending(table, pos, segmentEnd)) {
        yield row;
        if (++count >= limit) return;
      }
      if (segmentEnd === null) return;
      pos = segmentEnd;
    }
  }

  /** Rows with floor <= key < below (null: no bound), descending, at most `limit`. */
  *reverse(table: string, below: Buffer | null, floor: Buffer, limit: number): Generator<Row> {
    const fetched = this.cache.table(table);
    let upper = below;
    let count = 0;
    while (count < limit && (upper === null || Buffer.compare(upper, floor) > 0)) {
      const interval = fetched.containingBelow(upper);
      if (interval === undefined) {
        this.need({ kind: 'reverse', table, below: upper, floor, rows: pageRows(limit - count) });
      }
      const segmentFloor = Buffer.compare(interval.lo, floor) > 0 ? interval.lo : floor;
      for (const row of this.merged(table, segmentFloor, upper).reverse()) {
        yield row;
        if (++count >= limit) return;
      }
      if (segmentFloor === floor) return;
      upper = interval.lo;
    }
  }

  /** merged, lazily where the run wrote nothing in the table (a read's usual case). */
  private mergedAscending(table: string, lo: Buffer, hi: Buffer | null): Iterable<Row> {
    const own = this.overlay.get(table);
    if (own === undefined || own.size === 0) return this.cache.table(table).rowsFrom(lo, hi);
    return this.merged(table, lo, hi);
  }

  /** Fetched rows in [lo, hi) with this run's writes applied, ascending. */
  private merged(table: string, lo: Buffer, hi: Buffer | null): Row[] {
    const rows = this.cache.table(table).rowsIn(lo, hi);
    const own = this.overlay.get(table);
    if (own === undefined || own.size === 0) return rows;
    const byKey = new Map<string, Row>();
    for (const row of rows) byKey.set(row.key.toString('hex'), row);
    for (const [hex, write] of own) {
      const inside =
        Buffer.compare(write.key, lo) >= 0 && (hi === null || Buffer.compare(write.key, hi) < 0);
      if (!inside) continue;
      if (write.value === null) byKey.delete(hex);
      else byKey.set(hex, { key: write.key, value: write.value });
    }
    return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key));
  }

  private need(request: FetchRequest): never {
    this.missed ??= request;
    this.rangeMissed ??= request;
    throw new FetchNeeded(request);
  }

  /** A point miss: noted, answered "not stored"; past LIMITS.pgKvGuessesMax the run ends. */
  private guess(table: string, key: Buffer): undefined {
    const request: FetchRequest = { kind: 'point', table, key };
    this.missed ??= request;
    if (this.guessed.length >= LIMITS.pgKvGuessesMax) throw new FetchNeeded(request);
    this.guessed.push({ table, key });
    return undefined;
  }
}

function pageRows(wanted: number): number {
  return Math.max(1, Math.min(LIMITS.pgKvPageRows, wanted));
}

/** The lower of two exclusive upper bounds (null: none). */
function lowerOf(a: Buffer | null, b: Buffer | null): Buffer | null {
  if (a === null) return b;
  if (b === null) return a;
  return Buffer.compare(a, b) <= 0 ? a : b;
}

/** Range bounds in the encoded key space, as lmdb-js reads getRange's options. */
export interface Bounds {
  reverse: boolean;
  /** forward: first key (inclusive); reverse: keys below this (exclusive), null for none. */
  from: Buffer | null;
  /** forward: keys below this (exclusive), null for none; reverse: lowest key (inclusive). */
  to: Buffer | null;
  limit: number;
}

/**
 * lmdb-js's getRange: forward from `start` (inclusive; default the table's beginning key) to
 * `end` (exclusive); reverse from `start` (inclusive) down to `end` (exclusive; default the
 * beginning key). The successor turns an inclusive bound into the
 * exclusive one just above it, and an exclusive lower bound into the inclusive one above it.
 */
export function boundsOf(
  reverse: boolean,
  start: Buffer | undefined,
  end: Buffer | undefined,
  limit: number | undefined,
  beginning: Buffer,
): Bounds {
  const wanted = limit ?? Number.POSITIVE_INFINITY;
  if (!reverse) return { reverse, from: start ?? beginning, to: end ?? null, limit: wanted };
  return {
    reverse,
    from: start === undefined ? null : successor(start),
    to: successor(end ?? beginning),
    limit: wanted,
  };
}

export function rowsOf(run: Run, table: string, bounds: Bounds): Generator<Row> {
  return bounds.reverse
    ? run.reverse(table, bounds.from, bounds.to ?? MIN_KEY, bounds.limit)
    : run.forward(table, bounds.from ?? MIN_KEY, bounds.to, bounds.limit);
}
