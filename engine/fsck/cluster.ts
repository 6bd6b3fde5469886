import { pino } from 'pino';
import { isBlockHash } from '../blocks/block-names.js';
import { isRadosCode, RadosCluster, type RadosIoCtx } from '../blocks/rados/librados.js';
import {
  BlockNotFoundError,
  CorruptRadosBlockError,
  RadosBlockStore,
} from '../blocks/rados/rados-block-store.js';
import type { ClusterConfig } from '../cluster/config.js';
import { pgKvOptionsOf } from '../cluster/pg-options.js';
import { ClusterRuntime } from '../cluster/runtime.js';
import type { ClusterShardSettings } from '../cluster/shard-settings.js';
import { recordEncoder } from '../codec.js';
import { LIMITS } from '../limits.js';
import type { BlockRecord } from '../meta/block-table.js';
import { PgKvEnv } from '../meta/pg-kv/env.js';
import { checkRecords, type ShardRecords } from './records.js';
import { emptyReport, type FsckReport } from './report.js';

export interface ClusterFsckOptions {
  /** Read every RADOS object and check its SHA-256 against its name. */
  verify?: boolean;
}

/**
 * `hangar fsck` of a cluster (issue 19): every partition's records in its PostgreSQL schema,
 * recounted as an embedded shard's are (records.ts), against the block objects in its RADOS
 * namespace. Read-only, and safe beside running gateways; on a cluster being written, what
 * changed between the metadata scan and the RADOS listing is looked at again before it is
 * reported as missing or unreferenced (refcounts and counters may still show writes in flight:
 * run it on a quiet cluster for an exact answer, as the embedded fsck on a stopped server).
 */
export async function fsckCluster(
  config: ClusterConfig,
  options: ClusterFsckOptions = {},
): Promise<FsckReport> {
  const runtime = await ClusterRuntime.observe(config, pino({ level: 'silent' }));
  try {
    const report = emptyReport(runtime.partitions);
    report.pendingBlocks = 0;
    const partitions = runtime.allShardSettings();
    if (partitions.length === 0) return report;
    const rados = await RadosCluster.connect({ confPath: runtime.layout.blockPool.cephConf });
    try {
      for (const [partition, settings] of partitions.entries()) {
        await checkPartition(rados, partition, settings, options.verify === true, report);
      }
    } finally {
      await rados.shutdown();
    }
    return report;
  } finally {
    await runtime.stop();
  }
}

async function checkPartition(
  rados: RadosCluster,
  partition: number,
  settings: ClusterShardSettings,
  verify: boolean,
  report: FsckReport,
): Promise<void> {
  const { pool, namespace } = settings.blocks;
  report.blockDirectories.push(`rados:${pool}/${namespace}`);
  // Opening creates the partition's schema when missing: a no-op on a partition a gateway ran.
  const env = await PgKvEnv.open(
    pgKvOptionsOf(settings.metadata, { applicationName: 'hangar fsck', poolMax: 1 }),
  );
  try {
    const records = await checkRecords(env, partition, { cluster: true }, report);
    const io = await rados.ioctx(pool, namespace);
    const store = RadosBlockStore.over(io);
    try {
      const where = `${partition}:rados:${pool}/${namespace}`;
      const stored = await checkObjects(io, store, { where, verify }, report);
      await reportDifferences(env, partition, records, stored, report);
    } finally {
      await store.close();
    }
  } finally {
    await env.close();
  }
}

/**
 * Every object of the partition's namespace: counted, sized (stat: the report's storedBytes,
 * one round trip each, LIMITS.fsckRadosInFlightMax at once) and, with `verify`, read whole and
 * hashed. Returns the names that were there.
 */
async function checkObjects(
  io: RadosIoCtx,
  store: RadosBlockStore,
  how: { where: string; verify: boolean },
  report: FsckReport,
): Promise<Set<string>> {
  const names = new Set<string>();
  let batch: string[] = [];
  const inspectBatch = async (): Promise<void> => {
    const found = await Promise.all(batch.map((name) => inspect(io, store, name, how.verify)));
    for (const [i, object] of found.entries()) {
      const name = batch[i];
      if (object === null || name === undefined) continue; // deleted since it was listed
      names.add(name);
      report.blockFiles++;
      report.storedBytes += object.bytes;
      if (object.corrupt) report.corruptBlocks.push(`${how.where}:${name}`);
    }
    batch = [];
  };
  for await (const name of store.names()) {
    batch.push(name);
    if (batch.length >= LIMITS.fsckRadosInFlightMax) await inspectBatch();
  }
  await inspectBatch();
  return names;
}

/** One object's size and, with `verify`, whether its bytes hash to its name; null: gone. */
async function inspect(
  io: RadosIoCtx,
  store: RadosBlockStore,
  name: string,
  verify: boolean,
): Promise<{ bytes: number; corrupt: boolean } | null> {
  let bytes: number;
  try {
    bytes = (await io.stat(name)).bytes;
  } catch (error) {
    if (isRadosCode(error, 'ENOENT')) return null;
    throw error;
  }
  // A name that is not a hash is a stray: reported unreferenced, never hashed.
  if (!verify || !isBlockHash(name)) return { bytes, corrupt: false };
  // No block is empty: an empty object under a block's name lost its bytes.
  if (bytes === 0) return { bytes, corrupt: true };
  try {
    await store.read(name, bytes);
    return { bytes, corrupt: false };
  } catch (error) {
    if (error instanceof CorruptRadosBlockError) return { bytes, corrupt: true };
    if (error instanceof BlockNotFoundError) return null;
    throw error;
  }
}

/**
 * Referenced blocks with no object (missing) and objects with no row (unreferenced). A block
 * row at zero references (pending) makes neither. The candidates' rows are read again after
 * the listing: a cluster being written may have claimed a row for an object written since the
 * scan, or dropped the last reference to a block since collected, and neither is a fault.
 */
async function reportDifferences(
  env: PgKvEnv,
  partition: number,
  records: ShardRecords,
  stored: ReadonlySet<string>,
  report: FsckReport,
): Promise<void> {
  const missing = [...records.counted.keys()].filter((hash) => !stored.has(hash));
  const unreferenced = [...stored].filter(
    (name) => !records.counted.has(name) && !records.pending.has(name),
  );
  const rows = await rowsNow(env, [...missing, ...unreferenced.filter(isBlockHash)]);
  for (const hash of missing) {
    // Dropped: a block whose row went to zero references (or was collected) since the scan.
    const stillReferenced = (rows.get(hash)?.refs ?? 0) > 0 || records.rowless.has(hash);
    if (stillReferenced) report.missingBlocks.push(`${partition}:${hash}`);
  }
  for (const name of unreferenced) {
    if (!rows.has(name)) report.unreferencedBlocks.push(`${partition}:${name}`);
  }
}

/** The block rows of `hashes` as they are now (absent: no row), a batch of point reads each. */
async function rowsNow(env: PgKvEnv, hashes: readonly string[]): Promise<Map<string, BlockRecord>> {
  const blocks = env.openDB<BlockRecord, string>({ name: 'blocks', encoder: recordEncoder() });
  const rows = new Map<string, BlockRecord>();
  for (let from = 0; from < hashes.length; from += LIMITS.fsckRecheckRowsMax) {
    const batch = hashes.slice(from, from + LIMITS.fsckRecheckRowsMax);
    const found = await env.read(() => batch.map((hash) => blocks.get(hash)));
    for (const [i, row] of found.entries()) {
      const hash = batch[i];
      if (row !== undefined && hash !== undefined) rows.set(hash, row);
    }
  }
  return rows;
}
