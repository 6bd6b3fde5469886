import { isBlockHash } from '../blocks/block-names.js';
import type { RadosBlockStore } from '../blocks/rados/rados-block-store.js';
import { engineFailure } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { MetaStore } from '../meta/store.js';
import type { ShardCore } from './shard-core.js';

/** What the GC works on: a partition's metadata (rows shared) and its RADOS namespace. */
export interface BlockGcTarget {
  readonly meta: MetaStore;
  readonly store: RadosBlockStore;
}

/** What one GC pass did. */
export interface BlockGcCounts {
  /** Rows marked dying (at zero references past the grace, or left dying by a dead pass). */
  dying: number;
  /** RADOS objects deleted. */
  removed: number;
  /** Rows deleted after their objects were. */
  rowsDeleted: number;
}

/** What one orphan sweep pass did. */
export interface OrphanSweepCounts {
  /** Objects listed. */
  looked: number;
  /** Objects with no row past the grace, deleted. */
  removed: number;
  /** Names in the namespace that are not block hashes: left alone (reported, not deleted). */
  strays: number;
}

/**
 * Cluster block GC, one pass (cluster-design §4.4), run by the elected leader only:
 *  1. one metadata transaction marks the rows at zero references since before the grace dying;
 *  2. their RADOS objects are deleted;
 *  3. a second transaction deletes the dying rows.
 * Invariant: a block's bytes are deleted only while its row is dying, and no transaction adds a
 * reference to (or claims) a dying row; a PUT meeting one waits for the row to go and rewrites
 * the block (ClusterBlockLedger). A pass that dies between 1 and 3 leaves dying rows; the next
 * pass past the grace takes them up (removal and row deletion are idempotent).
 */
export async function collectBlocks(
  target: BlockGcTarget,
  nowMs: number,
  graceMs: number = LIMITS.clusterBlockGcGraceMs,
): Promise<BlockGcCounts> {
  const dying = await target.meta.sharedBlocks.markIdleDying(
    nowMs - graceMs,
    nowMs,
    LIMITS.clusterBlockGcBatchMax,
  );
  return { dying: dying.length, ...(await deleteDying(target, dying)) };
}

async function deleteDying(
  { meta, store }: BlockGcTarget,
  dying: readonly string[],
): Promise<{ removed: number; rowsDeleted: number }> {
  let removed = 0;
  for (const hash of dying) if (await store.remove(hash)) removed++;
  const rowsDeleted = dying.length === 0 ? 0 : await meta.sharedBlocks.deleteDying(dying);
  return { removed, rowsDeleted };
}

/**
 * The orphan sweep (cluster-design §4.4): RADOS objects with no row (bytes written under a
 * claim whose row the GC collected, e.g. by a PUT that outlived the grace; or left by a bug or
 * an operator), deleted once older than the grace. Each candidate first gets a
 * dying row (one transaction, only where there is still no row), so a claim made meanwhile
 * waits rather than have its fresh bytes deleted; then the objects go, then the rows. Looks at
 * LIMITS.clusterOrphanSweepNamesMax names per pass, from the namespace's start.
 */
export async function sweepOrphanBlocks(
  target: BlockGcTarget,
  nowMs: number,
  graceMs: number = LIMITS.clusterBlockGcGraceMs,
): Promise<OrphanSweepCounts> {
  const { meta, store } = target;
  const counts: OrphanSweepCounts = { looked: 0, removed: 0, strays: 0 };
  const candidates: Array<{ hash: string; bytes: number }> = [];
  for await (const name of store.names()) {
    if (counts.looked >= LIMITS.clusterOrphanSweepNamesMax) break;
    counts.looked++;
    if (!isBlockHash(name)) {
      counts.strays++;
      continue;
    }
    if ((await meta.read(() => meta.sharedBlocks.row(name))) !== undefined) continue;
    const stat = await store.stat(name);
    if (stat === null || stat.mtimeMs >= nowMs - graceMs) continue;
    candidates.push({ hash: name, bytes: stat.bytes });
    if (candidates.length >= LIMITS.clusterBlockGcBatchMax) {
      counts.removed += await removeOrphans(target, candidates.splice(0), nowMs);
    }
  }
  counts.removed += await removeOrphans(target, candidates, nowMs);
  return counts;
}

async function removeOrphans(
  target: BlockGcTarget,
  orphans: readonly { hash: string; bytes: number }[],
  nowMs: number,
): Promise<number> {
  if (orphans.length === 0) return 0;
  const marked = await target.meta.sharedBlocks.markOrphansDying(orphans, nowMs);
  return (await deleteDying(target, marked)).removed;
}

/** The shard's partition as a GC target; refused on an embedded shard (it frees inline). */
export function gcTargetOf(core: ShardCore): BlockGcTarget {
  const rados = core.rados;
  if (rados === null) {
    throw engineFailure('InvalidRequest', 'the cluster block GC runs on cluster-mode shards only');
  }
  return { meta: core.meta, store: rados.store };
}
