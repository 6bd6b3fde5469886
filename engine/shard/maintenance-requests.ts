import type { ShardRequest, ShardResult } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import type { ShardCore } from './shard-core.js';

/*
 * A shard's background and operator requests on whole buckets and blocks: lifecycle batches,
 * purges, and its stats.
 */

/** One bounded lifecycle batch: expired objects deleted, due uploads aborted, blocks freed. */
export async function applyLifecycle(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'ApplyLifecycle' }>,
): Promise<ShardResult> {
  const { expired, aborted, freed, next } = await core.meta.applyLifecycle(
    request.bucketId,
    request.rules,
    request.nowMs,
    request.target,
    request.after,
    request.limit,
    request.versioning,
    request.notify,
  );
  if (core.settings.durable && expired + aborted > 0) await core.meta.flushed();
  core.freeAll(freed);
  return { kind: 'LifecycleApplied', expired, aborted, next };
}

export async function cleanupUploads(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'CleanupUploads' }>,
): Promise<ShardResult> {
  const { aborted, freed, next } = await core.meta.abortUploadsWhere(
    request.bucketId,
    request.after,
    request.limit,
    (upload) => upload.initiatedMs < request.initiatedBeforeMs,
  );
  if (core.settings.durable && aborted > 0) await core.meta.flushed();
  core.freeAll(freed);
  return { kind: 'LifecycleApplied', expired: 0, aborted, next };
}

/** `openSessions`: the shard's PUT and GET sessions open now. */
export function stats(core: ShardCore, openSessions: number): ShardResult {
  return {
    kind: 'Stats',
    stats: {
      buckets: core.meta.allBucketCounters(),
      blocks: core.meta.blockTotals(),
      blockErrors: core.meta.blockErrorCount(),
      blocksDeduplicated: shardCounters.blocksDeduplicated,
      orphansRemoved: shardCounters.orphansRemoved,
      compression: shardCounters.compression,
      fsync: shardCounters.fsync,
      busySeconds: shardCounters.busySeconds(),
      messagesHandled: shardCounters.messagesHandled,
      openSessions,
    },
  };
}

export async function purgeBlocks(
  core: ShardCore,
  hashes: readonly string[],
): Promise<ShardResult> {
  const { objects, uploads, freed } = await core.meta.purgeBlocks(hashes);
  if (core.settings.durable) await core.meta.flushed();
  core.freeAll(freed);
  return { kind: 'BlocksPurged', objects, uploads, blocks: new Set(freed).size };
}

export async function purgeBuckets(
  core: ShardCore,
  liveBucketIds: readonly string[],
): Promise<ShardResult> {
  const { objects, freed } = await core.meta.purgeBuckets(new Set(liveBucketIds));
  if (core.settings.durable) await core.meta.flushed();
  core.freeAll(freed);
  return { kind: 'Purged', objects };
}
