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
 * What a test server's cluster keeps in the shared engines of the topology (its RADOS
 * namespaces, its PostgreSQL schemas, its etcd keys): looked through by the tests that check
 * what is stored (stored plaintext), and removed once the server is gone.
 */

/** The cluster a test server's data directory records, or null (an embedded server). */
function recordedCluster(dataDir: string): InitializedCluster | null {
  const file = join(dataDir, TEST_CLUSTER_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as InitializedCluster) : null;
}

/**
 * Where the cluster of a test server's data directory stores `needle`: the RADOS objects
 * (`rados:<namespace>/<name>`) and the PostgreSQL rows (`pg:<schema>.<table>`) whose bytes
 * contain it. Empty for an embedded server's directory.
 */
export async function clusterStoredContaining(dataDir: string, needle: Buffer): Promise<string[]> {
  const cluster = recordedCluster(dataDir);
  if (cluster === null) return [];
  const topology = topologyFromEnv();
  const partitions = await partitionsOf(topology, cluster.name);
  return [
    ...(await objectsContaining(topology, cluster.clusterId, partitions, needle)),
    ...(await rowsContaining(topology, cluster.name, needle)),
  ];
}

async function partitionsOf(topology: Topology, name: string): Promise<number> {
  const etcd = connectEtcd(topology.config.etcd.endpoints);
  try {
    return Number((await clusterNamespace(etcd, name).get(KEYS.partitions).string()) ?? '0');
  } finally {
    etcd.close();
  }
}

async function objectsContaining(
  topology: Topology,
  clusterId: string,
  partitions: number,
  needle: Buffer,
): Promise<string[]> {
  const hits: string[] = [];
  await eachNamespace(topology, clusterId, partitions, async (io) => {
    for await (const name of io.list()) {
      const { bytes } = await io.stat(name);
      if ((await io.read(name, bytes)).indexOf(needle) >= 0)
        hits.push(`rados:${io.namespace}/${name}`);
    }
  });
  return hits;
}

async function rowsContaining(topology: Topology, name: string, needle: Buffer): Promise<string[]> {
  const client = await primaryClient(topology);
  try {
    const hits: string[] = [];
    for (const schema of await schemasOf(client, name)) {
      const rows = await client.query<{ tbl: string }>(
        `SELECT DISTINCT tbl FROM "${schema}".kv WHERE position($1::bytea in value) > 0`,
        [needle],
      );
      hits.push(...rows.rows.map((row) => `pg:${schema}.${row.tbl}`));
    }
    return hits;
  } finally {
    await client.end();
  }
}

/** Runs `work` on an ioctx of each of the cluster's partition namespaces (`<clusterId>/<i>`). */
async function eachNamespace(
  topology: Topology,
  clusterId: string,
  partitions: number,
  work: (io: RadosIoCtx) => Promise<void>,
): Promise<void> {
  const rados = await RadosCluster.connect({ confPath: topology.config.ceph.conf });
  try {
    for (let partition = 0; partition < partitions; partition++) {
      await work(await rados.ioctx(topology.config.ceph.pool, `${clusterId}/${partition}`));
    }
  } finally {
    await rados.shutdown();
  }
}

/** The schemas of cluster `name` (`hangar_meta_<name>_*`: its partitions and its catalog). */
async function schemasOf(client: pg.Client, name: string): Promise<string[]> {
  const schemas = await client.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
    [`hangar_meta_${name}_`],
  );
  return schemas.rows.map((row) => row.nspname);
}

/**
 * Removes what a test server's cluster left in the shared engines once its gateway is gone: the
 * RADOS objects of its partitions' namespaces, its PostgreSQL schemas and its etcd keys. Every
 * test server of a "one suite, two backends" run makes a cluster of its own on one topology, and
 * the topology's memstore OSDs hold their data in memory: without this, a run's blocks pile up
 * until the OSDs are full and every write times out. A data directory with no recorded cluster
 * (an embedded server) is left alone.
 */
export async function dropTestCluster(dataDir: string): Promise<void> {
  const cluster = recordedCluster(dataDir);
  if (cluster === null) return;
  const topology = topologyFromEnv();
  await removeBlocks(topology, cluster.clusterId, await partitionsOf(topology, cluster.name));
  await dropSchemas(topology, cluster.name);
  const etcd = connectEtcd(topology.config.etcd.endpoints);
  try {
    await clusterNamespace(etcd, cluster.name).delete().all();
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
  await eachNamespace(topology, clusterId, partitions, async (io) => {
    const names: string[] = [];
    for await (const name of io.list()) names.push(name);
    // A few at a time, every one awaited: the connection may close only once all are done.
    for (let first = 0; first < names.length; first += REMOVES_AT_ONCE) {
      const batch = names.slice(first, first + REMOVES_AT_ONCE);
      // Every remove settles before the next batch (or a failure) ends the connection.
      const outcomes = await Promise.allSettled(batch.map((name) => removeIfThere(io, name)));
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
  });
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
    // The names are the cluster's (letters, digits, underscores): quoted all the same.
    for (const schema of await schemasOf(client, name)) {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
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
