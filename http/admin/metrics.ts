import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Gauge,
  type Metric,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { shardDir } from '../../engine/layout.js';
import { LIMITS } from '../../engine/limits.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { ShardStats } from '../../engine/protocol/messages.js';
import {
  ENGINE_OP_KINDS,
  FSYNC_BUCKETS_SECONDS,
  FSYNC_KINDS,
  type LatencyHistogram,
} from '../../engine/stats.js';
import type { AccessLogStatus } from '../access-log/metrics.js';

/**
 * Hangar's Prometheus metrics: one registry per process, served in the text exposition format by
 * the admin API's GET /metrics (`metricsText()`).
 *
 * Request metrics are recorded once per S3 request when it ends, by the edge thread that served
 * it (http/edge/request-metrics.ts); each scrape asks every edge thread for its values and sums
 * them (prom-client's AggregatorRegistry, as for a cluster), so the names are those of one registry. Byte counts are approximate: bytes in are the request body bytes hangar read
 * (wire bytes, so aws-chunked framing and signatures count, and a body an error answer did not
 * read does not); bytes out are the response body bytes uWS accepted (headers are not counted, a
 * download cut short counts only the chunks fully handed over). Shard, LMDB, bucket, block and
 * fsync metrics are computed at scrape time: `metricsText()` first asks every shard for its
 * Stats (one message each), then renders them (see `ScrapedMetric`).
 */
export const registry = new Registry();

collectDefaultMetrics({ register: registry });

/** Where the scrape-time gauges read from; null until a server binds them. */
interface MetricsSources {
  readonly dataDir: string;
  readonly shards: readonly ShardClient[];
  readonly catalog: Catalog;
  /** Every edge thread's request metrics and shard load, asked for at each scrape. */
  readonly edges: () => Promise<EdgeScrape[]>;
}

/** What one edge thread reports at a scrape. */
export interface EdgeScrape {
  readonly metrics: Array<MetricObjectWithValues<MetricValue<string>>>;
  /** Per shard, in shard order: the thread's requests open on it and messages posted to it. */
  readonly shards: ReadonlyArray<{ readonly inFlight: number; readonly posted: number }>;
  /** The thread's access log delivery (null: access logging is off in this process). */
  readonly accessLog: AccessLogStatus | null;
}

let edgeScrapes: EdgeScrape[] = [];

/** A shard's count (requests open on it, messages posted to it) summed over the edge threads. */
function edgeTotal(shardId: number, field: 'inFlight' | 'posted'): number {
  let total = 0;
  for (const edge of edgeScrapes) total += edge.shards[shardId]?.[field] ?? 0;
  return total;
}

let sources: MetricsSources | null = null;

new Gauge({
  name: 'hangar_shard_inflight_requests',
  help: 'Requests the HTTP threads have open on each shard actor',
  labelNames: ['shard'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const shard of sources?.shards ?? []) {
      this.set(
        { shard: String(shard.shardId) },
        shard.inFlight + edgeTotal(shard.shardId, 'inFlight'),
      );
    }
  },
});

new Gauge({
  name: 'hangar_lmdb_size_bytes',
  help: "Size of each shard's LMDB metadata file (shards/NNN/meta/data.mdb)",
  labelNames: ['shard'] as const,
  registers: [registry],
  collect() {
    this.reset();
    if (sources === null) return;
    for (const shard of sources.shards) {
      const file = join(shardDir(sources.dataDir, shard.shardId), 'meta', 'data.mdb');
      try {
        this.set({ shard: String(shard.shardId) }, statSync(file).size);
      } catch {
        // Not created yet (or unreadable): the shard has no sample rather than a wrong one.
      }
    }
  },
});

new Gauge({
  name: 'hangar_buckets',
  help: 'Buckets in the catalog',
  registers: [registry],
  collect() {
    this.set(sources === null ? 0 : sources.catalog.listBuckets().length);
  },
});

// ---- shard-reported metrics, read once per scrape ----

/** Each shard's Stats from this scrape, and the messages posted to it when they arrived. */
let scraped: Array<{ shard: number; stats: ShardStats; posted: number }> = [];

