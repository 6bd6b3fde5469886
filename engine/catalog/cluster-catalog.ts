import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import type { Etcd3 } from 'etcd3';
import { LayoutStore } from '../cluster/layout.js';
import { pgKvOptionsOf } from '../cluster/pg-options.js';
import type { ClusterMetadataTarget } from '../cluster/shard-settings.js';
import { LIMITS } from '../limits.js';
import { PgKvEnv, type PgKvOptions } from '../meta/pg-kv/env.js';
import { Keyring } from '../sse/keyring.js';
import { Catalog, openCatalogEnv } from './catalog.js';
import { CatalogReplica } from './replica.js';
import { ReplicatedKvEnv } from './replicated-env.js';

/**
 * Cluster mode's catalog (DECISIONS.md, "Cluster mode: the catalog in PostgreSQL, an LMDB replica
 * per gateway"). The entry points:
 *
 * - `openClusterCatalog` (the gateway's main thread, once, before edge threads start): opens the
 *   local replica, brings it to PostgreSQL's catalog (a full re-sync), then keeps it current: an
 *   etcd watch of the catalog version key, and a poll of PostgreSQL's version every
 *   LIMITS.catalogPollIntervalMs as a backstop. It announces (bumps the etcd key) its own
 *   commits and those its edge threads tell it of.
 * - `openCatalogReplica` (each edge thread, instead of Catalog.open): the same local replica
 *   (lmdb-js shares the environment in a process) with its own PostgreSQL pool for writes and
 *   miss catch-ups; no watch, no poll (the main thread's re-syncs are this thread's too). Its
 *   commits are told to the main thread over a BroadcastChannel named after the data directory.
 *
 * Both return a Catalog used exactly as the embedded one: reads are local and synchronous,
 * mutators resolve once PostgreSQL committed and the local replica reflects the commit.
 */

export interface ClusterCatalog {
  readonly catalog: Catalog;
  /** Stops watching and polling, closes the replica and (if opened here) PostgreSQL's pool:
   *  the same as `catalog.close()`. */
  close(): Promise<void>;
}

/** Where the warnings of background re-syncs go (pino's Logger is one). */
export interface CatalogLog {
  warn(fields: object, message: string): void;
}

export interface CatalogReplicaOptions {
  dataDir: string;
  /**
   * The catalog's PostgreSQL: options to open a PgKvEnv (closed by `close`), or an open one
   * (left open), used by this catalog alone: the tables route on whether one of its transactions
   * is running. Its `shard` is the catalog's schema suffix (`catalogShardOf`).
   */
  pg: PgKvOptions | PgKvEnv;
  log?: CatalogLog;
}

export interface ClusterCatalogOptions extends CatalogReplicaOptions {
  /** The cluster's etcd client and name: the catalog version key is watched and bumped there. */
  etcd: { client: Etcd3; clusterName: string };
  /**
   * SSE: config.sse.masterKeyFile (null: `<dataDir>/sse-master.key`). Given, the keys hangar
   * manages (SSE-S3's, aws/s3) are made at open if the cluster has none yet: over PostgreSQL they
   * cannot be made synchronously on first use as embedded. Every gateway needs the same master
   * key (the same file content, or HANGAR_SSE_MASTER_KEY).
   */
  sse?: { masterKeyFile: string | null };
  /** The backstop poll's period (default LIMITS.catalogPollIntervalMs). */
  pollIntervalMs?: number;
}

/**
 * The catalog's pg-kv shard name for a cluster: `<name>_catalog` (schema
 * `hangar_meta_<name>_catalog`). A name pg-kv's pattern refuses (a '-', or too long) is made one
 * with a hash of it, so two cluster names never share a schema.
 */
export function catalogShardOf(clusterName: string): string {
  if (/^[a-z0-9_]{1,40}$/.test(clusterName)) return `${clusterName}_catalog`;
  const hash = createHash('sha256').update(clusterName).digest('hex').slice(0, 16);
  return `${clusterName.replace(/[^a-z0-9_]/g, '_').slice(0, 23)}_${hash}_catalog`;
}

/**
 * PgKvOptions for the catalog of cluster `clusterName` on a Patroni cluster's members (pg-kv
 * finds the primary among them and follows failovers): the cluster's first metadata shard's
 * PostgreSQL, in the lead's wiring.
 */
