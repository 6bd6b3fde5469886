/**
 * `hangar fsck --config FILE` of a cluster (issue 19): every partition's records in PostgreSQL
 * recounted against its RADOS namespace, with the embedded fsck's report and exit codes. A
 * cluster written through a gateway (inline, multi-block, multipart, an upload in progress,
 * versioned) checks clean, deleted objects' block rows at zero references included (pending,
 * not mismatches); then planted faults are each reported: a RADOS object deleted (missing), a
 * stray object named by a hash (unreferenced), a tampered object (corrupt, with --verify), a
 * usage counter slot changed (counter mismatch). And the paged scan fsck reads every table with
 * crosses PostgreSQL page boundaries whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import type { RadosCluster, RadosIoCtx } from '../../engine/blocks/rados/librados.js';
import { RadosBlockStore } from '../../engine/blocks/rados/rados-block-store.js';
import { pgKvOptionsOf } from '../../engine/cluster/pg-options.js';
import { partitionSchemaName } from '../../engine/cluster/runtime.js';
import { recordEncoder } from '../../engine/codec.js';
import { LIMITS } from '../../engine/limits.js';
import type { CounterRecord } from '../../engine/meta/counter-table.js';
import { PgKvEnv } from '../../engine/meta/pg-kv/env.js';
import { scanTable } from '../../engine/meta/scan.js';
import { type ClusterSuite, useGatewayCluster } from '../helpers/cluster.js';
import { GATEWAY_CONFIG_FILE, hangarPgPassword } from '../helpers/cluster-backend.js';
import { fsckRun } from '../helpers/fsck.js';
import { runCli } from '../helpers/server.js';

const test = anyTest as TestFn<ClusterSuite>;

const MIB = 1024 * 1024;
const PARTITIONS = 2;

useGatewayCluster(test, {
  gateways: 1,
  shards: PARTITIONS,
  // Planted objects must outlive the test: no GC pass may collect them meanwhile.
  env: { HANGAR_CLUSTER_BLOCK_GC_GRACE_MS: String(60 * 60_000) },
});

function configFile(t: { context: ClusterSuite }): string {
  return join(t.context.cluster.gateway(1).dir, GATEWAY_CONFIG_FILE);
}

/** Writes every kind of record fsck recounts; deletes one object so rows go to zero. */
async function writeObjects(t: { context: ClusterSuite }): Promise<void> {
  const s3 = t.context.cluster.gateway(1).client();
  const bucket = `fsck-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inline', Body: 'small' }));
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'medium', Body: randomBytes(200 * 1024) }),
  );
  for (const key of ['multi-a', 'multi-b', 'multi-c']) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(3 * MIB) }));
  }
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
  const parts = [];
  for (const number of [1, 2]) {
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'mpu',
        UploadId: upload.UploadId,
        PartNumber: number,
        Body: randomBytes(number === 1 ? 5 * MIB : MIB),
      }),
    );
    parts.push({ PartNumber: number, ETag: part.ETag });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mpu',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  // An upload left in progress: its part's blocks are referenced by a part record.
  const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'open' }));
  await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'open',
      UploadId: open.UploadId,
      PartNumber: 1,
      Body: randomBytes(2 * MIB),
    }),
  );
  const versioned = `${bucket}-v`;
  await s3.send(new CreateBucketCommand({ Bucket: versioned }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: versioned,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  for (let i = 0; i < 2; i++) {
    await s3.send(
      new PutObjectCommand({ Bucket: versioned, Key: 'doc', Body: randomBytes(2 * MIB) }),
    );
  }
  await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'doc' }));
  // Its blocks' rows stay at zero references until the GC's grace has passed: pending.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'multi-c' }));
}

/** Partition i's namespace of the block pool (ClusterRuntime.shardSettings). */
function namespaceOf(t: { context: ClusterSuite }, partition: number): string {
  return `${t.context.cluster.cluster.clusterId}/${partition}`;
}

async function openNamespace(
  rados: RadosCluster,
  t: { context: ClusterSuite },
  partition: number,
): Promise<RadosIoCtx> {
  return rados.ioctx(t.context.topology.config.ceph.pool, namespaceOf(t, partition));
}

/** Partition i's metadata store, as a gateway's shard opens it. */
async function openPartitionMeta(
  t: { context: ClusterSuite },
  partition: number,
): Promise<PgKvEnv> {
  const { postgres } = t.context.topology.config;
  return PgKvEnv.open(
    pgKvOptionsOf(
      {
        database: postgres.database,
        targets: postgres.hosts.map((h) => `${h.host}:${h.port}`),
        user: 'hangar',
        password: hangarPgPassword(t.context.topology.dir),
        shard: partitionSchemaName(t.context.cluster.cluster.name, partition),
      },
      { applicationName: 'fsck test', poolMax: 1 },
    ),
  );
}

test.serial(
  'a cluster written through a gateway checks clean; rows at zero are pending',
  async (t) => {
    await writeObjects(t);
    const { code, report } = await fsckRun(['--config', configFile(t), '--verify']);
    t.is(code, 0, JSON.stringify(report));
    t.is(report.shards, PARTITIONS);
    t.deepEqual(
      {
        missing: report.missingBlocks,
        unreferenced: report.unreferencedBlocks,
        refcounts: report.refcountMismatches,
        counters: report.counterMismatches,
        corrupt: report.corruptBlocks,
        damagedBodies: report.damagedBodies,
        unreferencedBodies: report.unreferencedBodies,
      },
      {
        missing: [],
        unreferenced: [],
        refcounts: [],
        counters: [],
        corrupt: [],
        damagedBodies: [],
        unreferencedBodies: [],
      },
    );
    // inline, medium, multi-a, multi-b, mpu, the versioned key's 2 versions and delete marker.
    t.is(report.objects, 8);
    t.is(report.parts, 1);
    t.true(report.referencedBlocks >= 3 * 2 + 5 + 1 + 2 * 2 + 2, `${report.referencedBlocks}`);
    t.true((report.pendingBlocks ?? 0) >= 3, `pending ${report.pendingBlocks}`);
    t.is(report.blockFiles, report.referencedBlocks + (report.pendingBlocks ?? 0));
    t.true(report.storedBytes > 20 * MIB);
    t.deepEqual(
      report.blockDirectories,
      [0, 1].map((p) => `rados:${t.context.topology.config.ceph.pool}/${namespaceOf(t, p)}`),
    );
    const human = await runCli(['fsck', '--config', configFile(t)]);
    t.is(human.code, 0);
    t.regex(human.stdout, /^pending blocks:\s+\d+$/m);
    t.regex(human.stdout, /^missing blocks:\s+0$/m);
  },
);

/** Partition `partition`'s RADOS objects whose block rows have references (not pending). */
async function referencedObjects(store: RadosBlockStore, meta: PgKvEnv): Promise<string[]> {
  const names: string[] = [];
  for await (const name of store.names()) names.push(name);
  const blocks = meta.openDB<{ refs: number }, string>({
    name: 'blocks',
    encoder: recordEncoder(),
  });
  const refs = await meta.read(() => names.map((name) => blocks.get(name)?.refs ?? 0));
  return names.filter((_, i) => (refs[i] ?? 0) > 0);
}

/** The first partition with at least two referenced block objects. */
async function partitionWithBlocks(
  rados: RadosCluster,
  t: { context: ClusterSuite },
): Promise<{ partition: number; io: RadosIoCtx; meta: PgKvEnv; referenced: string[] }> {
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const io = await openNamespace(rados, t, partition);
    const meta = await openPartitionMeta(t, partition);
    const referenced = await referencedObjects(RadosBlockStore.over(io), meta);
    if (referenced.length >= 2) return { partition, io, meta, referenced };
    io.close();
    await meta.close();
  }
  throw new Error('no partition holds two referenced blocks');
}

test.serial('planted faults are reported: missing, unreferenced, corrupt, counters', async (t) => {
  const { RadosCluster } = await import('../../engine/blocks/rados/librados.js');
  const rados = await RadosCluster.connect({ confPath: t.context.topology.config.ceph.conf });
  try {
    const { partition, io, meta, referenced } = await partitionWithBlocks(rados, t);
    try {
      const store = RadosBlockStore.over(io);
      const [deleted, tampered] = referenced as [string, string];
      await io.remove(deleted);
      const tamperedBytes = await store.read(tampered);
      tamperedBytes[0] = (tamperedBytes[0] ?? 0) ^ 0xff;
      await io.writeFull(tampered, tamperedBytes);
      const strayBytes = randomBytes(4096);
      const stray = createHash('sha256').update(strayBytes).digest('hex');
      await store.put(stray, strayBytes);

      const { code, report } = await fsckRun(['--config', configFile(t), '--verify']);
      t.is(code, 1);
      t.deepEqual(report.missingBlocks, [`${partition}:${deleted}`]);
      t.deepEqual(report.unreferencedBlocks, [`${partition}:${stray}`]);
      const where = `rados:${t.context.topology.config.ceph.pool}/${namespaceOf(t, partition)}`;
      t.deepEqual(report.corruptBlocks, [`${partition}:${where}:${tampered}`]);
      t.deepEqual(report.refcountMismatches, []);
      t.deepEqual(report.counterMismatches, []);
      // Without --verify no object is read: the tampered one goes unseen.
      t.deepEqual((await fsckRun(['--config', configFile(t)])).report.corruptBlocks, []);

      // One slot of the partition's block references moved by hand: the sum no longer matches.
      const usage = meta.openDB<CounterRecord, string>({ name: 'usage', encoder: recordEncoder() });
      await meta.transaction(() => {
        const slot = usage.get('!refs#00') ?? { objects: 0, bytes: 0 };
        usage.put('!refs#00', { objects: slot.objects + 1, bytes: slot.bytes + 1 });
      });
      const counted = await fsckRun(['--config', configFile(t)]);
      t.deepEqual(counted.report.counterMismatches, [`${partition}:block references`]);
    } finally {
      io.close();
      await meta.close();
    }
  } finally {
    await rados.shutdown();
  }
});

test.serial('the paged scan reads a PostgreSQL table whole across page boundaries', async (t) => {
  const meta = await openPartitionMeta(t, 0);
  try {
    // A table of its own in the test cluster's partition 0: no gateway reads it.
    const table = meta.openDB<number, string>({
      name: 'fsck_scan_probe',
      encoder: recordEncoder(),
    });
    const rows = LIMITS.kvScanPageRows * 2 + 7;
    const keys = Array.from({ length: rows }, (_, i) => `k${String(i).padStart(6, '0')}`);
    await meta.transaction(() => {
      for (const [i, key] of keys.entries()) void table.put(key, i);
    });
    const boundary = keys[LIMITS.kvScanPageRows - 1];
    const seen: number[] = [];
    for await (const { key, value } of scanTable(meta, table)) {
      seen.push(value);
      // The key the first page ended at goes before the second page is read.
      if (key === boundary) await table.remove(key);
    }
    t.deepEqual(
      seen,
      keys.map((_, i) => i),
    );
  } finally {
    await meta.close();
  }
});
