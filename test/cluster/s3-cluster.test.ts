import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import {
  type ClusterSuite,
  NODE_NUMBERS,
  type NodeNumber,
  useGatewayCluster,
} from '../helpers/cluster.js';
import { liveGatewayNames } from '../helpers/cluster-backend.js';
import {
  assertListed,
  assertReadBack,
  clientsOf,
  PUT_DEADLINE_MS,
  putAcked,
  sharedBucket,
} from '../helpers/cluster-checks.js';
import {
  type Acked,
  failureOf,
  listAll,
  sha256,
  sleep,
  WriteLoad,
} from '../helpers/cluster-load.js';
import { raceCreates, wrongWinners } from '../helpers/cluster-race.js';
import { eventually } from '../helpers/replication.js';
import type { LocalCluster } from './local-cluster.js';

/**
 * Cluster mode (issue 19) through real S3 clients: three gateways (`hangar server` with a
 * `[cluster]` section) over the one-machine topology's PostgreSQL + Patroni, etcd and Ceph.
 * Whatever one gateway acknowledged, every gateway reads back byte for byte, through kill -9 of
 * the PostgreSQL primary's node, of an OSD, of a gateway; conditional creates race across
 * gateways without a double create; a gateway cut off from etcd refuses writes with 503.
 *
 * Gateway i stands for node i's gateway and talks to node i's etcd member only, as a gateway
 * beside a local etcd member would: killing node i kills both, and pausing member i cuts that
 * gateway (alone) off from etcd, while the other two members keep quorum.
 */

const test = anyTest as TestFn<ClusterSuite>;

/** Patroni replaces a dead primary in ~10–15 s here (ttl 10 s); a loaded machine is slower. */
const FAILOVER_BOUND_MS = 60_000;
/** The split-brain guard answers within the lease TTL (10 s) of the last renewal, plus checks. */
const GUARD_BOUND_MS = 40_000;
const MIB = 1024 * 1024;
/** A gateway registers in etcd as it boots; the bound allows for a loaded machine. */
const MEMBERS_BOUND_MS = 20_000;

useGatewayCluster(test, { gateways: 3, shards: 2 });

async function primaryNode(topology: LocalCluster): Promise<NodeNumber> {
  return eventually('a PostgreSQL primary', () => topology.primary(), FAILOVER_BOUND_MS);
}

test.serial('every gateway registers as a live member of the cluster', async (t) => {
  t.timeout(60_000);
  const { cluster, topology } = t.context;
  const expected = cluster.gateways.map((g) => g.name).sort();
  // `hangar cluster status` as an operator runs it: a gateway joins once it serves.
  const live = await eventually(
    'every gateway in hangar cluster status',
    async () => {
      const names = await liveGatewayNames(topology, cluster.cluster.name);
      return names.length === expected.length ? names : undefined;
    },
    MEMBERS_BOUND_MS,
  ).catch(async () => liveGatewayNames(topology, cluster.cluster.name));
  t.deepEqual(live, expected);
});

