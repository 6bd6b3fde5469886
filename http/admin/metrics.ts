import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import { shardDir } from '../../engine/shard/shard.js';

/**
 * Hangar's Prometheus metrics: one registry per process, served in the text exposition format by
 * the admin API's GET /metrics (`metricsText()`).
 *
 * Request metrics are recorded once per S3 request when it ends (`recordS3Request`, called from
 * http/server.ts). Byte counts are approximate: bytes in are the request body bytes hangar read
 * (wire bytes, so aws-chunked framing and signatures count, and a body an error answer did not
 * read does not); bytes out are the response body bytes uWS accepted (headers are not counted, a
 * download cut short counts only the chunks fully handed over). Shard, LMDB and bucket gauges are
 * computed at scrape time from the sources given to `bindMetricsSources`.
 */
export const registry = new Registry();

collectDefaultMetrics({ register: registry });

const requestsTotal = new Counter({
  name: 'hangar_s3_requests_total',
  help: 'S3 requests served, by operation and HTTP status (0: the connection ended without a response)',
  labelNames: ['operation', 'status'] as const,
  registers: [registry],
});

const requestDuration = new Histogram({
  name: 'hangar_s3_request_duration_seconds',
  help: 'S3 request duration from acceptance to the end of the response, by operation',
  labelNames: ['operation'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

const bytesInTotal = new Counter({
  name: 'hangar_s3_bytes_in_total',
  help: 'Request body bytes read from S3 clients (approximate: wire bytes of the bodies read)',
  registers: [registry],
});

const bytesOutTotal = new Counter({
  name: 'hangar_s3_bytes_out_total',
  help: 'Response body bytes sent to S3 clients (approximate: headers not counted)',
  registers: [registry],
});

/** Where the scrape-time gauges read from; null until a server binds them. */
interface MetricsSources {
  readonly dataDir: string;
  readonly shards: readonly ShardClient[];
  readonly catalog: Catalog;
}

let sources: MetricsSources | null = null;

new Gauge({
  name: 'hangar_shard_inflight_requests',
  help: 'Requests the HTTP thread has open on each shard actor',
  labelNames: ['shard'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const shard of sources?.shards ?? []) {
      this.set({ shard: String(shard.shardId) }, shard.inFlight);
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

/** Points the scrape-time gauges at a running server's data directory, shards and catalog. */
export function bindMetricsSources(next: MetricsSources | null): void {
  sources = next;
}

export interface S3RequestSample {
  operation: string;
  /** HTTP status sent; 0 when the request ended without a response. */
  status: number;
  durationSeconds: number;
  bytesIn: number;
  bytesOut: number;
}

/** Records one finished S3 request. */
export function recordS3Request(sample: S3RequestSample): void {
  requestsTotal.inc({ operation: sample.operation, status: String(sample.status) });
  requestDuration.observe({ operation: sample.operation }, sample.durationSeconds);
  if (sample.bytesIn > 0) bytesInTotal.inc(sample.bytesIn);
  if (sample.bytesOut > 0) bytesOutTotal.inc(sample.bytesOut);
}

/** The Content-Type of `metricsText()`'s body. */
export const metricsContentType: string = registry.contentType;

/** Every metric in the Prometheus text exposition format. */
export function metricsText(): Promise<string> {
  return registry.metrics();
}
