/** Shard health: stats, scrub, orphan cleanup, block errors and operator repairs. Part of the
 *  one protocol (../messages.ts). */

import type {
  CompressionCounters,
  EngineOpKind,
  FsyncKind,
  LatencyHistogram,
} from '../../stats.js';

/** Block totals of one shard (O(1): kept by every transaction that moves a reference). */
export interface BlockTotals {
  /** Distinct blocks referenced, and their bytes (what the shard's block names hold). */
  stored: number;
  storedBytes: number;
  /** References from objects and parts; references beyond the first are deduplicated. */
  references: number;
  referencedBytes: number;
}

/** What a shard reports about itself (admin API, /metrics). */
export interface ShardStats {
  /** Every bucket with objects on the shard. */
  buckets: Array<{ bucketId: string; objects: number; bytes: number }>;
  blocks: BlockTotals;
  /** Blocks with a recorded error (ListBlockErrors). */
  blockErrors: number;
  /** Writes of a block the shard (or a sibling, by hard link) already held, since start. */
  blocksDeduplicated: number;
  /** Unreferenced block files removed since start (start-up sweep, orphan cleanup). */
  orphansRemoved: number;
  /** Block files stored compressed or kept plain as incompressible, since start. */
  compression: CompressionCounters;
  fsync: Record<FsyncKind, LatencyHistogram>;
  /** Cluster mode: PostgreSQL transaction and RADOS read/write latencies (else all zero). */
  engine: Record<EngineOpKind, LatencyHistogram>;
  /** Seconds the shard's thread spent working (event-loop utilization), since start. */
  busySeconds: number;
  /** Messages the shard has taken from its mailbox since start. */
  messagesHandled: number;
  /** Streaming requests (PUT and GET sessions) open on the shard now. */
  openSessions: number;
}

/** A block error as the shard reports it (with the block's live reference count). */
export interface BlockErrorInfo {
  hash: string;
  refs: number;
  kind: 'corrupt' | 'missing';
  message: string;
  errorCount: number;
  firstErrorMs: number;
  lastTryMs: number;
}

/** Who references a block. */
export type BlockBacklink =
  | { kind: 'object'; bucketId: string; key: string }
  | { kind: 'upload'; bucketId: string; key: string; uploadId: string; partNumber: number };

/** The shard-health family of ShardRequest. */
export type BlockRequest =
  | { kind: 'Stats'; reqId: number }
  /**
   * Scrub: re-reads at most `limit` referenced blocks (or `maxBytes`) after `after` in hash
   * order ('' = from the first) and checks each file's size and hash; a corrupt file is
   * quarantined, and corrupt or missing blocks get a block error.
   */
  | { kind: 'ScrubBlocks'; reqId: number; after: string; limit: number; maxBytes: number }
  /** Orphan cleanup of one fan-out directory (0..255): removes unreferenced, unused blocks. */
  | { kind: 'SweepOrphans'; reqId: number; fanout: number }
  | { kind: 'ListBlockErrors'; reqId: number }
  | { kind: 'GetBlockInfo'; reqId: number; hash: string; limit: number }
  /** Checks blocks with errors again now (null: every one); a block found whole is cleared. */
  | { kind: 'RetryBlocks'; reqId: number; hashes: string[] | null }
  /** Deletes every object and upload referencing one of the blocks. */
  | { kind: 'PurgeBlocks'; reqId: number; hashes: string[] }
  /**
   * Moves a version's blocks to another tier (engine/shard/tier-requests.ts); versionId absent:
   * the current object ('null': the null version). Answered once blocks and record are durable.
   */
  | {
      kind: 'MoveVersionTier';
      reqId: number;
      bucketId: string;
      key: string;
      versionId?: string;
      tier: string;
    }
  /** Moves up to `limit` blocks off read-only data directories (the drain worker). */
  | { kind: 'DrainBlocks'; reqId: number; limit: number }
  /**
   * Cluster mode, the elected leader only: one pass of the partition's block GC (rows at zero
   * references past the grace at `nowMs` marked dying, their RADOS objects deleted, the rows
   * deleted; engine/shard/block-gc.ts). Refused by an embedded shard.
   */
  | { kind: 'CollectBlocks'; reqId: number; nowMs: number }
  /** Cluster mode, the elected leader only: one orphan sweep pass of the partition's namespace. */
  | { kind: 'SweepOrphanBlocks'; reqId: number; nowMs: number };

/** The shard-health family of ShardResult. */
export type BlockResult =
  | { kind: 'Stats'; stats: ShardStats }
  /** `next`: the hash to resume after, or null when the scrub reached the last block. */
  | {
      kind: 'Scrubbed';
      checked: number;
      bytes: number;
      corrupt: string[];
      missing: string[];
      next: string | null;
    }
  | { kind: 'Swept'; removed: number; bytes: number }
  | { kind: 'BlockErrors'; errors: BlockErrorInfo[] }
  | {
      kind: 'BlockInfo';
      hash: string;
      refs: number;
      bytes: number | null;
      onDisk: boolean;
      error: BlockErrorInfo | null;
      backlinks: BlockBacklink[];
    }
  | { kind: 'Retried'; checked: number; fixed: number }
  | { kind: 'BlocksPurged'; objects: number; uploads: number; blocks: number }
  /** moved: false when the version was already in the tier (nothing done). */
  | { kind: 'TierMoved'; moved: boolean; tier: string; blocks: number }
  /** moved: blocks relocated this time; remaining: block files still on read-only dirs. */
  | { kind: 'Drained'; moved: number; remaining: number; skipped: number }
  | { kind: 'BlocksCollected'; dying: number; removed: number; rowsDeleted: number }
  | { kind: 'OrphanBlocksSwept'; looked: number; removed: number; strays: number };
