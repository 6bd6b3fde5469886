import anyTest, { type TestFn } from 'ava';
import {
  type ClusterSuite,
  type GatewayCluster,
  NODE_NUMBERS,
  type NodeNumber,
  useGatewayCluster,
} from '../helpers/cluster.js';
import {
  assertListed,
  assertReadBack,
  clientsOf,
  PUT_DEADLINE_MS,
  sharedBucket,
} from '../helpers/cluster-checks.js';
import { sleep, WriteLoad } from '../helpers/cluster-load.js';
import { eventually } from '../helpers/replication.js';
import type { LocalCluster } from './local-cluster.js';

/**
 * Cluster mode's promise under faults that come one after another, not one at a time in a test
 * of their own: a write load runs through three gateways while a seeded random sequence of
 * kill -9s hits whole nodes (etcd member, Patroni, PostgreSQL, OSD and the node's gateway at
 * once: the primary's node, or a node drawn at random), single gateways and single OSDs, each
 * recovered before the next. Afterwards every PUT any gateway acknowledged reads back byte for byte from every
 * gateway and is listed. HANGAR_CHAOS_SEED replays a sequence; HANGAR_CHAOS_ROUNDS lengthens it.
 */

const test = anyTest as TestFn<ClusterSuite>;

const ROUNDS = Number(process.env['HANGAR_CHAOS_ROUNDS'] ?? '4');
const SEED = Number(process.env['HANGAR_CHAOS_SEED'] ?? String(Date.now() % 1_000_000));
/**
 * How long a fault lasts before its recovery: from 2 s to 15 s, drawn per fault. Patroni's ttl is
 * 10 s, so a primary's node may come back before a failover (it keeps its leader key) or after.
 */
const DOWN_MS_MIN = 2_000;
const DOWN_STEPS_S = 14;
/** Load after a recovery before the next fault. */
const SETTLE_MS = 2_000;
/** After a node's restart its PostgreSQL streams again and Ceph backfills (~35 s here). */
const RECOVERY_BOUND_MS = 180_000;

useGatewayCluster(test, { gateways: 3, shards: 2 });

/**
 * Half inline (in PostgreSQL only), most of the rest one block, a few multi-block: every kind of
 * object, and little enough data that a restarted OSD (memstore: it comes back empty) backfills
 * in seconds and the OSDs never fill up over the run.
 */
function chaosObjectSize(): number {
  const roll = Math.random();
  if (roll < 0.5) return Math.floor(Math.random() * 1025);
  if (roll < 0.98) return 4096 + Math.floor(Math.random() * 60 * 1024);
  return 1024 * 1024 + Math.floor(Math.random() * 1024 * 1024);
}

interface Fault {
  /** 'primary': the node that runs the PostgreSQL primary when the fault strikes. */
  readonly kind: 'primary' | 'node' | 'gateway' | 'osd';
  readonly node: NodeNumber;
  readonly downMs: number;
}

/** xorshift32: the fault sequence of a seed, the same on every run. */
function faultsOf(seed: number, rounds: number): Fault[] {
  let x = seed >>> 0 || 1;
  const next = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const kinds = ['primary', 'node', 'gateway', 'osd'] as const;
  return Array.from({ length: rounds }, () => ({
    kind: kinds[next(kinds.length)] ?? 'node',
    node: NODE_NUMBERS[next(NODE_NUMBERS.length)] ?? 1,
    downMs: DOWN_MS_MIN + next(DOWN_STEPS_S) * 1000,
  }));
}

/** Strikes; returns the fault as struck (a 'primary' fault names the primary's node then). */
async function inflict(
  drawn: Fault,
  cluster: GatewayCluster,
  topology: LocalCluster,
): Promise<Fault> {
  const fault =
    drawn.kind === 'primary' ? { ...drawn, node: (await topology.primary()) ?? drawn.node } : drawn;
  if (fault.kind === 'node' || fault.kind === 'primary') await cluster.killNode(fault.node);
  else if (fault.kind === 'gateway') await cluster.gatewayOfNode(fault.node)?.kill();
  else await topology.killOsd(fault.node);
  return fault;
}

