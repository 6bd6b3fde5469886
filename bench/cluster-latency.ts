/**
 * What cluster mode adds to one request (issue 19), measured op by op on the local topology, one
 * operation at a time (no concurrency: these are latencies, not throughput):
 *
 * - PostgreSQL round trip: `SELECT 1` on the Patroni primary (the floor of every metadata read).
 * - PostgreSQL commit: a one-row INSERT, autocommit (the floor of every metadata write: the
 *   commit waits for the synchronous standby).
 * - metadata PUT: MetaStore.putObject of a 4 KiB inline record over PgKvEnv (what a 4 KiB PutObject
 *   commits: SERIALIZABLE, read then write), with its round trips per transaction.
 * - metadata read: MetaStore.read of that record (a HEAD's or GET's point read).
 * - RADOS write / read of one 4 KiB and one 1 MiB object (a block: 64 MiB = 64 of them).
 *
 * Then S3 requests, one at a time, on an embedded server and on a cluster-mode gateway of the
 * same topology (load/request-latency.ts): the difference is what cluster mode adds per request,
 * and the gateway's /metrics say which engine operations it made of each request.
 *
 *   node dist/bench/cluster-latency.js [--quick]
 *
 * It runs on HANGAR_BENCH_CLUSTER_DIR's topology, or starts one at HANGAR_CLUSTER_PORT_OFFSET
 * (100 unless set) and stops it after. Prints a markdown table; everything it wrote is removed.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { RadosCluster, type RadosIoCtx } from '../engine/blocks/rados/librados.js';
import type { ObjectRecord } from '../engine/meta/object-table.js';
import { PgKvEnv } from '../engine/meta/pg-kv/env.js';
import { MetaStore } from '../engine/meta/store.js';
import type { LocalCluster } from '../test/cluster/local-cluster.js';
import { benchTopology, stopBenchTopology } from './load/bench-topology.js';
import { type RequestFigure, requestFigures } from './load/request-latency.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const BUCKET_ID = 'ab'.repeat(16);

interface Figure {
  operation: string;
  samples: number[];
  note?: string;
}

/** Runs `op` `n` times one after the other (after `warmup` unmeasured runs); ms per run. */
async function timed(
  n: number,
  op: (i: number) => Promise<unknown>,
  warmup = 5,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await op(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  return samples;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const mean = (samples: readonly number[]): number =>
  samples.reduce((a, b) => a + b, 0) / samples.length;
const p50 = (samples: readonly number[]): number =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );
const ms = (v: number): string => v.toFixed(Math.abs(v) < 10 ? 2 : 1);

function row({ operation, samples, note }: Figure): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `| ${operation} | ${samples.length} | ${ms(mean(samples))} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} | ${note ?? ''} |`;
}

/** One line per request: embedded, cluster, the difference, and the gateway's engine work. */
function requestRows(figures: readonly RequestFigure[]): string[] {
  const requests = [...new Set(figures.map((f) => f.request))];
  return requests.map((request) => {
    const of = (backend: string) =>
      figures.find((f) => f.request === request && f.backend === backend);
    const embedded = of('embedded');
    const cluster = of('cluster');
    if (embedded === undefined || cluster === undefined) return `| ${request} | – | – | – | |`;
    const added = mean(cluster.samples) - mean(embedded.samples);
    return `| ${request} (n=${cluster.samples.length}) | ${ms(mean(embedded.samples))} / ${ms(p50(embedded.samples))} | ${ms(mean(cluster.samples))} / ${ms(p50(cluster.samples))} | ${ms(added)} | ${cluster.engines ?? ''} |`;
  });
}

async function postgresFigures(topology: LocalCluster, n: number): Promise<Figure[]> {
  const primary = await topology.primary();
  if (primary === undefined) throw new Error('no PostgreSQL primary');
  const client = await topology.pgClient(primary);
  const table = `bench_latency_${randomBytes(4).toString('hex')}`;
  try {
    const select = await timed(n, () => client.query('SELECT 1'));
    await client.query(`CREATE TABLE ${table} (k int PRIMARY KEY, v bytea)`);
    const value = randomBytes(200);
    const insert = await timed(n, (i) =>
      client.query(`INSERT INTO ${table} VALUES ($1, $2)`, [i + 10, value]),
    );
    return [
      { operation: 'PostgreSQL round trip (SELECT 1 on the primary)', samples: select },
      {
        operation: 'PostgreSQL commit (1-row INSERT, autocommit)',
        samples: insert,
        note: 'waits for the synchronous standby',
      },
    ];
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await client.end();
  }
}

function inlineRecord(bytes: number): ObjectRecord {
  return {
    bytes,
    etag: '"0123456789abcdef0123456789abcdef"',
    lastModifiedMs: Date.now(),
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: new Uint8Array(bytes),
  } as unknown as ObjectRecord;
}

