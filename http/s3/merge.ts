/**
 * Merges the sorted pages of every shard into one order, given each entry's sort bytes (UTF-8
 * byte order is S3's listing order; JavaScript string order is not). Entries with equal bytes
 * are one entry: a common prefix reported by several shards is listed once.
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
