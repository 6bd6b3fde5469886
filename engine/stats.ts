import { performance } from 'node:perf_hooks';

/**
 * What a shard actor counts about itself for the admin API and /metrics: fsync latencies, block
 * deduplication and orphan removal, messages handled and busy time. One instance per module, and
 * every shard actor runs in its own worker thread with its own module instances, so this is the
 * shard's own record; the HTTP thread reads it with a `Stats` request (engine/protocol).
 */

/** Upper bounds (seconds) of the fsync latency histogram buckets; +Inf is implicit. */
export const FSYNC_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;

/** Where a flush happens: a block file, a block directory, the LMDB environment. */
export type FsyncKind = 'block' | 'dir' | 'meta';
export const FSYNC_KINDS: readonly FsyncKind[] = ['block', 'dir', 'meta'];

/** A latency histogram as plain data (it crosses threads in the Stats reply). */
export interface LatencyHistogram {
  /** Count per bucket of FSYNC_BUCKETS_SECONDS (not cumulative), plus one for +Inf. */
  counts: number[];
  count: number;
  sumSeconds: number;
}

/**
 * A cluster engine's operation (issue 19): a PostgreSQL metadata transaction (from its first run
 * to its commit, retries and failover waits included), a RADOS block write or read.
 */
export type EngineOpKind = 'pg_transaction' | 'rados_write' | 'rados_read';
export const ENGINE_OP_KINDS: readonly EngineOpKind[] = [
  'pg_transaction',
  'rados_write',
  'rados_read',
];

function emptyHistogram(): LatencyHistogram {
  return {
    counts: new Array<number>(FSYNC_BUCKETS_SECONDS.length + 1).fill(0),
    count: 0,
    sumSeconds: 0,
  };
}

/** What a shard's block files store compressed, and what zstd could not shrink enough. */
export interface CompressionCounters {
  /** Block files stored zstd-compressed since start, their bytes as blocks and on disk. */
  compressedBlocks: number;
  compressedLogicalBytes: number;
  compressedPhysicalBytes: number;
  /** Blocks a compressing store kept plain: zstd saved too little (random, compressed data). */
  incompressibleBlocks: number;
  incompressibleBytes: number;
}

class ShardCounters {
  readonly fsync: Record<FsyncKind, LatencyHistogram> = {
    block: emptyHistogram(),
    dir: emptyHistogram(),
    meta: emptyHistogram(),
  };
  /** Latency of the cluster engines' operations (all zero in embedded mode). */
  readonly engine: Record<EngineOpKind, LatencyHistogram> = {
    pg_transaction: emptyHistogram(),
    rados_write: emptyHistogram(),
    rados_read: emptyHistogram(),
  };
  /** Blocks a write did not store again because this shard or a sibling already held them. */
  blocksDeduplicated = 0;
  /** Unreferenced block files removed (start-up sweep and orphan cleanup runs). */
  orphansRemoved = 0;
  /** Block files written by a store with compression on (a new file, not a deduplicated one). */
  readonly compression: CompressionCounters = {
    compressedBlocks: 0,
    compressedLogicalBytes: 0,
    compressedPhysicalBytes: 0,
    incompressibleBlocks: 0,
    incompressibleBytes: 0,
  };
  /** Requests and follow-up messages the shard has handled since it started. */
  messagesHandled = 0;

  observeFsync(kind: FsyncKind, seconds: number): void {
    observe(this.fsync[kind], seconds);
  }

  observeEngine(kind: EngineOpKind, seconds: number): void {
    observe(this.engine[kind], seconds);
  }

  /** Times a cluster engine's operation and records it under `kind`. */
  async timeEngine<T>(kind: EngineOpKind, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.observeEngine(kind, (performance.now() - started) / 1000);
    }
  }

  /** Times `work` (an fsync) and records it under `kind`. */
  async timeFsync<T>(kind: FsyncKind, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.observeFsync(kind, (performance.now() - started) / 1000);
    }
  }

  /** Seconds this thread's event loop spent doing work (not idle) since the thread started. */
  busySeconds(): number {
    return performance.eventLoopUtilization().active / 1000;
  }
}

function observe(histogram: LatencyHistogram, seconds: number): void {
  let index = FSYNC_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
  if (index < 0) index = FSYNC_BUCKETS_SECONDS.length;
  histogram.counts[index] = (histogram.counts[index] ?? 0) + 1;
  histogram.count++;
  histogram.sumSeconds += seconds;
}

export const shardCounters = new ShardCounters();
