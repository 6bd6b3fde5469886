import { LIMITS } from '../limits.js';
import type { KvEntry, KvEnv, KvKey, KvTable } from './kv.js';
import { readKv } from './kv.js';

/**
 * Every entry of `table`, in key order, a page (LIMITS.kvScanPageRows) per read: over the
 * embedded store each page is a synchronous read; over a cluster store a `read` whose work
 * is run again after each fetch, so a page must stay small (one read over a whole table would
 * rerun its work per fetched page and hit the store's bound on rows per transaction).
 *
 * Pages are separate reads: over a store being written, the scan is not one snapshot. Its
 * users: fsck, and the open-time counts of a cluster store's queues.
 */
export async function* scanTable<V, K extends KvKey>(
  env: KvEnv,
  table: KvTable<V, K>,
): AsyncGenerator<KvEntry<K, V>> {
  let after: K | undefined;
  for (;;) {
    const from = after;
    const page = await readKv(env, () => readPage(table, from));
    for (const entry of page) yield entry;
    const last = page[page.length - 1];
    if (last === undefined || page.length < LIMITS.kvScanPageRows) return;
    after = last.key;
  }
}

/** Up to a page of entries after `after` (all from the start when undefined). */
function readPage<V, K extends KvKey>(
  table: KvTable<V, K>,
  after: K | undefined,
): Array<KvEntry<K, V>> {
  if (after === undefined) {
    return [...table.getRange({ limit: LIMITS.kvScanPageRows })];
  }
  // `start` is inclusive: read one more and drop the key the last page ended at.
  const page = [...table.getRange({ start: after, limit: LIMITS.kvScanPageRows + 1 })];
  if (page[0] !== undefined && sameKey(page[0].key, after)) page.shift();
  else page.pop();
  return page;
}

function sameKey(a: KvKey, b: KvKey): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.equals(b);
}
