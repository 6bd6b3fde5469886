import { assert } from '../../engine/assert.js';

/**
 * Merges the sorted pages of every shard into one order, given each entry's sort bytes (UTF-8
 * byte order is S3's listing order; JavaScript string order is not). Entries with equal bytes
 * are one entry: a common prefix reported by several shards is listed once. Used where pages
 * are small (ListMultipartUploads); object listings stream through mergeSources.
 */
export function mergeShardPages<T>(pages: readonly T[][], sortBytes: (entry: T) => Buffer): T[] {
  const all = pages.flat().map((entry) => ({ entry, bytes: sortBytes(entry) }));
  all.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const out: T[] = [];
  let previous: Buffer | null = null;
  for (const { entry, bytes } of all) {
    if (previous?.equals(bytes)) continue;
    out.push(entry);
    previous = bytes;
  }
  return out;
}

/**
 * Compares two strings in UTF-8 byte order (code point order) without encoding them. UTF-16
 * code units order code points except that surrogates (U+10000 and up) sort below
 * U+E000–U+FFFF; at the first differing unit, moving the surrogates above that range fixes it.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** One shard's side of a listing: the next entries after a name. */
export interface BatchSource<T> {
  /** Up to `limit` entries after `after` in order, and whether more follow them. */
  fetch(after: string, limit: number): Promise<{ entries: T[]; truncated: boolean }>;
}

interface Cursor<T> {
  source: BatchSource<T>;
  buffer: T[];
  at: number;
  /** The last name fetched: where the next batch starts. */
  after: string;
  more: boolean;
  batch: number;
}

/**
 * The first `limit` distinct entries, in UTF-8 order of their names, of sorted sources that
 * each hold part of one listing, and whether more follow. A k-way merge by linear min-scan
 * (shards are few: a heap only pays past ~8, and a page has one scan per entry): each source is
 * asked for about its share of the page plus slack, and asked again, for at most what the page
 * still lacks, only when its buffer runs dry while the page needs entries. Equal names (a
 * common prefix several shards roll up) are one entry. One entry past the page is merged to
 * tell whether the page is truncated, so IsTruncated never promises an empty next page.
 */
export async function mergeSources<T>(
  sources: readonly BatchSource<T>[],
  nameOf: (entry: T) => string,
  after: string,
  limit: number,
): Promise<{ entries: T[]; truncated: boolean }> {
  const want = limit + 1;
  const first = firstBatchSize(want, sources.length);
  const cursors: Cursor<T>[] = sources.map((source) => ({
    source,
    buffer: [],
    at: 0,
    after,
    more: true,
    batch: 0,
  }));
  await Promise.all(cursors.map((cursor) => refill(cursor, first, nameOf)));
  const out: T[] = [];
  let last: string | undefined;
  let taken: Cursor<T> | undefined;
  while (out.length < want) {
    // Only the cursor an entry was just taken from can have run dry (a refill leaves entries or
    // ends its source), so it alone may need asking again: no scan of every cursor per entry.
    if (taken !== undefined && taken.at === taken.buffer.length && taken.more) {
      await refill(taken, Math.min(want - out.length, 2 * taken.batch), nameOf);
    }
    let best: Cursor<T> | undefined;
    let bestName = '';
    for (const cursor of cursors) {
      if (cursor.at === cursor.buffer.length) continue;
      const name = nameOf(cursor.buffer[cursor.at] as T);
      if (best === undefined || compareUtf8(name, bestName) < 0) {
        best = cursor;
        bestName = name;
      }
    }
    if (best === undefined) break;
    taken = best;
    const entry = best.buffer[best.at++] as T;
    if (bestName === last) continue;
    out.push(entry);
    last = bestName;
  }
  const truncated = out.length > limit;
  if (truncated) out.length = limit;
  return { entries: out, truncated };
}

/**
 * A source's share of the page plus three standard deviations of how evenly hashing spreads
 * keys over shards (binomial), so a second round trip is rare: 1001 entries over 2 shards ask
 * 501 + 68 of each.
 */
export function firstBatchSize(want: number, sources: number): number {
  const share = Math.ceil(want / Math.max(sources, 1));
  return Math.min(want, share + Math.ceil(3 * Math.sqrt(share)));
}

async function refill<T>(
  cursor: Cursor<T>,
  size: number,
  nameOf: (entry: T) => string,
): Promise<void> {
  assert(size > 0, 'a batch asks for at least one entry');
  const batch = await cursor.source.fetch(cursor.after, size);
  assert(batch.entries.length <= size, 'a source returns at most what was asked');
  cursor.buffer = batch.entries;
  cursor.at = 0;
  cursor.batch = size;
  const tail = batch.entries[batch.entries.length - 1];
  // A truncated batch ends with an entry: a source cannot promise more after nothing.
  cursor.more = batch.truncated && tail !== undefined;
  if (tail !== undefined) cursor.after = nameOf(tail);
}
