/**
 * Which rules a new version replicates by (engine/meta/replication-queue.ts): the filters, the
 * highest priority per destination, every destination once, delete markers only by rules that
 * replicate them. The shard applies exactly this inside the write's transaction.
 */
import test from 'ava';
import { ReplicationQueue } from '../../engine/meta/replication-queue.js';
import type { NotifyContext, ReplicationRule } from '../../engine/protocol/messages.js';

function rule(id: string, fields: Partial<ReplicationRule>): ReplicationRule {
  return {
    id,
    priority: 0,
    prefix: '',
    tags: [],
    deleteMarkers: false,
    destination: 'dest',
    ...fields,
  };
}

const RULES: ReplicationRule[] = [
  rule('low', { priority: 1, prefix: 'logs/' }),
  rule('high', { priority: 5, prefix: 'logs/', storageClass: 'STANDARD_IA' }),
  rule('tagged', { priority: 9, tags: [{ key: 'keep', value: 'yes' }], destination: 'archive' }),
  rule('markers', { priority: 2, prefix: 'docs/', deleteMarkers: true, destination: 'other' }),
];

const ids = (rules: readonly ReplicationRule[]): string[] => rules.map((r) => r.id).sort();

test('the highest-priority matching rule of each destination applies', (t) => {
  t.deepEqual(ids(ReplicationQueue.targetsOf(RULES, 'logs/a', [])), ['high']);
  t.deepEqual(ids(ReplicationQueue.targetsOf(RULES, 'logs/a', [{ key: 'keep', value: 'yes' }])), [
    'high',
    'tagged',
  ]);
  t.deepEqual(ids(ReplicationQueue.targetsOf(RULES, 'x', [{ key: 'keep', value: 'no' }])), []);
  t.deepEqual(ids(ReplicationQueue.targetsOf(RULES, 'docs/r', [])), ['markers']);
  t.deepEqual(ReplicationQueue.targetsOf(undefined, 'logs/a', []), []);
});

test('delete markers replicate only by rules that say so', (t) => {
  const context = { replication: RULES } as NotifyContext;
  t.deepEqual(ids(ReplicationQueue.markerTargetsOf(context, 'docs/r')), ['markers']);
  t.deepEqual(ids(ReplicationQueue.markerTargetsOf(context, 'logs/a')), []);
  t.deepEqual(ReplicationQueue.markerTargetsOf(undefined, 'docs/r'), []);
});

test('a queued version is PENDING and counts its rows', (t) => {
  const record = {
    bytes: 0,
    etag: '"x"',
    lastModifiedMs: 0,
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: new Uint8Array(0),
  };
  t.is(ReplicationQueue.pendingRecord(record, []), record);
  const pending = ReplicationQueue.pendingRecord(record, [
    RULES[0] as ReplicationRule,
    RULES[2] as ReplicationRule,
  ]);
  t.is(pending.replication, 'PENDING');
  t.is(pending.replicationRows, 2);
});
