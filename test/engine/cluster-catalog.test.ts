import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { Etcd3 } from 'etcd3';
import { Catalog, CatalogError } from '../../engine/catalog/catalog.js';
import {
  type ClusterCatalog,
  type ClusterCatalogOptions,
  catalogPgOptionsOf,
  catalogShardOf,
  openCatalogReplica,
  openClusterCatalog,
} from '../../engine/catalog/cluster-catalog.js';
import { connectEtcd } from '../../engine/cluster/etcd.js';
import { recordEncoder } from '../../engine/codec.js';
import { PgKvEnv, type PgKvOptions } from '../../engine/meta/pg-kv/env.js';
import { Keyring } from '../../engine/sse/keyring.js';
import { newKey } from '../../engine/sse/wrap.js';
import { againAfterCatalogMiss } from '../../http/s3/auth.js';
import { type RequestContext, requireOtherBucket } from '../../http/s3/context.js';
import { S3Error } from '../../http/s3/errors.js';
import { EtcdMember } from '../helpers/etcd-member.js';
import { TestPostgres } from '../helpers/postgres.js';

/**
 * The catalog in cluster mode (engine/catalog/cluster-catalog.ts): several gateways (here:
 * catalogs over their own data directories, in one process) share one catalog in PostgreSQL, each
 * reading its own LMDB replica. Real PostgreSQL and etcd; no server (the gateways' boot in
 * cluster mode is the lead's): the request path's hook is tested as a function.
 */

/** Helper catalog's ports (the session's port plan). */
const PG_PORT = 5461;
const ETCD_PORT = 12479;

let postgres: TestPostgres | undefined;
let etcd: EtcdMember | undefined;
const clients: Etcd3[] = [];
const dirs: string[] = [];
let clusterCount = 0;

test.before(async () => {
  [postgres, etcd] = await Promise.all([TestPostgres.start(PG_PORT), EtcdMember.start(ETCD_PORT)]);
});

