import type { Etcd3 } from 'etcd3';
import { electionLeaders } from './election.js';
import { type ClusterLayout, ClusterStateError, LayoutStore } from './layout.js';
import { listMembers, type MemberRecord } from './membership.js';

/** What `hangar cluster status` and the admin API's GetEtcdClusterStatus report. */
export interface ClusterStatus {
  readonly cluster: string;
  readonly clusterId: string;
  readonly layoutVersion: number;
  readonly created: string;
  readonly catalogVersion: number;
  readonly members: readonly MemberRecord[];
  readonly metadataShards: ReadonlyArray<{
    readonly id: number;
    readonly database: string;
    readonly targets: readonly string[];
    readonly buckets: number;
  }>;
  readonly blockPool: ClusterLayout['blockPool'];
  /** Election name → leading member's name; elections without candidates are absent. */
  readonly leaders: Readonly<Record<string, string>>;
}

export async function clusterStatus(client: Etcd3, clusterName: string): Promise<ClusterStatus> {
  const store = new LayoutStore(client, clusterName);
  const layout = await store.read();
  if (layout === null) {
    throw new ClusterStateError(
      `cluster '${clusterName}' has no layout (run 'hangar cluster init')`,
    );
  }
  const [loads, members, leaders, catalogVersion] = await Promise.all([
    store.loads(layout),
    listMembers(client, clusterName),
    electionLeaders(client, clusterName),
    store.catalogVersion(),
  ]);
  return {
    cluster: layout.name,
    clusterId: layout.clusterId,
    layoutVersion: layout.layoutVersion,
    created: new Date(layout.createdMs).toISOString(),
    catalogVersion,
    members: members.sort((a, b) => a.name.localeCompare(b.name)),
    metadataShards: layout.metadataShards.map((shard) => ({
      ...shard,
      buckets: loads[shard.id]?.buckets ?? 0,
    })),
    blockPool: layout.blockPool,
    leaders: Object.fromEntries([...leaders].sort(([a], [b]) => a.localeCompare(b))),
  };
}
