import type { BucketRecord } from '../../engine/catalog/catalog.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { QuotaCheck } from '../../engine/protocol/messages.js';
import type { ServerState } from './context.js';

/** A bucket's quotas as the catalog stores them (kind 'quotas'); null: no limit. */
export interface BucketQuotas {
  maxSize: number | null;
  maxObjects: number | null;
}

export function bucketQuotas(state: ServerState, bucket: BucketRecord | string): BucketQuotas {
  const stored = state.catalog.getBucketConfig<BucketQuotas>(bucket, 'quotas');
  return { maxSize: stored?.maxSize ?? null, maxObjects: stored?.maxObjects ?? null };
}

/** Every shard's counters for a bucket with quotas, ready to become a shard's QuotaCheck. */
export interface ShardCounters {
  bucketId: string;
  /** The quotas and the counters of every shard but the committing one. */
  checkFor(committing: ShardClient): QuotaCheck;
}

/**
 * Reads a bucket's counters on every shard (one O(1) request each), or undefined when the
 * bucket has no quota: buckets without quotas pay nothing.
 *
 * Remaining race: the other shards' counters are read when the write starts, and the committing
 * shard checks them plus its own (read inside the committing transaction, so writes to one shard
 * are checked exactly). Writes committing concurrently on different shards near the limit can
 * each pass on the other's stale count: the overshoot is at most the writes in flight.
 */
export async function shardCounters(
  state: ServerState,
  bucketId: string,
): Promise<ShardCounters | undefined> {
  const quotas = bucketQuotas(state, bucketId);
  if (quotas.maxSize === null && quotas.maxObjects === null) return undefined;
  const counters = await Promise.all(
    state.pool.clients.map(async (shard) => ({
      shardId: shard.shardId,
      ...(await shard.call({ kind: 'BucketCounters', bucketId }, 'Counters')),
    })),
  );
  return {
    bucketId,
    checkFor: (committing) => {
      const others = counters.filter((c) => c.shardId !== committing.shardId);
      return {
        ...quotas,
        otherObjects: others.reduce((sum, c) => sum + c.objects, 0),
        otherBytes: others.reduce((sum, c) => sum + c.bytes, 0),
      };
    },
  };
}

/**
 * The QuotaCheck of a write that streams a body, read beside the body rather than before it:
 * null (nothing to wait for) when the bucket has no quota. The body's upload sends it with the
 * commit (PutEnd); the committing shard checks it with its own counters in the transaction.
 */
export function quotaCheckBesideBody(
  state: ServerState,
  bucketId: string,
  committing: ShardClient,
): Promise<QuotaCheck> | null {
  const quotas = bucketQuotas(state, bucketId);
  if (quotas.maxSize === null && quotas.maxObjects === null) return null;
  return shardCounters(state, bucketId).then((counters) => {
    // The quotas went meanwhile: nothing to check.
    if (counters === undefined)
      return { maxSize: null, maxObjects: null, otherObjects: 0, otherBytes: 0 };
    return counters.checkFor(committing);
  });
}

/** The QuotaCheck a write committing on `committing` carries (undefined: no quota). */
export async function quotaCheck(
  state: ServerState,
  bucketId: string,
  committing: ShardClient,
): Promise<QuotaCheck | undefined> {
  return (await shardCounters(state, bucketId))?.checkFor(committing);
}