test.after.always(async () => {
  for (const client of clients) client.close();
  await Promise.all([postgres?.stop(), etcd?.stop()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-cluster-catalog-'));
  dirs.push(dir);
  return dir;
}

function etcdClient(): Etcd3 {
  if (etcd === undefined) throw new Error('etcd did not start');
  const client = connectEtcd([etcd.endpoint]);
  clients.push(client);
  return client;
}

function pgOptions(clusterName: string): PgKvOptions {
  if (postgres === undefined) throw new Error('PostgreSQL did not start');
  return { connection: { ...postgres.connection, max: 2 }, shard: catalogShardOf(clusterName) };
}

interface Gateways {
  name: string;
  open(options?: Partial<ClusterCatalogOptions>): Promise<ClusterCatalog>;
  /** An edge thread's handle on a data dir of its own: no watch, no poll. */
  openUnwatched(): Promise<ClusterCatalog>;
}

/** A cluster of its own per test (its own schema and etcd prefix). */
function cluster(): Gateways {
  const name = `cat${++clusterCount}`;
  return {
    name,
    open: (options = {}) =>
      openClusterCatalog({
        dataDir: newDir(),
        // As a gateway is wired: Patroni members, of which pg-kv finds the primary.
        pg: catalogPgOptionsOf(
          {
            database: 'postgres',
            targets: [`127.0.0.1:${PG_PORT}`],
            user: 'postgres',
            password: null,
          },
          name,
        ),
        etcd: { client: etcdClient(), clusterName: name },
        ...options,
      }),
    openUnwatched: () => openCatalogReplica({ dataDir: newDir(), pg: pgOptions(name) }),
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
  return Date.now() - started;
}

const NO_POLL = { pollIntervalMs: 3_600_000 };

test.serial('a bucket and a key made on one gateway reach another by the etcd watch', async (t) => {
  const gateways = cluster();
  const a = await gateways.open(NO_POLL);
  const b = await gateways.open(NO_POLL);
  try {
    const bucket = await a.catalog.createBucket('watched', { location: '' });
    // Read-after-write on the writing gateway: the replica holds it when the write resolves.
    t.is(a.catalog.getBucket('watched')?.id, bucket.id);
    const ms = await until('b sees the bucket', () => {
      b.catalog.refresh();
      return b.catalog.getBucket('watched') !== undefined;
    });
    t.log(`the watch brought the bucket in ${ms} ms`);
    t.is(b.catalog.getBucket('watched')?.id, bucket.id);
    const key = await a.catalog.createKey('watched-key');
    await until('b sees the key', () => {
      b.catalog.refresh();
      return b.catalog.getKey(key.accessKeyId) !== undefined;
    });
    t.is(b.catalog.getKey(key.accessKeyId)?.secretAccessKey, key.secretAccessKey);
    // The owner's grant travelled with the bucket of a key's creation.
    const owned = await a.catalog.createBucket('owned', {
      location: '',
      ownerKey: key.accessKeyId,
    });
    await until('b sees the grant', () => {
      b.catalog.refresh();
      return b.catalog.getGrant(owned.id, key.accessKeyId).owner;
    });
    t.pass();
  } finally {
    await a.close();
    await b.close();
  }
});

test.serial('a lookup miss catches up at once, without waiting for any announcement', async (t) => {
  const gateways = cluster();
  const a = await gateways.open(NO_POLL);
  // Like an edge thread: no watch, no poll; only a miss brings it up to date.
  const edge = await gateways.openUnwatched();
  try {
    await edge.catalog.catchUp();
    const bucket = await a.catalog.createBucket('made-on-a', { location: '' });
    t.is(edge.catalog.getBucket('made-on-a'), undefined);
    // The request path's hook: a NoSuchBucket from admit is looked at again after a catch-up.
    const admit = (): string => {
      const found = edge.catalog.getBucket('made-on-a');
      if (found === undefined) throw new S3Error('NoSuchBucket');
      return found.id;
    };
    let first: unknown;
    try {
      admit();
    } catch (error) {
      first = error;
    }
    t.true(first instanceof S3Error);
    t.is(await againAfterCatalogMiss(edge.catalog, first, admit), bucket.id);
    // A key, the same way (InvalidAccessKeyId).
    const key = await a.catalog.createKey('made-on-a');
    const admitKey = (): string => {
      const found = edge.catalog.getKey(key.accessKeyId);
      if (found === undefined) throw new S3Error('InvalidAccessKeyId');
      return found.name;
    };
    t.is(
      await againAfterCatalogMiss(edge.catalog, new S3Error('InvalidAccessKeyId'), admitKey),
      'made-on-a',
    );
    // A copy's source bucket (a second bucket of the request) catches up the same way.
    const source = await a.catalog.createBucket('copy-source', { location: '' });
    const ctx = { state: { catalog: edge.catalog }, bucket: null } as unknown as RequestContext;
    t.is((await requireOtherBucket(ctx, 'copy-source')).id, source.id);
    await t.throwsAsync(requireOtherBucket(ctx, 'no-such-source'), { instanceOf: S3Error });
    // A miss that stays a miss is answered as it was, after one check.
    const missing = new S3Error('NoSuchBucket');
    await t.throwsAsync(
      againAfterCatalogMiss(edge.catalog, missing, () => 'never'),
      { is: missing },
    );
    // Errors that are no catalog miss are rethrown untouched, without a check.
    const denied = new S3Error('AccessDenied');
    await t.throwsAsync(
      againAfterCatalogMiss(edge.catalog, denied, () => 'never'),
      { is: denied },
    );
    // Concurrent misses share checks: at most one running and one queued.
    const replicaStats = (edge.catalog as unknown as { replica: { stats: { checks: number } } })
      .replica.stats;
    const before = replicaStats.checks;
    await Promise.all(Array.from({ length: 50 }, () => edge.catalog.catchUp()));
    t.true(replicaStats.checks - before <= 2, `${replicaStats.checks - before} checks`);
  } finally {
    await edge.close();
    await a.close();
  }
});

test('the catalog schema of any cluster name is a pg-kv shard name of its own', (t) => {
  t.is(catalogShardOf('main'), 'main_catalog');
  const names = ['a-b', 'a_b', 'x'.repeat(63), `${'x'.repeat(62)}y`];
  const shards = names.map(catalogShardOf);
  for (const shard of shards) t.regex(shard, /^[a-z0-9_]{1,48}$/);
  t.is(new Set(shards).size, names.length);
});

test.serial('an embedded catalog answers a miss as it is, with no catch-up', async (t) => {
  const catalog = Catalog.open(newDir());
  try {
    t.false(catalog.replicated);
    const missing = new S3Error('NoSuchBucket');
    let admitted = 0;
    await t.throwsAsync(
      againAfterCatalogMiss(catalog, missing, () => admitted++),
      { is: missing },
    );
    t.is(admitted, 0);
  } finally {
    await catalog.close();
  }
});

test.serial('concurrent CreateBucket of one name on two gateways: exactly one wins', async (t) => {
  const gateways = cluster();
  const a = await gateways.open(NO_POLL);
  const b = await gateways.open(NO_POLL);
  try {
    for (let round = 0; round < 5; round++) {
      const name = `race-${round}`;
      const results = await Promise.allSettled([
        a.catalog.createBucket(name, { location: '' }),
        b.catalog.createBucket(name, { location: '' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      t.is(won.length, 1, `round ${round}`);
      t.true(
        lost.every((r) => r.reason instanceof CatalogError && r.reason.reason === 'BucketExists'),
      );
      const id = (won[0] as PromiseFulfilledResult<{ id: string }>).value.id;
      // Both replicas agree on the one bucket (the loser read it in PostgreSQL).
      await a.catalog.catchUp();
      await b.catalog.catchUp();
      t.is(a.catalog.getBucket(name)?.id, id);
      t.is(b.catalog.getBucket(name)?.id, id);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

test.serial(
  'configurations and deletions propagate; configVersion invalidates caches',
  async (t) => {
    const gateways = cluster();
    const a = await gateways.open(NO_POLL);
    const b = await gateways.open(NO_POLL);
    try {
      const bucket = await a.catalog.createBucket('configured', { location: '' });
      await b.catalog.catchUp();
      const seen = b.catalog.getBucket('configured');
      if (seen === undefined) throw new Error('b has no bucket');
      t.is(b.catalog.getBucketConfig(seen, 'versioning'), undefined);
      await a.catalog.putBucketConfig(bucket.id, 'versioning', { status: 'Enabled' });
      t.deepEqual(a.catalog.getBucketConfig(bucket.id, 'versioning'), { status: 'Enabled' });
      await until('b sees the configuration', () => {
        b.catalog.refresh();
        const record = b.catalog.getBucket('configured');
        return (
          record !== undefined &&
          (record.configVersion ?? 0) > (seen.configVersion ?? 0) &&
          b.catalog.getBucketConfig<{ status: string }>(record, 'versioning')?.status === 'Enabled'
        );
      });
      // A second alias and a grant change travel too.
      await a.catalog.addBucketAlias(bucket.id, 'configured-too');
      const key = await a.catalog.createKey('grantee');
      await a.catalog.changeGrant('configured', key.accessKeyId, { read: true }, true);
      await b.catalog.catchUp();
      t.deepEqual(b.catalog.aliasesOf(bucket.id), ['configured', 'configured-too']);
      t.true(b.catalog.getGrant(bucket.id, key.accessKeyId).read);
      // Deletion: every alias, grant and configuration, on both.
      await b.catalog.deleteBucket('configured');
      t.is(b.catalog.getBucket('configured'), undefined);
      await until('a sees the deletion', () => {
        a.catalog.refresh();
        return a.catalog.getBucket('configured-too') === undefined;
      });
      t.is(a.catalog.getBucketConfig(bucket.id, 'versioning'), undefined);
      t.deepEqual(a.catalog.grantsOfBucket(bucket.id), []);
      // A key deleted on one gateway is gone on the other.
      await a.catalog.deleteKey(key.accessKeyId);
      await b.catalog.catchUp();
      t.is(b.catalog.getKey(key.accessKeyId), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  },
);

test.serial('the poll brings changes when no announcement comes', async (t) => {
  const gateways = cluster();
  const a = await gateways.open({ pollIntervalMs: 50 });
  // b writes without announcing (an edge thread whose main thread is gone): a's poll finds it.
  const b = await gateways.openUnwatched();
  try {
    await b.catalog.createBucket('polled', { location: '' });
    const ms = await until('a polls the bucket in', () => {
      a.catalog.refresh();
      return a.catalog.getBucket('polled') !== undefined;
    });
    t.log(`the poll brought the bucket in ${ms} ms`);
    t.pass();
  } finally {
    await b.close();
    await a.close();
  }
});

test.serial('KMS keys: made through PostgreSQL, usable on every gateway', async (t) => {
  const gateways = cluster();
  // Every gateway of a cluster must have the same SSE master key.
  const masterFile = join(newDir(), 'master.key');
  writeFileSync(masterFile, `${newKey().toString('hex')}\n`, { mode: 0o600 });
  const none = {};
  const a = await gateways.open(NO_POLL);
  try {
    const ringA = new Keyring(a.catalog.kmsTables(), newDir(), masterFile, Date.now, none);
    // The synchronous creation on first use is impossible over PostgreSQL: refused clearly ...
    t.throws(() => ringA.newSseS3DataKey(), { message: /cluster mode/ });
  } finally {
    await a.close();
  }
  // ... the managed keys are made at boot instead (the entry point's `sse`), once per cluster.
  const b = await gateways.open({ ...NO_POLL, sse: { masterKeyFile: masterFile } });
  const c = await gateways.open({ ...NO_POLL, sse: { masterKeyFile: masterFile } });
  try {
    const ringB = new Keyring(b.catalog.kmsTables(), newDir(), masterFile, Date.now, none);
    const ringC = new Keyring(c.catalog.kmsTables(), newDir(), masterFile, Date.now, none);
    const created = await ringB.createKey('shared', 'shared');
    await c.catalog.catchUp();
    t.is(ringC.view('alias/shared')?.id, created.id);
    // A data key sealed on one gateway opens on the other; SSE-S3 and aws/s3 are the same keys.
    const data = ringB.newKmsDataKey('alias/shared', undefined);
    t.true(Buffer.from(ringC.dataKeyOf(data.managed).key).equals(Buffer.from(data.key)));
    const s3 = ringC.newSseS3DataKey();
    t.true(Buffer.from(ringB.dataKeyOf(s3.managed).key).equals(Buffer.from(s3.key)));
    const byDefault = ringB.newKmsDataKey(null, undefined);
    t.true(Buffer.from(ringC.dataKeyOf(byDefault.managed).key).equals(Buffer.from(byDefault.key)));
    t.is(ringB.list().filter((key) => key.alias === 'aws/s3').length, 1);
    // Changes (disable) travel like any catalog write.
    await ringC.setEnabled(created.id, false);
    await b.catalog.catchUp();
    t.throws(() => ringB.dataKeyOf(data.managed), { message: /disabled/ });
  } finally {
    await b.close();
    await c.close();
  }
});

test.serial('an embedded catalog is not overwritten by a cluster replica', async (t) => {
  const gateways = cluster();
  const dir = newDir();
  const embedded = Catalog.open(dir);
  await embedded.createBucket('precious', { location: '' });
  await embedded.close();
  const error = await t.throwsAsync(
    openClusterCatalog({
      dataDir: dir,
      pg: pgOptions(gateways.name),
      etcd: { client: etcdClient(), clusterName: gateways.name },
    }),
  );
  t.regex(error?.message ?? '', /holds an embedded catalog/);
  const again = Catalog.open(dir);
  t.not(again.getBucket('precious'), undefined);
  await again.close();
});

test.serial('a re-sync copies a large catalog in bounded time (measured)', async (t) => {
  const gateways = cluster();
  const a = await gateways.open(NO_POLL);
  const writer = await PgKvEnv.open(pgOptions(gateways.name));
  try {
    // 2000 buckets with a configuration each (4000 rows), written straight into PostgreSQL
    // with a version bump: what a busy cluster's catalog holds.
    const buckets = writer.openDB<{ id: string }, string>({
      name: 'buckets',
      encoder: recordEncoder(),
    });
    const stamp = Date.now();
    await writer.transaction(() => {
      for (let i = 0; i < 2000; i++) {
        const id = (stamp + i).toString(16).padStart(32, '0');
        void buckets.put(`bulk-${i}`, { id });
      }
    });
    const started = Date.now();
    const replica = (
      a.catalog as unknown as { replica: { resync(force: boolean): Promise<string> } }
    ).replica;
    t.is(await replica.resync(true), 'resynced');
    const ms = Date.now() - started;
    t.log(`re-synced 2000 bucket rows in ${ms} ms`);
    a.catalog.refresh();
    t.is(a.catalog.listBuckets().length, 2000);
    // A second re-sync writes nothing (a diff).
    t.is(await replica.resync(false), 'current');
  } finally {
    await writer.close();
    await a.close();
  }
});

test.serial('no secret reaches etcd or the logs, even when etcd is down', async (t) => {
  const gateways = cluster();
  const logged: string[] = [];
  const log = {
    warn: (fields: object, message: string) =>
      logged.push(
        JSON.stringify({ fields, message, err: String((fields as { err?: unknown }).err) }),
      ),
  };
  const client = etcdClient();
  const a = await openClusterCatalog({
    dataDir: newDir(),
    pg: pgOptions(gateways.name),
    etcd: { client, clusterName: gateways.name },
    log,
    ...NO_POLL,
  });
  try {
    const key = await a.catalog.createKey('secretive');
    const all = await client.getAll().prefix(`/hangar/${gateways.name}/`).strings();
    t.true(Object.keys(all).length > 0);
    t.false(JSON.stringify(all).includes(key.secretAccessKey));
    await etcd?.kill();
    const second = await a.catalog.createKey('while-etcd-is-down');
    t.not(a.catalog.getKey(second.accessKeyId), undefined);
    t.true(logged.length > 0, 'the failed announcement is logged');
    for (const line of logged) {
      t.false(line.includes(key.secretAccessKey));
      t.false(line.includes(second.secretAccessKey));
      t.false(line.includes(Buffer.from(second.secretAccessKey).toString('hex')));
    }
  } finally {
    await etcd?.launch();
    await a.close();
  }
});
