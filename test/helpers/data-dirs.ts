import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { FsckReport } from '../../engine/fsck.js';
import { adminCall } from './admin.js';
import { runCli, type TestServer } from './server.js';

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

/** `hangar fsck --json --verify` with a config file (its data_dirs), exit code and report. */
export async function fsckWithConfig(
  config: string,
  dataDir: string,
): Promise<{ code: number | null; report: FsckReport }> {
  const { code, stdout, stderr } = await runCli([
    'fsck',
    '--json',
    '--verify',
    '--config',
    config,
    '--data-dir',
    dataDir,
  ]);
  if (stdout === '') throw new Error(`fsck failed: ${stderr}`);
  return { code, report: JSON.parse(stdout) as FsckReport };
}

/** A bucket's id, by its global alias (the admin API). */
export async function bucketIdOf(server: TestServer, name: string): Promise<string> {
  const info = await adminCall(server, 'GET', `/v2/GetBucketInfo?globalAlias=${name}`);
  if (info.status !== 200) throw new Error(`GetBucketInfo ${name}: ${info.text}`);
  return info.json.id as string;
}

/** An object's bytes, read whole through S3. */
export async function bytesOf(server: TestServer, bucket: string, key: string): Promise<Buffer> {
  const got = await server.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = got.Body as { transformToByteArray(): Promise<Uint8Array> };
  return Buffer.from(await body.transformToByteArray());
}

/** The cold tier most tests configure. */
export const COLD_TIER = '[tiers.cold]\nclasses = ["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"]\n';

/** A test's directories: a fresh base under `root`, its data_dir, named data dirs, config. */
export interface TierLayout<Name extends string> {
  base: string;
  dataDir: string;
  dirs: Record<Name, string>;
  config: string;
}

/**
 * Makes a fresh base directory under `root` with a config file naming one data dir per entry of
 * `dirs` (`<base>/<name>`), and `tiers` (TOML); data_dir is `<base>/meta`.
 */
export function tierLayout<Name extends string>(
  root: string,
  dirs: Record<Name, Omit<TestDataDir, 'path'>>,
  tiers = '',
): TierLayout<Name> {
  const base = mkdtempSync(join(root, 'case-'));
  const paths = Object.fromEntries(
    Object.keys(dirs).map((name) => [name, join(base, name)]),
  ) as Record<Name, string>;
  const entries = (Object.entries(dirs) as Array<[Name, Omit<TestDataDir, 'path'>]>).map(
    ([name, dir]) => ({ ...dir, path: paths[name] }),
  );
  return {
    base,
    dataDir: join(base, 'meta'),
    dirs: paths,
    config: writeTierConfig(base, entries, tiers),
  };
}
