import { recordEncoder } from '../codec.js';
import type { BlockRecord } from '../meta/block-table.js';
import { type BodyRecord, bodyIntact } from '../meta/bodies.js';
import { BLOCK_REFERENCES, BLOCKS_STORED, type CounterRecord } from '../meta/counter-table.js';
import { bucketIdOf } from '../meta/keys.js';
import { isRemoteKv, type KvEnv, type KvTable } from '../meta/kv.js';
import { scanTable } from '../meta/scan.js';
import type { ObjectRecord } from '../meta/store.js';
import type { FsckReport } from './report.js';

/**
 * The record recount of one shard (Garage's recalculate_rc), written once over the metadata
 * seam (engine/meta/kv.ts): an embedded shard's LMDB environment and a cluster partition's
 * PostgreSQL schema are read alike. Only the block listing that follows differs (files on
 * disk, RADOS objects).
 */

/** The tables fsck reads (opened by name, as the metadata tables name them). */
interface RecordTables {
  objects: KvTable<ObjectRecord, Buffer>;
  /** Absent in an embedded store no versioning-aware server has opened. */
  versions: KvTable<ObjectRecord, Buffer> | null;
  parts: KvTable<{ blocks: Array<{ hash: string }> }, Buffer>;
  blocks: KvTable<BlockRecord, string>;
  usage: KvTable<CounterRecord, string>;
  bodies: KvTable<Uint8Array, string>;
  bodyRefs: KvTable<BodyRecord, string>;
}

/** How a shard's records are kept: embedded (one writer) or shared by a cluster's gateways. */
export interface RecordMode {
  /**
   * Cluster mode: block rows at zero references are legitimate (BlockTable.shareBlocks) and
   * usage counters are slotted (`name#slot` rows, CounterTable), their sum the counter.
   */
  cluster: boolean;
}

/** What the block listing checks the blocks it finds against. */
export interface ShardRecords {
  /** Every block key object, version and part records reference, with how often. */
  counted: Map<string, number>;
  /** Cluster mode: block rows at zero references; their objects are neither leaks nor losses. */
  pending: Set<string>;
  /** Counted blocks the blocks table had no row for (refcount mismatches already). */
  rowless: Set<string>;
}

/** Between a counter's name and its slot in a slotted usage table (CounterTable's SLOT_MARK). */
const SLOT_MARK = '#';

/**
 * Recounts one shard's block and body references and its usage counters from its object,
 * version and part records, and reports where the stored counts differ (`shard:` prefixed).
 */
export async function checkRecords(
  env: KvEnv,
  shard: number,
  mode: RecordMode,
  report: FsckReport,
): Promise<ShardRecords> {
  const tables = openRecordTables(env);
  const recount = await recountRecords(env, tables, report);
  report.referencedBlocks += recount.counted.size;
  const rows = await checkBlockRows(env, tables.blocks, shard, mode, recount.counted, report);
  if (mode.cluster) report.pendingBlocks = (report.pendingBlocks ?? 0) + rows.pending.size;
  await checkBodies(env, tables, shard, recount.bodyNames, report);
  await checkCounters(
    env,
    tables.usage,
    shard,
    mode,
    { buckets: recount.buckets, ...rows },
    report,
  );
  return { counted: recount.counted, pending: rows.pending, rowless: rows.rowless };
}

function openRecordTables(env: KvEnv): RecordTables {
  const encoder = { encoder: recordEncoder() };
  return {
    objects: env.openDB({ name: 'objects', keyEncoding: 'binary', ...encoder }),
    versions: versionsTable(env, encoder),
    parts: env.openDB({ name: 'parts', keyEncoding: 'binary', ...encoder }),
    blocks: env.openDB({ name: 'blocks', ...encoder }),
    usage: env.openDB({ name: 'usage', ...encoder }),
    bodies: env.openDB({ name: 'bodies', encoding: 'binary' }),
    bodyRefs: env.openDB({ name: 'body_refs', ...encoder }),
  };
}

