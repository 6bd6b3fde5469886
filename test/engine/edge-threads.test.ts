import { request } from 'node:http';
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