test.serial(
  'an object written through one gateway reads byte-identical through the others',
  async (t) => {
    t.timeout(3 * 60_000);
    const { cluster } = t.context;
    const [gw1, gw2, gw3] = [cluster.gateway(1), cluster.gateway(2), cluster.gateway(3)];
    const writer = gw1.client();
    const bucket = await sharedBucket(cluster, gw1);

    const acked: Acked[] = [];
    for (const [key, size] of [
      ['empty', 0],
      ['inline-1k', 1024],
      ['blocks-5m', 5 * MIB],
    ] as const) {
      const body = randomBytes(size);
      await writer.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      acked.push({ key, size, sha256: sha256(body), at: performance.now() });
    }
    // A multipart upload through gateway 1: 5 MiB + 5 MiB + 1 byte parts (every part but the
    // last must be 5 MiB at least, or Complete answers EntityTooSmall, as AWS does).
    const parts = [randomBytes(5 * MIB), randomBytes(5 * MIB), randomBytes(1)];
    const upload = await writer.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multipart' }),
    );
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const out = await writer.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'multipart',
          UploadId: upload.UploadId,
          PartNumber: i + 1,
          Body: part,
        }),
      );
      etags.push(out.ETag ?? '');
    }
    await writer.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'multipart',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const whole = Buffer.concat(parts);
    acked.push({ key: 'multipart', size: whole.length, sha256: sha256(whole), at: 0 });

    await assertReadBack(t, [gw2, gw3], bucket, acked);
    // A HEAD through another gateway agrees with the writer's (ETag, length).
    for (const object of acked) {
      const [head1, head3] = await Promise.all(
        [gw1, gw3].map((g) =>
          g.client().send(new HeadObjectCommand({ Bucket: bucket, Key: object.key })),
        ),
      );
      t.is(head3?.ETag, head1?.ETag, `${object.key}: ETag through gw3`);
      t.is(head3?.ContentLength, object.size, `${object.key}: length through gw3`);
    }
    // The listing is the same from every gateway: keys, sizes, ETags.
    const listings = await Promise.all([gw1, gw2, gw3].map((g) => listAll(g.client(), bucket)));
    const expected = [...(listings[0]?.entries() ?? [])].sort();
    t.deepEqual(
      expected.map(([key]) => key),
      ['blocks-5m', 'empty', 'inline-1k', 'multipart'],
    );
    for (const [i, listing] of listings.entries()) {
      t.deepEqual([...listing.entries()].sort(), expected, `the listing through gw${i + 1}`);
    }
  },
);

test.serial(
  'If-None-Match * races across gateways, one killed mid-race: one create per key, none lost',
  async (t) => {
    t.timeout(4 * 60_000);
    const { cluster } = t.context;
    const gateways = cluster.running();
    const victim = cluster.gateway(3);
    const bucket = await sharedBucket(cluster, cluster.gateway(1));
    const KEYS = 60;
    const WRITERS_PER_GATEWAY = 2;
    const keys = Array.from({ length: KEYS }, (_, i) => `race/${String(i).padStart(3, '0')}`);
    const clients = clientsOf(gateways);
    // Writer w of gateway g tries gateway g first, then the others, as behind a load balancer.
    const writers = gateways.flatMap((gateway, g) =>
      Array.from({ length: WRITERS_PER_GATEWAY }, (_, w) => ({
        id: `${gateway.name}.${w}`,
        clients: [...clients.slice(g), ...clients.slice(0, g)],
      })),
    );
    const race = raceCreates(writers, bucket, keys, PUT_DEADLINE_MS);
    // kill -9 of a gateway a quarter into the race, its writers' PUTs in flight: they move on.
    const total = writers.length * KEYS;
    await eventually(
      'a quarter of the race decided',
      async () => (race.outcome.settled >= total / 4 ? true : undefined),
      PUT_DEADLINE_MS,
    );
    await victim.kill();
    const settledAtKill = race.outcome.settled;
    const outcome = await race.done;
    await victim.restart();
    t.true(settledAtKill < total, 'the gateway died mid-race');

    t.deepEqual(
      outcome.unexpected,
      [],
      'every conditional PUT answered 200, 412 or a retried 409/5xx',
    );
    const doubles = [...outcome.wins].filter(([, ids]) => ids.length > 1);
    t.deepEqual(doubles, [], 'no key was created twice');
    t.log(
      `${writers.length} writers × ${KEYS} keys, ${victim.name} killed at ${settledAtKill} decided: ` +
        `${[...outcome.wins.values()].flat().length} creates acknowledged, ` +
        `${[...outcome.ambiguous.values()].reduce((n, s) => n + s.size, 0)} unanswered attempts`,
    );
    for (const gateway of cluster.gateways) {
      const wrong = await wrongWinners(gateway.client(), bucket, keys, outcome);
      t.deepEqual(wrong, [], `through ${gateway.name}: every key holds its one winner's bytes`);
    }
  },
);

