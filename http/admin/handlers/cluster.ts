import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { HangarConfig } from '../../../engine/config.js';
import { LIMITS } from '../../../engine/limits.js';
import { DEFAULT_TIER } from '../../../engine/storage-config.js';
import type { AdminReply, AdminState } from '../context.js';
import { diskSpace } from './disk.js';

/** hangar's version, from package.json (dist/http/admin/handlers → the package root). */
export const HANGAR_VERSION: string = (() => {
  for (const up of ['../../../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'hangar' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
})();

/** A stable node id: the host name and data directory, hashed. */
export function nodeId(state: AdminState): string {
  return createHash('sha256')
    .update(`${hostname()}\0${state.server.config.dataDir}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * GetClusterStatus: hangar is one node; this is it. Its `dataPartition` is Garage's field (the
 * filesystem of the data directory); `dataDirectories` is hangar's, one entry per data directory
 * with its filesystem's space, so a node with several disks lists each ([[data_dirs]]), with its
 * configured capacity, tier and read_only flag.
 */
export async function getClusterStatus(state: AdminState): Promise<AdminReply> {
  const { config } = state.server;
  const dataDirectories = await Promise.all(
    dataDirsOf(config).map(async (dir) => ({ ...dir, ...(await diskSpace(dir.path)) })),
  );
  const [first] = dataDirectories;
  return {
    json: {
      layoutVersion: 1,
      node: nodeId(state),
      version: HANGAR_VERSION,
      nodes: [
        {
          id: nodeId(state),
          hostname: hostname(),
          addr: `${config.s3.host}:${config.s3.port}`,
          isUp: true,
          lastSeenSecsAgo: null,
          version: HANGAR_VERSION,
          dataPartition:
            first === undefined ? null : { available: first.available, total: first.total },
          dataDirectories,
        },
      ],
      shards: state.shardCount,
      dataDir: config.dataDir,
      uptimeSecs: Math.floor((Date.now() - state.startedMs) / 1000),
      startedAt: new Date(state.startedMs).toISOString(),
    },
  };
}

const NO_BUCKET = '0'.repeat(32);

/** Asks each shard actor a trivial question; true for each that answers within `timeoutMs`. */
export async function pingShards(
  state: AdminState,
  timeoutMs: number = LIMITS.adminPingTimeoutMs,
): Promise<boolean[]> {
  return Promise.all(
    state.server.pool.clients.map(
      async (shard) =>
        (await shard.callWithin(
          { kind: 'BucketUsage', bucketId: NO_BUCKET },
          'Usage',
          timeoutMs,
        )) !== null,
    ),
  );
}

/** GetClusterHealth: Garage's fields, where a "partition" is a shard actor. */
export async function getClusterHealth(state: AdminState): Promise<AdminReply> {
  const up = await pingShards(state);
  const ok = up.filter(Boolean).length;
  return {
    json: {
      status: ok === up.length ? 'healthy' : ok === 0 ? 'unavailable' : 'degraded',
      knownNodes: 1,
      connectedNodes: 1,
      storageNodes: 1,
      storageNodesUp: ok > 0 ? 1 : 0,
      partitions: up.length,
      partitionsQuorum: ok,
      partitionsAllOk: ok,
    },
  };
}

/** The configured data directories (none configured: data_dir itself, the one tier's one). */
function dataDirsOf(config: HangarConfig): Array<{
  path: string;
  capacity: number | null;
  tier: string;
  readOnly: boolean;
}> {
  if (config.storage.dataDirs.length === 0) {
    return [{ path: config.dataDir, capacity: null, tier: DEFAULT_TIER, readOnly: false }];
  }
  return config.storage.dataDirs.map((dir) => ({
    path: dir.path,
    capacity: dir.capacityBytes,
    tier: dir.tier,
    readOnly: dir.readOnly,
  }));
}
