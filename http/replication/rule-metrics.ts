import { Counter, Gauge, Histogram } from 'prom-client';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { PendingByRule, ReplicationEntry } from '../../engine/protocol/messages.js';
import { registry } from '../admin/metrics.js';
import type { StoredReplicationRule } from '../s3/replication-config.js';
import { ruleOfEntry } from './destination.js';

/**
 * Per-rule replication metrics, AWS's four (OperationsPendingReplication, BytesPendingReplication,
 * ReplicationLatency, OperationsFailedReplication), on /metrics for the rules whose Destination
 * has Metrics Enabled (the others cost no series: labels are bounded by configured rules). The
 * pending figures are the shards' own counts of their queue rows (ReadReplication's byRule),
 * exact across restarts; latency and failures are counted as the worker settles rows.
 */

const LABELS = ['bucket', 'rule'] as const;

let active: RuleMetrics | null = null;

const pendingOperations = new Gauge({
  name: 'hangar_replication_rule_pending_operations',
  help: 'Replication operations queued for a rule with Metrics Enabled (OperationsPendingReplication)',
  labelNames: LABELS,
  registers: [registry],
  collect() {
    active?.collectPending();
  },
});
const pendingBytes = new Gauge({
  name: 'hangar_replication_rule_pending_bytes',
  help: 'Object bytes queued for a rule with Metrics Enabled (BytesPendingReplication)',
  labelNames: LABELS,
  registers: [registry],
});
const latency = new Histogram({
  name: 'hangar_replication_rule_latency_seconds',
  help: 'Time from a change to its arrival at the destination, per rule with Metrics Enabled (ReplicationLatency)',
  labelNames: LABELS,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 86_400],
  registers: [registry],
});
const failedOperations = new Counter({
  name: 'hangar_replication_rule_operations_failed_total',
  help: 'Replication operations settled FAILED, per rule with Metrics Enabled (OperationsFailedReplication)',
  labelNames: LABELS,
  registers: [registry],
});

/** Whether a rule asks for replication metrics (S3 RTC needs them Enabled too). */
export function hasMetrics(rule: StoredReplicationRule | undefined): boolean {
  return rule?.destination.metrics?.status === 'Enabled';
}

export class RuleMetrics {
  /** Each shard's last report. */
  private readonly byShard: PendingByRule[][];
  /** Series shown once: a rule whose queue drained reads 0, not nothing. */
  private readonly shown = new Map<string, Shown>();

  constructor(
    private readonly catalog: Catalog,
    shards: number,
  ) {
    this.byShard = Array.from({ length: shards }, () => []);
    active = this;
  }

  /** A shard's ReadReplication answer. */
  notePending(shardId: number, byRule: readonly PendingByRule[] | undefined): void {
    this.byShard[shardId] = [...(byRule ?? [])];
  }

  replicated(entry: ReplicationEntry, nowMs: number): void {
    if (!hasMetrics(ruleOfEntry(this.catalog, entry))) return;
    latency.observe(labelsOf(entry), Math.max(0, nowMs - entry.createdMs) / 1000);
  }

  failed(entry: ReplicationEntry): void {
    if (!hasMetrics(ruleOfEntry(this.catalog, entry))) return;
    failedOperations.inc(labelsOf(entry));
  }

  stop(): void {
    if (active === this) active = null;
  }

  /** Sets the pending gauges from the shards' last reports (at each scrape). */
  collectPending(): void {
    const sums = new Map<
      string,
      { labels: { bucket: string; rule: string }; ops: number; bytes: number }
    >();
    for (const reports of this.byShard) {
      for (const report of reports) {
        if (!hasMetrics(ruleOfEntry(this.catalog, report))) continue;
        const labels = labelsOf(report);
        const name = `${report.bucketId}\0${report.ruleId}`;
        const sum = sums.get(name) ?? { labels, ops: 0, bytes: 0 };
        sum.ops += report.operations;
        sum.bytes += report.bytes;
        sums.set(name, sum);
        this.shown.set(name, { report, labels });
      }
    }
    for (const [name, { report, labels }] of this.shown) {
      const sum = sums.get(name);
      if (sum === undefined && !hasMetrics(ruleOfEntry(this.catalog, report))) {
        // The rule is gone or its Metrics were turned off: its series go too.
        this.shown.delete(name);
        pendingOperations.remove(labels);
        pendingBytes.remove(labels);
        continue;
      }
      pendingOperations.set(labels, sum?.ops ?? 0);
      pendingBytes.set(labels, sum?.bytes ?? 0);
    }
  }
}

interface Shown {
  report: PendingByRule;
  labels: { bucket: string; rule: string };
}

function labelsOf(entry: { bucketName: string; ruleId: string }): { bucket: string; rule: string } {
  return { bucket: entry.bucketName, rule: entry.ruleId };
}
