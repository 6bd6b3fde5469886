import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { type ClusterConfig, parseClusterSection } from '../../engine/cluster/config.js';
import { SINGLETON_JOBS } from '../../engine/cluster/election.js';
import { connectEtcd } from '../../engine/cluster/etcd.js';
import { ClusterStateError, LayoutStore } from '../../engine/cluster/layout.js';
import { listMembers } from '../../engine/cluster/membership.js';
import { ClusterRuntime, partitionSchemaName } from '../../engine/cluster/runtime.js';
import { EtcdMember } from '../helpers/etcd-member.js';

/**
 * ClusterRuntime (engine/cluster/runtime.ts) against a real etcd member on helper edge's ports:
 * the boot checks (uninitialised cluster, partition count), what each partition is told, the
 * singleton jobs' leadership and failover, the block GC slot and the write gate.
 * Serial: one test pauses the etcd the others use.
 */

const TTL_S = 2;
const SHARDS = [
  { database: 'meta_a', targets: ['127.0.0.1:5441', '127.0.0.1:5442'] },
  { database: 'meta_b', targets: ['127.0.0.1:5444'] },
];
const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'hangar-runtime-'));
let etcd: EtcdMember;
let client: Etcd3;
const running: ClusterRuntime[] = [];

test.before(async () => {
  etcd = await EtcdMember.start(12579);
  client = connectEtcd([etcd.endpoint]);
});

