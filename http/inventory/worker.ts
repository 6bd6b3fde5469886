/**
 * The inventory worker (main thread): writes each enabled inventory configuration's report to
 * its destination bucket when due (Daily: 24 h after the last run, Weekly: 7 days), and on
 * demand (admin LaunchRepairOperation "inventory", `hangar repair inventory`).
 *
 * A run is recorded in the catalog before it writes anything (kind 'inventory-runs': the run's
 * time as `pendingMs`) and marked done (`lastMs`) after its manifest is written. A run cut by a
 * crash or a stop is resumed at the next check with the same time: its data file names and
 * manifest key derive from that time, so it rewrites the same objects instead of adding a
 * second report, and no due report is skipped.
 */
import { Counter } from 'prom-client';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { ObjectInfo } from '../../engine/protocol/messages.js';
import { PeriodicJob } from '../../engine/workers/periodic.js';
import type {
  BackgroundWorker,
  SingletonWorker,
  WorkerStatus,
} from '../../engine/workers/worker.js';
import { putLogObject } from '../access-log/delivery.js';
import { registry } from '../admin/metrics.js';
import type { ServerState } from '../s3/context.js';
import { idConfigsOf } from '../s3/id-configs.js';
import type { InventoryConfig } from './config.js';
import { dataFileSink } from './data-files.js';
import {
  manifestOf,
  md5Hex,
  needsInfo,
  reportBase,
  runStamp,
  type VersionEntry,
} from './report.js';
import { rowExtras } from './row-extras.js';
import type { RunRecord, RunRecords } from './runs.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const reportsCounter = new Counter({
  name: 'hangar_inventory_reports_total',
  help: 'Inventory reports (manifests) the inventory worker wrote',
  registers: [registry],
});
const rowsCounter = new Counter({
  name: 'hangar_inventory_rows_total',
  help: 'Rows (object versions) written into inventory reports',
  registers: [registry],
});
const failuresCounter = new Counter({
  name: 'hangar_inventory_report_failures_total',
  help: 'Inventory reports that failed (retried at the next check with the same run time)',
  registers: [registry],
});

export interface InventoryRunResult {
  reports: number;
  rows: number;
}

export class InventoryWorker implements BackgroundWorker, SingletonWorker {
  readonly name = 'Bucket inventory reports';
  private readonly job = new PeriodicJob(LIMITS.inventoryCheckIntervalMs, () => this.runOnce());
  /** The next run reports every enabled configuration, due or not (an operator asked). */
  private forceNext = false;
  private reportsWritten = 0;
  private rowsWritten = 0;

  constructor(private readonly state: ServerState) {}

  start(): void {
    this.job.start({ runNow: true });
  }

  gate(mayRun: () => boolean): void {
    this.job.gate(mayRun);
  }

