import { Agent, request } from 'node:http';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { TestServer } from '../helpers/server.js';

/**
 * Edge threads (http/edge/): several threads serve the S3 port together, the kernel spreading
 * connections among them (SO_REUSEPORT). Each thread counts what it accepted in
 * hangar_edge_requests_total{edge}, which the main thread merges into /metrics.
 */

const CONNECTIONS = 200;

/** One unauthenticated request on its own connection (a new 4-tuple each: the kernel's hash). */
function oneRequest(endpoint: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/`, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

test('requests are spread over every edge thread (--edge-threads 2)', async (t) => {
  const server = await TestServer.start({ args: ['--edge-threads', '2'] });
  try {
    const statuses = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => oneRequest(server.endpoint)),
    );
    t.true(statuses.every((status) => status === 403));
    const samples = await scrapeMetrics(server);
    const edge0 = metricValue(samples, 'hangar_edge_requests_total', { edge: '0' });
    const edge1 = metricValue(samples, 'hangar_edge_requests_total', { edge: '1' });
    t.is(edge0 + edge1, CONNECTIONS, 'every request counted once, by the thread that took it');
    // Binomial(200, 1/2): fewer than 50 on one side happens with probability ~1e-13.
    t.true(Math.min(edge0, edge1) >= CONNECTIONS / 4, `edge 0: ${edge0}, edge 1: ${edge1}`);
    t.is(metricValue(samples, 'hangar_s3_requests_total'), CONNECTIONS);
  } finally {
    await server.stop();
  }
});

test('one edge thread serves every request (--edge-threads 1)', async (t) => {
  const server = await TestServer.start({ args: ['--edge-threads', '1'] });
  try {
    await Promise.all(Array.from({ length: 20 }, () => oneRequest(server.endpoint)));
    const samples = await scrapeMetrics(server);
    t.is(metricValue(samples, 'hangar_edge_requests_total', { edge: '0' }), 20);
    t.is(metricValue(samples, 'hangar_edge_requests_total'), 20);
  } finally {
    await server.stop();
  }
});

/** A request on a connection of its own, so that consecutive ones may land on other edges. */
function fresh(
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
      );
    });
    req.once('error', reject);
    req.end(body);
  });
}

test('a write acknowledged by one edge is read by every other (edge reads of LMDB)', async (t) => {
  t.timeout(120_000);
  const server = await TestServer.start({ args: ['--edge-threads', '2', '--shards', '2'] });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'raw' }));
    const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
    const urls = await Promise.all(
      keys.map(async (Key) => ({
        put: await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'raw', Key })),
        get: await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'raw', Key })),
        head: await getSignedUrl(s3, new HeadObjectCommand({ Bucket: 'raw', Key })),
        del: await getSignedUrl(s3, new DeleteObjectCommand({ Bucket: 'raw', Key })),
      })),
    );
    const rounds = 40;
    await Promise.all(
      urls.map(async (url, k) => {
        for (let i = 0; i < rounds; i++) {
          const value = `key ${k} round ${i}`;
          t.is((await fresh(url.put, 'PUT', value)).status, 200);
          const got = await fresh(url.get, 'GET');
          t.is(got.text, value, 'the GET after an acknowledged PUT reads that PUT');
          t.is((await fresh(url.head, 'HEAD')).status, 200);
          if (i % 8 === 7) {
            t.is((await fresh(url.del, 'DELETE')).status, 204);
            t.is((await fresh(url.get, 'GET')).status, 404, 'and after a DELETE, nothing');
            t.is((await fresh(url.head, 'HEAD')).status, 404);
          }
        }
      }),
    );
    const samples = await scrapeMetrics(server);
    const edge0 = metricValue(samples, 'hangar_edge_requests_total', { edge: '0' });
    const edge1 = metricValue(samples, 'hangar_edge_requests_total', { edge: '1' });
    t.true(Math.min(edge0, edge1) > 100, `both edges served: ${edge0}, ${edge1}`);
  } finally {
    await server.stop();
  }
});

/** A request on one kept-alive connection of `agent` (so always the same edge thread). */
function onConnection(
  agent: Agent,
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
      );
    });
    req.once('error', reject);
    req.end(body);
  });
}

test('a reader on a busy connection sees a write another connection was just told about', async (t) => {
  t.timeout(120_000);
  const server = await TestServer.start({ args: ['--edge-threads', '2', '--shards', '2'] });
  const reader = new Agent({ keepAlive: true, maxSockets: 1 });
  const writer = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'fresh' }));
    const Key = 'k';
    const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'fresh', Key }));
    const head = await getSignedUrl(s3, new HeadObjectCommand({ Bucket: 'fresh', Key }));
    const del = await getSignedUrl(s3, new DeleteObjectCommand({ Bucket: 'fresh', Key }));
    // The reader's edge has just read the key when the writer's answer arrives: its next read,
    // well within a millisecond, must not come from the snapshot of that earlier read.
    // Other connections keep both edges reading meanwhile, as a loaded server does.
    let running = true;
    const load = Array.from({ length: 8 }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (running) await onConnection(agent, head, 'HEAD');
      agent.destroy();
    });
    const stale: string[] = [];
    for (let i = 0; i < 300; i++) {
      t.is((await onConnection(writer, put, 'PUT', `round ${i}`)).status, 200);
      if ((await onConnection(reader, head, 'HEAD')).status !== 200) stale.push(`${i}: put`);
      t.is((await onConnection(writer, del, 'DELETE')).status, 204);
      if ((await onConnection(reader, head, 'HEAD')).status !== 404) stale.push(`${i}: delete`);
    }
    running = false;
    await Promise.all(load);
    t.deepEqual(stale, []);
  } finally {
    reader.destroy();
    writer.destroy();
    await server.stop();
  }
});
