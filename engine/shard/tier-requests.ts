import { blockKeyOf, contentHashOf } from '../blocks/block-key.js';
import { engineFailure } from '../errors.js';
import type { BlockRef, ShardRequest, ShardResult } from '../protocol/messages.js';
import { DEFAULT_TIER } from '../storage-config.js';
import type { ShardCore } from './shard-core.js';

/**
 * MoveVersionTier (issue 18): moves one version's blocks to another tier, for the lifecycle
 * transition worker. Crash-safe and idempotent:
 *  1. each block is copied into a writable directory of the target tier (temp file, fsync,
 *     rename, directory fsync), unless the tier already holds it (dedup is per tier);
 *  2. one LMDB transaction swaps the record's block keys and `tier`, references the new keys
 *     and drops the old ones (TierMoves.commit), and is flushed before the answer;
 *  3. the old keys freed by it are unlinked.
 * A crash before 2 leaves unreferenced copies (the start-up sweep removes them) and the version
 * as it was; after 2, unreferenced old files, removed alike. A version already in the tier is
 * answered `moved: false` at once, so a retried request is harmless.
 */
export async function moveVersionTier(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'MoveVersionTier' }>,
): Promise<ShardResult> {
  const { bucketId, key, versionId, tier } = request;
  const { store } = core.local('MoveVersionTier');
  if (!store.hasTier(tier) && tier !== DEFAULT_TIER) {
    throw engineFailure('InvalidRequest', `No storage tier named ${tier} is configured.`);
  }
  const located = await core.meta.read(() => core.meta.tierMoves.locate(bucketId, key, versionId));
  if (located === undefined) {
    throw versionId === undefined
      ? engineFailure('NoSuchKey', 'The specified key does not exist.')
      : engineFailure('NoSuchVersion', 'The specified version does not exist.');
  }
  const { record } = located;
  if (record.deleteMarker === true) {
    throw engineFailure('MethodNotAllowed', 'A delete marker has no data to move.');
  }
  if ((record.tier ?? DEFAULT_TIER) === tier) {
    return { kind: 'TierMoved', moved: false, tier, blocks: record.blocks.length };
  }
  const from = record.blocks;
  const to: BlockRef[] = from.map((block) => ({
    hash: blockKeyOf(tier, contentHashOf(block.hash)),
    bytes: block.bytes,
  }));
  const pinned = [...from, ...to].map((block) => block.hash);
  for (const hash of pinned) core.ledger.pin(hash);
  try {
    await copyBlocks(core, from, to);
    const freed = await core.meta.tierMoves.commit(bucketId, key, versionId, from, to, tier);
    if (core.settings.durable) await core.meta.flushed();
    core.freeAll(freed);
  } finally {
    for (const hash of pinned) core.ledger.unpin(hash);
  }
  return { kind: 'TierMoved', moved: true, tier, blocks: to.length };
}

/** Makes each target key's file durable in its tier (copies of the pinned source files). */
async function copyBlocks(
  core: ShardCore,
  from: readonly BlockRef[],
  to: readonly BlockRef[],
): Promise<void> {
  const { store, ledger } = core.local('MoveVersionTier');
  const done = new Set<string>();
  for (const [i, target] of to.entries()) {
    const source = from[i];
    if (source === undefined || done.has(target.hash)) continue;
    done.add(target.hash);
    const held = core.meta.readLocal(() => core.meta.blockRefs(target.hash) > 0);
    if (held && !ledger.moving(target.hash)) continue;
    const writer = await store.copyToTemp(store.pathOf(source.hash), target.hash);
    await ledger.installBlock(target.hash, writer);
  }
}
