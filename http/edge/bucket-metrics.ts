// Runs in an edge thread: the request metrics of bucket metrics configurations
// (PutBucketMetricsConfiguration), in the thread's request registry, summed across edge threads
// at each scrape like every request metric (http/admin/metrics.ts).
import { Counter } from 'prom-client';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { fetchObjectTags, objectFactsOf, objectReadsAreRemote } from '../access/object-facts.js';
import { filterMatches } from '../s3/config-filter.js';
import type { ServerState } from '../s3/context.js';
import type { IdConfigs } from '../s3/id-configs.js';
import type { StoredMetrics } from '../s3/metrics-config.js';
import { requestRegistry } from './request-metrics.js';

const requests = new Counter({
  name: 'hangar_s3_bucket_filter_requests_total',
  help: 'Requests matching a bucket metrics configuration (PutBucketMetricsConfiguration), by bucket, configuration id and HTTP method',
  labelNames: ['bucket', 'filter_id', 'method'] as const,
  registers: [requestRegistry],
});

const errors = new Counter({
  name: 'hangar_s3_bucket_filter_errors_total',
  help: 'Requests matching a bucket metrics configuration that were answered 4xx or 5xx, by class',
  labelNames: ['bucket', 'filter_id', 'class'] as const,
  registers: [requestRegistry],
});

const bytes = new Counter({
  name: 'hangar_s3_bucket_filter_bytes_total',
  help: 'Body bytes of requests matching a bucket metrics configuration, by direction (downloaded: sent to clients; uploaded: read from them)',
  labelNames: ['bucket', 'filter_id', 'direction'] as const,
  registers: [requestRegistry],
});

export interface FilteredRequest {
  readonly bucket: BucketRecord;
  /** The object key the request named (null: a bucket-level request). */
  readonly key: string | null;
  readonly method: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * Counts a finished request under each of its bucket's metrics configurations whose filter it
 * matches. A bucket without any costs one lookup in the thread's configuration cache; the
 * object's tags are read (one local LMDB read) only when a configuration filters by tag and the
 * prefix did not already rule the request out. Tags are the object's as the request leaves it.
 */
export function countFilteredRequest(state: ServerState, request: FilteredRequest): void {
  const configs = state.catalog.getBucketConfig<IdConfigs<StoredMetrics>>(
    request.bucket,
    'metrics',
  )?.configs;
  if (configs === undefined) return;
  // Cluster mode: the tags are a PostgreSQL read away. Read them first (configurations are rare,
  // and those without a tag filter then cost that read too), count when they are known.
  if (request.key !== null && objectReadsAreRemote(state)) {
    void fetchObjectTags(state, request.bucket, request.key).then(
      (tags) => countMatching(request, configs, () => tags),
      (error: unknown) =>
        state.logger.warn({ err: error }, 'bucket metrics: the object tags could not be read'),
    );
    return;
  }
  let tags: ReadonlyMap<string, string> | undefined | null = null;
  const tagsOf = (): ReadonlyMap<string, string> | undefined => {
    if (tags === null && request.key !== null) {
      tags = objectFactsOf(state, request.bucket, request.key, undefined).tags();
    }
    return tags ?? undefined;
  };
  countMatching(request, configs, tagsOf);
}

function countMatching(
  request: FilteredRequest,
  configs: readonly StoredMetrics[],
  tagsOf: () => ReadonlyMap<string, string> | undefined,
): void {
  for (const config of configs) {
    if (!filterMatches(config.filter, request.key, tagsOf)) continue;
    count(request, { bucket: request.bucket.name, filter_id: config.id });
  }
}

function count(request: FilteredRequest, labels: { bucket: string; filter_id: string }): void {
  requests.inc({ ...labels, method: request.method });
  if (request.status >= 400) {
    errors.inc({ ...labels, class: request.status >= 500 ? '5xx' : '4xx' });
  }
  if (request.bytesOut > 0) bytes.inc({ ...labels, direction: 'downloaded' }, request.bytesOut);
  if (request.bytesIn > 0) bytes.inc({ ...labels, direction: 'uploaded' }, request.bytesIn);
}