test.after.always(async () => {
  for (const runtime of running) await runtime.stop().catch(() => undefined);
  client?.close();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configOf(
  name: string,
  gateway: string,
  extra: Record<string, unknown> = {},
): ClusterConfig {
  return parseClusterSection(
    { name, etcd_endpoints: [etcd.endpoint], gateway_name: gateway, ...extra },
    dir,
  );
}

async function initLayout(name: string, partitions?: number) {
  return new LayoutStore(client, name).init({
    metadataShards: SHARDS,
    cephConf: '/etc/ceph/ceph.conf',
    pool: 'hangar.blocks',
    ...(partitions === undefined ? {} : { partitions }),
  });
}

async function start(config: ClusterConfig, partitions: number): Promise<ClusterRuntime> {
  const runtime = await ClusterRuntime.start(config, {
    partitions,
    logger,
    leaseTtlS: TTL_S,
    s3Endpoint: 'http://127.0.0.1:9000',
  });
  running.push(runtime);
  return runtime;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const startMs = Date.now();
  while (!check()) {
    if (Date.now() - startMs > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - startMs;
}

test.serial('a cluster nobody initialised is refused, naming the command that does', async (t) => {
  await t.throwsAsync(ClusterRuntime.open(configOf('never', 'gw'), { partitions: 2, logger }), {
    instanceOf: ClusterStateError,
    message: /cluster 'never' has no layout \(run 'hangar cluster init'\)/,
  });
});

test.serial('partition i: metadata shard i mod K, its schema, its RADOS namespace', async (t) => {
  const layout = await initLayout('boot');
  const passwordFile = join(dir, 'pg-password');
  writeFileSync(passwordFile, 's3cret\nnot part of it\n');
  const runtime = await start(
    configOf('boot', 'gw-1', { pg_user: 'gateway', pg_password_file: passwordFile }),
    3,
  );
  t.true(runtime.canWrite());
  t.true(runtime.writeGate.open());
  t.is(runtime.partitions, 3);
  t.deepEqual(
    runtime
      .allShardSettings()
      .map((s) => [s.metadata.database, s.metadata.shard, s.blocks.namespace]),
    [
      ['meta_a', 'boot_0', `${layout.clusterId}/0`],
      ['meta_b', 'boot_1', `${layout.clusterId}/1`],
      ['meta_a', 'boot_2', `${layout.clusterId}/2`],
    ],
  );
  const first = runtime.shardSettings(0);
  t.deepEqual(first.metadata.targets, SHARDS[0]?.targets);
  t.is(first.metadata.user, 'gateway');
  t.is(first.metadata.password, 's3cret');
  t.is(first.clusterId, layout.clusterId);
  t.is(first.gatewayName, 'gw-1');
  t.deepEqual(first.blocks, {
    cephConf: '/etc/ceph/ceph.conf',
    pool: 'hangar.blocks',
    namespace: `${layout.clusterId}/0`,
  });
  t.deepEqual(
    (await listMembers(client, 'boot')).map((m) => [m.name, m.s3Endpoint]),
    [['gw-1', 'http://127.0.0.1:9000']],
  );
  // The first gateway set the count: another with a different one does not boot.
  await t.throwsAsync(ClusterRuntime.open(configOf('boot', 'gw-2'), { partitions: 4, logger }), {
    instanceOf: ClusterStateError,
    message: /cluster 'boot' runs 3 partitions but this gateway would run 4/,
  });
  await runtime.stop();
  t.false(runtime.canWrite());
  t.false(runtime.writeGate.open());
  t.deepEqual(await listMembers(client, 'boot'), [], 'leaving removes the member at once');
});

test.serial('the partition count init writes binds the first gateway too', async (t) => {
  await initLayout('counted', 4);
  await t.throwsAsync(ClusterRuntime.open(configOf('counted', 'gw'), { partitions: 2, logger }), {
    message: /runs 4 partitions but this gateway would run 2/,
  });
  const runtime = await ClusterRuntime.open(configOf('counted', 'gw'), { partitions: 4, logger });
  t.is(runtime.partitions, 4);
  await runtime.stop();
});

test.serial('a password file that is missing, empty or too large stops the boot', async (t) => {
  await initLayout('secrets');
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  const large = join(dir, 'large');
  writeFileSync(large, 'x'.repeat(5000));
  for (const [file, message] of [
    [join(dir, 'absent'), /pg_password_file .*absent: ENOENT/],
    [empty, /pg_password_file .*empty: empty/],
    [large, /more than 4096 bytes/],
  ] as const) {
    await t.throwsAsync(
      ClusterRuntime.open(configOf('secrets', 'gw', { pg_password_file: file }), {
        partitions: 1,
        logger,
      }),
      { instanceOf: ClusterStateError, message },
    );
  }
});

test.serial('schema names stay in [a-z0-9_] and apart for names that differ', (t) => {
  t.is(partitionSchemaName('main', 7), 'main_7');
  const dashed = partitionSchemaName('a-b', 1);
  t.regex(dashed, /^c[0-9a-f]{24}_1$/);
  t.not(dashed, partitionSchemaName('a_b', 1));
  t.regex(partitionSchemaName('x'.repeat(63), 0), /^c[0-9a-f]{24}_0$/);
});

test.serial('each singleton job has one leader; it moves when the leader leaves', async (t) => {
  await initLayout('lead');
  const a = await start(configOf('lead', 'gw-a'), 2);
  const b = await start(configOf('lead', 'gw-b'), 2);
  const leaderOf = (job: (typeof SINGLETON_JOBS)[number]) =>
    [a, b].filter((r) => r.isLeader(job)).map((r) => r.gatewayName);
  await until(
    'every job led',
    () => SINGLETON_JOBS.every((job) => leaderOf(job).length === 1),
    5000,
  );
  for (const job of SINGLETON_JOBS) t.is(leaderOf(job).length, 1, job);
  // The block GC slot runs on the orphan-gc leader only.
  let gcRuns = 0;
  for (const r of [a, b]) r.setBlockGc(async () => void gcRuns++);
  t.deepEqual((await Promise.all([a.runBlockGc(), b.runBlockGc()])).filter(Boolean).length, 1);
  t.is(gcRuns, 1);
  const leader = a.isLeader('lifecycle') ? a : b;
  const other = leader === a ? b : a;
  const told: boolean[] = [];
  other.onLeadership('lifecycle', (leading) => told.push(leading));
  await leader.stop();
  const tookMs = await until(
    'the other gateway leads every job',
    () => SINGLETON_JOBS.every((job) => other.isLeader(job)),
    5000,
  );
  t.log(`every job moved ${tookMs} ms after the leader left`);
  t.deepEqual(told.slice(-1), [true]);
  t.true(await other.runBlockGc());
});

test.serial('the write gate closes within the TTL of etcd stopping and opens after', async (t) => {
  await initLayout('gate');
  const runtime = await start(configOf('gate', 'gw'), 1);
  await until('leads', () => runtime.isLeader('notifications'), 5000);
  t.true(runtime.writeGate.open());
  etcd.pause();
  try {
    const closedMs = await until(
      'gate closed',
      () => !runtime.writeGate.open(),
      TTL_S * 1000 + 500,
    );
    t.log(`write gate closed ${closedMs} ms after etcd stopped`);
    t.false(runtime.canWrite());
    t.false(runtime.isLeader('notifications'));
  } finally {
    etcd.resume();
  }
  const openMs = await until('gate open again', () => runtime.writeGate.open(), 20_000);
  t.log(`write gate open again ${openMs} ms after etcd resumed`);
  await until('leads again', () => runtime.isLeader('notifications'), 10_000);
  await runtime.stop();
});
