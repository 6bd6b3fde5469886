import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HangarConfig } from './config.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './data-dir.js';
import { LayoutError, shardDir } from './layout.js';

/**
 * Start-up checks of `[[data_dirs]]` (issue 18), on the main thread before any shard starts:
 *  - each directory is made (0700) and stamped with its tier (`hangar-dir.json`); a directory
 *    whose tier changed in the config refuses to start, because the shards' start-up sweep
 *    would take its blocks, unreferenced under the new tier's keys, for orphans and unlink them;
 *  - with data_dirs set, blocks left under data_dir (a data directory from before, not listed
 *    as an entry) refuse to start too: listing data_dir as an entry (read_only = true to drain
 *    it) keeps them; silently ignoring them would make every object they hold unreadable.
 */
export function prepareDataDirs(config: HangarConfig, shards: number): void {
  const { dataDirs } = config.storage;
  if (dataDirs.length === 0) return;
  for (const dir of dataDirs) {
    ensurePrivateDir(dir.path);
    stampTier(dir.path, dir.tier);
  }
  if (!dataDirs.some((dir) => dir.path === config.dataDir)) {
    const holder = firstShardWithBlocks(config.dataDir, shards);
    if (holder !== null) {
      throw new LayoutError(
        `config: data_dirs does not list data_dir (${config.dataDir}) but ${holder} holds ` +
          'blocks: add a [[data_dirs]] entry with path = data_dir (read_only = true drains it)',
      );
    }
  }
}

const MARKER = 'hangar-dir.json';

function stampTier(dir: string, tier: string): void {
  const path = join(dir, MARKER);
  if (existsSync(path)) {
    const stamped = (JSON.parse(readFileSync(path, 'utf8')) as { tier?: unknown }).tier;
    if (stamped !== tier) {
      throw new LayoutError(
        `config: data_dirs entry ${dir} has tier = "${tier}" but holds blocks of tier ` +
          `"${String(stamped)}"; a directory's tier cannot change (drain it instead)`,
      );
    }
    return;
  }
  writeFileSync(path, `${JSON.stringify({ formatVersion: 1, tier })}\n`, {
    mode: PRIVATE_FILE_MODE,
  });
}

/** The first shard block directory under `dataDir` with a block file in it, or null. */
function firstShardWithBlocks(dataDir: string, shards: number): string | null {
  for (let shard = 0; shard < shards; shard++) {
    const blocks = join(shardDir(dataDir, shard), 'blocks');
    if (!existsSync(blocks)) continue;
    for (const fanout of readdirSync(blocks)) {
      if (fanout === 'tmp' || fanout.length !== 2) continue;
      if (readdirSync(join(blocks, fanout)).length > 0) return blocks;
    }
  }
  return null;
}
