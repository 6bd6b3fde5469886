import test from 'ava';
import { PgKvEnv } from '../../engine/meta/pg-kv/env.js';
import { hostPortOf } from '../../engine/meta/pg-kv/primary.js';
import { shardCounters } from '../../engine/stats.js';
import { TestPostgres } from '../helpers/postgres.js';

/** The lead's PostgreSQL ports (the session's port plan): a primary and its standby. */
const PRIMARY_PORT = 5463;
const STANDBY_PORT = 5465;

const started: TestPostgres[] = [];

test.after.always(async () => {
  for (const server of started) await server.stop();
});

async function start(port: number, standbyOf?: TestPostgres): Promise<TestPostgres> {
  const server = await TestPostgres.start(port, standbyOf);
  started.push(server);
  return server;
}

function membersOf(...servers: TestPostgres[]) {
  return {
    primaryOf: {
      targets: servers.map((server) => `127.0.0.1:${server.port}`),
      base: { user: 'postgres', database: 'postgres', max: 2 },
    },
  };
}

test('a gateway follows the primary of a replicated PostgreSQL across a failover', async (t) => {
  const primary = await start(PRIMARY_PORT);
  const standby = await start(STANDBY_PORT, primary);
  // The standby is named first: the store must skip it (it is in recovery) for the primary.
  const env = await PgKvEnv.open({ connection: membersOf(standby, primary), shard: 'failover' });
  const table = env.openDB<string, string>({ name: 't' });
  try {
    await env.transaction(() => {
      void table.put('before', 'written on the first primary');
    });
    t.is(await env.read(() => table.get('before')), 'written on the first primary');
    t.is(env.stats.failovers, 0);

    // The primary dies; the standby is promoted a little later (Patroni waits out its ttl).
    primary.kill();
    // Idle pooled connections learn of the kill (a COMMIT sent on one the kill cut has an
    // unknown outcome: 503, and the S3 client retries). What follows is issued afterwards.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const promoted = new Promise((resolve) => setTimeout(resolve, 1500)).then(() =>
      standby.promote(),
    );
    // Issued while no member is primary: it waits for the new one instead of failing.
    await env.transaction(() => {
      void table.put('after', 'written on the new primary');
    });
    await promoted;

    t.true(env.stats.failovers >= 1, 'the transaction ran again after losing its server');
    // Its latency (hangar_engine_duration_seconds) includes the wait for the new primary.
    const timed = shardCounters.engine.pg_transaction;
    t.true(timed.count >= 3 && timed.sumSeconds >= 1, `${timed.count} in ${timed.sumSeconds} s`);
    t.is(await env.read(() => table.get('before')), 'written on the first primary');
    t.is(await env.read(() => table.get('after')), 'written on the new primary');
    const rows = await standby.sql('SELECT count(*)::int AS n FROM hangar_meta_failover.kv');
    t.is(rows.rows[0]?.n, 2, 'both rows are on the promoted standby');
  } finally {
    await env.close();
  }
});

test('member addresses parse as host:port, and nothing else does', (t) => {
  t.deepEqual(hostPortOf('127.0.0.1:5441'), { host: '127.0.0.1', port: 5441 });
  t.deepEqual(hostPortOf('[::1]:5432'), { host: '::1', port: 5432 });
  for (const bad of ['127.0.0.1', ':5432', 'h:0', 'h:65536', 'h:54x']) {
    t.throws(() => hostPortOf(bad), undefined, bad);
  }
});