/**
 * The shard's `versions` table, or none in an embedded store no versioning-aware server has
 * opened (read-only, lmdb cannot create it, and opening a missing table fails). A cluster
 * store has every table (they are rows of one `kv` table).
 */
function versionsTable(
  env: KvEnv,
  encoder: { encoder: unknown },
): KvTable<ObjectRecord, Buffer> | null {
  if (isRemoteKv(env)) return env.openDB({ name: 'versions', keyEncoding: 'binary', ...encoder });
  try {
    const versions = env.openDB<ObjectRecord, Buffer>({
      name: 'versions',
      keyEncoding: 'binary',
      ...encoder,
    });
    versions.getKeysCount();
    return versions;
  } catch {
    return null;
  }
}

interface Recount {
  counted: Map<string, number>;
  /** Body hash → how many object records name it. */
  bodyNames: Map<string, number>;
  /** Bucket id → its objects and bytes on the shard. */
  buckets: Map<string, CounterRecord>;
}

async function recountRecords(
  env: KvEnv,
  tables: RecordTables,
  report: FsckReport,
): Promise<Recount> {
  const recount: Recount = { counted: new Map(), bodyNames: new Map(), buckets: new Map() };
  const count = (blocks: ReadonlyArray<{ hash: string }>): void => {
    for (const block of blocks) {
      recount.counted.set(block.hash, (recount.counted.get(block.hash) ?? 0) + 1);
    }
  };
  // Noncurrent versions and delete markers hold blocks, bodies and usage like current objects.
  for (const table of [tables.objects, tables.versions]) {
    if (table === null) continue;
    for await (const { key, value } of scanTable(env, table)) {
      report.objects++;
      count(value.blocks);
      if (value.body !== undefined) {
        recount.bodyNames.set(value.body, (recount.bodyNames.get(value.body) ?? 0) + 1);
      }
      const bucketId = bucketIdOf(key);
      const sum = recount.buckets.get(bucketId) ?? { objects: 0, bytes: 0 };
      sum.objects++;
      sum.bytes += value.bytes;
      recount.buckets.set(bucketId, sum);
    }
  }
  for await (const { value } of scanTable(env, tables.parts)) {
    report.parts++;
    count(value.blocks);
  }
  return recount;
}

/** Block totals as the usage table keeps them (`!blocks`, `!refs`). */
interface BlockTotals {
  /** Rows with references (every row, embedded; a cluster's rows at zero are out of it,
   *  BlockTable.decrefAll) and their bytes. */
  stored: CounterRecord;
  /** References and the bytes they name. */
  references: CounterRecord;
}

/**
 * The blocks table against the recount: every row's refs, and a row for every counted block.
 * In cluster mode a row at zero references that nothing counts is pending, not a mismatch.
 * Sums the block totals on the way.
 */
async function checkBlockRows(
  env: KvEnv,
  blocks: KvTable<BlockRecord, string>,
  shard: number,
  mode: RecordMode,
  counted: ReadonlyMap<string, number>,
  report: FsckReport,
): Promise<{ pending: Set<string>; rowless: Set<string>; totals: BlockTotals }> {
  const pending = new Set<string>();
  const rowless = new Set<string>();
  const rows = new Set<string>();
  const totals: BlockTotals = {
    stored: { objects: 0, bytes: 0 },
    references: { objects: 0, bytes: 0 },
  };
  for await (const { key, value } of scanTable(env, blocks)) {
    rows.add(key);
    const refs = counted.get(key);
    if (mode.cluster && value.refs === 0 && refs === undefined) pending.add(key);
    else if (refs !== value.refs) report.refcountMismatches.push(`${shard}:${key}`);
    if (mode.cluster && value.refs === 0) continue;
    totals.stored.objects++;
    totals.stored.bytes += value.bytes;
    totals.references.objects += value.refs;
    totals.references.bytes += value.refs * value.bytes;
  }
  for (const hash of counted.keys()) {
    if (rows.has(hash)) continue;
    rowless.add(hash);
    report.refcountMismatches.push(`${shard}:${hash}`);
  }
  return { pending, rowless, totals };
}

