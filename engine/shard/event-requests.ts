import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type {
  OutboxMessage,
  ReplicationEntry,
  ReplicationSettlement,
  ShardResult,
} from '../protocol/messages.js';
import type { ShardCore } from './shard-core.js';

/*
 * The shard side of event notifications (its outbox, read and acknowledged by
 * http/notify-delivery.ts) and of bucket replication (its queue, worked by the replication
 * worker). Rows are written with the changes that cause them (engine/meta); these requests only
 * read and settle them.
 */

export function readOutbox(core: ShardCore, limit: number): ShardResult {
  return {
    kind: 'OutboxRead',
    entries: core.meta.outboxEntries(limit),
    pending: core.meta.outbox.pending(),
  };
}

/** Removes delivered events; durably, or a restart would deliver them again (harmless). */
export async function ackOutbox(core: ShardCore, ids: readonly string[]): Promise<ShardResult> {
  const removed = await core.meta.ackOutbox(ids);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'OutboxAcked', removed };
}

/** Records whole messages; durably: the answer promises their delivery. */
export async function recordOutbox(
  core: ShardCore,
  messages: readonly OutboxMessage[],
): Promise<ShardResult> {
  assert(messages.length <= LIMITS.notifyRulesMax, 'one test message per configuration at most');
  const written = await core.meta.recordOutbox(messages);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'OutboxRecorded', written };
}

export function readReplication(core: ShardCore, limit: number): ShardResult {
  return {
    kind: 'ReplicationRead',
    entries: core.meta.replicationEntries(limit),
    pending: core.meta.replication.pending(),
    byRule: core.meta.replication.pendingByRule(),
  };
}

export async function settleReplication(
  core: ShardCore,
  settled: ReplicationSettlement[],
): Promise<ShardResult> {
  const removed = await core.meta.settleReplication(settled);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'ReplicationSettled', removed };
}

export async function noteReplicationAttempts(
  core: ShardCore,
  id: string,
  attempts: number,
): Promise<ShardResult> {
  const noted = await core.meta.noteReplicationAttempts(id, attempts);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'ReplicationAttemptsNoted', noted };
}

export async function noteReplicationUpload(
  core: ShardCore,
  id: string,
  uploadId: string,
): Promise<ShardResult> {
  const noted = await core.meta.noteReplicationUpload(id, uploadId);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'ReplicationAttemptsNoted', noted };
}

export async function requeueReplication(
  core: ShardCore,
  entries: Array<Omit<ReplicationEntry, 'id' | 'createdMs'>>,
): Promise<ShardResult> {
  const added = await core.meta.requeueReplication(entries);
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'ReplicationQueued', added };
}
