import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { ShardSupervisor } from '../engine/pool/shard-pool.js';

/** The exit status when shard threads keep dying (EX_SOFTWARE): the service manager restarts. */
export const EXIT_SHARDS_DYING = 70;

/**
 * The server's answer to shard deaths: log each one (the pool has failed its requests and is
 * restarting it), and when they repeat (LIMITS.shardDeathsMax within shardDeathWindowMs) end the
 * process non-zero. A process whose threads keep dying is sick in a way an in-place restart does
 * not cure (memory, a poisoned partition); a fresh process under a service manager may be.
 */
export function superviseShards(logger: Logger): ShardSupervisor {
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
      process.exit(EXIT_SHARDS_DYING);
    },
  };
}
