import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, type DatabaseOptions, open } from 'lmdb';
import { blockKeyOf } from './blocks/block-key.js';
import { blockOfFileName } from './blocks/block-names.js';
import { checkedContent } from './blocks/compressed.js';
import { recordEncoder } from './codec.js';
import { readLayout, shardDir } from './layout.js';
import { type BodyRecord, bodyIntact } from './meta/bodies.js';
import { bucketIdOf } from './meta/keys.js';
import { META_TABLES_MAX, type ObjectRecord } from './meta/store.js';
import { DEFAULT_TIER, type StorageConfig } from './storage-config.js';

/** What a consistency check of one data directory found. */
export interface FsckReport {
  shards: number;
  objects: number;
  /** Parts of multipart uploads in progress (their blocks are referenced too). */
  parts: number;
  /** Distinct block hashes referenced by object records. */
  referencedBlocks: number;
  blockFiles: number;
  /** Block files stored zstd-compressed (`<hash>.zst`), of blockFiles. */
  compressedBlockFiles: number;
  /** A block with both a plain and a compressed file (a crash mid-install; start-up keeps one). */
  duplicateBlockFiles: string[];
  /** Distinct inodes behind the block files: the bytes dedup actually stores. */
  storedBytes: number;
  /** Referenced by an object but absent on disk: data loss. */
  missingBlocks: string[];
  /** On disk but referenced by no object: leaked space. */
  unreferencedBlocks: string[];
  /** Stored refcount differs from the recount over object records. */
  refcountMismatches: string[];
  /** Usage counters (per-bucket objects and bytes, block totals) that differ from a recount. */
  counterMismatches: string[];
  /** Leftover temp files of interrupted writes. */
  tempFiles: number;
  /** Distinct bodies in the shards' `bodies` tables (medium inline objects). */
  bodies: number;
  /** A body referenced by an object but absent, or whose bytes fail their size or CRC32C. */
  damagedBodies: string[];
  /** A body stored or counted that no object record names: leaked space. */
  unreferencedBodies: string[];
  /** With `verify`: block files whose bytes do not hash to their name (`shard:dir:key`). */
  corruptBlocks: string[];
  /** The block directories looked at: every data directory (`[[data_dirs]]`), or data_dir. */
  blockDirectories: string[];
}

export interface FsckOptions {
  /** config.storage: the data directories and tiers (absent: blocks under data_dir only). */
  storage?: StorageConfig;
  /** Hash every block file against its name (reads every byte; off: existence only). */
  verify?: boolean;
}

/** A data directory holding block files, with the tier whose keys its files name. */
interface BlockDir {
  path: string;
  tier: string;
}

/**
 * Recounts every shard's block references from its object records (Garage's recalculate_rc)
 * and compares them with the stored counts and with the files on disk. Read-only: run it with
 * the server stopped for an exact answer (a running server moves blocks while it looks).
 */
export function fsck(dataDir: string, options: FsckOptions = {}): FsckReport {
  const layout = readLayout(dataDir);
  const report: FsckReport = {
    shards: layout?.shards ?? 0,
    objects: 0,
    parts: 0,
    referencedBlocks: 0,
    blockFiles: 0,
    compressedBlockFiles: 0,
    duplicateBlockFiles: [],
    storedBytes: 0,
    missingBlocks: [],
    unreferencedBlocks: [],
    refcountMismatches: [],
    counterMismatches: [],
    tempFiles: 0,
    bodies: 0,
    damagedBodies: [],
    unreferencedBodies: [],
    corruptBlocks: [],
    blockDirectories: [],
  };
  const dirs: BlockDir[] =
    options.storage !== undefined && options.storage.dataDirs.length > 0
      ? options.storage.dataDirs.map(({ path, tier }) => ({ path, tier }))
      : [{ path: dataDir, tier: DEFAULT_TIER }];
  report.blockDirectories = dirs.map((dir) => dir.path);
  const files: FileCheck = { inodes: new Set(), verify: options.verify === true };
  for (let shard = 0; shard < report.shards; shard++) {
    checkShard(dataDir, shard, report, dirs, files);
  }
  return report;
}

