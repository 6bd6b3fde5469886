import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import { adminCall, onNode } from '../helpers/admin.js';
import {
  type ClusterSuite,
  type Gateway,
  NODE_NUMBERS,
  useGatewayCluster,
} from '../helpers/cluster.js';
import {
  assertListed,
  assertReadBack,
  clientsOf,
  putAcked,
  sharedBucket,
} from '../helpers/cluster-checks.js';
import { type Acked, sha256 } from '../helpers/cluster-load.js';
import { eventually } from '../helpers/replication.js';

/**
 * The core of cluster mode (issue 19) in well under 90 s, for CI's one test command: the
 * one-machine topology boots, two gateways of one cluster serve S3, an object written through
 * one reads back byte-identical through the other, and acknowledged objects survive kill -9 of
 * the PostgreSQL primary's node while writes resume through the survivor. The long versions
 * (load, OSD, gateway kill, conditional races, the split-brain guard) are
 * test/cluster/s3-cluster.test.ts (npm run test:cluster).
 */

const test = anyTest as TestFn<ClusterSuite>;

/** Patroni promotes in ~10–15 s here; the bound allows for a loaded CI machine. */
const FAILOVER_BOUND_MS = 45_000;
const MIB = 1024 * 1024;

useGatewayCluster(test, { gateways: 2, shards: 2 });

/** Objects written through the first gateway by the first test; the failover test reads them. */
const written: Acked[] = [];
let bucket = '';

test.serial(
  'a gateway lists the workers it runs and refuses local block maintenance',
  async (t) => {
    const server = t.context.cluster.gateway(1).server;
    const { node } = await onNode(server, 'POST', 'ListWorkers', {});
    const names = (node as Array<{ name: string }>).map((worker) => worker.name);
    t.true(names.includes('Lifecycle worker'), names.join(', '));
    t.true(names.includes('Event notification delivery'), names.join(', '));
    // Ceph scrubs the RADOS objects and the orphan-gc leader collects them: no local passes.
    t.false(
      names.some((name) => /scrub|orphan/i.test(name)),
      names.join(', '),
    );
    for (const repairType of ['blocks', { scrub: 'start' }]) {
      const answer = await adminCall(server, 'POST', '/v2/LaunchRepairOperation?node=self', {
        repairType,
      });
      t.is(answer.status, 409, answer.text);
      t.is(answer.json.code, 'InClusterMode');
    }
  },
);

test.serial(
  'an object written through one gateway reads byte-identical through the other',
  async (t) => {
    t.timeout(60_000);
    const { cluster } = t.context;
    const [gw1, gw2] = [cluster.gateway(1), cluster.gateway(2)];
    bucket = await sharedBucket(cluster, gw1);
    for (const [key, size] of [
      ['empty', 0],
      ['inline', 1024],
      ['blocks', 2 * MIB + 1],
    ] as const) {
      const body = randomBytes(size);
      await gw1.client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      written.push({ key, size, sha256: sha256(body), at: performance.now() });
    }
    await assertReadBack(t, [gw2], bucket, written);
    await assertListed(t, [gw2], bucket, written);
  },
);

test.serial(
  "kill -9 of the PostgreSQL primary's node: acknowledged objects survive, writes resume",
  async (t) => {
    t.timeout(90_000);
    const { cluster, topology } = t.context;
    if (bucket === '') throw new Error('the read-back test made no bucket');
    const primary = await eventually('a primary', () => topology.primary(), FAILOVER_BOUND_MS);
    const survivors = NODE_NUMBERS.filter((n) => n !== primary).flatMap((n): Gateway[] => {
      const gateway = cluster.gatewayOfNode(n);
      return gateway === undefined ? [] : [gateway];
    });
    const killedAt = performance.now();
    await cluster.killNode(primary);
    // A PUT retried across the survivors until the new primary takes it.
    const after = await putAcked(
      clientsOf(survivors),
      bucket,
      'after-failover',
      randomBytes(256 * 1024),
      FAILOVER_BOUND_MS,
    );
    t.log(
      `node ${primary} killed: a PUT acknowledged ${Math.round(after.at - killedAt)} ms later; new primary node ${await topology.primary()}`,
    );
    await assertReadBack(t, survivors, bucket, [...written, after]);
    await assertListed(t, survivors, bucket, [...written, after]);
  },
);
