import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { open } from 'lmdb';
import pg from 'pg';
import { recordEncoder } from '../../engine/codec.js';
import { LIMITS } from '../../engine/limits.js';
import { afterCommit, type KvTable } from '../../engine/meta/kv.js';
import { PgKvEnv, PgKvError } from '../../engine/meta/pg-kv/env.js';
import { MetaStore, type ObjectRecord } from '../../engine/meta/store.js';
import { answer, applyStep, openTables, type Step, type Store, step } from '../helpers/kv-model.js';
import { TestPostgres } from '../helpers/postgres.js';

/** Helper pgkv's own PostgreSQL port (the session's port plan). */
const PORT = 5451;

let server: TestPostgres | undefined;

test.before(async () => {
  server = await TestPostgres.start(PORT);
});

test.after.always(async () => {
  await server?.stop();
});

function pgServer(): TestPostgres {
  if (server === undefined) throw new Error('PostgreSQL did not start');
  return server;
}

async function openPg(shard: string, extra: Record<string, unknown> = {}): Promise<PgKvEnv> {
  return PgKvEnv.open({ connection: { ...pgServer().connection, ...extra }, shard });
}

// ---- (a) the model: lmdb-js and PgKvEnv answer every operation alike ----

/** fc.assert, with the last mismatch logged (fast-check's report shows the steps only). */
async function fcAssert(
  t: ExecutionContext,
  lastMismatch: () => string,
  property: fc.IAsyncProperty<[Step[]]>,
  params: fc.Parameters<[Step[]]>,
): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (error) {
    t.log(lastMismatch());
    throw error;
  }
}