/** What the file checks of every shard share: inodes seen (dedup), and whether to hash. */
interface FileCheck {
  inodes: Set<string>;
  verify: boolean;
}

function checkShard(
  dataDir: string,
  shard: number,
  report: FsckReport,
  dirs: readonly BlockDir[],
  files: FileCheck,
): void {
  const dir = shardDir(dataDir, shard);
  // Read-only: fsck may run beside a live server (tests do); it must never take the write lock.
  const env = open({ path: join(dir, 'meta'), maxDbs: META_TABLES_MAX, readOnly: true });
  try {
    const encoder = { encoder: recordEncoder() } as object;
    const objects = env.openDB<ObjectRecord, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      ...encoder,
    });
    const blocks = env.openDB<{ refs: number; bytes: number }, string>({
      name: 'blocks',
      ...encoder,
    });
    const usage = env.openDB<{ objects: number; bytes: number }, string>({
      name: 'usage',
      ...encoder,
    });
    const parts = env.openDB<{ blocks: Array<{ hash: string }> }, Buffer>({
      name: 'parts',
      keyEncoding: 'binary',
      ...encoder,
    });
    const bodyNames = new Map<string, number>();
    const counted = new Map<string, number>();
    const count = (blocksOf: ReadonlyArray<{ hash: string }>): void => {
      for (const block of blocksOf) counted.set(block.hash, (counted.get(block.hash) ?? 0) + 1);
    };
    const buckets = new Map<string, { objects: number; bytes: number }>();
    // Noncurrent versions and delete markers hold blocks, bodies and usage like current objects.
    for (const table of [objects, ...versionsTable(env, encoder)]) {
      for (const { key, value } of table.getRange({})) {
        report.objects++;
        count(value.blocks);
        if (value.body !== undefined) {
          bodyNames.set(value.body, (bodyNames.get(value.body) ?? 0) + 1);
        }
        const bucketId = bucketIdOf(key);
        const sum = buckets.get(bucketId) ?? { objects: 0, bytes: 0 };
        sum.objects++;
        sum.bytes += value.bytes;
        buckets.set(bucketId, sum);
      }
    }
    for (const { value } of parts.getRange({})) {
      report.parts++;
      count(value.blocks);
    }
    report.referencedBlocks += counted.size;
    for (const { key, value } of blocks.getRange({})) {
      if (counted.get(key) !== value.refs) report.refcountMismatches.push(`${shard}:${key}`);
    }
    for (const hash of counted.keys()) {
      if (blocks.get(hash) === undefined) report.refcountMismatches.push(`${shard}:${hash}`);
    }
    checkBodies(env, shard, bodyNames, report);
    checkCounters(shard, buckets, blocks, usage, report);
    const onDisk = new Set<string>();
    for (const blockDir of dirs) {
      const root = join(shardDir(blockDir.path, shard), 'blocks');
      checkFiles(root, blockDir.tier, shard, counted, report, files, onDisk);
    }
    for (const hash of counted.keys()) {
      if (!onDisk.has(hash)) report.missingBlocks.push(`${shard}:${hash}`);
    }
  } finally {
    void env.close();
  }
}

/**
 * The shard's `versions` table, or none in a store no versioning-aware server has opened
 * (read-only, lmdb cannot create it, and opening a missing table fails).
 */
function versionsTable(
  env: ReturnType<typeof open>,
  encoder: object,
): Array<Database<ObjectRecord, Buffer>> {
  try {
    const versions = env.openDB<ObjectRecord, Buffer>({
      name: 'versions',
      keyEncoding: 'binary',
      ...encoder,
    });
    versions.getKeysCount();
    return [versions];
  } catch {
    return [];
  }
}

/**
 * The bodies table against the object records: every named body is there, whole (size and
 * CRC32C), counted as often as it is named; every stored or counted body is named.
 */
