import type { BlockRef } from '../protocol/messages.js';
import { DEFAULT_TIER } from '../storage-config.js';
import { type BlockTable, plainRefs } from './block-table.js';
import { objectKey } from './keys.js';
import type { KvEnv } from './kv.js';
import type { ObjectRecord, ObjectTable } from './object-table.js';
import { failed, unwrap } from './outcome.js';
import { isVersionId } from './version-table.js';
import type { Located, VersionedObjects } from './versioned.js';

/**
 * The commit of a version's move to another tier (MoveVersionTier, issue 18): the record's
 * block keys and `tier` change, the new keys gain a reference and the old ones lose theirs, in
 * one transaction. The block files of the new keys are durable before it runs (the shard copied
 * them); the old ones are unlinked after it, once freed.
 */
export class TierMoves {
  constructor(
    private readonly t: {
      env: KvEnv;
      objects: ObjectTable;
      blocks: BlockTable;
      versioned: VersionedObjects;
    },
  ) {}

  /** The version a move names (absent versionId: the current object); markers are not. */
  locate(bucketId: string, key: string, versionId: string | undefined): Located | undefined {
    if (versionId === undefined) {
      const record = this.t.objects.get(objectKey(bucketId, key));
      return record === undefined ? undefined : { record, current: true };
    }
    if (versionId !== 'null' && !isVersionId(versionId)) return undefined;
    return this.t.versioned.locate(bucketId, key, versionId);
  }

  /**
   * Swaps the version's blocks `from` (its keys as read before the copy) for `to` (the same
   * blocks under the target tier's keys). Fails with ConditionalRequestConflict if the version
   * changed meanwhile (the caller reads again and retries). Returns the keys freed.
   */
  async commit(
    bucketId: string,
    key: string,
    versionId: string | undefined,
    from: readonly BlockRef[],
    to: readonly BlockRef[],
    tier: string,
  ): Promise<string[]> {
    const outcome = await this.t.env.transaction(() => {
      const located = this.locate(bucketId, key, versionId);
      if (located === undefined || !sameKeys(located.record.blocks, from)) {
        return failed('ConditionalRequestConflict', 'The version changed during its tier move.');
      }
      const crcs = this.t.blocks.withStoredCrcs(from);
      const targets = to.map((block, i) => {
        const stored = crcs[i]?.crcs;
        return stored === undefined ? block : { ...block, crcs: stored };
      });
      this.t.blocks.increfAll(targets);
      const freed = this.t.blocks.decrefAll(from);
      this.t.versioned.rewrite(bucketId, key, located, withTier(located.record, to, tier));
      return { freed };
    });
    return unwrap(outcome).freed;
  }
}

function sameKeys(a: readonly BlockRef[], b: readonly BlockRef[]): boolean {
  return a.length === b.length && a.every((block, i) => block.hash === b[i]?.hash);
}

function withTier(record: ObjectRecord, blocks: readonly BlockRef[], tier: string): ObjectRecord {
  const { tier: _previous, ...rest } = record;
  return {
    ...rest,
    blocks: plainRefs(blocks),
    ...(tier === DEFAULT_TIER ? {} : { tier }),
  };
}
