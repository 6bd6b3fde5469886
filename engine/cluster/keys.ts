import type { Etcd3, Namespace } from 'etcd3';

/**
 * Where cluster mode's keys live in etcd. Type-only imports of etcd3 here and in the other
 * modules of engine/cluster: the client library (gRPC, protobuf: most of a second to load) is
 * loaded by etcd.ts alone, so `hangar` commands and servers that never talk to etcd never pay it.
 */

/** Every key of cluster `name` lives under this prefix. */
export function clusterPrefix(name: string): string {
  return `/hangar/${name}/`;
}

/** The client scoped to one cluster's keys. */
export function clusterNamespace(client: Etcd3, name: string): Namespace {
  return client.namespace(clusterPrefix(name));
}

/** The key names under the cluster prefix, in one place. */
export const KEYS = {
  layout: 'layout',
  catalogVersion: 'catalog-version',
  partitions: 'partitions',
  bucket: (bucket: string) => `buckets/${bucket}`,
  bucketsPrefix: 'buckets/',
  shardLoad: (id: number) => `shard-load/${id}`,
  shardLoadPrefix: 'shard-load/',
  member: (name: string) => `members/${name}`,
  membersPrefix: 'members/',
  electionsPrefix: 'elections/',
  election: (name: string) => `elections/${name}/`,
} as const;
