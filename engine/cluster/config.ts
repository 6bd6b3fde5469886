import { isAbsolute, resolve } from 'node:path';
import { LIMITS } from '../limits.js';
import {
  absolutePath,
  ClusterValueError,
  clusterName,
  databaseName,
  etcdEndpoint,
  httpUrl,
  list,
  memberName,
  onlyKeys,
  poolName,
  record,
  targets,
} from './validate.js';

/**
 * The `[cluster]` section of hangar.toml (or of the file `--cluster FILE` names): where etcd is,
 * which cluster this gateway belongs to, and what `hangar cluster init` writes into a new layout.
 *
 *   [cluster]
 *   name = "main"                                  # etcd keys live under /hangar/main/
 *   etcd_endpoints = ["127.0.0.1:2379", "127.0.0.1:22379"]
 *   gateway_name = "n1"                            # default: the host name
 *   s3_endpoint = "http://10.0.0.1:3900"          # what `join` advertises
 *   ceph_conf = "/etc/ceph/ceph.conf"              # init only: the block pool
 *   block_pool = "hangar.blocks"
 *   [[cluster.metadata_shards]]                    # init only, shard ids 0, 1, ... in order
 *   database = "hangar"
 *   targets = ["127.0.0.1:5441", "127.0.0.1:5442", "127.0.0.1:5443"]
 */

export interface ShardSpec {
  /** The PostgreSQL database every member of this Patroni cluster serves. */
  readonly database: string;
  /** host:port of every Patroni member; clients find the primary among them. */
  readonly targets: readonly string[];
}

export interface ClusterConfig {
  readonly name: string;
  readonly etcdEndpoints: readonly string[];
  /** This gateway's member name; null = the host name. */
  readonly gatewayName: string | null;
  /** The S3 URL this gateway advertises; null = derived from [s3] host and port. */
  readonly s3Endpoint: string | null;
  readonly metadataShards: readonly ShardSpec[];
  readonly cephConf: string | null;
  readonly blockPool: string | null;
}

const KEYS = [
  'name',
  'etcd_endpoints',
  'gateway_name',
  's3_endpoint',
  'ceph_conf',
  'block_pool',
  'metadata_shards',
] as const;

export function shardSpecOf(raw: unknown, where: string): ShardSpec {
  const table = record(raw, where);
  onlyKeys(table, ['database', 'targets'], where);
  return {
    database: databaseName(table['database'], `${where}.database`),
    targets: targets(table['targets'], `${where}.targets`),
  };
}

function optional<T>(raw: unknown, check: (raw: unknown) => T): T | null {
  return raw === undefined ? null : check(raw);
}

/**
 * Parses a `[cluster]` table; relative paths resolve against `base` (the file's directory).
 * Throws ClusterValueError naming the key.
 */
export function parseClusterSection(raw: unknown, base: string): ClusterConfig {
  const table = record(raw, 'cluster');
  onlyKeys(table, KEYS, 'cluster');
  const endpoints = list(table['etcd_endpoints'], 'cluster.etcd_endpoints', 64);
  if (endpoints.length === 0) throw new ClusterValueError('cluster.etcd_endpoints: none given');
  const shards = list(
    table['metadata_shards'] ?? [],
    'cluster.metadata_shards',
    LIMITS.clusterShardsMax,
  );
  return {
    name: clusterName(table['name'], 'cluster.name'),
    etcdEndpoints: endpoints.map((e, i) => etcdEndpoint(e, `cluster.etcd_endpoints[${i}]`)),
    gatewayName: optional(table['gateway_name'], (v) => memberName(v, 'cluster.gateway_name')),
    s3Endpoint: optional(table['s3_endpoint'], (v) => httpUrl(v, 'cluster.s3_endpoint')),
    metadataShards: shards.map((s, i) => shardSpecOf(s, `cluster.metadata_shards[${i}]`)),
    cephConf: optional(table['ceph_conf'], (v) =>
      absolutePath(
        typeof v === 'string' && !isAbsolute(v) ? resolve(base, v) : v,
        'cluster.ceph_conf',
      ),
    ),
    blockPool: optional(table['block_pool'], (v) => poolName(v, 'cluster.block_pool')),
  };
}

/** `hangar cluster init --shard`: "database@host:port,host:port". */
export function shardSpecOfFlag(text: string): ShardSpec {
  const at = text.indexOf('@');
  if (at < 0)
    throw new ClusterValueError(`--shard must be database@host:port[,host:port...], not '${text}'`);
  return shardSpecOf(
    { database: text.slice(0, at), targets: text.slice(at + 1).split(',') },
    `--shard '${text}'`,
  );
}
