/**
 * What one shard worker of a gateway in cluster mode (issue 19) needs to reach its partition's
 * metadata and blocks. The main thread builds it from `[cluster]` and the etcd layout at boot and
 * hands it to every shard in ShardSettings.cluster; absent there, the shard is embedded (LMDB and
 * block files under the data directory).
 *
 * A gateway's shard i ("partition i") is the same partition on every gateway: the same schema
 * in the same PostgreSQL cluster and the same RADOS namespace. Several gateways thus write one
 * partition at once, and serialisation is PostgreSQL's (SERIALIZABLE), not the actor's.
 */
export interface ClusterShardSettings {
  /** The layout's cluster id: names what belongs to this cluster in shared engines. */
  readonly clusterId: string;
  /** This gateway's member name (logs, leases). */
  readonly gatewayName: string;
  readonly metadata: ClusterMetadataTarget;
  readonly blocks: ClusterBlockTarget;
}

/** The partition's PostgreSQL: a Patroni cluster's members, of which one is the primary. */
export interface ClusterMetadataTarget {
  readonly database: string;
  /** host:port of every member; the shard writes to whichever is the primary. */
  readonly targets: readonly string[];
  readonly user: string;
  /** null: no password (trust or peer authentication). */
  readonly password: string | null;
  /** The partition's schema name suffix (PgKvOptions.shard). */
  readonly shard: string;
}

/** The partition's RADOS namespace in the cluster's block pool. */
export interface ClusterBlockTarget {
  readonly cephConf: string;
  readonly pool: string;
  readonly namespace: string;
}
