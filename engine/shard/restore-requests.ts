import type { ShardRequest, ShardResult } from '../protocol/messages.js';
import type { ShardCore } from './shard-core.js';

/* A shard's RestoreObject and the restore worker's steps (engine/meta/restores.ts). */

export async function restoreObject(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'RestoreObject' }>,
): Promise<ShardResult> {
  const { kind: _kind, reqId: _reqId, ...ask } = request;
  const { started, record } = await core.meta.restores.request(ask);
  if (core.settings.durable) await core.meta.flushed();
  return {
    kind: 'Restore',
    started,
    ...(record.versionId !== undefined ? { versionId: record.versionId } : {}),
  };
}

export async function settleRestores(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'SettleRestores' }>,
): Promise<ShardResult> {
  const done = await core.meta.restores.settle(request.nowMs, request.rows, request.notify);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'RestoresSettled', ...done };
}
