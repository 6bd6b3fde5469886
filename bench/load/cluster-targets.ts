/**
 * The cluster-mode targets (issue 19), both over the run's one local topology (bench-topology.ts):
 * - hangar-cluster: one `hangar server` gateway with a `[cluster]` section, of a fresh cluster
 *   (`hangar cluster init`, a new name per workload) on the topology's etcd, PostgreSQL and Ceph.
 * - rgw-cluster: Ceph's radosgw over the SAME Ceph cluster (the design's §4.6 peer), with a user of
 *   its own made by radosgw-admin.
 * Each start is per workload like every target; what a workload stored is removed at its stop
 * (hangar's RADOS objects and PostgreSQL schemas; radosgw's pools, deleted whole and made again:
 * `radosgw-admin bucket rm --purge-objects` took 2 min for 25,000 objects), since the memstore
 * OSDs keep all of it in memory (3 GiB each for the bench) and the next workload would otherwise
 * start on a fuller cluster. Deleting pools needs mon_allow_pool_delete, which rgw-cluster sets
 * on the topology's monitor: run it on a topology of the bench's own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCluster } from '../../test/cluster/local-cluster.js';
import {
  initCluster,
  uniqueClusterName,
  writeGatewayConfig,
} from '../../test/helpers/cluster-backend.js';
import { benchTopology, cephTool, topologyPids } from './bench-topology.js';
import {
  HANGAR_CREDENTIALS,
  HANGAR_READY,
  hangarEnv,
  hangarServerArgs,
  type RunningTarget,
  startProcess,
} from './server-process.js';
import type { TargetSpec } from './targets.js';

export const CLUSTER_TARGETS = ['hangar-cluster', 'rgw-cluster'] as const;
type ClusterTarget = (typeof CLUSTER_TARGETS)[number];

/** A gateway joins etcd, finds the PostgreSQL primary and makes its schemas before serving. */
const GATEWAY_READY_TIMEOUT_MS = 120_000;
/** radosgw makes its pools' first objects (zone, period) before it listens. */
const RGW_READY_TIMEOUT_MS = 90_000;
/** Objects named per `rados rm` call when a workload's blocks are removed. */
const RADOS_RM_BATCH = 500;

const RGW_USER = 'bench';
const RGW_CREDENTIALS = {
  accessKeyId: 'BENCHRGWCLUSTER00001',
  secretAccessKey: 'benchrgwclustersecret000000000000000001',
};
/** radosgw's own cephx identity; ceph.conf's keyring line finds DIR/ceph/keyring.client.rgw.bench. */
const RGW_CLIENT = 'client.rgw.bench';
/**
 * radosgw's pools, made up front with 8 placement groups each: radosgw would make them with 32,
 * and 7 such pools of size 3 on 3 OSDs pass the monitor's limit of 250 PGs per OSD.
 */
const RGW_POOLS = [
  '.rgw.root',
  'default.rgw.log',
  'default.rgw.control',
  'default.rgw.meta',
  'default.rgw.buckets.index',
  'default.rgw.buckets.data',
  'default.rgw.buckets.non-ec',
];
const RGW_POOL_PGS = '8';
/**
 * Every PUT of a cluster target commits to 3 replicas (PostgreSQL's synchronous standby, RADOS
 * size 3): ~500-1000 PUTs/s on a loaded 2-core machine, so list-100k's 100,000 keys need minutes.
 */
const CLUSTER_PRELOAD_TIMEOUT_S = 600;

const TOPOLOGY =
  'the one-machine topology of tools/cluster/local-cluster.sh (3 etcd, 3 PostgreSQL 15 + Patroni with a synchronous standby, Ceph 16 mon + mgr + 3 memstore OSDs of 3 GiB, pool size 3), one per run, at HANGAR_CLUSTER_PORT_OFFSET (100 unless set) or attached from HANGAR_BENCH_CLUSTER_DIR';

