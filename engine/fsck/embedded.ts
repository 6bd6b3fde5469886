import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { blockKeyOf } from '../blocks/block-key.js';
import { blockOfFileName } from '../blocks/block-names.js';
import { checkedContent } from '../blocks/compressed.js';
import { readLayout, shardDir } from '../layout.js';
import type { KvEnv } from '../meta/kv.js';
import { META_TABLES_MAX } from '../meta/store.js';
import { DEFAULT_TIER, type StorageConfig } from '../storage-config.js';
import { checkRecords } from './records.js';
import { emptyReport, type FsckReport } from './report.js';

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
export async function fsck(dataDir: string, options: FsckOptions = {}): Promise<FsckReport> {
  const layout = readLayout(dataDir);
  const report = emptyReport(layout?.shards ?? 0);
  const dirs: BlockDir[] =
    options.storage !== undefined && options.storage.dataDirs.length > 0
      ? options.storage.dataDirs.map(({ path, tier }) => ({ path, tier }))
      : [{ path: dataDir, tier: DEFAULT_TIER }];
  report.blockDirectories = dirs.map((dir) => dir.path);
  const files: FileCheck = { inodes: new Set(), verify: options.verify === true };
  for (let shard = 0; shard < report.shards; shard++) {
    await checkShard(dataDir, shard, report, dirs, files);
  }
  return report;
}

/** What the file checks of every shard share: inodes seen (dedup), and whether to hash. */
interface FileCheck {
  inodes: Set<string>;
  verify: boolean;
}

async function checkShard(
  dataDir: string,
  shard: number,
  report: FsckReport,
  dirs: readonly BlockDir[],
  files: FileCheck,
): Promise<void> {
  const dir = shardDir(dataDir, shard);
  // Read-only: fsck may run beside a live server (tests do); it must never take the write lock.
  const env = open({ path: join(dir, 'meta'), maxDbs: META_TABLES_MAX, readOnly: true });
  try {
    // lmdb-js's environment and tables satisfy the metadata seam structurally.
    const { counted } = await checkRecords(
      env as unknown as KvEnv,
      shard,
      { cluster: false },
      report,
    );
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

/** One shard's block files in one data directory: counted, deduplicated by inode, hashed. */
function checkFiles(
  root: string,
  tier: string,
  shard: number,
  counted: ReadonlyMap<string, number>,
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
