import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { badRequest } from '../errors.js';
import { queryParam } from '../validate.js';
import { nodeId } from './cluster.js';

/**
 * Garage's node-local endpoints (workers, blocks, repairs, node statistics) take `?node=` — a
 * node id, `self`, or `*` — and answer a MultiResponse `{ success: { <node id>: ... },
 * error: {} }`. hangar is one node: every accepted selector means this node.
 */
export async function onThisNode(
  state: AdminState,
  req: AdminRequest,
  work: () => unknown | Promise<unknown>,
): Promise<AdminReply> {
  const node = thisNode(state, req);
  return { json: { success: { [node]: await work() }, error: {} } };
}

/**
 * This node's id, once `?node=` is known to select it (else 400). Handlers that change anything
 * call it before they start, so a bad selector never leaves work done behind an error.
 */
export function thisNode(state: AdminState, req: AdminRequest): string {
  const node = queryParam(req.query, 'node');
  const self = nodeId(state);
  if (node !== 'self' && node !== '*' && node !== self) {
    throw badRequest(`node ${node} is not a node of this cluster (its one node is ${self})`);
  }
  return self;
}
