/**
 * Edge-thread reads in cluster mode (issue 19): an ObjectReader over a partition's PostgreSQL
 * (PgKvEnv, opened as an edge thread opens it: pgKvOptionsOf), reading what a writer on another
 * connection committed: HEAD's record, a noncurrent version, listing parts merged across two
 * partitions as list.ts merges them, and authorization's object facts, prefetched before the
 * (synchronous) decision and refused, fail closed, when not. One PostgreSQL of its own (5462).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { pgKvOptionsOf } from '../../engine/cluster/pg-options.js';
import type { ClusterMetadataTarget } from '../../engine/cluster/shard-settings.js';
import { ObjectReader } from '../../engine/meta/object-reader.js';
import { PgKvEnv } from '../../engine/meta/pg-kv/env.js';
import { MetaStore } from '../../engine/meta/store.js';
import { shardOf } from '../../engine/pool/placement.js';
import type { ListEntry } from '../../engine/protocol/messages.js';
import {
  objectFactsOf,
  PrefetchedObjects,
  prefetchAllIfJudged,
  prefetchForDecision,
  prefetchObjectFacts,
} from '../../http/access/object-facts.js';
import type { ServerState } from '../../http/s3/context.js';
import { S3Error } from '../../http/s3/errors.js';
import { mergeSources } from '../../http/s3/merge.js';
import { record } from '../helpers/meta-scenarios.js';
import { TestPostgres } from '../helpers/postgres.js';

const PORT = 5462;
const PARTITIONS = 2;
let server: TestPostgres | undefined;
const envs: PgKvEnv[] = [];

test.before(async () => {
  server = await TestPostgres.start(PORT);
});

test.after.always(async () => {
  for (const env of envs) await env.close();
  await server?.stop();
});

function targetOf(partition: number, run: string): ClusterMetadataTarget {
  return {
    database: 'postgres',
    targets: [`127.0.0.1:${PORT}`, '127.0.0.1:1'],
    user: 'postgres',
    password: null,
    shard: `edge_${run}_${partition}`,
  };
}

async function open(target: ClusterMetadataTarget, poolMax: number): Promise<PgKvEnv> {
  const env = await PgKvEnv.open(pgKvOptionsOf(target, { applicationName: 'edge test', poolMax }));
  envs.push(env);
  return env;
}

/** Each partition as its shard writes it, and as an edge thread reads it (another pool). */
async function partitions(run: string) {
  const writers: MetaStore[] = [];
  const readers: ObjectReader[] = [];
  for (let i = 0; i < PARTITIONS; i++) {
    writers.push(await MetaStore.openRemote(await open(targetOf(i, run), 4)));
    readers.push(ObjectReader.over(await open(targetOf(i, run), 2)));
  }
  const writerOf = (bucketId: string, key: string): MetaStore => {
    const writer = writers[shardOf(bucketId, key, PARTITIONS)];
    if (writer === undefined) throw new Error('a writer per partition');
    return writer;
  };
  const readerOf = (bucketId: string, key: string): ObjectReader => {
    const reader = readers[shardOf(bucketId, key, PARTITIONS)];
    if (reader === undefined) throw new Error('a reader per partition');
    return reader;
  };
  return { readers, writerOf, readerOf };
}

function nameOf(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.key : entry.prefix;
}

test.serial('pgKvOptionsOf: every member, the role, a bounded pool', (t) => {
  const options = pgKvOptionsOf(
    { ...targetOf(0, 'x'), targets: ['[::1]:5433', 'h:1'], user: 'hangar', password: 'pw' },
    { applicationName: 'hangar gw edge 0', poolMax: 3 },
  );
  t.deepEqual(options, {
    shard: 'edge_x_0',
    connection: {
      primaryOf: {
        targets: ['[::1]:5433', 'h:1'],
        base: {
          database: 'postgres',
          user: 'hangar',
          password: 'pw',
          application_name: 'hangar gw edge 0',
          max: 3,
        },
      },
    },
  });
});

test.serial('HEAD and versions: what the shard committed, read from the edge', async (t) => {
  const { readerOf, writerOf } = await partitions('head');
  const bucketId = randomBytes(16).toString('hex');
  const reader = readerOf(bucketId, 'doc');
  t.true(reader.remote);
  t.is(await reader.fetchObject(bucketId, 'doc'), undefined);
  const writer = writerOf(bucketId, 'doc');
  const first = await writer.writeObject(bucketId, 'doc', record(3, 'v1'), null, 'Enabled');
  // Read-after-write across connections: the PUT's commit is seen by the next read.
  t.is((await reader.fetchObject(bucketId, 'doc'))?.etag, '"v1"');
  await writer.writeObject(bucketId, 'doc', record(5, 'v2'), null, 'Enabled');
  const current = await reader.fetchObject(bucketId, 'doc');
  t.is(current?.etag, '"v2"');
  t.is(current?.bytes, 5);
  t.is((await reader.fetchVersion(bucketId, 'doc', first.versionId as string))?.etag, '"v1"');
  t.is(await reader.fetchVersion(bucketId, 'doc', 'not-a-version-id'), undefined);
  t.is(await reader.fetchVersion(bucketId, 'doc', 'null'), undefined);
  // What an edge-side HEAD would cost here (DECISIONS.md: why cluster mode leaves it to the shard).
  const startedMs = performance.now();
  for (let i = 0; i < 200; i++) await reader.fetchObject(bucketId, 'doc');
  t.log(
    `fetchObject: ${((performance.now() - startedMs) / 200).toFixed(3)} ms each, one at a time`,
  );
  // The synchronous path is the embedded store's alone.
  t.throws(() => reader.object(bucketId, 'doc'), { message: /fetchObject/ });
});