test.serial(
  'kill -9 of a gateway mid-load: clients retried against another gateway lose nothing',
  async (t) => {
    t.timeout(4 * 60_000);
    const { cluster } = t.context;
    const victim = cluster.gateway(1);
    const bucket = await sharedBucket(cluster, cluster.gateway(2));
    // Writers start on the gateways in turn (two on the victim); a failure moves a writer on.
    const clients = clientsOf(cluster.gateways);
    const load = new WriteLoad({
      clients: () => clients,
      bucket,
      writers: 4,
      prefix: 'gw-kill',
      putDeadlineMs: PUT_DEADLINE_MS,
    });
    load.start();
    await sleep(3_000);
    const killedAt = performance.now();
    await victim.kill();
    await sleep(4_000);
    await load.stop();
    t.log(
      `${load.acked.size} PUTs acknowledged (${load.ackedAfter(killedAt)} after the kill); retried: ${JSON.stringify(Object.fromEntries(load.retried))}`,
    );
    t.deepEqual(load.gaveUp, [], 'no PUT went unacknowledged by every gateway');
    t.true(load.ackedAfter(killedAt) > 0, 'writes continued through the other gateways');
    const acked = [...load.acked.values()];
    const survivors = cluster.running();
    await assertReadBack(t, survivors, bucket, acked);
    await assertListed(t, survivors, bucket, acked);

    await victim.restart();
    await assertReadBack(t, [victim], bucket, acked);
  },
);

test.serial('kill of an OSD: reads and writes continue; HEALTH_OK after its restart', async (t) => {
  t.timeout(5 * 60_000);
  const { cluster, topology } = t.context;
  const gateways = cluster.running();
  const clients = clientsOf(gateways);
  const bucket = await sharedBucket(cluster, cluster.gateway(1));
  // Block-backed sizes: these live in RADOS, not inline in PostgreSQL.
  const blockSize = () => 256 * 1024 + Math.floor(Math.random() * 2 * MIB);
  const before: Acked[] = [];
  for (let i = 0; i < 8; i++) {
    before.push(await putAcked(clients, bucket, `before/${i}`, randomBytes(blockSize())));
  }
  const osdNode: NodeNumber = 3;
  t.teardown(() => topology.startOsd(osdNode));
  await topology.killOsd(osdNode);
  const killedAt = performance.now();
  const during: Acked[] = [];
  for (let i = 0; i < 8; i++) {
    const s3 = clients.slice(i % clients.length).concat(clients.slice(0, i % clients.length));
    during.push(await putAcked(s3, bucket, `during/${i}`, randomBytes(blockSize())));
  }
  t.log(
    `8 block-sized PUTs with osd.${osdNode - 1} dead: ${Math.round(performance.now() - killedAt)} ms`,
  );
  await assertReadBack(t, gateways, bucket, [...before, ...during]);

  await topology.startOsd(osdNode);
  const restartedAt = performance.now();
  await topology.waitHealthOk();
  t.log(`HEALTH_OK ${Math.round(performance.now() - restartedAt)} ms after the OSD's restart`);
  await assertReadBack(t, gateways, bucket, [...before, ...during]);
  await assertListed(t, gateways, bucket, [...before, ...during]);
});

test.serial(
  "kill -9 of the PostgreSQL primary's node mid-load: writes pause, resume, and nothing acknowledged is lost",
  async (t) => {
    t.timeout(7 * 60_000);
    const { cluster, topology } = t.context;
    const primary = await primaryNode(topology);
    const others = NODE_NUMBERS.filter((n) => n !== primary);
    const survivors = others.flatMap((n) => {
      const gateway = cluster.gatewayOfNode(n);
      return gateway === undefined ? [] : [gateway];
    });
    const bucket = await sharedBucket(cluster, survivors[0] ?? cluster.gateway(1));
    const clients = clientsOf(survivors);
    const load = new WriteLoad({
      clients: () => clients,
      bucket,
      writers: 4,
      prefix: 'pg-kill',
      putDeadlineMs: PUT_DEADLINE_MS,
    });
    load.start();
    await sleep(3_000);
    const ackedBeforeKill = load.acked.size;
    t.teardown(() => cluster.startNode(primary));
    const killedAt = performance.now();
    await cluster.killNode(primary);
    const newPrimary = await eventually(
      'a new PostgreSQL primary',
      async () => {
        const node = await topology.primary();
        return node !== undefined && node !== primary ? node : undefined;
      },
      FAILOVER_BOUND_MS,
    );
    const promotedAt = performance.now();
    // Writes resume: a few acknowledgements after the promotion, through the survivors.
    await eventually(
      'writes acknowledged after the failover',
      async () => (load.ackedAfter(promotedAt) >= 10 ? true : undefined),
      FAILOVER_BOUND_MS,
    );
    await load.stop();
    t.log(
      `node ${primary} killed: node ${newPrimary} primary after ${Math.round(promotedAt - killedAt)} ms; ` +
        `${ackedBeforeKill} PUTs acknowledged before the kill, ${load.acked.size} in all; ` +
        `longest pause between acknowledgements ${Math.round(load.longestGapAfter(killedAt))} ms; ` +
        `retried: ${JSON.stringify(Object.fromEntries(load.retried))}`,
    );
    t.true(ackedBeforeKill > 0, 'writes were acknowledged before the kill');
    t.deepEqual(load.gaveUp, [], 'every PUT was acknowledged within its retry deadline');
    const acked = [...load.acked.values()];
    await assertReadBack(t, survivors, bucket, acked);
    await assertListed(t, survivors, bucket, acked);

    // The node comes back: its PostgreSQL streams as a replica, its gateway reads everything.
    await cluster.startNode(primary);
    await topology.waitReplica(primary);
    await topology.waitHealthOk();
    const back = cluster.gatewayOfNode(primary);
    if (back !== undefined) {
      await assertReadBack(t, [back], bucket, acked);
      await assertListed(t, [back], bucket, acked);
    }
  },
);

