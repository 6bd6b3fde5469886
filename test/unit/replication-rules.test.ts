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

test('SSE-KMS objects replicate only by rules that select them (SseKmsEncryptedObjects)', (t) => {
  const rules = [
    rule('plain', { priority: 1 }),
    rule('kms', { priority: 2, destination: 'vault', sseKms: true }),
  ];
  t.deepEqual(ids(ReplicationQueue.targetsOf(rules, 'k', [], undefined)), ['kms', 'plain']);
  t.deepEqual(ids(ReplicationQueue.targetsOf(rules, 'k', [], 's3')), ['kms', 'plain']);
  t.deepEqual(ids(ReplicationQueue.targetsOf(rules, 'k', [], 'kms')), ['kms']);
  t.deepEqual(ids(ReplicationQueue.targetsOf(rules, 'k', [], 'dsse')), ['kms']);
  // SSE-C objects are queued (and FAIL with their reason: hangar holds no customer key).
  t.deepEqual(ids(ReplicationQueue.targetsOf(rules, 'k', [], 'c')), ['kms', 'plain']);
});

test('a metadata change: replicas send back by ReplicaModifications only, statuses kept', (t) => {
  const record = {
    bytes: 3,
    etag: '"x"',
    lastModifiedMs: 0,
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: new Uint8Array(3),
  };
  const rules = [rule('back', { replicaModifications: true }), rule('no', { destination: 'b' })];
  const replica = { ...record, replication: 'REPLICA' as const };
  const change = ReplicationQueue.metadataChange(replica, rules, 'k');
  t.deepEqual(ids(change.targets), ['back']);
  t.is(change.op, 'meta');
  t.is(change.record, replica, 'a replica stays REPLICA, with no rows counted');
  const completed = { ...record, replication: 'COMPLETED' as const };
  const sent = ReplicationQueue.metadataChange(completed, rules, 'k');
  t.deepEqual(ids(sent.targets), ['back', 'no']);
  t.is(sent.op, 'meta');
  t.is(sent.record, completed, 'a replicated version stays COMPLETED');
  const failed = ReplicationQueue.metadataChange({ ...record, replication: 'FAILED' }, rules, 'k');
  t.is(failed.op, 'put', 'a FAILED version replicates again whole');
  t.is(failed.record.replication, 'PENDING');
  t.is(failed.record.replicationRows, 2);
  const queued = { ...record, replication: 'PENDING' as const, replicationRows: 1 };
  t.deepEqual(ReplicationQueue.metadataChange(queued, rules, 'k').targets, [], 'queued already');
  t.deepEqual(
    ReplicationQueue.metadataChange(record, rules, 'k').targets,
    [],
    'never replicated: a metadata change does not replicate it',
  );
});
