// Runs in an edge thread: the access log worker's metrics, in the thread's request registry (the
// main thread merges every edge thread's at each scrape, summing gauges and counters).
import { Counter, Gauge } from 'prom-client';
import { requestRegistry } from '../edge/request-metrics.js';

let pendingOf: () => number = () => 0;

/** Names what the pending gauge reads at each scrape (the thread's spool and batch). */
export function measurePending(read: () => number): void {
  pendingOf = read;
}

new Gauge({
  name: 'hangar_access_log_records_pending',
  help: 'Server access log records accepted but not yet delivered as log objects (in memory, spooled or in a batch being delivered)',
  registers: [requestRegistry],
  collect() {
    this.set(pendingOf());
  },
});

const delivered = new Counter({
  name: 'hangar_access_log_records_delivered_total',
  help: 'Server access log records written into log objects in their target buckets',
  registers: [requestRegistry],
});

const objects = new Counter({
  name: 'hangar_access_log_objects_delivered_total',
  help: 'Log objects the access log worker wrote',
  registers: [requestRegistry],
});

const failures = new Counter({
  name: 'hangar_access_log_delivery_failures_total',
  help: 'Access log delivery runs that failed (their batch is retried at the next run)',
  registers: [requestRegistry],
});

const dropped = new Counter({
  name: 'hangar_access_log_records_dropped_total',
  help: 'Server access log records dropped: the spool was full, or the target bucket was gone at delivery',
  registers: [requestRegistry],
});

export function countDelivered(records: number): void {
  objects.inc();
  delivered.inc(records);
}

export function countDeliveryFailure(): void {
  failures.inc();
}

export function countDropped(records: number): void {
  dropped.inc(records);
}

/** One edge thread's access log delivery, as it reports it at each scrape (for ListWorkers). */
export interface AccessLogStatus {
  readonly pendingRecords: number;
  readonly deliveredRecords: number;
  readonly deliveredObjects: number;
  readonly droppedRecords: number;
  /** Failed delivery runs (each batch is retried whole at the next run). */
  readonly errors: number;
  readonly consecutiveErrors: number;
  readonly lastError: { message: string; atMs: number } | null;
}
