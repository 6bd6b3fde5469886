import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { ShardSupervisor } from '../engine/pool/shard-pool.js';
import type { EdgeSupervisor } from './edge-threads.js';

/** The exit status when shard threads keep dying (EX_SOFTWARE): the service manager restarts. */
export const EXIT_SHARDS_DYING = 70;

/**
 * The server's answer to shard deaths: log each one (the pool has failed its requests and is
 * restarting it), and when they repeat (LIMITS.shardDeathsMax within shardDeathWindowMs) end the
 * process non-zero. A process whose threads keep dying is sick in a way an in-place restart does
 * not cure (memory, a poisoned partition); a fresh process under a service manager may be.
 */
export function superviseShards(
  logger: Logger,
  beforeExit: () => Promise<void> = () => Promise.resolve(),
): ShardSupervisor {
  return {
    onDeath: (shardId, error) => {
      logger.error(
        { shardId, err: error },
        'shard thread died: its requests failed, restarting it',
      );
    },
    onRestarted: (shardId) => {
      logger.warn({ shardId }, 'shard thread restarted');
    },
    onGiveUp: (shardId, error) => {
      logger.fatal(
        {
          shardId,
          err: error,
          deathsMax: LIMITS.shardDeathsMax,
          windowMs: LIMITS.shardDeathWindowMs,
        },
        'shard threads keep dying: exiting for the service manager to restart hangar',
      );
      // The edge threads end first: the process must not exit with them running (see
      // http/edge-threads.ts).
      void beforeExit().finally(() => process.exit(EXIT_SHARDS_DYING));
    },
  };
}

/** The same answer to edge thread deaths (http/edge-threads.ts): log, restart, or exit 70. */
export function superviseEdges(logger: Logger): EdgeSupervisor {
  return {
    onDeath: (edge, reason) => {
      logger.error({ edge, reason }, 'edge thread died: its requests failed, restarting it');
    },
    onRestarted: (edge) => {
      logger.warn({ edge }, 'edge thread restarted');
    },
    onGiveUp: (edge, reason) => {
      logger.fatal(
        { edge, reason, deathsMax: LIMITS.shardDeathsMax, windowMs: LIMITS.shardDeathWindowMs },
        'edge threads keep dying: exiting for the service manager to restart hangar',
      );
      process.exit(EXIT_SHARDS_DYING);
    },
  };
}
