import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ExecutionContext } from 'ava';
import type { Gateway, GatewayCluster } from './cluster.js';
import {
  type Acked,
  bucketEverywhere,
  listAll,
  sha256,
  unreadable,
  withRetries,
} from './cluster-load.js';

/**
 * The assertions the cluster tests make through every gateway (test/cluster/s3-cluster.test.ts,
 * test/cluster-core/): a bucket known everywhere, acknowledged bytes read back everywhere,
 * listings complete everywhere.
 */

/** How long one PUT may be retried across gateways: through a whole PostgreSQL failover. */
export const PUT_DEADLINE_MS = 90_000;

export const clientsOf = (gateways: readonly Gateway[]): S3Client[] =>
  gateways.map((g) => g.client());

let bucketCounter = 0;
/** A new bucket made through `through`, once every running gateway knows it. */
export async function sharedBucket(cluster: GatewayCluster, through: Gateway): Promise<string> {
  const bucket = `s3c-${process.pid}-${++bucketCounter}`;
  await through.client().send(new CreateBucketCommand({ Bucket: bucket }));
  await bucketEverywhere(clientsOf(cluster.running()), bucket);
  return bucket;
}

/** PUTs `body` (retried across `clients` until the deadline) and returns what was acknowledged. */
export async function putAcked(
  clients: readonly S3Client[],
  bucket: string,
  key: string,
  body: Buffer,
  deadlineMs = PUT_DEADLINE_MS,
): Promise<Acked> {
  await withRetries(clients, 0, performance.now() + deadlineMs, (s3) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
  );
  return { key, size: body.length, sha256: sha256(body), at: performance.now() };
}

/** Asserts that every acknowledged object reads back byte-identical through each gateway. */
export async function assertReadBack(
  t: ExecutionContext,
  gateways: readonly Gateway[],
  bucket: string,
  acked: readonly Acked[],
): Promise<void> {
  for (const gateway of gateways) {
    const bad = await unreadable(gateway.client(), bucket, acked);
    t.deepEqual(bad, [], `${gateway.name}: ${bad.length} of ${acked.length} objects unreadable`);
  }
}

/** Asserts that ListObjectsV2 through each gateway lists every acknowledged key with its size. */
export async function assertListed(
  t: ExecutionContext,
  gateways: readonly Gateway[],
  bucket: string,
  acked: readonly Acked[],
): Promise<void> {
  for (const gateway of gateways) {
    const listed = await listAll(gateway.client(), bucket);
    const missing = acked.filter((a) => listed.get(a.key)?.size !== a.size).map((a) => a.key);
    t.deepEqual(missing, [], `${gateway.name} lists ${listed.size} keys, misses ${missing.length}`);
  }
}