test.serial(
  'a gateway cut off from etcd answers 503 on writes; the others keep serving; it recovers',
  async (t) => {
    t.timeout(4 * 60_000);
    const { cluster, topology } = t.context;
    // Cut off a node that is not the PostgreSQL primary: pausing its etcd member must not move
    // the primary (Patroni talks to all three members), so what the test sees is the guard.
    const primary = await primaryNode(topology);
    const node = ([3, 2, 1] as const).find((n) => n !== primary) ?? 3;
    const isolated = cluster.gateway(node);
    const others = cluster.running().filter((g) => g !== isolated);
    const bucket = await sharedBucket(cluster, others[0] ?? cluster.gateway(1));
    const before = await putAcked([isolated.client()], bucket, 'before', randomBytes(4096));

    t.teardown(() => topology.resumeEtcd(node));
    await topology.pauseEtcd(node);
    const pausedAt = performance.now();
    let refusedKey = '';
    const refusal = await eventually(
      `a 503 from ${isolated.name} once its etcd member is silent`,
      async () => {
        refusedKey = `refused/${performance.now()}`;
        try {
          await isolated
            .client()
            .send(new PutObjectCommand({ Bucket: bucket, Key: refusedKey, Body: 'x' }));
          return undefined; // still accepted: the lease may still be alive on etcd's side
        } catch (error) {
          const failure = failureOf(error);
          if (failure.status === 503) return failure;
          throw error;
        }
      },
      GUARD_BOUND_MS,
    );
    t.log(
      `${isolated.name} refused writes ${Math.round(performance.now() - pausedAt)} ms after the pause`,
    );
    t.is(refusal.status, 503);
    t.is(refusal.name, 'ServiceUnavailable');

    // The majority side serves writes meanwhile (its two etcd members keep quorum).
    const during: Acked[] = [];
    for (const [i, gateway] of others.entries()) {
      during.push(
        await putAcked([gateway.client()], bucket, `during/${i}`, randomBytes(64 * 1024)),
      );
    }

    await topology.resumeEtcd(node);
    await topology.waitEtcdHealthy();
    const resumedAt = performance.now();
    const after = await eventually(
      `${isolated.name} accepts writes again`,
      async () => putAcked([isolated.client()], bucket, 'after', randomBytes(4096)),
      GUARD_BOUND_MS,
    );
    t.log(
      `${isolated.name} writable ${Math.round(performance.now() - resumedAt)} ms after the resume`,
    );
    await assertReadBack(t, cluster.running(), bucket, [before, ...during, after]);
    // The refused PUT stored nothing anywhere.
    for (const gateway of cluster.running()) {
      const failure = await gateway
        .client()
        .send(new HeadObjectCommand({ Bucket: bucket, Key: refusedKey }))
        .then(
          () => ({ status: 200 }),
          (error: unknown) => failureOf(error),
        );
      t.is(failure.status, 404, `${gateway.name}: the key refused with 503 does not exist`);
    }
  },
);
