import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A `[[data_dirs]]` entry for a test config. */
export interface TestDataDir {
  path: string;
  capacity: string;
  tier?: string;
  readOnly?: boolean;
}

/** Writes a hangar.toml with `dirs` and `tiers` (TOML text) into `dir`; returns its path. */
export function writeTierConfig(
  dir: string,
  dirs: readonly TestDataDir[],
  tiers = '',
  more = 'block_bytes = "64KiB"\ninline_bytes_max = 0\n',
): string {
  const entries = dirs.map(
    (d) =>
      `[[data_dirs]]\npath = "${d.path}"\ncapacity = "${d.capacity}"\n` +
      (d.tier !== undefined ? `tier = "${d.tier}"\n` : '') +
      (d.readOnly === true ? 'read_only = true\n' : ''),
  );
  const file = join(dir, 'hangar.toml');
  writeFileSync(file, `${more}${entries.join('')}${tiers}`);
  return file;
}

/** The block files (bare hashes) under one data directory, every shard together. */
export function blockFilesIn(dataDir: string): string[] {
  const shards = join(dataDir, 'shards');
  if (!existsSync(shards)) return [];
  const files: string[] = [];
  for (const shard of readdirSync(shards)) {
    const blocks = join(shards, shard, 'blocks');
    if (!existsSync(blocks)) continue;
    for (const fanout of readdirSync(blocks)) {
      if (fanout.length !== 2) continue;
      files.push(...readdirSync(join(blocks, fanout)));
    }
  }
  return files;
}