  wake(): void {
    void this.job.runNow().catch(() => undefined);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Reports every enabled configuration of every bucket now (queued after a run in progress). */
  runNow(): Promise<InventoryRunResult> {
    this.forceNext = true;
    return this.job.runNow();
  }

  status(): WorkerStatus {
    const next = this.job.nextRunLine();
    return {
      ...this.job.statusFields(),
      tranquility: null,
      progress: null,
      freeform: [
        `${this.reportsWritten} reports, ${this.rowsWritten} rows written since start`,
        this.job.lastCompletedLine((last) => `: ${last.reports} reports, ${last.rows} rows`),
        ...(next === null ? [] : [next]),
      ],
    };
  }

  private async runOnce(): Promise<InventoryRunResult> {
    const force = this.forceNext;
    this.forceNext = false;
    const total: InventoryRunResult = { reports: 0, rows: 0 };
    const nowMs = Date.now() + this.state.config.clockOffsetMs;
    let firstError: unknown = null;
    for (const bucket of this.state.catalog.listBuckets()) {
      const configs = idConfigsOf<InventoryConfig>(this.state.catalog, bucket, 'inventory');
      for (const config of configs) {
        if (this.job.stopped) return total;
        if (!config.enabled) continue;
        try {
          const rows = await this.runIfDue(bucket, config, nowMs, force);
          if (rows === null) continue;
          total.reports++;
          total.rows += rows;
          this.reportsWritten++;
          this.rowsWritten += rows;
          reportsCounter.inc();
          rowsCounter.inc(rows);
        } catch (error) {
          // One configuration's failure (a destination gone) does not hold back the others.
          firstError ??= error;
          failuresCounter.inc();
          this.state.logger.warn(
            { err: error, bucket: bucket.name, id: config.id },
            'inventory report failed',
          );
        }
      }
    }
    if (firstError !== null) throw firstError;
    return total;
  }

  /** Writes the report when due (or pending, or forced); its row count, null when not due. */
  private async runIfDue(
    bucket: BucketRecord,
    config: InventoryConfig,
    nowMs: number,
    force: boolean,
  ): Promise<number | null> {
    const record =
      this.state.catalog.getBucketConfig<RunRecords>(bucket.id, 'inventory-runs')?.[config.id] ??
      {};
    const periodMs = config.frequency === 'Daily' ? DAY_MS : 7 * DAY_MS;
    const due = record.lastMs === undefined || nowMs >= record.lastMs + periodMs;
    if (record.pendingMs === undefined && !force && !due) return null;
    const destination = this.state.catalog.getBucket(config.destination.bucket);
    if (destination === undefined) {
      throw new Error(
        `inventory ${config.id}: destination bucket ${config.destination.bucket} does not exist`,
      );
    }
    const runMs = record.pendingMs ?? nowMs;
    await this.recordRun(bucket.id, config.id, { ...record, pendingMs: runMs });
    const rows = await this.writeReport(bucket, config, destination, runMs);
    await this.recordRun(bucket.id, config.id, { lastMs: runMs });
    return rows;
  }

  private async recordRun(bucketId: string, id: string, record: RunRecord): Promise<void> {
    await this.state.catalog.updateBucketConfig<RunRecords>(bucketId, 'inventory-runs', (all) => ({
      ...(all ?? {}),
      [id]: record,
    }));
  }

  /** Lists the source's versions shard by shard into data files, then the manifest. */
  private async writeReport(
    source: BucketRecord,
    config: InventoryConfig,
    destination: BucketRecord,
    runMs: number,
  ): Promise<number> {
    const base = reportBase(config, source.name);
    const sink = dataFileSink({
      config,
      sourceBucket: source.name,
      base,
      runId: `${source.id}/${config.id}/${runMs}`,
      write: (file, contentType) =>
        putLogObject(this.state, destination, file.key, file.body, contentType),
    });
    const extrasOf = rowExtras(this.state, source, config);
    let rows = 0;
    for (const shard of this.state.pool.clients) {
      for await (const entry of this.versionsOf(shard, source.id, config)) {
        const info =
          needsInfo(config) && !entry.deleteMarker ? await infoOf(shard, source.id, entry) : null;
        await sink.add(entry, info, await extrasOf(shard, entry, info));
        rows++;
      }
    }
    const files = await sink.finish();
    const manifest = manifestOf(config, source.name, runMs, files, sink.fileSchema);
    if (manifest.byteLength > LIMITS.chunkBytes) {
      throw new Error(
        `inventory ${config.id}: the manifest outgrew one write (${files.length} files)`,
      );
    }
    const runBase = `${base}${runStamp(runMs)}/`;
    await putLogObject(
      this.state,
      destination,
      `${runBase}manifest.json`,
      manifest,
      'application/json',
    );
    await putLogObject(
      this.state,
      destination,
      `${runBase}manifest.checksum`,
      Buffer.from(md5Hex(manifest)),
    );
    return rows;
  }

  /** One shard's versions under the filter prefix (the current ones only when so configured). */
  private async *versionsOf(
    shard: ShardClient,
    bucketId: string,
    config: InventoryConfig,
  ): AsyncGenerator<VersionEntry> {
    let keyMarker = '';
    let versionIdMarker = '';
    for (;;) {
      if (this.job.stopped) throw new Error('inventory run stopped; resumed after the restart');
      const page = await shard.call(
        {
          kind: 'ListVersions',
          bucketId,
          prefix: config.filterPrefix ?? '',
          delimiter: '',
          keyMarker,
          versionIdMarker,
          limit: LIMITS.inventoryListBatch,
        },
        'VersionsListed',
      );
      for (const entry of page.entries) {
        if (entry.kind !== 'version') continue;
        keyMarker = entry.key;
        versionIdMarker = entry.versionId;
        if (config.includedVersions === 'Current' && (!entry.isLatest || entry.deleteMarker)) {
          continue;
        }
        yield entry;
      }
      if (!page.truncated || page.entries.length === 0) return;
    }
  }
}

/** The version's full record (no body); null when it is gone since the listing. */
async function infoOf(
  shard: ShardClient,
  bucketId: string,
  entry: VersionEntry,
): Promise<ObjectInfo | null> {
  try {
    const opened = await shard.call(
      {
        kind: 'OpenObject',
        bucketId,
        key: entry.key,
        purpose: 'info',
        sse: null,
        ...(entry.isLatest ? {} : { versionId: entry.versionId }),
      },
      'Opened',
    );
    return opened.info;
  } catch {
    return null;
  }
}
