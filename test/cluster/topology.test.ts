import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import anyTest, { type TestFn } from 'ava';
import { eventually } from '../helpers/replication.js';
import { LocalCluster, type NodeNumber } from './local-cluster.js';

// The one-machine topology of issue 19, driven through its real daemons: kill -9 a node, an OSD,
// an etcd member, and check that what was acknowledged survives and service continues.

/**
 * Patroni promotes once the dead leader's key expires (ttl 10 s) plus a loop or two (loop_wait
 * 2 s): ~13 s measured here. The bound leaves room for a loaded CI machine.
 */
const FAILOVER_BOUND_MS = 45_000;
/** After promotion, connecting and writing can take a few more Patroni loops (sync standby set). */
const WRITE_AFTER_FAILOVER_BOUND_MS = 30_000;
/** Ceph marks a killed OSD down after its heartbeat grace (6 s) and the mon's reporting. */
const OSD_MARKED_DOWN_BOUND_MS = 60_000;
/** One rados CLI call; with a dead OSD not yet marked down, a write waits for the mark. */
const RADOS_CALL_TIMEOUT_MS = 90_000;
/** One etcdctl call (its own dial and command timeouts are shorter). */
const ETCDCTL_TIMEOUT_MS = 30_000;
/** A hot-standby read sees a row once replay catches up (the rejoined member is async). */
const REPLAY_BOUND_MS = 30_000;

const run = promisify(execFile);
const test = anyTest as TestFn<{ cluster: LocalCluster }>;

test.before(async (t) => {
  const cluster = await LocalCluster.start();
  t.context.cluster = cluster;
  t.log(`topology booted in ${cluster.startupSeconds} s`);
});

test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

