import type { Command } from 'commander';
import {
  type BucketRecord,
  Catalog,
  CatalogError,
  type Grant,
  type KeyRecord,
} from '../engine/catalog/catalog.js';
import { ConfigError, type HangarConfig, loadConfig } from '../engine/config.js';
import { liveAdminFile } from '../http/admin/discovery.js';
import { type AdminClient, adminClient, OperationError, UsageError } from './admin-client.js';
import type { Output } from './output.js';

/**
 * What every `hangar` command shares: exit codes, output helpers, and running a command on the
 * catalog or through a live server's admin API.
 */

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

// ---- output ----

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'no';
}

export function permissions(grant: Grant): string {
  const names = (['read', 'write', 'owner'] as const).filter((p) => grant[p]);
  return names.length === 0 ? '-' : names.join(',');
}

export function publicKey(key: KeyRecord): Record<string, unknown> {
  return {
    accessKeyId: key.accessKeyId,
    name: key.name,
    createdMs: key.createdMs,
    created: iso(key.createdMs),
    allowCreateBucket: key.allowCreateBucket,
    root: key.root,
  };
}

export function bucketJson(bucket: BucketRecord): Record<string, unknown> {
  return { ...bucket, created: iso(bucket.createdMs) };
}

// ---- running a command ----

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
  adminToken?: string;
}

export function configFrom(command: Command, extraFlags: Record<string, string | undefined> = {}) {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    env: process.env,
    flags: { config: opts.config, 'data-dir': opts.dataDir, ...extraFlags },
  });
}

export function fail(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) {
    process.stderr.write(`hangar: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof OperationError || error instanceof CatalogError) {
    process.stderr.write(`hangar: ${error.message}\n`);
    return EXIT_FAILED;
  }
  process.stderr.write(
    `hangar: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT_FAILED;
}

/** Loads the configuration, runs `produce`, prints its output and sets the exit code. */
export async function runCommand(
  command: Command,
  produce: (config: HangarConfig) => Promise<Output> | Output,
): Promise<void> {
  try {
    const output = await produce(configFrom(command));
    const json = command.optsWithGlobals<GlobalOptions>().json === true;
    process.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.human}\n`);
    process.exitCode ??= EXIT_OK;
  } catch (error) {
    process.exitCode = fail(error);
  }
}

/**
 * Runs the command through the running server's admin API (`remote`) when a live server owns
 * the data directory, else on the catalog directly (`body`; commands without `remote` always
 * work directly), and prints its output. Closes the catalog.
 */
export function withCatalog(
  command: Command,
  body: (catalog: Catalog, config: HangarConfig) => Promise<Output> | Output,
  remote?: (api: AdminClient, config: HangarConfig) => Promise<Output>,
): Promise<void> {
  return runCommand(command, async (config) => {
    const server = remote === undefined ? null : liveAdminFile(config.dataDir);
    if (server !== null && remote !== undefined) {
      return remote(adminClient(command, config, server), config);
    }
    const catalog = openCatalogOffline(config);
    try {
      return await body(catalog, config);
    } finally {
      await catalog.close();
    }
  });
}

/**
 * The data directory's catalog, for a command run without a live server. In cluster mode it is
 * only a replica of the cluster's catalog in PostgreSQL: a write here would never reach the
 * other gateways (and the next re-sync would undo it), so the command is refused; it works
 * through a running gateway's admin API.
 */
export function openCatalogOffline(config: HangarConfig): Catalog {
  if (config.cluster !== null) {
    throw new OperationError(
      `cluster mode: the catalog lives in PostgreSQL, shared by every gateway of cluster ${config.cluster.name}; run this command while this data directory's gateway (hangar server) runs, and it goes through its admin API`,
    );
  }
  return Catalog.open(config.dataDir);
}

export function requireBucket(catalog: Catalog, name: string): BucketRecord {
  const bucket = catalog.getBucket(name);
  if (bucket === undefined) throw new OperationError(`no bucket ${name}`);
  return bucket;
}

export function requireKey(catalog: Catalog, accessKeyId: string): KeyRecord {
  const key = catalog.getKey(accessKeyId);
  if (key === undefined) throw new OperationError(`no key ${accessKeyId}`);
  return key;
}

/** Adds a leaf command that supports --json. */
export const leaf = (parent: Command, spec: string, description: string): Command =>
  parent.command(spec).description(description).option('--json', 'print one JSON document');
