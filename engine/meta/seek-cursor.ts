import { LIMITS } from '../limits.js';

/** A row of a binary-keyed table. */
export interface KeyedRow<V> {
  key: Buffer;
  value: V;
}

/**
 * "The first row at or after `start`" asked again and again with starts that only grow, as a
 * listing page asks it (each entry resumes just past the one before; a rolled-up prefix jumps
 * ahead): one open range serves them all, skipping a few rows where a start moved past its head,
 * and a new range opens only for a long jump. Asking each as a range of limit 1 cost a range
 * open per entry: nothing in LMDB, but a PostgreSQL round trip (and a run of the work again)
 * per entry in cluster mode, which made a 1000-entry page of ListObjectVersions 1000 round trips.
 */
export class SeekCursor<V> {
  private rows: Iterator<KeyedRow<V>> | undefined;
  private head: KeyedRow<V> | undefined;
  /** The start the head answers (every row from it up to the head's key is absent). */
  private at: Buffer = Buffer.alloc(0);
  private end: Buffer = Buffer.alloc(0);

  constructor(private readonly open: (start: Buffer, end: Buffer) => Iterable<KeyedRow<V>>) {}

  /** The first row with start <= key < end, or undefined. */
  first(start: Buffer, end: Buffer): KeyedRow<V> | undefined {
    if (this.rows !== undefined && this.end.equals(end) && Buffer.compare(start, this.at) >= 0) {
      let skipped = 0;
      while (
        this.head !== undefined &&
        Buffer.compare(this.head.key, start) < 0 &&
        skipped < LIMITS.listSeekSkipRowsMax
      ) {
        this.head = this.advance();
        skipped++;
      }
      if (this.head === undefined || Buffer.compare(this.head.key, start) >= 0) {
        this.at = start;
        return this.head;
      }
    }
    this.rows = this.open(start, end)[Symbol.iterator]();
    this.at = start;
    this.end = end;
    this.head = this.advance();
    return this.head;
  }

  private advance(): KeyedRow<V> | undefined {
    const next = this.rows?.next();
    return next === undefined || next.done === true ? undefined : next.value;
  }
}
