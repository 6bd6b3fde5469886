import { type LocalBlockWorkers, WorkerVariableError } from '../../../engine/workers/registry.js';
import type { ScrubCommand } from '../../../engine/workers/scrub.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest } from '../errors.js';
import { body, object, optionalBoolean, string } from '../validate.js';
import { onThisNode, thisNode } from './node-scope.js';

/** ListWorkers?node=: body { busyOnly?, errorOnly? }. */
export async function listWorkers(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body ?? {}, ['busyOnly', 'errorOnly']);
  const busyOnly = optionalBoolean(b, 'busyOnly') ?? false;
  const errorOnly = optionalBoolean(b, 'errorOnly') ?? false;
  await state.workers.refresh();
  return onThisNode(state, req, () =>
    state.workers
      .list()
      .filter((w) => !busyOnly || w.state === 'busy' || typeof w.state === 'object')
      .filter((w) => !errorOnly || w.errors > 0),
  );
}

/**
 * The scrub and the orphan sweep, which only an embedded node runs: a cluster gateway has no
 * block files (Ceph scrubs the RADOS objects; the orphan-gc leader collects them).
 */
function localBlockWorkers(state: AdminState): LocalBlockWorkers {
  const local = state.workers.localBlocks;
  if (local === null) {
    throw new AdminError(
      409,
      'InClusterMode',
      'block scrub and orphan cleanup work on local block files; in cluster mode Ceph scrubs the blocks and the orphan-gc leader collects them',
    );
  }
  return local;
}

/** GetWorkerInfo?node=: body { id }. */
export async function getWorkerInfo(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body, ['id']);
  const id = b['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    throw badRequest(`body.id ${id === undefined ? 'is required' : 'must be an integer'}`);
  }
  await state.workers.refresh();
  const info = state.workers.get(id);
  if (info === undefined) throw new AdminError(404, 'NoSuchWorker', `no worker with id ${id}`);
  return onThisNode(state, req, () => info);
}

function variableError(error: unknown): unknown {
  if (!(error instanceof WorkerVariableError)) return error;
  return error.reason === 'unknown'
    ? new AdminError(404, 'NoSuchWorkerVariable', error.message)
    : badRequest(error.message);
}

/** GetWorkerVariable?node=: body { variable? } (absent or null: all of them). */
export function getWorkerVariable(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body ?? {}, ['variable']);
  const variable =
    b['variable'] === undefined || b['variable'] === null ? null : string(b, 'variable');
  try {
    const values = state.workers.getVariables(variable);
    return onThisNode(state, req, () => values);
  } catch (error) {
    throw variableError(error);
  }
}

/** SetWorkerVariable?node=: body { variable, value }. */
export async function setWorkerVariable(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  thisNode(state, req);
  const b = body(req.body, ['variable', 'value']);
  const variable = string(b, 'variable');
  const value = string(b, 'value');
  try {
    const now = await state.workers.setVariable(variable, value);
    return onThisNode(state, req, () => ({ variable, value: now }));
  } catch (error) {
    throw variableError(error);
  }
}

const SCRUB_COMMANDS: readonly ScrubCommand[] = ['start', 'pause', 'resume', 'cancel'];
/** Garage's repair types that mean nothing on one node with one copy of each block. */
const NOT_APPLICABLE = [
  'tables',
  'versions',
  'multipartUploads',
  'blockRefs',
  'blockRc',
  'rebalance',
];

/**
 * LaunchRepairOperation?node=: body { repairType }, Garage's values where they apply:
 * `{"scrub": "start"|"pause"|"resume"|"cancel"}`, `"blocks"` (orphan-block cleanup pass), and
 * hangar's `"lifecycle"` (apply every bucket's lifecycle rules now), `"replication"` (queue
 * again what replication destinations lack) and `"inventory"` (write every enabled inventory
 * report now). Starts the work and answers
 * at once; ListWorkers shows its progress.
 */
export function launchRepairOperation(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  thisNode(state, req);
  const b = body(req.body, ['repairType']);
  const repair = b['repairType'];
  if (repair === 'blocks') {
    void localBlockWorkers(state)
      .orphans.runNow()
      .catch(() => undefined);
    return onThisNode(state, req, () => ({}));
  }
  if (repair === 'lifecycle') {
    void state.workers.lifecycleNow().catch(() => undefined);
    return onThisNode(state, req, () => ({}));
  }
  if (repair === 'replication') {
    void state.workers.replicationRepairNow().catch(() => undefined);
    return onThisNode(state, req, () => ({}));
  }
  if (repair === 'inventory') {
    void state.workers.inventoryNow().catch(() => undefined);
    return onThisNode(state, req, () => ({}));
  }
  if (typeof repair === 'string' && NOT_APPLICABLE.includes(repair)) {
    throw badRequest(
      `repairType ${repair} does not apply to hangar (one node, one copy of each block); use "blocks", {"scrub": ...}, "lifecycle" or "replication"`,
    );
  }
  if (typeof repair === 'object' && repair !== null && !Array.isArray(repair)) {
    const r = object(repair, 'body.repairType');
    const command = r['scrub'];
    if (Object.keys(r).length === 1 && SCRUB_COMMANDS.includes(command as ScrubCommand)) {
      return onThisNode(state, req, async () => {
        await localBlockWorkers(state).scrub.command(command as ScrubCommand);
        return {};
      });
    }
  }
  throw badRequest(
    'body.repairType must be "blocks", "lifecycle", "replication", "inventory" or {"scrub": "start" | "pause" | "resume" | "cancel"}',
  );
}