async function scrapeShards(): Promise<void> {
  const shards = sources?.shards ?? [];
  const answers = await Promise.all(
    shards.map(async (client) => {
      const result = await client.callWithin(
        { kind: 'Stats' },
        'Stats',
        LIMITS.metricsStatsTimeoutMs,
      );
      if (result === null) return null;
      const posted = client.messagesPosted + edgeTotal(client.shardId, 'posted');
      return { shard: client.shardId, stats: result.stats, posted };
    }),
  );
  scraped = answers.filter((a) => a !== null);
  allShardsAnswered = scraped.length === shards.length;
}

/** Whether every shard answered this scrape: sums over shards are only exported then. */
let allShardsAnswered = false;

interface Sample {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

/**
 * A metric whose samples are computed from the scraped shard Stats: prom-client's own classes
 * keep their values in this thread, while these live in the shard threads (their counters
 * are cumulative there, so a `counter` here is monotonic like any other).
 */
class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly samples: () => Sample[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.samples(),
      aggregator: this.aggregator,
    };
  }

  reset(): void {}
}

function perShard(value: (stats: ShardStats, posted: number) => number): () => Sample[] {
  return () =>
    scraped.map(({ shard, stats, posted }) => ({
      labels: { shard: String(shard) },
      value: value(stats, posted),
    }));
}

/** Objects or bytes per bucket, summed over the shards, labelled with the bucket's name. */
function perBucket(field: 'objects' | 'bytes'): () => Sample[] {
  return () => {
    // A partial sum would read as objects vanishing: no sample beats a wrong one.
    if (!allShardsAnswered) return [];
    const totals = new Map<string, number>();
    for (const { stats } of scraped) {
      for (const bucket of stats.buckets) {
        totals.set(bucket.bucketId, (totals.get(bucket.bucketId) ?? 0) + bucket[field]);
      }
    }
    return (sources?.catalog.listBuckets() ?? []).map((bucket) => ({
      labels: { bucket: bucket.name, bucket_id: bucket.id },
      value: totals.get(bucket.id) ?? 0,
    }));
  };
}