async function metadataFigures(topology: LocalCluster, n: number): Promise<Figure[]> {
  const { hosts, database, user, password } = topology.config.postgres;
  const shard = `benchlat${randomBytes(4).toString('hex')}`;
  const env = await PgKvEnv.open({
    connection: {
      primaryOf: {
        targets: hosts.map((h) => `${h.host}:${h.port}`),
        base: { database, user, password },
      },
    },
    shard,
  });
  try {
    const meta = await MetaStore.openRemote(env);
    const trips0 = env.stats.roundTrips;
    const runs0 = env.stats.runs;
    const record = inlineRecord(4 * KIB);
    const puts = await timed(n, (i) => meta.putObject(BUCKET_ID, `k${i}`, record), 0);
    const perPut = (env.stats.roundTrips - trips0) / n;
    const runsPerPut = (env.stats.runs - runs0) / n;
    const trips1 = env.stats.roundTrips;
    const reads = await timed(n, async (i) => {
      const got = await meta.read(() => meta.getObject(BUCKET_ID, `k${Math.max(0, i)}`));
      if (got === undefined) throw new Error('the record just written is missing');
    });
    const perRead = (env.stats.roundTrips - trips1) / (n + 5);
    return [
      {
        operation: 'metadata PUT: MetaStore.putObject, 4 KiB inline record',
        samples: puts,
        note: `${perPut.toFixed(1)} round trips, ${runsPerPut.toFixed(1)} runs per transaction (new keys)`,
      },
      {
        operation: 'metadata read: MetaStore.read(getObject)',
        samples: reads,
        note: `${perRead.toFixed(1)} round trips per read`,
      },
    ];
  } finally {
    // env.close() is what MetaStore.close() does (the remote store has nothing to flush).
    await env.close();
    await dropSchema(topology, shard);
  }
}

async function dropSchema(topology: LocalCluster, shard: string): Promise<void> {
  const primary = await topology.primary();
  if (primary === undefined) return;
  const client = await topology.pgClient(primary);
  try {
    await client.query(`DROP SCHEMA IF EXISTS hangar_meta_${shard} CASCADE`);
  } finally {
    await client.end();
  }
}

async function radosFigures(topology: LocalCluster, n: number): Promise<Figure[]> {
  const cluster = await RadosCluster.connect({ confPath: topology.config.ceph.conf });
  const namespace = `bench-latency-${randomBytes(4).toString('hex')}`;
  let io: RadosIoCtx | undefined;
  const written: string[] = [];
  try {
    io = await cluster.ioctx(topology.config.ceph.pool, namespace);
    const ctx = io;
    const figures: Figure[] = [];
    for (const [label, bytes, count] of [
      ['4 KiB', 4 * KIB, n],
      ['1 MiB', MIB, Math.max(10, Math.round(n / 4))],
    ] as const) {
      const body = randomBytes(bytes);
      const name = (i: number): string => `${label.replace(' ', '')}-${i}`;
      const writes = await timed(count, async (i) => {
        await ctx.writeFull(name(i), body);
        written.push(name(i));
      });
      const reads = await timed(count, (i) => ctx.read(name(Math.max(0, i)), bytes));
      figures.push(
        { operation: `RADOS write ${label} (write_full, size 3)`, samples: writes },
        { operation: `RADOS read ${label}`, samples: reads },
      );
    }
    return figures;
  } finally {
    for (const oid of written) await io?.remove(oid).catch(() => undefined);
    io?.close();
    await cluster.shutdown();
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const n = argv.includes('--quick') ? 50 : 200;
  const topology = await benchTopology();
  try {
    const figures = [
      ...(await postgresFigures(topology, n)),
      ...(await metadataFigures(topology, n)),
      ...(await radosFigures(topology, n)),
    ];
    const load = loadavg()[0]?.toFixed(1);
    const requests = await requestFigures(topology, n);
    process.stdout.write(
      [
        `topology ${topology.dir} (port offset ${topology.config.portOffset})`,
        '',
        `Engines, one operation at a time (load average ${load} at the end):`,
        '',
        '| operation | n | mean ms | p50 ms | p99 ms | note |',
        '|---|---:|---:|---:|---:|---|',
        ...figures.map(row),
        '',
        `S3 requests one at a time, AWS SDK v3 (load average ${loadavg()[0]?.toFixed(1)} at the end):`,
        '',
        '| request | embedded mean / p50 ms | cluster mean / p50 ms | added mean ms | cluster gateway engines per request (/metrics) |',
        '|---|---:|---:|---:|---|',
        ...requestRows(requests),
        '',
      ].join('\n'),
    );
  } finally {
    await stopBenchTopology();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
