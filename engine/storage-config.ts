import { resolve, sep } from 'node:path';
import { isStorageClass, type StorageClass } from './storage-classes.js';

/**
 * `[[data_dirs]]` and `[tiers.NAME]` (issue 18): where block files live. A tier is a named set
 * of data directories plus a compression setting; storage classes map to tiers, and classes no
 * tier names live in the default tier "standard". No `data_dirs` at all: one directory, the data
 * directory itself, exactly as before tiers existed.
 */

export const DEFAULT_TIER = 'standard';
export type Compression = 'none' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['none', 'zstd'];

export interface DataDirConfig {
  /** Absolute path; its blocks live under `<path>/shards/NNN/blocks`. */
  path: string;
  /** Placement weight within the tier, in bytes (Garage's capacity). */
  capacityBytes: number;
  tier: string;
  /** No new blocks; the drain worker moves its blocks to the tier's writable directories. */
  readOnly: boolean;
}

export interface TierConfig {
  name: string;
  classes: StorageClass[];
  /** Absent: the top-level `block_compression` (HANGAR_BLOCK_COMPRESSION) applies. */
  compression?: Compression;
}

export interface StorageConfig {
  /** Empty: the legacy single directory (blocks under data_dir). */
  dataDirs: DataDirConfig[];
  /** Every tier a data dir names, "standard" included when any data dir exists. */
  tiers: TierConfig[];
}

export class StorageConfigError extends Error {}

