import type { PgKvOptions } from '../meta/pg-kv/env.js';
import type { ClusterMetadataTarget } from './shard-settings.js';

/**
 * How a gateway reaches a partition's PostgreSQL (PgKvOptions for PgKvEnv.open), in one place
 * for every opener (edge-thread readers, shards). For now the first of the targets: finding
 * the Patroni primary among them, and following it through a failover, belongs here.
 * `poolMax`: connections this opener may hold at once.
 */
export function pgKvOptionsOf(target: ClusterMetadataTarget, poolMax: number): PgKvOptions {
  const first = target.targets[0];
  if (first === undefined) throw new Error('a metadata shard has at least one target');
  const { host, port } = splitHostPort(first);
  return {
    shard: target.shard,
    connection: {
      host,
      port,
      database: target.database,
      user: target.user,
      ...(target.password === null ? {} : { password: target.password }),
      max: poolMax,
    },
  };
}

/** "host:port" or "[v6]:port" (validated when the layout was read). */
function splitHostPort(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon);
  return {
    host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host,
    port: Number(target.slice(colon + 1)),
  };
}
