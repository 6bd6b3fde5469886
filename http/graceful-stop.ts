import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { RequestGate } from './uws/connections.js';
import type { Listener } from './uws/listen.js';

/**
 * The first half of a clean stop (SIGTERM, SIGINT): stop accepting, let the requests in flight
 * finish within LIMITS.shutdownDrainMs, then close every connection left. The caller then stops
 * the workers and shards and closes the catalog.
 *
 * - Every listen socket closes at once: a new connection is refused (ECONNREFUSED), which a
 *   load balancer or a client's retry takes as "go elsewhere"; /health said 'stopping' first.
 * - A request already admitted runs to its end; its answer carries `Connection: close`.
 * - A request arriving on an already open keep-alive connection is refused with 503 and the
 *   connection closed (the gate admits nothing more), so the drain cannot be fed forever.
 *   uWS.js gives no list of idle connections: those that send nothing are closed when the drain
 *   ends, which is at once when nothing is in flight.
 *
 * An edge thread drains its own listeners and gates; `othersDrained` holds its open connections
 * until every edge thread's drain is over (the drain ends when the process's does), so a request
 * on an idle connection of a thread with nothing in flight is still answered 503, not dropped.
 */
export async function drainConnections(
  listeners: readonly Listener[],
  gates: readonly RequestGate[],
  logger: Logger,
  othersDrained: () => Promise<void>,
): Promise<void> {
  for (const listener of listeners) listener.close();
  const inFlight = gates.reduce((sum, gate) => sum + gate.inFlight, 0);
  if (inFlight > 0) {
    logger.info(
      { requests: inFlight, boundMs: LIMITS.shutdownDrainMs },
      'stopping: waiting for the requests in flight',
    );
  }
  const drained =
    (await withTimeout(Promise.all(gates.map((gate) => gate.drain())), LIMITS.shutdownDrainMs)) !==
    null;
  if (!drained) {
    const cut = gates.reduce((sum, gate) => sum + gate.cutRemaining(), 0);
    logger.warn(
      { requests: cut, boundMs: LIMITS.shutdownDrainMs },
      'stopping: the drain bound passed, the requests still in flight were cut',
    );
  }
  await othersDrained();
  for (const listener of listeners) listener.closeConnections();
}

/** What `promise` settles to, or null when `ms` pass first. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