export const CLUSTER_TARGET_SPECS: Readonly<Record<ClusterTarget, TargetSpec>> = {
  'hangar-cluster': {
    name: 'hangar-cluster',
    role: 'hangar',
    stateless: false,
    credentials: HANGAR_CREDENTIALS,
    preloadTimeoutS: CLUSTER_PRELOAD_TIMEOUT_S,
    describe: `hangar server with a [cluster] section: one gateway of a fresh cluster (hangar cluster init per workload) on ${TOPOLOGY}; CPU and memory summed over the gateway, the 3 PostgreSQL servers (every backend), the 3 etcd members and Ceph's mon, mgr and OSDs (Patroni's agents not counted; the memstore OSDs' RSS holds the stored data)`,
  },
  'rgw-cluster': {
    name: 'rgw-cluster',
    role: 'peer',
    stateless: false,
    credentials: RGW_CREDENTIALS,
    preloadTimeoutS: CLUSTER_PRELOAD_TIMEOUT_S,
    describe: `Ceph RADOS Gateway (Debian's ceph 16, beast frontend) over the Ceph cluster of hangar-cluster's topology (${TOPOLOGY}); CPU and memory summed over radosgw and Ceph's mon, mgr and OSDs`,
  },
};

function commandMissing(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0;
}

/** Why this machine cannot run the target (undefined: it can). */
export function clusterTargetUnavailable(name: string): string | undefined {
  const needed = ['etcd', 'patroni', 'ceph-mon', 'ceph-osd', 'jq'];
  if (name === 'rgw-cluster') needed.push('radosgw', 'radosgw-admin');
  const missing = needed.filter(commandMissing);
  return missing.length === 0
    ? undefined
    : `${missing.join(', ')} not found (see tools/cluster/README.md's packages; radosgw for rgw-cluster)`;
}

/** Wraps a target so that its stop also runs `cleanup`, whose failure is reported, not thrown. */
function withCleanup(
  target: RunningTarget,
  what: string,
  cleanup: () => Promise<void>,
): RunningTarget {
  return {
    ...target,
    stop: async () => {
      await target.stop();
      await cleanup().catch((error: unknown) =>
        process.stderr.write(`[bench] ${what}: cleanup failed: ${String(error)}\n`),
      );
    },
  };
}

export async function startHangarCluster(spec: TargetSpec, port: number): Promise<RunningTarget> {
  const topology = await benchTopology();
  const cluster = await initCluster(topology, uniqueClusterName());
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-cluster-bench-'));
  const config = writeGatewayConfig({
    topology,
    clusterName: cluster.name,
    gatewayName: 'bench1',
    dir: dataDir,
  });
  const gateway = await startProcess(
    spec,
    process.execPath,
    [...hangarServerArgs(dataDir, port), '--config', config],
    hangarEnv(spec),
    port,
    dataDir,
    HANGAR_READY,
    GATEWAY_READY_TIMEOUT_MS,
  ).catch(async (error: unknown) => {
    // What its boot made (schemas) goes too; startProcess removed the data directory.
    await removeClusterData(topology, cluster).catch(() => undefined);
    throw error;
  });
  const engines = topologyPids(topology, 'all');
  return withCleanup(
    { ...gateway, pids: () => [...gateway.pids(), ...engines] },
    `hangar-cluster ${cluster.name}`,
    () => removeClusterData(topology, cluster),
  );
}

/** Removes what a cluster stored on the topology: its RADOS objects and PostgreSQL schemas. */
export async function removeClusterData(
  topology: LocalCluster,
  cluster: { name: string; clusterId: string },
): Promise<void> {
  await removeRadosNamespaces(topology, `${cluster.clusterId}/`);
  await dropSchemasOf(topology, cluster.name);
}

/** Removes every object of the block pool whose namespace starts with `prefix`. */
async function removeRadosNamespaces(topology: LocalCluster, prefix: string): Promise<void> {
  const pool = topology.config.ceph.pool;
  const listing = await cephTool(topology, 'rados', ['-p', pool, '--all', 'ls']);
  const byNamespace = new Map<string, string[]>();
  for (const line of listing.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0 || !line.startsWith(prefix)) continue;
    const namespace = line.slice(0, tab);
    byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), line.slice(tab + 1)]);
  }
  for (const [namespace, objects] of byNamespace) {
    for (let i = 0; i < objects.length; i += RADOS_RM_BATCH) {
      const batch = objects.slice(i, i + RADOS_RM_BATCH);
      await cephTool(topology, 'rados', ['-p', pool, '-N', namespace, 'rm', ...batch]);
    }
  }
}