new ScrapedMetric('hangar_bucket_objects', 'Objects in each bucket', 'gauge', perBucket('objects'));
new ScrapedMetric(
  'hangar_bucket_bytes',
  'Bytes of the objects in each bucket',
  'gauge',
  perBucket('bytes'),
);
new ScrapedMetric(
  'hangar_blocks_stored',
  'Distinct blocks each shard references (content-addressed block files)',
  'gauge',
  perShard((s) => s.blocks.stored),
);
new ScrapedMetric(
  'hangar_blocks_stored_bytes',
  'Bytes of the distinct blocks each shard references',
  'gauge',
  perShard((s) => s.blocks.storedBytes),
);
new ScrapedMetric(
  'hangar_block_references',
  'References to blocks from objects and parts (references beyond one per block are deduplicated)',
  'gauge',
  perShard((s) => s.blocks.references),
);
new ScrapedMetric(
  'hangar_blocks_deduplicated_total',
  'Block writes that stored nothing new: the shard, or a sibling by hard link, already held the bytes',
  'counter',
  perShard((s) => s.blocksDeduplicated),
);
new ScrapedMetric(
  'hangar_blocks_compressed_total',
  'Block files stored zstd-compressed (block_compression = "zstd"), since start',
  'counter',
  perShard((s) => s.compression.compressedBlocks),
);
new ScrapedMetric(
  'hangar_blocks_compressed_logical_bytes_total',
  'Bytes of the blocks stored compressed, uncompressed (what clients wrote)',
  'counter',
  perShard((s) => s.compression.compressedLogicalBytes),
);
new ScrapedMetric(
  'hangar_blocks_compressed_physical_bytes_total',
  'Bytes of the compressed block files on disk (zstd frames)',
  'counter',
  perShard((s) => s.compression.compressedPhysicalBytes),
);
new ScrapedMetric(
  'hangar_block_compression_saved_bytes_total',
  'Disk bytes compression saved: logical minus physical bytes of the blocks stored compressed',
  'counter',
  perShard((s) => s.compression.compressedLogicalBytes - s.compression.compressedPhysicalBytes),
);
new ScrapedMetric(
  'hangar_blocks_incompressible_total',
  'Blocks a compressing store kept plain because zstd saved too little (random or compressed data)',
  'counter',
  perShard((s) => s.compression.incompressibleBlocks),
);
new ScrapedMetric(
  'hangar_blocks_incompressible_bytes_total',
  'Bytes of the blocks kept plain as incompressible',
  'counter',
  perShard((s) => s.compression.incompressibleBytes),
);
new ScrapedMetric(
  'hangar_blocks_orphaned_removed_total',
  'Orphaned (unreferenced) block files removed, by the start-up sweep and the orphan cleanup worker',
  'counter',
  perShard((s) => s.orphansRemoved),
);
new ScrapedMetric(
  'hangar_block_errors',
  'Blocks found corrupt or missing (scrub, retries) and not yet healed or purged',
  'gauge',
  perShard((s) => s.blockErrors),
);
new ScrapedMetric(
  'hangar_shard_busy_seconds_total',
  "Seconds each shard actor's thread spent working (event-loop utilization)",
  'counter',
  perShard((s) => s.busySeconds),
);
new ScrapedMetric(
  'hangar_shard_mailbox_depth',
  "Messages posted to each shard's mailbox and not yet taken by it when the shard answered the scrape",
  'gauge',
  perShard((s, posted) => Math.max(0, posted - s.messagesHandled)),
);
new ScrapedMetric(
  'hangar_shard_messages_total',
  'Messages each shard actor took from its mailbox (requests and their follow-ups: body chunks, credits, cancels)',
  'counter',
  perShard((s) => s.messagesHandled),
);
new ScrapedMetric(
  'hangar_shard_open_sessions',
  'Streaming requests (PUT and GET sessions) open in each shard actor',
  'gauge',
  perShard((s) => s.openSessions),
);
new ScrapedMetric(
  'hangar_fsync_duration_seconds',
  'fsync latency by shard and kind (block: a block file; dir: a block directory, shared by concurrent writers; meta: a commit waiting for the LMDB sync)',
  'histogram',
  () =>
    scraped.flatMap(({ shard, stats }) =>
      FSYNC_KINDS.flatMap((kind) =>
        histogramSamples(
          'hangar_fsync_duration_seconds',
          { shard: String(shard), kind },
          stats.fsync[kind],
        ),
      ),
    ),
);
new ScrapedMetric(
  'hangar_engine_duration_seconds',
  'Cluster mode: latency of the engines by shard and operation (pg_transaction: a PostgreSQL metadata transaction, retries and failover waits included; rados_write / rados_read: one block); no samples in embedded mode',
  'histogram',
  () =>
    scraped.flatMap(({ shard, stats }) =>
      ENGINE_OP_KINDS.filter((kind) => stats.engine[kind].count > 0).flatMap((kind) =>
        histogramSamples(
          'hangar_engine_duration_seconds',
          { shard: String(shard), kind },
          stats.engine[kind],
        ),
      ),
    ),
);

/** A latency histogram's Prometheus samples: cumulative buckets, +Inf, sum and count. */
function histogramSamples(
  name: string,
  labels: Record<string, string>,
  histogram: LatencyHistogram,
): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  FSYNC_BUCKETS_SECONDS.forEach((bound, index) => {
    cumulative += histogram.counts[index] ?? 0;
    samples.push({
      labels: { ...labels, le: String(bound) },
      value: cumulative,
      metricName: `${name}_bucket`,
    });
  });
  samples.push(
    { labels: { ...labels, le: '+Inf' }, value: histogram.count, metricName: `${name}_bucket` },
    { labels, value: histogram.sumSeconds, metricName: `${name}_sum` },
    { labels, value: histogram.count, metricName: `${name}_count` },
  );
  return samples;
}

/** Points the scrape-time gauges at a running server's data directory, shards and catalog. */
export function bindMetricsSources(next: MetricsSources | null): void {
  sources = next;
  scraped = [];
  edgeScrapes = [];
}

/** The Content-Type of `metricsText()`'s body. */
export const metricsContentType: string = registry.contentType;

/** Every metric in the Prometheus text exposition format. */
export async function metricsText(): Promise<string> {
  // Edge threads first: a shard's mailbox depth counts the messages they posted before its Stats.
  edgeScrapes = (await sources?.edges()) ?? [];
  await scrapeShards();
  const requests = AggregatorRegistry.aggregate(edgeScrapes.map((edge) => edge.metrics));
  return (await registry.metrics()) + (await requests.metrics());
}