/** Brings back what the fault killed, and waits until the cluster is whole again. */
async function recover(fault: Fault, cluster: GatewayCluster, topology: LocalCluster) {
  if (fault.kind === 'node' || fault.kind === 'primary') {
    await cluster.startNode(fault.node);
    await topology.waitEtcdHealthy();
    // A primary's node back within Patroni's ttl is the primary again; else it streams.
    const role = await eventually(
      `node ${fault.node}'s PostgreSQL back as primary or replica`,
      async () => {
        if ((await topology.patroniStatus(fault.node, 'primary')) === 200) return 'primary';
        if ((await topology.patroniStatus(fault.node, 'replica')) === 200) return 'replica';
        return undefined;
      },
      RECOVERY_BOUND_MS,
    );
    if (role === 'replica') await topology.waitReplica(fault.node);
  } else if (fault.kind === 'gateway') {
    await cluster.gatewayOfNode(fault.node)?.restart();
  } else {
    await topology.startOsd(fault.node);
  }
  // The next fault may take an OSD: every placement group must hold all its copies first.
  await topology.waitHealthOk();
}

test.serial('a seeded sequence of kill -9s under load loses no acknowledged write', async (t) => {
  t.timeout(ROUNDS * 4 * 60_000);
  const { cluster, topology } = t.context;
  const faults = faultsOf(SEED, ROUNDS);
  t.log(
    `HANGAR_CHAOS_SEED=${SEED}: ${faults.map((f) => `${f.kind === 'primary' ? 'primary' : `${f.kind} ${f.node}`} for ${f.downMs / 1000} s`).join(', ')}`,
  );
  const bucket = await sharedBucket(cluster, cluster.gateway(1));
  const load = new WriteLoad({
    // The gateways up now: a writer whose gateway dies moves on to the next one.
    clients: () => clientsOf(cluster.running()),
    bucket,
    writers: 3,
    prefix: 'chaos',
    putDeadlineMs: PUT_DEADLINE_MS,
    size: chaosObjectSize,
    // At most 30 PUTs a second, ~45 KiB on average: well under the OSDs' memory over a run.
    pauseMs: 100,
  });
  load.start();
  const timeline: string[] = [];
  try {
    for (const [round, drawn] of faults.entries()) {
      await sleep(SETTLE_MS);
      const primary = await topology.primary();
      const at = performance.now();
      const ackedBefore = load.acked.size;
      const fault = await inflict(drawn, cluster, topology);
      await sleep(fault.downMs);
      await recover(fault, cluster, topology);
      const recoveredAt = performance.now();
      // Writes go on after the recovery (a node's kill may have paused them for a failover).
      await eventually(
        'writes acknowledged after the recovery',
        async () => (load.ackedAfter(recoveredAt) > 0 ? true : undefined),
        RECOVERY_BOUND_MS,
      );
      timeline.push(
        `round ${round + 1}: ${fault.kind === 'osd' ? 'osd of node' : fault.kind === 'gateway' ? 'gateway' : 'node'} ${fault.node}${fault.kind !== 'osd' && fault.kind !== 'gateway' && fault.node === primary ? ' (the primary)' : ''} for ${fault.downMs / 1000} s, ` +
          `recovered in ${Math.round(performance.now() - at)} ms, ${load.acked.size - ackedBefore} PUTs acknowledged meanwhile`,
      );
    }
  } finally {
    await load.stop();
  }
  for (const line of timeline) t.log(line);
  t.log(
    `${load.acked.size} PUTs acknowledged in all; retried: ${JSON.stringify(Object.fromEntries(load.retried))}`,
  );
  t.deepEqual(load.gaveUp, [], 'every PUT was acknowledged within its retry deadline');
  const acked = [...load.acked.values()];
  const gateways = cluster.running();
  t.is(gateways.length, 3, 'every gateway is back');
  await assertReadBack(t, gateways, bucket, acked);
  await assertListed(t, gateways, bucket, acked);
});