/** Drops the PostgreSQL schemas of one cluster (their names carry its unique name). */
async function dropSchemasOf(topology: LocalCluster, clusterName: string): Promise<void> {
  const primary = await topology.primary();
  if (primary === undefined) throw new Error('no PostgreSQL primary to drop the schemas on');
  const client = await topology.pgClient(primary);
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE strpos(nspname, $1) > 0',
      [clusterName],
    );
    for (const { nspname } of rows) {
      await client.query(`DROP SCHEMA ${client.escapeIdentifier(nspname)} CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/** radosgw's key and pools (every call is idempotent): before each start. */
async function prepareRgw(topology: LocalCluster): Promise<void> {
  const keyring = join(topology.dir, `ceph/keyring.${RGW_CLIENT}`);
  await cephTool(topology, 'ceph', [
    'auth',
    'get-or-create',
    RGW_CLIENT,
    'mon',
    'allow rw',
    'osd',
    'allow rwx',
    '-o',
    keyring,
  ]);
  for (const pool of RGW_POOLS) {
    await cephTool(topology, 'ceph', [
      'osd',
      'pool',
      'create',
      pool,
      RGW_POOL_PGS,
      RGW_POOL_PGS,
      'replicated',
    ]);
    await cephTool(topology, 'ceph', ['osd', 'pool', 'application', 'enable', pool, 'rgw']);
  }
}

/** The bench's rgw user; one that exists already (an earlier workload made it) is kept. */
async function ensureRgwUser(topology: LocalCluster): Promise<void> {
  const info = await cephTool(topology, 'radosgw-admin', ['user', 'info', '--uid', RGW_USER]).catch(
    () => undefined,
  );
  if (info !== undefined) return;
  await cephTool(topology, 'radosgw-admin', [
    'user',
    'create',
    '--uid',
    RGW_USER,
    '--display-name',
    RGW_USER,
    '--access-key',
    RGW_CREDENTIALS.accessKeyId,
    '--secret-key',
    RGW_CREDENTIALS.secretAccessKey,
  ]);
}

export async function startRgwCluster(spec: TargetSpec, port: number): Promise<RunningTarget> {
  const topology = await benchTopology();
  await prepareRgw(topology);
  const rgwData = mkdtempSync(join(tmpdir(), 'rgw-cluster-bench-'));
  const rgw = await startProcess(
    spec,
    'radosgw',
    [
      '-f',
      '-c',
      topology.config.ceph.conf,
      '-n',
      RGW_CLIENT,
      '--rgw-frontends',
      `beast endpoint=127.0.0.1:${port}`,
      '--rgw-data',
      rgwData,
    ],
    process.env,
    port,
    rgwData,
    undefined,
    RGW_READY_TIMEOUT_MS,
  );
  try {
    await ensureRgwUser(topology);
  } catch (error) {
    await rgw.stop();
    throw error;
  }
  const ceph = topologyPids(topology, 'ceph');
  return withCleanup({ ...rgw, pids: () => [...rgw.pids(), ...ceph] }, 'rgw-cluster', () =>
    removeRgwPools(topology),
  );
}

/**
 * Everything radosgw stored (zone, user, buckets, objects), by deleting its pools: the next start
 * makes them again, empty, and radosgw its zone in them.
 */
async function removeRgwPools(topology: LocalCluster): Promise<void> {
  await cephTool(topology, 'ceph', ['config', 'set', 'mon', 'mon_allow_pool_delete', 'true']);
  for (const pool of RGW_POOLS) {
    await cephTool(topology, 'ceph', [
      'osd',
      'pool',
      'delete',
      pool,
      pool,
      '--yes-i-really-really-mean-it',
    ]);
  }
}
