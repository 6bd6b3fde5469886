import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { isRadosCode, RadosCluster, type RadosIoCtx } from '../../engine/blocks/rados/librados.js';
import { connectEtcd } from '../../engine/cluster/etcd.js';
import { clusterNamespace, KEYS } from '../../engine/cluster/keys.js';
import {
  hangarPgPassword,
  type InitializedCluster,
  TEST_CLUSTER_FILE,
  type Topology,
  topologyFromEnv,
} from './cluster-backend.js';

/**
 * Removes what a test server's cluster left in the shared engines once its gateway is gone: the
 * RADOS objects of its partitions' namespaces, its PostgreSQL schemas and its etcd keys. Every
 * test server of a "one suite, two backends" run makes a cluster of its own on one topology, and
 * the topology's memstore OSDs hold their data in memory: without this, a run's blocks pile up
 * until the OSDs are full and every write times out. A data directory with no recorded cluster
 * (an embedded server) is left alone.
 */
export async function dropTestCluster(dataDir: string): Promise<void> {
  const file = join(dataDir, TEST_CLUSTER_FILE);
  if (!existsSync(file)) return;
  const cluster = JSON.parse(readFileSync(file, 'utf8')) as InitializedCluster;
  const topology = topologyFromEnv();
  const etcd = connectEtcd(topology.config.etcd.endpoints);
  try {
    const keys = clusterNamespace(etcd, cluster.name);
    const partitions = Number((await keys.get(KEYS.partitions).string()) ?? '0');
    await removeBlocks(topology, cluster.clusterId, partitions);
    await dropSchemas(topology, cluster.name);
    await keys.delete().all();
  } finally {
    etcd.close();
  }
}

/** Deletes every object of the cluster's partition namespaces (`<clusterId>/<i>`). */
async function removeBlocks(
  topology: Topology,
  clusterId: string,
  partitions: number,
): Promise<void> {
  const rados = await RadosCluster.connect({ confPath: topology.config.ceph.conf });
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const io = await rados.ioctx(topology.config.ceph.pool, `${clusterId}/${partition}`);
      const names: string[] = [];
      for await (const name of io.list()) names.push(name);
      // A few at a time, every one awaited: the connection may close only once all are done.
      for (let first = 0; first < names.length; first += REMOVES_AT_ONCE) {
        const batch = names.slice(first, first + REMOVES_AT_ONCE);
        await Promise.all(batch.map((name) => removeIfThere(io, name)));
      }
    }
  } finally {
    await rados.shutdown();
  }
}

/** RADOS removes in flight at once while a cluster's blocks are dropped. */
const REMOVES_AT_ONCE = 32;

async function removeIfThere(io: RadosIoCtx, name: string): Promise<void> {
  try {
    await io.remove(name);
  } catch (error) {
    if (!isRadosCode(error, 'ENOENT')) throw error;
  }
}

/** Drops the cluster's schemas (`hangar_meta_<name>_*`: partitions and catalog) on the primary. */
async function dropSchemas(topology: Topology, name: string): Promise<void> {
  const client = await primaryClient(topology);
  try {
    const schemas = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
      [`hangar_meta_${name}_`],
    );
    for (const { nspname } of schemas.rows) {
      // The names are the cluster's (letters, digits, underscores): quoted all the same.
      await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/** A connection to whichever member of the topology's Patroni cluster is the primary now. */
async function primaryClient(topology: Topology): Promise<pg.Client> {
  const { postgres } = topology.config;
  const password = hangarPgPassword(topology.dir);
  for (const { host, port } of postgres.hosts) {
    const client = new pg.Client({
      host,
      port,
      password,
      user: 'hangar',
      database: postgres.database,
    });
    try {
      await client.connect();
      const role = await client.query<{ standby: boolean }>(
        'SELECT pg_is_in_recovery() AS standby',
      );
      if (role.rows[0]?.standby === false) return client;
    } catch {
      // A member that is down: the next one is asked.
    }
    await client.end().catch(() => undefined);
  }
  throw new Error(`no PostgreSQL primary among ${JSON.stringify(postgres.hosts)}`);
}
