import { Etcd3, type Namespace } from 'etcd3';
import { LIMITS } from '../limits.js';

/**
 * The one way hangar opens an etcd client: every unary call has a deadline (a call to a
 * stopped etcd must fail, not hang a CLI or a placement forever); streams (watches, lease
 * keepalives) have none, they are watched by their own timers.
 */
export function connectEtcd(endpoints: readonly string[]): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`)),
    dialTimeout: LIMITS.clusterEtcdCallTimeoutMs,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + LIMITS.clusterEtcdCallTimeoutMs },
  });
}

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
  bucket: (bucket: string) => `buckets/${bucket}`,
  bucketsPrefix: 'buckets/',
  shardLoad: (id: number) => `shard-load/${id}`,
  shardLoadPrefix: 'shard-load/',
  member: (name: string) => `members/${name}`,
  membersPrefix: 'members/',
  electionsPrefix: 'elections/',
  election: (name: string) => `elections/${name}/`,
} as const;
