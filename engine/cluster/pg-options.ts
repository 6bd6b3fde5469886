import type { PgKvOptions } from '../meta/pg-kv/env.js';
import type { ClusterMetadataTarget } from './shard-settings.js';

export interface PgOpener {
  /** Shown by PostgreSQL (pg_stat_activity): which gateway and which part of it. */
  readonly applicationName?: string;
  /** Connections this opener may hold at once (absent: LIMITS.pgKvPoolConnectionsMax). */
  readonly poolMax?: number;
}

/**
 * How a gateway reaches a partition's PostgreSQL (PgKvOptions for PgKvEnv.open), in one place
 * for every opener (shards, edge-thread readers): the Patroni members, whose primary PgKvEnv
 * finds and follows across failovers (engine/meta/pg-kv/primary.ts).
 */
export function pgKvOptionsOf(target: ClusterMetadataTarget, opener: PgOpener): PgKvOptions {
  return {
    shard: target.shard,
    connection: {
      primaryOf: {
        targets: target.targets,
        base: {
          database: target.database,
          user: target.user,
          ...(target.password === null ? {} : { password: target.password }),
          ...(opener.applicationName === undefined
            ? {}
            : { application_name: opener.applicationName }),
          ...(opener.poolMax === undefined ? {} : { max: opener.poolMax }),
        },
      },
    },
  };
}
