import { LIMITS } from '../../../engine/limits.js';
import { healthStatus } from '../../health.js';
import type { AdminReply, AdminState } from '../context.js';
import { pingShards } from './cluster.js';
import { diskSpace } from './disk.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function diskCheck(dataDir: string): Promise<Check & { freeBytes: number | null }> {
  try {
    const freeBytes = (await diskSpace(dataDir)).available;
    return {
      name: 'disk',
      ok: freeBytes >= LIMITS.readyFreeBytesMin,
      detail: `${freeBytes} bytes free on the data directory's filesystem (at least ${LIMITS.readyFreeBytesMin} needed)`,
      freeBytes,
    };
  } catch (error) {
    return {
      name: 'disk',
      ok: false,
      detail: `statfs failed: ${(error as Error).message}`,
      freeBytes: null,
    };
  }
}

function shardsDetail(count: number, down: number[], restarting: number[]): string {
  if (restarting.length > 0)
    return `shard actors ${restarting.join(', ')} are restarting after their thread died`;
  if (down.length > 0)
    return `shard actors ${down.join(', ')} did not answer within ${LIMITS.readyPingTimeoutMs} ms`;
  return `${count} shard actors answered`;
}

/**
 * GET /ready (no token): readiness for orchestrators, stricter than /health (liveness): 200 only
 * while the S3 endpoint serves, every shard actor answers a ping within 2 s (none is restarting
 * after its thread died), and the data directory's filesystem has room for writes; otherwise 503
 * naming each failing check.
 */
export async function readiness(state: AdminState): Promise<AdminReply> {
  const health = healthStatus();
  const [pings, disk] = await Promise.all([
    pingShards(state, LIMITS.readyPingTimeoutMs),
    diskCheck(state.server.config.dataDir),
  ]);
  const down = pings.flatMap((up, shard) => (up ? [] : [shard]));
  // A shard whose thread died is down until its successor serves, whatever a ping raced.
  const restarting = state.server.pool.clients.filter((c) => !c.up).map((c) => c.shardId);
  const checks: Check[] = [
    { name: 'serving', ok: health.status === 'ok', detail: `health is ${health.status}` },
    {
      name: 'shards',
      ok: down.length === 0 && restarting.length === 0,
      detail: shardsDetail(pings.length, down, restarting),
    },
    { name: disk.name, ok: disk.ok, detail: disk.detail },
  ];
  const ready = checks.every((check) => check.ok);
  return {
    status: ready ? 200 : 503,
    json: {
      status: ready ? 'ready' : 'not-ready',
      checks,
      reasons: checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`),
      freeBytes: disk.freeBytes,
      shards: pings.length,
    },
  };
}