function checkBodies(
  env: ReturnType<typeof open>,
  shard: number,
  named: ReadonlyMap<string, number>,
  report: FsckReport,
): void {
  const bodies = env.openDB<Uint8Array, string>({ name: 'bodies', encoding: 'binary' });
  const refs = env.openDB<BodyRecord, string>({
    name: 'body_refs',
    encoder: recordEncoder(),
  } as DatabaseOptions & { name: string });
  for (const [hash, count] of named) {
    const record = refs.get(hash);
    if (record?.refs !== count) report.refcountMismatches.push(`${shard}:body ${hash}`);
    if (!bodyIntact(bodies.getBinary(hash), record)) report.damagedBodies.push(`${shard}:${hash}`);
  }
  for (const hash of bodies.getKeys({}) as Iterable<string>) {
    report.bodies++;
    if (!named.has(hash)) report.unreferencedBodies.push(`${shard}:${hash}`);
  }
  for (const hash of refs.getKeys({}) as Iterable<string>) {
    if (!named.has(hash)) report.refcountMismatches.push(`${shard}:body ${hash}`);
  }
}

/** The O(1) usage counters the shard keeps in its transactions, against a recount. */
function checkCounters(
  shard: number,
  buckets: ReadonlyMap<string, { objects: number; bytes: number }>,
  blocks: Database<{ refs: number; bytes: number }, string>,
  usage: Database<{ objects: number; bytes: number }, string>,
  report: FsckReport,
): void {
  const same = (a: { objects: number; bytes: number } | undefined, b: typeof a): boolean =>
    (a?.objects ?? 0) === (b?.objects ?? 0) && (a?.bytes ?? 0) === (b?.bytes ?? 0);
  for (const { key, value } of usage.getRange({})) {
    if (key.startsWith('!')) continue;
    if (!same(value, buckets.get(key))) report.counterMismatches.push(`${shard}:bucket ${key}`);
  }
  for (const [bucketId, sum] of buckets) {
    if (!same(usage.get(bucketId), sum))
      report.counterMismatches.push(`${shard}:bucket ${bucketId}`);
  }
  if (usage.get('!blocks') === undefined) return; // a store from before the block totals
  const stored = { objects: 0, bytes: 0 };
  const references = { objects: 0, bytes: 0 };
  for (const { value } of blocks.getRange({})) {
    stored.objects++;
    stored.bytes += value.bytes;
    references.objects += value.refs;
    references.bytes += value.refs * value.bytes;
  }
  if (!same(usage.get('!blocks'), stored)) report.counterMismatches.push(`${shard}:blocks stored`);
  if (!same(usage.get('!refs'), references)) {
    report.counterMismatches.push(`${shard}:block references`);
  }
}

/** One shard's block files in one data directory: counted, deduplicated by inode, hashed. */
function checkFiles(
  root: string,
  tier: string,
  shard: number,
  counted: Map<string, number>,
  report: FsckReport,
  files: FileCheck,
  onDisk: Set<string>,
): void {
  const { inodes } = files;
  for (const fan of safeReaddir(root)) {
    if (fan === 'tmp') {
      report.tempFiles += safeReaddir(join(root, fan)).length;
      continue;
    }
    for (const name of safeReaddir(join(root, fan))) {
      // A stray name is reported as it is; a block file by the hash it stores.
      const hash = blockOfFileName(name)?.hash ?? name;
      const key = blockKeyOf(tier, hash);
      if (onDisk.has(key)) report.duplicateBlockFiles.push(`${shard}:${key}`);
      onDisk.add(key);
      report.blockFiles++;
      if (hash !== name) report.compressedBlockFiles++;
      const path = join(root, fan, name);
      const stat = statSync(path);
      if (files.verify && !hashesTo(path, hash, hash !== name)) {
        report.corruptBlocks.push(`${shard}:${root}:${key}`);
      }
      const inode = `${stat.dev}:${stat.ino}`;
      if (!inodes.has(inode)) {
        inodes.add(inode);
        report.storedBytes += stat.size;
      }
      if (!counted.has(key)) report.unreferencedBlocks.push(`${shard}:${key}`);
    }
  }
}

/**
 * Whether a block file's content (decoded first when `compressed`, never past a block's size)
 * hashes to `hash`.
 */
function hashesTo(path: string, hash: string, compressed: boolean): boolean {
  try {
    checkedContent({ data: readFileSync(path), compressed }, hash);
    return true;
  } catch {
    return false;
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
