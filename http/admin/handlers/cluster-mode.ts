import { ClusterLayoutError, ClusterStateError } from '../../../engine/cluster/layout.js';
import { ClusterMemberError } from '../../../engine/cluster/membership.js';
import { clusterStatus } from '../../../engine/cluster/status.js';
import type { AdminReply, AdminState } from '../context.js';
import { AdminError } from '../errors.js';

/**
 * GetClusterModeStatus: what `hangar cluster status --json` prints (engine/cluster/status.ts):
 * live gateways, metadata shards, block pool, election leaders, read from etcd. Only for a
 * server whose configuration has a [cluster] section. One etcd client per call: an admin call
 * is rare, and a long-lived client belongs to the cluster-mode server once it exists.
 */
export async function getClusterModeStatus(state: AdminState): Promise<AdminReply> {
  const cluster = state.server.config.cluster;
  if (cluster === null) {
    throw new AdminError(409, 'NotInClusterMode', 'this node has no [cluster] configuration');
  }
  // Loaded on first use: an embedded server never loads the gRPC client.
  const { connectEtcd, etcdFailure } = await import('../../../engine/cluster/etcd.js');
  const client = connectEtcd(cluster.etcdEndpoints);
  try {
    return { json: await clusterStatus(client, cluster.name) };
  } catch (error) {
    if (error instanceof ClusterStateError)
      throw new AdminError(404, 'NoClusterLayout', error.message);
    if (error instanceof ClusterLayoutError || error instanceof ClusterMemberError) {
      throw new AdminError(500, 'CorruptClusterLayout', error.message);
    }
    const failure = etcdFailure(error);
    if (failure !== null) throw new AdminError(503, 'EtcdUnavailable', failure);
    throw error;
  } finally {
    client.close();
  }
}
