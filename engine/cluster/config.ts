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
  roleName,
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
 *   pg_user = "hangar"                             # the role every metadata shard is reached as
 *   pg_password_file = "/etc/hangar/pg-password"   # its password (first line); absent: none
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
  /** The PostgreSQL role of every metadata shard (default "hangar"). */
  readonly pgUser: string;
  /** A file whose first line is that role's password; null: none (trust or peer auth). */
  readonly pgPasswordFile: string | null;
}

const KEYS = [
  'name',
  'etcd_endpoints',
  'gateway_name',
  's3_endpoint',
  'ceph_conf',
  'block_pool',
  'metadata_shards',
  'pg_user',
  'pg_password_file',
] as const;

/** The role gateways log in to PostgreSQL as when `pg_user` is not given. */
export const DEFAULT_PG_USER = 'hangar';

export function shardSpecOf(raw: unknown, where: string): ShardSpec {
  const table = record(raw, where);
  onlyKeys(table, ['database', 'targets'], where);
  return {
    database: databaseName(table['database'], `${where}.database`),
    targets: targets(table['targets'], `${where}.targets`),
  };
}

/** A path in the file: relative ones resolve against the file's directory. */
function pathOf(raw: unknown, base: string, where: string): string {
  return absolutePath(
    typeof raw === 'string' && !isAbsolute(raw) ? resolve(base, raw) : raw,
    where,
  );
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
    cephConf: optional(table['ceph_conf'], (v) => pathOf(v, base, 'cluster.ceph_conf')),
    blockPool: optional(table['block_pool'], (v) => poolName(v, 'cluster.block_pool')),
    pgUser: optional(table['pg_user'], (v) => roleName(v, 'cluster.pg_user')) ?? DEFAULT_PG_USER,
    pgPasswordFile: optional(table['pg_password_file'], (v) =>
      pathOf(v, base, 'cluster.pg_password_file'),
    ),
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
