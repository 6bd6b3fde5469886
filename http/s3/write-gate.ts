import type { ServerState } from './context.js';
import type { Endpoint } from './endpoints.js';
import { S3Error } from './errors.js';

/**
 * Cluster mode's split-brain guard at the S3 edge: while this gateway cannot prove its etcd
 * lease alive (engine/cluster/membership.ts canWrite), another gateway may soon take over its
 * leaderships and nothing tells this one it was cut off, so it refuses every S3 write with 503
 * ServiceUnavailable (clients retry, elsewhere or later) and keeps serving reads. Checked once
 * per request, after routing and before authentication: a refused write costs no signature
 * check, no body, no shard message. Embedded servers have no gate.
 */
export function refuseWriteWhileFenced(
  state: ServerState,
  method: string,
  endpoint: Endpoint,
): void {
  const gate = state.writeGate;
  if (gate === undefined || !isWrite(method, endpoint) || gate.open()) return;
  throw new S3Error('ServiceUnavailable');
}

/**
 * What changes state: every PUT, POST and DELETE (objects, uploads, bucket configurations,
 * DeleteObjects, RestoreObject, PostObject), except SelectObjectContent, a read sent as a POST.
 */
function isWrite(method: string, endpoint: Endpoint): boolean {
  if (method !== 'PUT' && method !== 'POST' && method !== 'DELETE') return false;
  return endpoint.action !== 'SelectObjectContent';
}