/**
 * The bodies table against the object records: every named body is there, whole (size and
 * CRC32C), counted as often as it is named; every stored or counted body is named.
 */
async function checkBodies(
  env: KvEnv,
  tables: RecordTables,
  shard: number,
  named: ReadonlyMap<string, number>,
  report: FsckReport,
): Promise<void> {
  const refs = new Map<string, BodyRecord>();
  for await (const { key, value } of scanTable(env, tables.bodyRefs)) refs.set(key, value);
  // Checked inside the read that fetched the bytes: only the verdict leaves it.
  const intact = new Set<string>();
  const stored: string[] = [];
  for await (const { key, value } of scanTable(env, tables.bodies)) {
    stored.push(key);
    if (bodyIntact(value, refs.get(key))) intact.add(key);
  }
  for (const [hash, count] of named) {
    if (refs.get(hash)?.refs !== count) report.refcountMismatches.push(`${shard}:body ${hash}`);
    if (!intact.has(hash)) report.damagedBodies.push(`${shard}:${hash}`);
  }
  for (const hash of stored) {
    report.bodies++;
    if (!named.has(hash)) report.unreferencedBodies.push(`${shard}:${hash}`);
  }
  for (const hash of refs.keys()) {
    if (!named.has(hash)) report.refcountMismatches.push(`${shard}:body ${hash}`);
  }
}

/** The O(1) usage counters the shard keeps in its transactions, against a recount. */
async function checkCounters(
  env: KvEnv,
  table: KvTable<CounterRecord, string>,
  shard: number,
  mode: RecordMode,
  recount: { buckets: ReadonlyMap<string, CounterRecord>; totals: BlockTotals },
  report: FsckReport,
): Promise<void> {
  const usage = await countersOf(env, table, mode);
  const same = (a: CounterRecord | undefined, b: CounterRecord | undefined): boolean =>
    (a?.objects ?? 0) === (b?.objects ?? 0) && (a?.bytes ?? 0) === (b?.bytes ?? 0);
  for (const [name, value] of usage) {
    if (name.startsWith('!')) continue;
    if (!same(value, recount.buckets.get(name))) {
      report.counterMismatches.push(`${shard}:bucket ${name}`);
    }
  }
  for (const [bucketId, sum] of recount.buckets) {
    if (!same(usage.get(bucketId), sum)) {
      report.counterMismatches.push(`${shard}:bucket ${bucketId}`);
    }
  }
  // An embedded store from before the block totals has none; a slotted one always has them
  // (a total whose slots all went back to zero has no rows).
  if (!mode.cluster && !usage.has(BLOCKS_STORED)) return;
  if (!same(usage.get(BLOCKS_STORED), recount.totals.stored)) {
    report.counterMismatches.push(`${shard}:blocks stored`);
  }
  if (!same(usage.get(BLOCK_REFERENCES), recount.totals.references)) {
    report.counterMismatches.push(`${shard}:block references`);
  }
}

/** The usage table's counters by name: a row each, or in cluster mode the sum of its slots. */
async function countersOf(
  env: KvEnv,
  usage: KvTable<CounterRecord, string>,
  mode: RecordMode,
): Promise<Map<string, CounterRecord>> {
  const counters = new Map<string, CounterRecord>();
  for await (const { key, value } of scanTable(env, usage)) {
    const name = mode.cluster ? counterNameOf(key) : key;
    const sum = counters.get(name) ?? { objects: 0, bytes: 0 };
    counters.set(name, { objects: sum.objects + value.objects, bytes: sum.bytes + value.bytes });
  }
  return counters;
}

/** A slotted usage row's counter name (`<name>#<slot>`). */
function counterNameOf(key: string): string {
  const mark = key.lastIndexOf(SLOT_MARK);
  return mark < 0 ? key : key.slice(0, mark);
}
