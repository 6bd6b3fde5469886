// Cluster mode's part of the boot (http/server.ts): the ClusterRuntime, and the singleton
// workers that run only while this gateway leads their job.
import type { ClusterConfig } from '../engine/cluster/config.js';
import type { SingletonJob } from '../engine/cluster/election.js';
import type { ClusterRuntime } from '../engine/cluster/runtime.js';
import type { Logger } from '../engine/log.js';
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
