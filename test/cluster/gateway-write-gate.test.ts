import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import type { Etcd3 } from 'etcd3';
import { electionLeaders, SINGLETON_JOBS } from '../../engine/cluster/election.js';
import { connectEtcd } from '../../engine/cluster/etcd.js';
import { LayoutStore } from '../../engine/cluster/layout.js';
import { adminCall } from '../helpers/admin.js';
import { EtcdMember } from '../helpers/etcd-member.js';
import { TestPostgres } from '../helpers/postgres.js';
import { HANGAR_BIN, TestServer } from '../helpers/server.js';
import { LocalCluster } from './local-cluster.js';

/**
 * A gateway booted in cluster mode (`hangar server` with a [cluster] section) against a real
 * etcd and PostgreSQL: it registers, leads every singleton job alone, refuses S3 writes with 503
 * ServiceUnavailable while etcd is stopped (SIGSTOP) and serves reads meanwhile, and writes again
 * once etcd answers. The shards keep metadata in their partitions' PostgreSQL schemas (4 KiB
 * objects are inline: no block reaches the data directory or RADOS), and the edge threads list
 * from the same schemas.
 */

const TTL_S = 2;
const dir = mkdtempSync(join(tmpdir(), 'hangar-gate-'));
let etcd: EtcdMember;
let postgres: TestPostgres;
let client: Etcd3;
let server: TestServer | undefined;
/** Its Ceph holds the gateway's blocks (the etcd and PostgreSQL here are the test's own). */
let topology: LocalCluster;

test.before(async () => {
  topology = await LocalCluster.attachOrStart();
  etcd = await EtcdMember.start(12579);
  postgres = await TestPostgres.start(5462);
  client = connectEtcd([etcd.endpoint]);
});

test.after.always(async () => {
  etcd?.resume();
  await server?.stop();
  client?.close();
  await etcd?.stop();
  await postgres?.stop();
  await topology?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A `[cluster]` file for cluster `name`. */
function clusterFile(name: string): string {
  const file = join(dir, `${name}.toml`);
  writeFileSync(
    file,
    [
      '[cluster]',
      `name = "${name}"`,
      `etcd_endpoints = ["${etcd.endpoint}"]`,
      'gateway_name = "gw-1"',
      'pg_user = "postgres"',
      '',
    ].join('\n'),
  );
  return file;
}

/** A server start expected to fail: its exit status and what it printed. */
function refusedStart(config: string, shards: number): Promise<{ code: number; output: string }> {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const args = [HANGAR_BIN, 'server', '--config', config, '--data-dir', dataDir];
  args.push('--shards', String(shards), '--s3-port', '0', '--web-port', '0', '--admin-port', '0');
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? -1), output: stdout + stderr });
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const startMs = Date.now();
  while (!(await check())) {
    if (Date.now() - startMs > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - startMs;
}

/** The status a PUT gets (the SDK's error name beside it). */
async function putStatus(s3: S3Client, key: string): Promise<{ status: number; code: string }> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: 'gated', Key: key, Body: 'x'.repeat(4096) }));
    return { status: 200, code: 'OK' };
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode ?? 0, code: e.name };
  }
}

test.serial('a cluster gateway refuses writes while etcd is stopped, serves reads', async (t) => {
  await new LayoutStore(client, 'gw').init({
    metadataShards: [{ database: 'postgres', targets: [`127.0.0.1:${postgres.port}`] }],
    cephConf: topology.config.ceph.conf,
    pool: topology.config.ceph.pool,
  });
  const config = clusterFile('gw');
  server = await TestServer.start({
    shards: 2,
    args: ['--config', config],
    env: { HANGAR_CLUSTER_LEASE_TTL_S: String(TTL_S) },
  });
  const leaders = await electionLeaders(client, 'gw');
  t.deepEqual([...leaders.keys()].sort(), [...SINGLETON_JOBS].sort(), 'campaigns for every job');
  const s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'gated' }));
  t.is((await putStatus(s3, 'before')).status, 200);
  etcd.pause();
  try {
    // PUTs go on being accepted until the lease the gateway last renewed runs out.
    let acceptedDuring = false;
    const refusedMs = await until(
      'PUT refused',
      async () => {
        const { status } = await putStatus(s3, 'during');
        acceptedDuring ||= status === 200;
        return status === 503;
      },
      TTL_S * 1000 + 2000,
    );
    t.log(`writes refused ${refusedMs} ms after etcd stopped`);
    t.deepEqual(await putStatus(s3, 'during'), { status: 503, code: 'ServiceUnavailable' });
    // The S3 XML error, as any client sees it (refused before authentication: no body read).
    const raw = await fetch(`${server.endpoint}/gated/raw`, { method: 'PUT', body: 'abc' });
    t.is(raw.status, 503);
    const xml = await raw.text();
    t.regex(xml, /<Error><Code>ServiceUnavailable<\/Code><Message>[^<]+<\/Message>/);
    const deleted = await fetch(`${server.endpoint}/gated/before`, { method: 'DELETE' });
    t.is(deleted.status, 503);
    // Reads go on.
    const got = await s3.send(new GetObjectCommand({ Bucket: 'gated', Key: 'before' }));
    t.is((await got.Body?.transformToString())?.length, 4096);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'gated', Key: 'before' }));
    t.is(head.ContentLength, 4096);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'gated' }));
    t.deepEqual(
      listed.Contents?.map((o) => o.Key),
      acceptedDuring ? ['before', 'during'] : ['before'],
      'listed by the edge from PostgreSQL',
    );
    // The admin API refuses changes as well, and answers reads.
    const created = await adminCall(server, 'POST', '/v2/CreateBucket', {
      globalAlias: 'fenced-admin',
    });
    t.is(created.status, 503, created.text);
    t.is(created.json.code, 'ServiceUnavailable');
    const buckets = await adminCall(server, 'GET', '/v2/ListBuckets');
    t.is(buckets.status, 200, buckets.text);
  } finally {
    etcd.resume();
  }
  const backMs = await until(
    'PUT accepted again',
    async () => (await putStatus(s3, 'after')).status === 200,
    20_000,
  );
  t.log(`writes accepted ${backMs} ms after etcd resumed`);
  const created = await adminCall(server, 'POST', '/v2/CreateBucket', {
    globalAlias: 'fenced-admin',
  });
  t.is(created.status, 200, created.text);
  await server.stop();
  server = undefined;
  t.deepEqual((await electionLeaders(client, 'gw')).size, 0, 'a graceful stop resigns');
});

test.serial(
  'a gateway does not boot on an uninitialised cluster or another partition count',
  async (t) => {
    const never = await refusedStart(clusterFile('never'), 2);
    t.not(never.code, 0);
    t.regex(never.output, /cluster 'never' has no layout \(run 'hangar cluster init'\)/);
    // Cluster 'gw' runs 2 partitions (the test above booted the first gateway with 2 shards).
    const other = await refusedStart(clusterFile('gw'), 3);
    t.not(other.code, 0);
    t.regex(other.output, /cluster 'gw' runs 2 partitions but this gateway would run 3/);
  },
);
