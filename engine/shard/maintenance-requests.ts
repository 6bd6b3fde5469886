import { EngineFailureError } from '../errors.js';
import type { MovedVersion } from '../meta/lifecycle-batches.js';
import type { ShardRequest, ShardResult } from '../protocol/messages.js';
import { shardCounters } from '../stats.js';
import type { ShardCore } from './shard-core.js';
import { moveVersionTier } from './tier-requests.js';

/*
 * A shard's background and operator requests on whole buckets and blocks: lifecycle batches,
 * purges, and its stats.
 */

/**
 * One bounded lifecycle batch: expired objects deleted, due uploads aborted, versions moved to a
 * colder class or access tier, blocks freed.
 */
export async function applyLifecycle(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'ApplyLifecycle' }>,
): Promise<ShardResult> {
  const { reqId: _reqId, kind: _kind, notify, ...batch } = request;
  const done = await core.meta.applyLifecycle(batch, notify);
  const changed = done.expired + done.aborted + done.transitioned + done.tiered;
  if (core.settings.durable && changed > 0) await core.meta.flushed();
  core.freeAll(done.freed);
  await moveToClassTiers(core, done.moved);
  return {
    kind: 'LifecycleApplied',
    expired: done.expired,
    aborted: done.aborted,
    next: done.next,
    ...(done.transitioned > 0 ? { transitioned: done.transitioned } : {}),
    ...(done.tiered > 0 ? { tiered: done.tiered } : {}),
  };
}

/**
 * The physical half of a transition: the records already name their new class (committed and
 * flushed above); here each moved version's blocks go to the tier its new class maps to
 * (MoveVersionTier, tier-requests.ts: durable copies, then one flushed swap of the record's
 * block keys). With one tier every class lives in "standard" and nothing moves. A version
 * deleted or overwritten meanwhile has nothing left to move. A move that fails (a full disk)
 * is logged and leaves the version whole in its old tier (its record and block keys still name
 * that tier); the admin API's MoveObjectTier moves it later.
 */
/** A version that is gone, or now a delete marker, has no blocks to move. */
const GONE = new Set(['NoSuchKey', 'NoSuchVersion', 'MethodNotAllowed']);

async function moveToClassTiers(core: ShardCore, moved: readonly MovedVersion[]): Promise<void> {
  for (const version of moved) {
    const tier = core.blocks.tierOf(version.storageClass);
    try {
      await moveVersionTier(core, {
        kind: 'MoveVersionTier',
        reqId: 0,
        bucketId: version.bucketId,
        key: version.key,
        ...(version.versionId === null ? {} : { versionId: version.versionId }),
        tier,
      });
    } catch (error) {
      if (error instanceof EngineFailureError && GONE.has(error.failure.code)) continue;
      core.logError(error);
    }
  }
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
      engine: shardCounters.engine,
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
