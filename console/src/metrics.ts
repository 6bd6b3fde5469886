// Reads the Prometheus text hangar's /metrics serves: request totals by status, the duration
// histogram, bytes in and out. Two scrapes a known time apart give rates; the histogram's
// buckets give latency percentiles (the upper bound of the bucket where the rank falls).

export interface Scrape {
  readonly atMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Cumulative counts by `le` upper bound (seconds), summed over operations. */
  readonly durationBuckets: ReadonlyMap<number, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/;

export function parseScrape(text: string, atMs: number): Scrape {
  let requests = 0;
  let errors = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  const durationBuckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const [, name, , labels = '', raw] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    if (name === 'hangar_s3_requests_total') {
      requests += value;
      const status = /status="(\d+)"/.exec(labels)?.[1] ?? '200';
      // 4xx and 5xx both (CloudWatch's 4xxErrors + 5xxErrors); 0: the connection failed.
      if (Number(status) >= 400 || status === '0') errors += value;
    } else if (name === 'hangar_s3_bytes_in_total') bytesIn += value;
    else if (name === 'hangar_s3_bytes_out_total') bytesOut += value;
    else if (name === 'hangar_s3_request_duration_seconds_bucket') {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      durationBuckets.set(bound, (durationBuckets.get(bound) ?? 0) + value);
    }
  }
  return { atMs, requests, errors, bytesIn, bytesOut, durationBuckets };
}

export interface Rates {
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly bytesInPerSecond: number;
  readonly bytesOutPerSecond: number;
  /** Seconds; null when no request finished between the scrapes. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export function ratesBetween(before: Scrape, after: Scrape): Rates {
  const seconds = Math.max(0.001, (after.atMs - before.atMs) / 1000);
  const per = (a: number, b: number) => Math.max(0, b - a) / seconds;
  const bounds = [...after.durationBuckets.keys()].sort((a, b) => a - b);
  const counts = bounds.map(
    (bound) => (after.durationBuckets.get(bound) ?? 0) - (before.durationBuckets.get(bound) ?? 0),
  );
  const total = counts[counts.length - 1] ?? 0;
  const quantile = (q: number): number | null => {
    if (total <= 0) return null;
    const index = counts.findIndex((count) => count >= q * total);
    const bound = bounds[index];
    return bound === undefined || !Number.isFinite(bound) ? null : bound;
  };
  return {
    requestsPerSecond: per(before.requests, after.requests),
    errorsPerSecond: per(before.errors, after.errors),
    bytesInPerSecond: per(before.bytesIn, after.bytesIn),
    bytesOutPerSecond: per(before.bytesOut, after.bytesOut),
    p50: quantile(0.5),
    p95: quantile(0.95),
    p99: quantile(0.99),
  };
}