const TIER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const CAPACITY_UNITS: Record<string, number> = {
  '': 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

function fail(key: string, message: string): never {
  throw new StorageConfigError(`config: ${key} ${message}`);
}

/** "1T", "500G", "1.5TiB", "64 GB", or a number of bytes (units are binary). */
export function parseCapacity(raw: unknown, key: string): number {
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    const n = Number(raw);
    if (Number.isSafeInteger(n) && n > 0) return n;
    fail(key, `must be a positive number of bytes (got ${String(raw)})`);
  }
  const match =
    typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(raw) : null;
  const unit = CAPACITY_UNITS[(match?.[2] ?? '').toLowerCase()];
  const value = match === null || unit === undefined ? Number.NaN : Number(match[1]) * unit;
  if (!Number.isFinite(value) || value < 1 || value > Number.MAX_SAFE_INTEGER) {
    fail(key, `must be a size like "500G" or "1T" (got ${JSON.stringify(raw)})`);
  }
  return Math.floor(value);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(table: Record<string, unknown>, key: string, allowed: readonly string[]): void {
  for (const name of Object.keys(table)) {
    if (!allowed.includes(name)) fail(`${key}.${name}`, 'is not a known key');
  }
}

function parseDataDir(raw: unknown, index: number, base: string): DataDirConfig {
  const key = `data_dirs[${index}]`;
  if (!isTable(raw)) fail(key, 'must be a table ([[data_dirs]])');
  checkKeys(raw, key, ['path', 'capacity', 'tier', 'read_only']);
  if (typeof raw.path !== 'string' || raw.path.trim() === '') {
    fail(`${key}.path`, 'must be a non-empty path');
  }
  if (raw.capacity === undefined) fail(`${key}.capacity`, 'is required (e.g. "1T")');
  const tier = raw.tier ?? DEFAULT_TIER;
  if (typeof tier !== 'string' || !TIER_NAME.test(tier)) {
    fail(`${key}.tier`, `must be a tier name (a-z, 0-9, _ -) (got ${JSON.stringify(tier)})`);
  }
  const readOnly = raw.read_only ?? false;
  if (typeof readOnly !== 'boolean') fail(`${key}.read_only`, 'must be true or false');
  return {
    path: resolve(base, raw.path.trim()),
    capacityBytes: parseCapacity(raw.capacity, `${key}.capacity`),
    tier,
    readOnly,
  };
}

function parseTier(name: string, raw: unknown): TierConfig {
  const key = `tiers.${name}`;
  if (!TIER_NAME.test(name)) fail(key, 'is not a tier name (a-z, 0-9, _ -, up to 32)');
  if (!isTable(raw)) fail(key, 'must be a table ([tiers.NAME])');
  checkKeys(raw, key, ['classes', 'compression']);
  const classes = raw.classes ?? [];
  if (!Array.isArray(classes)) fail(`${key}.classes`, 'must be a list of storage classes');
  for (const c of classes) {
    if (typeof c !== 'string' || !isStorageClass(c)) {
      fail(`${key}.classes`, `names an unknown storage class ${JSON.stringify(c)}`);
    }
  }
  const compression = raw.compression;
  if (compression === undefined) return { name, classes: classes as StorageClass[] };
  if (!COMPRESSIONS.includes(compression as Compression)) {
    fail(`${key}.compression`, `must be "none" or "zstd" (got ${JSON.stringify(compression)})`);
  }
  return { name, classes: classes as StorageClass[], compression: compression as Compression };
}

/** Whether `inner` is `outer` or lies beneath it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

function checkPaths(dirs: readonly DataDirConfig[]): void {
  for (let i = 0; i < dirs.length; i++) {
    for (let j = 0; j < dirs.length; j++) {
      const a = dirs[i]?.path ?? '';
      const b = dirs[j]?.path ?? '';
      if (i === j) continue;
      if (a === b) fail(`data_dirs[${j}].path`, `repeats data_dirs[${i}].path (${a})`);
      if (within(b, a)) fail(`data_dirs[${j}].path`, `lies inside data_dirs[${i}].path (${a})`);
    }
  }
}

function checkTiers(dirs: readonly DataDirConfig[], tiers: Map<string, TierConfig>): void {
  const classOwner = new Map<string, string>();
  for (const tier of tiers.values()) {
    for (const c of tier.classes) {
      const other = classOwner.get(c);
      if (other !== undefined) {
        fail(`tiers.${tier.name}.classes`, `names ${c}, which tiers.${other}.classes names too`);
      }
      classOwner.set(c, tier.name);
    }
    const own = dirs.filter((d) => d.tier === tier.name);
    if (own.length === 0) fail(`tiers.${tier.name}`, 'has no data_dirs entry (tier = ...)');
    if (!own.some((d) => !d.readOnly)) {
      fail(`tiers.${tier.name}`, 'needs at least one data_dirs entry without read_only = true');
    }
  }
  dirs.forEach((d, i) => {
    if (!tiers.has(d.tier)) fail(`data_dirs[${i}].tier`, `names no [tiers.${d.tier}] table`);
  });
}

/**
 * Parses the raw TOML values of `data_dirs` and `tiers` (either may be undefined). Relative
 * paths resolve against `base` (the config file's directory).
 */
export function parseStorage(rawDirs: unknown, rawTiers: unknown, base: string): StorageConfig {
  if (rawDirs === undefined) {
    if (rawTiers !== undefined) fail('tiers', 'needs [[data_dirs]] entries to place tiers on');
    return { dataDirs: [], tiers: [] };
  }
  if (!Array.isArray(rawDirs) || rawDirs.length === 0) {
    fail('data_dirs', 'must be a non-empty array of tables ([[data_dirs]])');
  }
  const dataDirs = rawDirs.map((raw, i) => parseDataDir(raw, i, base));
  checkPaths(dataDirs);
  if (rawTiers !== undefined && !isTable(rawTiers)) fail('tiers', 'must be a table ([tiers.NAME])');
  const tiers = new Map<string, TierConfig>([[DEFAULT_TIER, { name: DEFAULT_TIER, classes: [] }]]);
  for (const [name, raw] of Object.entries(rawTiers ?? {})) tiers.set(name, parseTier(name, raw));
  checkTiers(dataDirs, tiers);
  return { dataDirs, tiers: [...tiers.values()] };
}

/** The tier a write of `storageClass` goes to (absent or unmapped: "standard"). */
export function tierOfClass(storage: StorageConfig, storageClass: string | undefined): string {
  if (storageClass === undefined) return DEFAULT_TIER;
  for (const tier of storage.tiers) {
    if ((tier.classes as string[]).includes(storageClass)) return tier.name;
  }
  return DEFAULT_TIER;
}