async function readMarker(
  cluster: LocalCluster,
  node: NodeNumber,
  marker: string,
): Promise<boolean> {
  const client = await cluster.pgClient(node);
  try {
    const result = await client.query('SELECT id FROM failover_probe WHERE id = $1', [marker]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Inserts a new row and returns its id once PostgreSQL acknowledged the commit. */
async function writeMarker(cluster: LocalCluster, node: NodeNumber): Promise<string> {
  const marker = randomUUID();
  const client = await cluster.pgClient(node);
  try {
    await client.query('INSERT INTO failover_probe (id) VALUES ($1)', [marker]);
  } finally {
    await client.end();
  }
  return marker;
}

/**
 * Retries a write (each attempt a new row, so a timed-out attempt can never pass for a success)
 * until one is acknowledged; returns the acknowledged row's id.
 */
function acknowledgedWrite(
  cluster: LocalCluster,
  node: NodeNumber,
  boundMs: number,
): Promise<string> {
  return eventually(
    `a write acknowledged by node ${node}`,
    () => writeMarker(cluster, node),
    boundMs,
  );
}

test.serial(
  'a committed row survives kill -9 of the primary node; the node rejoins as a replica',
  async (t) => {
    const { cluster } = t.context;
    const oldPrimary = await eventually('a primary', () => cluster.primary(), FAILOVER_BOUND_MS);
    const setup = await cluster.pgClient(oldPrimary);
    await setup.query('CREATE TABLE IF NOT EXISTS failover_probe (id text PRIMARY KEY)');
    await setup.end();
    const before = await writeMarker(cluster, oldPrimary);

    t.teardown(() => cluster.command('start-node', String(oldPrimary)).then(() => undefined));
    const killedAt = performance.now();
    await cluster.command('kill-node', String(oldPrimary));
    const newPrimary = await eventually(
      'a new primary',
      async () => {
        const primary = await cluster.primary();
        return primary !== oldPrimary ? primary : undefined;
      },
      FAILOVER_BOUND_MS,
    );
    const failoverMs = performance.now() - killedAt;

    t.true(
      await readMarker(cluster, newPrimary, before),
      'the row committed before the kill reads back',
    );
    const after = await acknowledgedWrite(cluster, newPrimary, WRITE_AFTER_FAILOVER_BOUND_MS);
    const writableMs = performance.now() - killedAt;
    t.log(
      `primary node ${oldPrimary} killed: node ${newPrimary} primary after ${Math.round(failoverMs)} ms,` +
        ` first write acknowledged after ${Math.round(writableMs)} ms`,
    );

    const restartedAt = performance.now();
    await cluster.command('start-node', String(oldPrimary));
    await cluster.command('wait-replica', String(oldPrimary));
    t.log(
      `node ${oldPrimary} streams as a replica ${Math.round(performance.now() - restartedAt)} ms after restart`,
    );
    t.is(await cluster.patroniStatus(oldPrimary, 'replica'), 200);
    t.is(
      await cluster.primary(),
      newPrimary,
      'the restarted node did not take the primary role back',
    );
    await eventually(
      'both rows on the rejoined replica',
      async () =>
        (await readMarker(cluster, oldPrimary, before)) &&
        (await readMarker(cluster, oldPrimary, after))
          ? true
          : undefined,
      REPLAY_BOUND_MS,
    );
    t.pass();
    // Its OSD restarted with it: leave the cluster healthy for the next test.
    await cluster.command('wait-health-ok');
  },
);

test.serial("writes continue when the synchronous standby's node is killed", async (t) => {
  const { cluster } = t.context;
  const primary = await eventually('a primary', () => cluster.primary(), FAILOVER_BOUND_MS);
  const standby = await eventually(
    'a sync standby',
    () => cluster.syncStandby(),
    FAILOVER_BOUND_MS,
  );
  await cluster.pgClient(primary).then(async (client) => {
    await client.query('CREATE TABLE IF NOT EXISTS failover_probe (id text PRIMARY KEY)');
    await client.end();
  });

  t.teardown(() => cluster.command('start-node', String(standby)).then(() => undefined));
  const killedAt = performance.now();
  await cluster.command('kill-node', String(standby));
  // Patroni makes the other replica synchronous; until then a COMMIT waits for the dead one.
  const written = await acknowledgedWrite(cluster, primary, WRITE_AFTER_FAILOVER_BOUND_MS);
  t.log(
    `sync standby node ${standby} killed: a write on node ${primary} acknowledged after` +
      ` ${Math.round(performance.now() - killedAt)} ms`,
  );
  t.is(await cluster.primary(), primary, 'losing a standby does not move the primary');
  const newStandby = await eventually(
    'a new sync standby',
    () => cluster.syncStandby(),
    FAILOVER_BOUND_MS,
  );
  t.not(newStandby, standby);

  await cluster.command('start-node', String(standby));
  await cluster.command('wait-replica', String(standby));
  await eventually(
    'the write on the restarted standby',
    async () => ((await readMarker(cluster, standby, written)) ? true : undefined),
    REPLAY_BOUND_MS,
  );
  t.pass();
  await cluster.command('wait-health-ok');
});

function rados(cluster: LocalCluster, ...args: string[]): Promise<{ stdout: string }> {
  const { conf, pool } = cluster.config.ceph;
  return run('rados', ['-c', conf, '-p', pool, ...args], {
    timeout: RADOS_CALL_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
}

async function upOsds(cluster: LocalCluster): Promise<number> {
  const { stdout } = await run(
    'ceph',
    ['-c', cluster.config.ceph.conf, '--connect-timeout', '10', 'osd', 'stat', '-f', 'json'],
    {
      timeout: RADOS_CALL_TIMEOUT_MS,
    },
  );
  return (JSON.parse(stdout) as { num_up_osds: number }).num_up_osds;
}

async function radosRoundTrip(
  cluster: LocalCluster,
  name: string,
  bytes: Buffer,
): Promise<boolean> {
  const out = join(cluster.dir, `${name}.read`);
  await rados(cluster, 'get', name, out);
  return readFileSync(out).equals(bytes);
}

test.serial(
  'RADOS reads and writes continue with one OSD killed; health returns after its restart',
  async (t) => {
    const { cluster } = t.context;
    const before = randomBytes(256 * 1024);
    const during = randomBytes(256 * 1024);
    writeFileSync(join(cluster.dir, 'before.bin'), before);
    writeFileSync(join(cluster.dir, 'during.bin'), during);
    await rados(cluster, 'put', 'probe-before', join(cluster.dir, 'before.bin'));

    t.teardown(() => cluster.command('start-osd', '3').then(() => undefined));
    await cluster.command('kill-osd', '3');
    const killedAt = performance.now();
    await rados(cluster, 'put', 'probe-during', join(cluster.dir, 'during.bin'));
    t.log(
      `write with osd.2 killed acknowledged after ${Math.round(performance.now() - killedAt)} ms`,
    );
    t.true(
      await radosRoundTrip(cluster, 'probe-before', before),
      'an object written before the kill reads back',
    );
    t.true(
      await radosRoundTrip(cluster, 'probe-during', during),
      'an object written after the kill reads back',
    );
    await eventually(
      'osd.2 marked down',
      async () => ((await upOsds(cluster)) === 2 ? true : undefined),
      OSD_MARKED_DOWN_BOUND_MS,
    );

    const restartedAt = performance.now();
    await cluster.command('start-osd', '3');
    await cluster.command('wait-health-ok');
    t.log(`HEALTH_OK ${Math.round(performance.now() - restartedAt)} ms after restarting osd.2`);
    t.is(await upOsds(cluster), 3);
    t.true(
      await radosRoundTrip(cluster, 'probe-during', during),
      'the object reads back after recovery',
    );
  },
);

function etcdctl(endpoints: string[], ...args: string[]): Promise<{ stdout: string }> {
  return run(
    'etcdctl',
    [`--endpoints=${endpoints.join(',')}`, '--dial-timeout=2s', '--command-timeout=5s', ...args],
    {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: ETCDCTL_TIMEOUT_MS,
    },
  );
}

test.serial(
  'etcd keeps serving with one member killed; the member catches up after restart',
  async (t) => {
    const { cluster } = t.context;
    const all = cluster.config.etcd.endpoints;
    const second = all[1];
    if (second === undefined) throw new Error('cluster.json lists fewer than 3 etcd endpoints');
    const survivors = all.filter((endpoint) => endpoint !== second);
    const key = `/hangar-test/${randomUUID()}`;

    t.teardown(() => cluster.command('start-etcd', '2').then(() => undefined));
    await cluster.command('kill-etcd', '2');
    await t.throwsAsync(
      etcdctl([second], 'get', key),
      undefined,
      'the killed member is really gone',
    );
    await etcdctl(all, 'put', key, 'written-with-one-member-down');
    const { stdout } = await etcdctl(survivors, 'get', key, '--print-value-only');
    t.is(stdout.trim(), 'written-with-one-member-down');

    await cluster.command('start-etcd', '2');
    await cluster.command('wait-etcd-healthy');
    const caughtUp = await etcdctl([second], 'get', key, '--print-value-only');
    t.is(
      caughtUp.stdout.trim(),
      'written-with-one-member-down',
      'the restarted member serves the write it missed',
    );
  },
);
