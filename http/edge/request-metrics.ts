// Runs in an edge thread: the metrics of the requests this thread serves. The main thread asks
// every edge thread for them at each scrape and merges them (http/admin/metrics.ts).
import { Counter, Histogram, Registry } from 'prom-client';

/** This thread's request metrics (each edge thread has its own module instance). */
export const requestRegistry = new Registry();

let edgeLabel = '0';

/** Names this thread in `hangar_edge_requests_total`. */
export function setEdgeIndex(index: number): void {
  edgeLabel = String(index);
}

const requestsTotal = new Counter({
  name: 'hangar_s3_requests_total',
  help: 'S3 requests served, by operation and HTTP status (0: the connection ended without a response)',
  labelNames: ['operation', 'status'] as const,
  registers: [requestRegistry],
});

const requestDuration = new Histogram({
  name: 'hangar_s3_request_duration_seconds',
  help: 'S3 request duration from acceptance to the end of the response, by operation',
  labelNames: ['operation'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [requestRegistry],
});

const bytesInTotal = new Counter({
  name: 'hangar_s3_bytes_in_total',
  help: 'Request body bytes read from S3 clients (approximate: wire bytes of the bodies read)',
  registers: [requestRegistry],
});

const bytesOutTotal = new Counter({
  name: 'hangar_s3_bytes_out_total',
  help: 'Response body bytes sent to S3 clients (approximate: headers not counted)',
  registers: [requestRegistry],
});

const edgeRequestsTotal = new Counter({
  name: 'hangar_edge_requests_total',
  help: 'Requests (S3 and website ports) each edge thread accepted: how the kernel spread them',
  labelNames: ['edge'] as const,
  registers: [requestRegistry],
});

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

/** Counts one request this thread accepted, before any check. */
export function countEdgeRequest(): void {
  edgeRequestsTotal.inc({ edge: edgeLabel });
}
