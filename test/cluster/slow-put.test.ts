import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import { type ClusterSuite, useGatewayCluster } from '../helpers/cluster.js';
import { assertReadBack, sharedBucket } from '../helpers/cluster-checks.js';
import { sha256, sleep } from '../helpers/cluster-load.js';

/**
 * A PUT that takes longer than the block GC's grace (a slow client, a big object) keeps the
 * blocks it wrote first: its shard renews its claims while it runs, so the leader's GC does not
 * collect them before the commit references them. The gateway runs with a 3 s grace and a GC
 * pass every 500 ms; the body trickles in over about 9 s.
 */

const test = anyTest as TestFn<ClusterSuite>;

const MIB = 1024 * 1024;
const GRACE_MS = 3_000;

useGatewayCluster(test, {
  gateways: 1,
  shards: 1,
  env: {
    HANGAR_CLUSTER_BLOCK_GC_GRACE_MS: String(GRACE_MS),
    HANGAR_CLUSTER_ORPHAN_GC_INTERVAL_MS: '500',
  },
});

/** `body` in 1 MiB chunks, one every `everyMs`: a client slower than the GC's grace. */
function trickle(body: Buffer, everyMs: number): Readable {
  let at = 0;
  return new Readable({
    async read() {
      if (at > 0) await sleep(everyMs);
      const chunk = body.subarray(at, at + MIB);
      at += chunk.length;
      this.push(chunk.length === 0 ? null : chunk);
    },
  });
}

test.serial('a PUT slower than the block GC grace keeps its first blocks', async (t) => {
  t.timeout(2 * 60_000);
  const { cluster } = t.context;
  const gateway = cluster.gateway(1);
  const bucket = await sharedBucket(cluster, gateway);
  const body = randomBytes(4 * MIB);
  const started = performance.now();
  await gateway.client().send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'slow',
      Body: trickle(body, GRACE_MS),
      ContentLength: body.length,
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  t.true(seconds * 1000 > 2 * GRACE_MS, `the PUT took ${seconds.toFixed(1)} s`);
  // Past another grace and several GC passes: the committed blocks stay.
  await sleep(2 * GRACE_MS);
  await assertReadBack(t, [gateway], bucket, [
    { key: 'slow', size: body.length, sha256: sha256(body), at: 0 },
  ]);
});

test.serial('a slow multipart part keeps its blocks too', async (t) => {
  t.timeout(2 * 60_000);
  const { cluster } = t.context;
  const gateway = cluster.gateway(1);
  const s3 = gateway.client();
  const bucket = await sharedBucket(cluster, gateway);
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
  const part = randomBytes(3 * MIB);
  const uploaded = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'parts',
      UploadId: created.UploadId,
      PartNumber: 1,
      Body: trickle(part, GRACE_MS),
      ContentLength: part.length,
    }),
  );
  await sleep(2 * GRACE_MS);
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'parts',
      UploadId: created.UploadId,
      MultipartUpload: { Parts: [{ ETag: uploaded.ETag, PartNumber: 1 }] },
    }),
  );
  await assertReadBack(t, [gateway], bucket, [
    { key: 'parts', size: part.length, sha256: sha256(part), at: 0 },
  ]);
});
