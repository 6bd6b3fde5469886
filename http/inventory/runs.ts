/**
 * A bucket's inventory schedule state (catalog kind 'inventory-runs', one record per bucket):
 * written by the inventory worker, pruned when a configuration is deleted. Apart from
 * worker.ts so that the S3 handlers (edge threads) need not load the worker and its metrics.
 */
import type { Catalog } from '../../engine/catalog/catalog.js';

/** When one configuration last ran. */
export interface RunRecord {
  lastMs?: number;
  /** A run started at this time and not finished: resumed with the same time. */
  pendingMs?: number;
}
export type RunRecords = Record<string, RunRecord>;

/** Forgets the configuration `id`'s schedule: one later made under the same id starts afresh. */
export async function forgetInventoryRuns(
  catalog: Catalog,
  bucketId: string,
  id: string,
): Promise<void> {
  await catalog.updateBucketConfig<RunRecords>(bucketId, 'inventory-runs', (runs) => {
    if (runs?.[id] === undefined) return runs;
    const { [id]: _gone, ...rest } = runs;
    return Object.keys(rest).length === 0 ? undefined : rest;
  });
}
