// Cluster mode's part of the boot (http/server.ts): the ClusterRuntime, and the singleton
// workers that run only while this gateway leads their job.
import type { Catalog } from '../engine/catalog/catalog.js';
import type { ClusterConfig } from '../engine/cluster/config.js';
import type { SingletonJob } from '../engine/cluster/election.js';
import type { ClusterRuntime } from '../engine/cluster/runtime.js';
import type { Logger } from '../engine/log.js';
import type { PgKvOptions } from '../engine/meta/pg-kv/env.js';
import type { ShardPool } from '../engine/pool/shard-pool.js';
import type { SingletonWorker } from '../engine/workers/worker.js';
import type { EdgeCluster } from './edge/protocol.js';

/** A configuration error the operator must fix (the message says how): the server does not start. */
export class ClusterBootError extends Error {
  override name = 'ClusterBootError';
}

/**
 * Opens the cluster (etcd, layout, partition count) before any shard starts: a cluster that is
 * not initialised, a partition count other gateways do not run, or an etcd that does not answer
 * stops the boot with a message that says which.
 */
export async function openCluster(
  config: ClusterConfig,
  partitions: number,
  logger: Logger,
): Promise<ClusterRuntime> {
  const [{ ClusterRuntime }, { etcdFailure }] = await Promise.all([
    import('../engine/cluster/runtime.js'),
    import('../engine/cluster/etcd.js'),
  ]);
  try {
    const runtime = await ClusterRuntime.open(config, { partitions, logger });
    logger.info(
      {
        cluster: config.name,
        clusterId: runtime.layout.clusterId,
        gateway: runtime.gatewayName,
        partitions,
        metadataShards: runtime.layout.metadataShards.length,
      },
      'cluster layout read',
    );
    return runtime;
  } catch (error) {
    const failure = etcdFailure(error);
    if (failure !== null) {
      throw new ClusterBootError(
        `cluster '${config.name}': etcd at ${config.etcdEndpoints.join(', ')}: ${failure}`,
      );
    }
    if (error instanceof Error && error.name === 'ClusterStateError') {
      throw new ClusterBootError(error.message);
    }
    throw error;
  }
}

/**
 * The cluster's catalog (engine/catalog/cluster-catalog.ts): in PostgreSQL with metadata shard
 * 0's members, this gateway's LMDB catalog as its synchronous replica, kept current by the
 * catalog version in etcd. Returns the options the edge threads open their handles with.
 */
export async function openCatalogOf(
  runtime: ClusterRuntime,
  dataDir: string,
  masterKeyFile: string | null,
  logger: Logger,
): Promise<{ catalog: Catalog; pg: PgKvOptions }> {
  const { catalogPgOptionsOf, openClusterCatalog } = await import(
    '../engine/catalog/cluster-catalog.js'
  );
  const { shard: _partitionSchema, ...members } = runtime.metadataOf(0);
  const pg = catalogPgOptionsOf(members, runtime.config.name);
  const { catalog } = await openClusterCatalog({
    dataDir,
    pg,
    etcd: { client: runtime.etcd, clusterName: runtime.config.name },
    sse: { masterKeyFile },
    log: logger,
  });
  return { catalog, pg };
}

/**
 * The leader's block GC (cluster-design §4.4), run by the `orphan-gc` job: each partition's
 * collection of blocks long unreferenced, then its sweep of RADOS objects no row names.
 */
export function collectBlocksOnLeader(
  runtime: ClusterRuntime,
  pool: ShardPool,
  logger: Logger,
): void {
  runtime.setBlockGc(async () => {
    for (const shard of pool.clients) {
      const collected = await shard.call(
        { kind: 'CollectBlocks', nowMs: Date.now() },
        'BlocksCollected',
      );
      const swept = await shard.call(
        { kind: 'SweepOrphanBlocks', nowMs: Date.now() },
        'OrphanBlocksSwept',
      );
      if (collected.removed > 0 || swept.removed > 0) {
        logger.info({ shard: shard.shardId, collected, swept }, 'cluster: block GC pass');
      }
    }
  });
}

/** What the edge threads are given: the write gate and every partition's PostgreSQL. */
export function edgeClusterOf(runtime: ClusterRuntime): EdgeCluster {
  return {
    gatewayName: runtime.gatewayName,
    writeGate: runtime.writeGate.buffer,
    metadata: Array.from({ length: runtime.partitions }, (_, i) => runtime.metadataOf(i)),
  };
}

/**
 * Makes `worker` run only while this gateway leads `job`, and start at once when it becomes
 * the leader. Call before the worker starts (its first pass is gated too).
 */
export function runWhileLeading(
  runtime: ClusterRuntime | null,
  job: SingletonJob,
  worker: SingletonWorker,
): void {
  if (runtime === null) return;
  worker.gate(() => runtime.isLeader(job));
  runtime.onLeadership(job, (leading) => {
    if (leading) worker.wake();
  });
}
