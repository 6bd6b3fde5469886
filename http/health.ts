/**
 * The process's health as the admin API's GET /health reports it: 'starting' until the S3
 * endpoint listens, 'ok' while it serves, 'stopping' once a clean stop began (load balancers
 * should stop sending requests then). http/server.ts moves it along.
 */
export type HealthState = 'ok' | 'starting' | 'stopping';

export interface HealthStatus {
  status: HealthState;
  /** Seconds since this process started. */
  uptimeSeconds: number;
  /** Shard actors serving (0 until the server started). */
  shards: number;
}

let state: HealthState = 'starting';
let shards = 0;

export function setHealth(next: HealthState, shardCount?: number): void {
  state = next;
  if (shardCount !== undefined) shards = shardCount;
}

export function healthStatus(): HealthStatus {
  return { status: state, uptimeSeconds: Math.round(process.uptime()), shards };
}
