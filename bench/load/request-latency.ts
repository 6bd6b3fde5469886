/**
 * S3 requests one at a time against an embedded server and against a cluster-mode gateway on the
 * local topology (both test servers, test/helpers/server.ts), and for the gateway what its engines
 * did per request, from its /metrics (hangar_engine_duration_seconds by kind: pg_transaction,
 * rados_write, rados_read). Part of bench/cluster-latency.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { LocalCluster } from '../../test/cluster/local-cluster.js';
import {
  initCluster,
  uniqueClusterName,
  writeGatewayConfig,
} from '../../test/helpers/cluster-backend.js';
import { metricValue, type Sample, scrapeMetrics } from '../../test/helpers/metrics.js';
import { TestServer } from '../../test/helpers/server.js';
import { removeClusterData } from './cluster-targets.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const BUCKET = 'latency';
const ENGINE_KINDS = ['pg_transaction', 'rados_write', 'rados_read'] as const;
const ENGINE_METRIC = 'hangar_engine_duration_seconds';
/** Unmeasured requests before each case (the SDK's and the server's first-call costs). */
const WARMUP = 5;

export interface RequestFigure {
  request: string;
  backend: 'embedded' | 'cluster';
  /** Client-side ms per request (the SDK's own cost is the same on both backends). */
  samples: number[];
  /** Cluster only: per request, how many operations of each engine kind and their mean ms. */
  engines?: string;
}

interface RequestCase {
  request: string;
  count: (n: number) => number;
  /** Writes warm up on keys past the measured ones (new keys, as measured); reads on the first. */
  writes?: boolean;
  run: (s3: S3Client, i: number) => Promise<unknown>;
}

function cases(): RequestCase[] {
  const small = randomBytes(4 * KIB);
  const large = randomBytes(MIB);
  const put = (prefix: string, body: Buffer) => (s3: S3Client, i: number) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${i}`, Body: body }));
  const get = (prefix: string) => async (s3: S3Client, i: number) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${i}` }));
    await answer.Body?.transformToByteArray();
  };
  return [
    { request: 'PUT 4 KiB', count: (n) => n, writes: true, run: put('small', small) },
    { request: 'GET 4 KiB', count: (n) => n, run: get('small') },
    {
      request: 'HEAD 4 KiB',
      count: (n) => n,
      run: (s3, i) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `small/${i}` })),
    },
    {
      request: 'PUT 1 MiB',
      count: (n) => Math.max(10, n / 4),
      writes: true,
      run: put('large', large),
    },
    { request: 'GET 1 MiB', count: (n) => Math.max(10, n / 4), run: get('large') },
  ];
}

/** Per engine kind: operations and seconds summed over shards. */
function engineTotals(samples: Sample[]): Map<string, { count: number; seconds: number }> {
  return new Map(
    ENGINE_KINDS.map((kind) => [
      kind,
      {
        count: metricValue(samples, `${ENGINE_METRIC}_count`, { kind }),
        seconds: metricValue(samples, `${ENGINE_METRIC}_sum`, { kind }),
      },
    ]),
  );
}

function engineDelta(before: Sample[], after: Sample[], requests: number): string {
  const was = engineTotals(before);
  const parts: string[] = [];
  for (const [kind, now] of engineTotals(after)) {
    const count = now.count - (was.get(kind)?.count ?? 0);
    if (count === 0) continue;
    const seconds = now.seconds - (was.get(kind)?.seconds ?? 0);
    parts.push(
      `${kind} ${(count / requests).toFixed(2)}× ${((seconds / count) * 1000).toFixed(2)} ms`,
    );
  }
  return parts.length === 0 ? 'no engine samples (not in cluster mode?)' : parts.join(', ');
}

/** Runs every case on one server, one request at a time. */
async function serverFigures(
  server: TestServer,
  backend: 'embedded' | 'cluster',
  n: number,
): Promise<RequestFigure[]> {
  const s3 = server.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const figures: RequestFigure[] = [];
    for (const c of cases()) {
      const count = Math.round(c.count(n));
      for (let k = 0; k < WARMUP; k++) await c.run(s3, c.writes === true ? count + k : k);
      const before = backend === 'cluster' ? await scrapeMetrics(server) : [];
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await c.run(s3, i);
        samples.push(performance.now() - t0);
      }
      const figure: RequestFigure = { request: c.request, backend, samples };
      if (backend === 'cluster') {
        figure.engines = engineDelta(before, await scrapeMetrics(server), count);
      }
      figures.push(figure);
    }
    return figures;
  } finally {
    s3.destroy();
    try {
      await server.stop();
    } finally {
      await server.destroy();
    }
  }
}

/**
 * An embedded server, then one gateway of a fresh cluster on the topology (removed after). Both
 * start as given: HANGAR_TEST_BACKEND plays no part here.
 */
export async function requestFigures(topology: LocalCluster, n: number): Promise<RequestFigure[]> {
  const embedded = await serverFigures(await TestServer.start({ asGiven: true }), 'embedded', n);
  const cluster = await initCluster(topology, uniqueClusterName());
  const dir = mkdtempSync(join(tmpdir(), 'hangar-latency-gateway-'));
  try {
    const config = writeGatewayConfig({
      topology,
      clusterName: cluster.name,
      gatewayName: 'latency1',
      dir,
    });
    const gateway = await TestServer.start({ asGiven: true, args: ['--config', config] });
    return [...embedded, ...(await serverFigures(gateway, 'cluster', n))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await removeClusterData(topology, cluster);
  }
}