test.serial('(a) PgKvEnv answers every operation as lmdb-js does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-pgkv-lmdb-'));
  const lmdb = open({ path: dir, maxDbs: 16 });
  const pgEnv = await openPg('model');
  try {
    const lmdbStore: Store = {
      tables: openTables(lmdb),
      read: async (work) => work(),
      transaction: (work) => lmdb.transaction(work),
    };
    const pgStore: Store = {
      tables: openTables(pgEnv),
      read: (work) => pgEnv.read(work),
      transaction: (work) => pgEnv.transaction(work),
    };
    let compared = 0;
    let mismatch = '';
    await fcAssert(
      t,
      () => mismatch,
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        for (const table of Object.values(lmdbStore.tables)) {
          await (table as unknown as { clearAsync(): Promise<void> }).clearAsync();
        }
        await pgServer().sql('DELETE FROM hangar_meta_model.kv');
        for (const [i, s] of steps.entries()) {
          const expected = await applyStep(lmdbStore, s);
          const actual = await applyStep(pgStore, s);
          compared++;
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            mismatch = `step ${i} ${JSON.stringify(answer(s))}: lmdb ${JSON.stringify(expected)} pg ${JSON.stringify(actual)}`;
            throw new Error(mismatch);
          }
        }
      }),
      { numRuns: 150 },
    );
    t.true(compared > 150);
    t.log(
      `${compared} steps compared; ${pgEnv.stats.runs} runs, ${pgEnv.stats.roundTrips} round trips`,
    );
  } finally {
    await pgEnv.close();
    // lmdb-js finishes its last async commit after the promises it gave resolved, and a step
    // whose work threw may leave a write batch queued: an empty transaction commits after all of
    // them (lmdb-js commits in order), then the environment can close.
    await lmdb.transaction(() => undefined);
    await lmdb.flushed;
    await lmdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- (b) two gateways, one counter: serializable retries lose no increment ----

test.serial('(b) two gateways increment one counter 200 times: it ends at 200', async (t) => {
  const gateways = [await openPg('counter'), await openPg('counter')];
  try {
    const counters = gateways.map((env) =>
      env.openDB<{ n: number }, string>({ name: 'c', encoder: recordEncoder() }),
    );
    const increment = (i: number) =>
      (gateways[i] as PgKvEnv).transaction(() => {
        const table = counters[i] as KvTable<{ n: number }, string>;
        const n = table.get('hits')?.n ?? 0;
        void table.put('hits', { n: n + 1 });
        return n;
      });
    // Each gateway: 4 workers of 25 increments, both gateways at once.
    const worker = async (i: number) => {
      for (let k = 0; k < 25; k++) await increment(i);
    };
    await Promise.all([0, 1].flatMap((i) => [worker(i), worker(i), worker(i), worker(i)]));
    const final = await (gateways[0] as PgKvEnv).read(() => counters[0]?.get('hits')?.n);
    t.is(final, 200);
    const retries = gateways.reduce((sum, env) => sum + env.stats.retries, 0);
    t.log(`${retries} serialization retries`);
    t.true(retries > 0, 'the gateways did conflict');
  } finally {
    await Promise.all(gateways.map((env) => env.close()));
  }
});

// ---- (c) a work that never stops reading new keys fails at the run bound ----

test.serial('(c) a work that reads a new key on every run fails at pgKvRunsMax', async (t) => {
  const env = await openPg('runs');
  try {
    const table = env.openDB<unknown, string>({ name: 't', encoder: recordEncoder() });
    let runs = 0;
    const error = await t.throwsAsync(
      env.transaction(() => {
        runs++;
        table.get(`key-${runs}`);
      }),
      { instanceOf: PgKvError },
    );
    t.is(error?.failure, 'runs');
    t.is(runs, LIMITS.pgKvRunsMax);
  } finally {
    await env.close();
  }
});

test.serial(
  'effects outside the store happen once, for the run that commits, and never for a failed one',
  async (t) => {
    const env = await openPg('effects');
    try {
      const table = env.openDB<unknown, string>({ name: 't', encoder: recordEncoder() });
      await table.put('a', 1);
      await table.put('b', 2);
      let effects = 0;
      let runs = 0;
      // Two reads not yet fetched: the work runs three times, asks for its effect each time.
      const sum = await env.transaction(() => {
        runs++;
        afterCommit(env, () => {
          effects++;
        });
        const total = (table.get('a') as number) + (table.get('b') as number);
        table.put('sum', total);
        return total;
      });
      t.is(sum, 3);
      t.true(runs >= 2, `the work ran ${runs} times`);
      t.is(effects, 1);
      // A work that fails after asking: nothing written, no effect.
      await t.throwsAsync(
        env.transaction(() => {
          afterCommit(env, () => {
            effects++;
          });
          table.put('c', 3);
          throw new Error('refused');
        }),
        { message: 'refused' },
      );
      t.is(effects, 1);
      t.is(await env.read(() => table.get('c')), undefined);
    } finally {
      await env.close();
    }
  },
);

test('the embedded store does an effect at once, inside its work', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-effects-lmdb-'));
  const lmdb = open({ path: dir, maxDbs: 4 });
  try {
    let effects = 0;
    await lmdb.transaction(() => {
      afterCommit(lmdb, () => {
        effects++;
      });
      t.is(effects, 1);
    });
    t.is(effects, 1);
  } finally {
    await lmdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- (d) failures leave nothing half-applied ----

test.serial('(d) a connection lost mid-transaction fails cleanly and writes nothing', async (t) => {
  const victim = await openPg('loss', { application_name: 'pgkv-victim' });
  try {
    const table = victim.openDB<unknown, string>({ name: 't', encoder: recordEncoder() });
    await table.put('a', 1);
    let killed = false;
    const error = await t.throwsAsync(
      victim.transaction(() => {
        const a = table.get('a') as number;
        void table.put('x', a + 1);
        void table.put('a', a + 1);
        if (!killed) {
          killed = true;
          // The work runs synchronously: kill its PostgreSQL backend from outside, now.
          const kill = spawnSync('psql', [
            '-h',
            '127.0.0.1',
            '-p',
            String(PORT),
            '-U',
            'postgres',
            '-Atc',
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pgkv-victim'",
          ]);
          t.is(kill.stdout.toString().trim(), '1', kill.stderr.toString());
        }
        return table.get('b');
      }),
      { instanceOf: PgKvError },
    );
    t.is(error?.failure, 'aborted');
    const rows = await pgServer().sql('SELECT count(*)::int AS n FROM hangar_meta_loss.kv');
    t.is(rows.rows[0].n, 1, 'only the row written before');
    // The environment goes on with a fresh connection.
    t.is(await victim.read(() => table.get('a')), 1);
    await victim.transaction(() => void table.put('b', 2));
    t.is(await victim.read(() => table.get('b')), 2);
  } finally {
    await victim.close();
  }
});

test.serial('(d) a work that throws commits none of its writes', async (t) => {
  const env = await openPg('throws');
  try {
    const table = env.openDB<unknown, string>({ name: 't', encoder: recordEncoder() });
    await t.throwsAsync(
      env.transaction(() => {
        void table.put('x', 1);
        table.get('y');
        throw new Error('refused');
      }),
      { message: 'refused' },
    );
    t.is(await env.read(() => table.get('x')), undefined);
    t.throws(() => table.get('x'), { message: /outside transaction/ });
  } finally {
    await env.close();
  }
});

// ---- what a transaction costs ----

test.serial('a get+put transaction costs two round trips', async (t) => {
  const env = await openPg('cost');
  try {
    const table = env.openDB<{ n: number }, string>({ name: 'c', encoder: recordEncoder() });
    await table.put('k', { n: 0 });
    const rounds = 300;
    const before = env.stats.roundTrips;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      await env.transaction(() => {
        const n = table.get('k')?.n ?? 0;
        void table.put('k', { n: n + 1 });
      });
    }
    const micros = Number(process.hrtime.bigint() - started) / 1000 / rounds;
    t.is((env.stats.roundTrips - before) / rounds, 2);
    t.is(await env.read(() => table.get('k')?.n), rounds);
    t.log(
      `get+put transaction: ${micros.toFixed(0)} µs each, 2 round trips (BEGIN+SELECT, UPSERT+COMMIT)`,
    );
    // For scale: one bare round trip to the same server.
    const client = new pg.Client(pgServer().connection);
    await client.connect();
    const bare = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) await client.query('SELECT 1');
    const bareMicros = Number(process.hrtime.bigint() - bare) / 1000 / rounds;
    t.log(`bare round trip (SELECT 1): ${bareMicros.toFixed(0)} µs`);
    await client.end();
  } finally {
    await env.close();
  }
});

// ---- the rest of the contract ----

test.serial(
  'writes outside a transaction, nested transactions, and what a work may not do',
  async (t) => {
    const env = await openPg('contract');
    try {
      const table = env.openDB<unknown, string>({ name: 't', encoder: recordEncoder() });
      // A put or remove on its own is a committed transaction when its promise resolves.
      t.true(await table.put('a', { n: 1 }));
      t.deepEqual(await env.read(() => table.get('a')), { n: 1 });
      t.true(await table.remove('a'));
      t.is(await env.read(() => table.get('a')), undefined);
      await env.flushed;
      // A write's promise inside a transaction resolves once the transaction committed.
      let inside: Promise<boolean> | undefined;
      await env.transaction(() => {
        inside = table.put('b', 2);
      });
      t.true(await inside);
      // A nested transaction is part of the run it is called in (as with lmdb-js).
      const nested = await env.transaction(() => {
        void env.transaction(() => table.put('c', 3));
        return table.get('c');
      });
      t.is(nested, 3);
      // read() refuses writes; a work must be synchronous; a range lives within its run.
      await t.throwsAsync(
        env.read(() => table.put('d', 4)),
        { message: /write inside read/ },
      );
      await t.throwsAsync(
        env.transaction(async () => table.get('b')),
        { message: /synchronous/ },
      );
      const range = await env.read(() => table.getRange({}));
      t.throws(() => [...range], { message: /outside its transaction/ });
      t.is(await env.read(() => table.get('d')), undefined);
    } finally {
      await env.close();
    }
  },
);

test.serial('a scan longer than a page fetches page after page, in both directions', async (t) => {
  const env = await openPg('pages');
  try {
    const table = env.openDB<number, string>({ name: 't', encoder: recordEncoder() });
    const count = LIMITS.pgKvPageRows * 2 + 7;
    const keys = Array.from({ length: count }, (_, i) => `k${String(i).padStart(5, '0')}`);
    await env.transaction(() => {
      for (const [i, key] of keys.entries()) void table.put(key, i);
    });
    const before = env.stats.roundTrips;
    const seen = await env.read(() => ({
      forward: [...table.getKeys({ start: 'k' })],
      reverse: [...table.getKeys({ reverse: true })],
      count: table.getKeysCount({}),
    }));
    t.deepEqual(seen.forward, keys);
    t.deepEqual(seen.reverse, [...keys].reverse());
    t.is(seen.count, count);
    // Forward: three pages (500, 500, 7 rows: the last one ends the span). Reverse: the keys
    // above 'k' are known; one fetch below 'k' (none). The count starts at the beginning key
    // [5] itself, which the reverse scan's exclusive floor left out: one fetch. Then COMMIT.
    t.is(env.stats.roundTrips - before, 6);
  } finally {
    await env.close();
  }
});

test.serial('a table is counted by the server, in one round trip, whatever its size', async (t) => {
  const env = await openPg('counts');
  try {
    const table = env.openDB<number, string>({ name: 'q', encoder: recordEncoder() });
    const other = env.openDB<number, string>({ name: 'r', encoder: recordEncoder() });
    const count = LIMITS.pgKvPageRows * 3 + 1;
    await env.transaction(() => {
      for (let i = 0; i < count; i++) void table.put(`k${String(i).padStart(5, '0')}`, i);
      void other.put('x', 1);
    });
    const before = env.stats.roundTrips;
    t.deepEqual(await env.read(() => [table.getCount(), table.getStats(), other.getCount()]), [
      count,
      { entryCount: count },
      1,
    ]);
    // One count fetched per table (a run ends at its first miss), then COMMIT: no row read.
    t.is(env.stats.roundTrips - before, 3);
    await env.transaction(() => void table.remove('k00000'));
    t.is(await env.read(() => table.getCount()), count - 1);
    // A run's own writes count as they change the table: a new key, an overwrite, a removal.
    const counted = await env.transaction(() => {
      void table.put('new', 1);
      void table.put('k00001', 1);
      void table.remove('k00002');
      return table.getCount();
    });
    t.is(counted, count - 1);
  } finally {
    await env.close();
  }
});

// ---- the shard's metadata (MetaStore) over the PostgreSQL store ----

const BUCKET = 'aa'.repeat(16);

function stored(bytes: number, blocks: string[] = []): ObjectRecord {
  return {
    bytes,
    etag: '"x"',
    lastModifiedMs: 0,
    headers: { userMeta: {} },
    checksum: null,
    blocks: blocks.map((hash) => ({ hash, bytes: 1 })),
    inline: blocks.length === 0 ? new Uint8Array(bytes) : null,
  } as ObjectRecord;
}

test.serial(
  'MetaStore over PgKvEnv: two gateways write one bucket, counters and refcounts agree',
  async (t) => {
    const gateways = [await openPg('meta'), await openPg('meta')];
    try {
      const metas = await Promise.all(gateways.map((env) => MetaStore.openRemote(env)));
      const [one, two] = metas as [MetaStore, MetaStore];
      const shared = ['b1'.repeat(32), 'b2'.repeat(32)];
      const before = (gateways[0] as PgKvEnv).stats.roundTrips;
      await one.putObject(BUCKET, 'first', stored(10));
      t.log(`an inline PUT: ${(gateways[0] as PgKvEnv).stats.roundTrips - before} round trips`);
      // Both gateways at once: serializable transactions keep the bucket's counters and the
      // shared blocks' reference counts exact.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? one : two).putObject(BUCKET, `k${i}`, stored(2, shared)),
        ),
      );
      // Each gateway reads through its own store (a MetaStore's tables belong to one env).
      const [envOne, envTwo] = gateways as [PgKvEnv, PgKvEnv];
      t.deepEqual(await envTwo.read(() => two.bucketCounters(BUCKET)), { objects: 11, bytes: 30 });
      t.is(await envTwo.read(() => two.blockRefs(shared[0] as string)), 10);
      t.is(await envOne.read(() => one.getObject(BUCKET, 'k3')?.bytes), 2);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? two : one).deleteObject(BUCKET, `k${i}`),
        ),
      );
      t.deepEqual(await envOne.read(() => one.bucketCounters(BUCKET)), { objects: 1, bytes: 10 });
      t.is(await envOne.read(() => one.blockRefs(shared[1] as string)), 0);
    } finally {
      await Promise.all(gateways.map((env) => env.close()));
    }
  },
);