test.serial('a listing merges the partitions read over PostgreSQL', async (t) => {
  const { readers, writerOf } = await partitions('list');
  const bucketId = randomBytes(16).toString('hex');
  const keys = ['a/1', 'a/2', 'a/3', 'b/1', 'c', 'd/x/y', 'é'];
  for (const key of keys)
    await writerOf(bucketId, key).writeObject(bucketId, key, record(1, key), null);
  const listing = (prefix: string, delimiter: string, after: string, limit: number) =>
    mergeSources(
      readers.map((reader) => ({
        fetch: async (from: string, batch: number) =>
          reader.list({ bucketId, prefix, delimiter, after: from, limit: batch }),
      })),
      nameOf,
      after,
      limit,
    );
  const all = await listing('', '', '', 100);
  t.deepEqual(all.entries.map(nameOf), keys);
  t.false(all.truncated);
  const rolled = await listing('', '/', '', 100);
  t.deepEqual(rolled.entries.map(nameOf), ['a/', 'b/', 'c', 'd/', 'é']);
  const page = await listing('a/', '', 'a/1', 1);
  t.deepEqual(page.entries.map(nameOf), ['a/2']);
  t.true(page.truncated);
  // Both partitions hold some of the keys: the merge really spans them.
  const held = await Promise.all(
    readers.map(
      async (r) =>
        (await r.list({ bucketId, prefix: '', delimiter: '', after: '', limit: 100 })).entries
          .length,
    ),
  );
  t.true(
    held.every((n) => n > 0),
    `keys per partition: ${held.join(', ')}`,
  );
});

test.serial(
  'object facts: prefetched before the decision, refused (fail closed) when not',
  async (t) => {
    const { readers, readerOf, writerOf } = await partitions('facts');
    const bucketId = randomBytes(16).toString('hex');
    const bucket = { id: bucketId, name: 'facts', createdMs: 0 } as unknown as Parameters<
      typeof objectFactsOf
    >[1];
    const acl = { owner: 'c'.repeat(64), grants: [] };
    await writerOf(bucketId, 'tagged').writeObject(
      bucketId,
      'tagged',
      { ...record(2, 't'), owner: 'c'.repeat(64), acl, tags: [{ key: 'k', value: 'v' }] },
      null,
    );
    const state = { readers } as unknown as ServerState;
    const prefetched = new PrefetchedObjects();
    await prefetchObjectFacts(state, bucket, 'tagged', undefined, prefetched);
    await prefetchObjectFacts(state, bucket, 'absent', undefined, prefetched);
    const facts = objectFactsOf(state, bucket, 'tagged', undefined, prefetched);
    t.deepEqual(facts.access(), { owner: 'c'.repeat(64), acl });
    t.deepEqual([...(facts.tags() ?? [])], [['k', 'v']]);
    t.is(objectFactsOf(state, bucket, 'absent', undefined, prefetched).access(), undefined);
    // A decision that needs facts nobody read must not run on guesses.
    const unread = objectFactsOf(state, bucket, 'tagged', undefined, new PrefetchedObjects());
    const error = t.throws(() => unread.tags(), { instanceOf: S3Error });
    t.is(error?.code, 'NotImplemented');
    t.true(readerOf(bucketId, 'tagged').remote);
  },
);

test.serial('prefetchForDecision reads only when a decision may look at the object', async (t) => {
  const { readers, writerOf } = await partitions('when');
  const bucketId = randomBytes(16).toString('hex');
  await writerOf(bucketId, 'k').writeObject(bucketId, 'k', record(1, 'k'), null);
  const configs = new Map<string, unknown>();
  const catalog = {
    getBucket: (name: string) => (name === 'b' ? { id: bucketId, name: 'b' } : undefined),
    getBucketConfig: (_bucket: unknown, kind: string) => configs.get(kind),
  };
  const state = { readers, catalog } as unknown as ServerState;
  const get = { action: 'GetObject' };
  configs.set('access', { ownership: 'BucketOwnerEnforced' });
  t.is(prefetchForDecision(state, 'b', 'k', get), null, 'owner-enforced, no policy: never read');
  t.is(prefetchForDecision(state, 'b', null, get), null, 'bucket-level');
  t.is(prefetchForDecision(state, 'nope', 'k', get), null, 'no such bucket: refused later');
  configs.set('access', { ownership: 'ObjectWriter' });
  t.is(prefetchForDecision(state, 'b', 'k', { action: 'DeleteObjects' }), null);
  const read = await prefetchForDecision(state, 'b', 'k', get);
  t.is(read?.find(bucketId, 'k', undefined)?.record?.etag, '"k"');
  configs.set('access', {});
  t.not(prefetchForDecision(state, 'b', 'k', get), null, 'no access record: ACLs in use');
  // DeleteObjects' keys: every one read, present or not, in batches.
  const bucket = { id: bucketId, name: 'b' } as unknown as Parameters<typeof objectFactsOf>[1];
  const keys = Array.from({ length: 40 }, (_, i) => ({ key: i === 7 ? 'k' : `none-${i}` }));
  const many = await prefetchAllIfJudged(state, bucket, {}, keys);
  t.is(many?.find(bucketId, 'k', undefined)?.record?.etag, '"k"');
  t.deepEqual(many?.find(bucketId, 'none-39', undefined), { record: undefined });
  t.is(prefetchAllIfJudged(state, bucket, { ownership: 'BucketOwnerEnforced' }, keys), null);
  const embedded = { readers: [], catalog } as unknown as ServerState;
  t.is(prefetchForDecision(embedded, 'b', 'k', get), null, 'embedded: nothing to await');
});