export function catalogPgOptionsOf(
  target: Omit<ClusterMetadataTarget, 'shard'>,
  clusterName: string,
): PgKvOptions {
  return pgKvOptionsOf(
    { ...target, shard: catalogShardOf(clusterName) },
    { poolMax: LIMITS.catalogPgConnectionsMax },
  );
}

/**
 * The main thread's cluster catalog: replica synced at open, kept current by etcd and a poll.
 * Closing the catalog (Catalog.close, or the handle's close) stops the watch and the poll too.
 */
export async function openClusterCatalog(options: ClusterCatalogOptions): Promise<ClusterCatalog> {
  const layout = new LayoutStore(options.etcd.client, options.etcd.clusterName);
  const announce = async (): Promise<void> => {
    try {
      await layout.bumpCatalogVersion();
    } catch (error) {
      // Others still learn of it by their poll, and at once on a lookup miss.
      options.log?.warn({ err: error }, 'catalog: announcing a change in etcd failed');
    }
  };
  const stops: Array<() => unknown> = [];
  const opened = await openReplica(options, announce, async () => {
    for (const stop of stops) await stop();
  });
  const { replica, catalog } = opened;
  try {
    if (replica.holdsUnreplicatedRows()) {
      throw new Error(
        `${options.dataDir}/catalog holds an embedded catalog: in cluster mode it is a replica of the cluster's, and would be overwritten (start cluster mode on a new data directory)`,
      );
    }
    await replica.resync(true);
    if (options.sse !== undefined) {
      const keyring = new Keyring(catalog.kmsTables(), options.dataDir, options.sse.masterKeyFile);
      await keyring.ensureManagedKeys();
    }
    const catchUp = (why: string): void => {
      catalog.catchUp().catch((error: unknown) => {
        options.log?.warn({ err: error }, `catalog: catching up after ${why} failed`);
      });
    };
    stops.push(await layout.watchCatalogVersion(() => catchUp('an etcd announcement')));
  } catch (error) {
    await opened.close();
    throw error;
  }
  const poll = setInterval(
    () =>
      opened.catalog.catchUp().catch((error: unknown) => {
        options.log?.warn({ err: error }, 'catalog: catching up after a poll failed');
      }),
    options.pollIntervalMs ?? LIMITS.catalogPollIntervalMs,
  );
  poll.unref();
  // The edge threads' commits: announced from here, where the etcd client is.
  const fromEdges = new BroadcastChannel(channelOf(options.dataDir));
  fromEdges.onmessage = () => void announce();
  (fromEdges as unknown as { unref(): void }).unref();
  stops.push(
    () => clearInterval(poll),
    () => fromEdges.close(),
  );
  return { catalog, close: opened.close };
}

/**
 * An edge thread's catalog: the process's replica, its own PostgreSQL pool for writes. Closing
 * the catalog (Catalog.close) closes everything it opened.
 */
export async function openCatalogReplica(options: CatalogReplicaOptions): Promise<ClusterCatalog> {
  const toMain = new BroadcastChannel(channelOf(options.dataDir));
  (toMain as unknown as { unref(): void }).unref();
  const opened = await openReplica(
    options,
    async (version) => toMain.postMessage(version),
    () => toMain.close(),
  );
  return { catalog: opened.catalog, close: opened.close };
}

async function openReplica(
  options: CatalogReplicaOptions,
  onCommitted: (version: number) => Promise<void>,
  onClose: () => unknown = () => undefined,
): Promise<{ catalog: Catalog; replica: CatalogReplica; close(): Promise<void> }> {
  const owned = !(options.pg instanceof PgKvEnv);
  const pg = options.pg instanceof PgKvEnv ? options.pg : await PgKvEnv.open(options.pg);
  const local = openCatalogEnv(options.dataDir);
  const replica = new CatalogReplica(local, pg);
  const env = new ReplicatedKvEnv(local, pg, replica, onCommitted, async () => {
    await onClose();
    if (owned) await pg.close();
  });
  const catalog = Catalog.overReplica(env, replica);
  return { catalog, replica, close: () => catalog.close() };
}

/** The channel an edge thread tells its main thread of its commits on (one per data dir). */
function channelOf(dataDir: string): string {
  return `hangar-catalog-commits:${resolve(dataDir)}`;
}