test.serial(
  'MetaStore over PgKvEnv: concurrent writes of distinct keys stay exact on slotted counters',
  async (t) => {
    const gateways = [await openPg('slots'), await openPg('slots')];
    try {
      const metas = await Promise.all(gateways.map((env) => MetaStore.openRemote(env)));
      const [one, two] = metas as [MetaStore, MetaStore];
      const [envOne, envTwo] = gateways as [PgKvEnv, PgKvEnv];
      // 40 PUTs of distinct keys with blocks of their own, 20 from each gateway at once: they
      // share only the bucket's counters and the partition's block totals.
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? one : two).putObject(
            BUCKET,
            `d${i}`,
            stored(1, [i.toString(16).padStart(64, 'c')]),
          ),
        ),
      );
      t.log(`retries after conflicts: ${envOne.stats.retries + envTwo.stats.retries} in 40 PUTs`);
      t.deepEqual(await envOne.read(() => one.bucketCounters(BUCKET)), { objects: 40, bytes: 40 });
      const totals = await envTwo.read(() => two.blockTotals());
      t.is(totals.stored, 40);
      t.is(totals.references, 40);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? two : one).deleteObject(BUCKET, `d${i}`),
        ),
      );
      t.deepEqual(await envOne.read(() => one.bucketCounters(BUCKET)), { objects: 0, bytes: 0 });
      t.deepEqual(await envTwo.read(() => two.allBucketCounters()), []);
      t.is((await envOne.read(() => one.blockTotals())).references, 0);
    } finally {
      await Promise.all(gateways.map((env) => env.close()));
    }
  },
);
