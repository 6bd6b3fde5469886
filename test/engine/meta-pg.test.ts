/**
 * The metadata scenarios (test/helpers/meta-scenarios.ts) over the PostgreSQL store: the S3
 * semantics of the metadata layer, written once, answer alike over both stores (the embedded
 * run is test/unit/meta-scenarios.test.ts). One PostgreSQL of its own, on port 5452.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { PgKvEnv } from '../../engine/meta/pg-kv/env.js';
import { MetaStore } from '../../engine/meta/store.js';
import { SCENARIOS } from '../helpers/meta-scenarios.js';
import { TestPostgres } from '../helpers/postgres.js';

const PORT = 5452;
let server: TestPostgres | undefined;

test.before(async () => {
  server = await TestPostgres.start(PORT);
});

test.after.always(async () => {
  await server?.stop();
});

for (const scenario of SCENARIOS) {
  test.serial(scenario.title, async (t) => {
    if (server === undefined) throw new Error('PostgreSQL did not start');
    const env = await PgKvEnv.open({ connection: server.connection, shard: 'scenarios' });
    try {
      const meta = await MetaStore.openRemote(env);
      await scenario.run(t, meta, randomBytes(16).toString('hex'));
      t.log(`${env.stats.runs} runs, ${env.stats.roundTrips} round trips`);
    } finally {
      await env.close();
    }
  });
}
