import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { pino } from 'pino';
import { defaultConfig } from '../../engine/config.js';
import { metricsText } from '../../http/admin/metrics.js';
import { healthStatus, setHealth } from '../../http/health.js';
import { startServer } from '../../http/server.js';
import { eventually } from '../helpers/fsck.js';
import { parseMetrics, metricValue as value } from '../helpers/metrics.js';
import { REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, s3Failure } from '../helpers/server.js';

/**
 * Metrics and the access log, through the functions the admin API serves them with: the server
 * runs in this process (each ava test file is its own process, so the registry is this test's).
 */

const METRICS_TOKEN = 'metrics-token-for-tests';

test('S3 requests are counted and timed; scrape-time gauges report the data directory', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-metrics-'));
  const logLines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') logLines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const config = defaultConfig(dataDir);
  config.dataDir = dataDir;
  config.s3.port = 0;
  config.web.port = 0;
  config.shards = 2;
  config.durability = 'fsync';
  config.admin.port = 0;
  config.admin.metricsToken = METRICS_TOKEN;
  config.rootAccessKey = ROOT_ACCESS_KEY;
  config.rootSecretKey = ROOT_SECRET_KEY;
  t.is(healthStatus().status, 'starting');
  const server = await startServer(config, logger);
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  try {
    t.deepEqual(healthStatus().status, 'ok');
    t.is(healthStatus().shards, 2);
    const client = new S3Client({
      endpoint: server.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY },
      maxAttempts: 1,
    });
    // Over the inline limit (256 KiB), under a block: each PUT writes one block file.
    const body = Buffer.alloc(300_000, 7);
    await client.send(new CreateBucketCommand({ Bucket: 'metrics' }));
    await client.send(new CreateBucketCommand({ Bucket: 'metrics-2' }));
    for (let i = 0; i < 3; i++) {
      await client.send(new PutObjectCommand({ Bucket: 'metrics', Key: `k${i}`, Body: body }));
    }
    const got = await client.send(new GetObjectCommand({ Bucket: 'metrics', Key: 'k1' }));
    t.is((await got.Body?.transformToByteArray())?.byteLength, body.length);
    const missing = await s3Failure(
      client.send(new HeadObjectCommand({ Bucket: 'metrics', Key: 'nope' })),
    );
    t.is(missing.status, 404);
    client.destroy();

    const samples = parseMetrics(await metricsText());
    const count = (operation: string, status: string): number =>
      value(samples, 'hangar_s3_requests_total', { operation, status });
    t.is(count('CreateBucket', '200'), 2);
    t.is(count('PutObject', '200'), 3);
    t.is(count('GetObject', '200'), 1);
    t.is(count('HeadObject', '404'), 1);
    t.is(value(samples, 'hangar_s3_requests_total'), 7);
    t.is(value(samples, 'hangar_s3_request_duration_seconds_count', { operation: 'PutObject' }), 3);
    t.true(
      value(samples, 'hangar_s3_request_duration_seconds_sum', { operation: 'PutObject' }) > 0,
    );
    t.is(
      value(samples, 'hangar_s3_request_duration_seconds_bucket', {
        operation: 'PutObject',
        le: '+Inf',
      }),
      3,
    );
    // The SDK sends PUT bodies aws-chunked (framing and trailer count): at least the payload.
    const bytesIn = value(samples, 'hangar_s3_bytes_in_total');
    t.true(bytesIn >= 3 * body.length && bytesIn < 3 * body.length + 10_000, String(bytesIn));
    const bytesOut = value(samples, 'hangar_s3_bytes_out_total');
    t.true(bytesOut >= body.length && bytesOut < body.length + 10_000, String(bytesOut));
    t.is(value(samples, 'hangar_buckets'), 2);
    for (const shard of ['0', '1']) {
      t.true(value(samples, 'hangar_lmdb_size_bytes', { shard }) > 0, `shard ${shard} lmdb size`);
      t.true(
        samples.some(
          (s) => s.name === 'hangar_shard_inflight_requests' && s.labels.shard === shard,
        ),
      );
    }
    // A shard's in-flight count drops when the edge handles its last reply, which can follow the
    // HTTP answer the client already has (a GET's last block): poll until it settles, bounded.
    t.true(
      await eventually(
        async () =>
          value(parseMetrics(await metricsText()), 'hangar_shard_inflight_requests') === 0,
      ),
      'every shard request settles once the answers are out',
    );

    // What the shards report: usage per bucket, blocks, dedup, fsyncs, busy time, mailboxes.
    t.is(value(samples, 'hangar_bucket_objects', { bucket: 'metrics' }), 3);
    t.is(value(samples, 'hangar_bucket_bytes', { bucket: 'metrics' }), 3 * body.length);
    t.is(value(samples, 'hangar_bucket_objects', { bucket: 'metrics-2' }), 0);
    // Three identical bodies: one block, referenced three times, written once per shard at most.
    t.is(value(samples, 'hangar_block_references'), 3);
    const stored = value(samples, 'hangar_blocks_stored');
    t.true(stored >= 1 && stored <= 2, String(stored));
    t.is(value(samples, 'hangar_blocks_stored_bytes'), stored * body.length);
    t.is(value(samples, 'hangar_blocks_deduplicated_total'), 2);
    t.is(value(samples, 'hangar_blocks_orphaned_removed_total'), 0);
    t.is(value(samples, 'hangar_block_errors'), 0);
    // Every PUT fsynced its block file before knowing it was a duplicate; commits waited for LMDB.
    const fsyncs = (kind: string): number =>
      value(samples, 'hangar_fsync_duration_seconds_count', { kind });
    t.is(fsyncs('block'), 3);
    t.true(fsyncs('meta') >= 3, String(fsyncs('meta')));
    t.true(fsyncs('dir') >= 1, String(fsyncs('dir')));
    t.is(value(samples, 'hangar_fsync_duration_seconds_bucket', { kind: 'block', le: '+Inf' }), 3);
    t.true(value(samples, 'hangar_fsync_duration_seconds_sum', { kind: 'block' }) > 0);
    for (const shard of ['0', '1']) {
      t.true(value(samples, 'hangar_shard_busy_seconds_total', { shard }) > 0);
      t.true(
        samples.some((s) => s.name === 'hangar_shard_mailbox_depth' && s.labels.shard === shard),
      );
      t.is(value(samples, 'hangar_shard_open_sessions', { shard }), 0);
    }
    t.is(value(samples, 'hangar_shard_mailbox_depth'), 0);

    // The same text over the admin port, behind the metrics token; /health is open.
    const scraped = await fetch(`${server.adminEndpoint}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    t.is(scraped.status, 200);
    t.regex(scraped.headers.get('content-type') ?? '', /^text\/plain/);
    const overHttp = parseMetrics(await scraped.text());
    t.is(value(overHttp, 'hangar_s3_requests_total', { operation: 'PutObject', status: '200' }), 3);
    t.is(value(overHttp, 'hangar_s3_requests_total'), 7);
    const anonymous = await fetch(`${server.adminEndpoint}/metrics`);
    t.true(anonymous.status === 401 || anonymous.status === 403, String(anonymous.status));
    await anonymous.arrayBuffer();
    const health = await fetch(`${server.adminEndpoint}/health`);
    t.is(health.status, 200);
    t.like(await health.json(), { status: 'ok', shards: 2 });
    // While the process is not serving (here forced to 'starting'), both probes answer 503 and
    // /ready names the failing check.
    setHealth('starting');
    const notLive = await fetch(`${server.adminEndpoint}/health`);
    t.is(notLive.status, 503);
    await notLive.arrayBuffer();
    const notReady = await fetch(`${server.adminEndpoint}/ready`);
    t.is(notReady.status, 503);
    const notReadyBody = (await notReady.json()) as { status: string; reasons: string[] };
    t.is(notReadyBody.status, 'not-ready');
    t.deepEqual(notReadyBody.reasons, ['serving: health is starting']);
    setHealth('ok', 2);
    // On a loaded machine a shard can miss readiness's 2 s ping bound once: ask again, bounded.
    t.true(
      await eventually(
        async () => {
          const ready = await fetch(`${server.adminEndpoint}/ready`);
          await ready.arrayBuffer();
          return ready.status === 200;
        },
        15_000,
        200,
      ),
      '/ready answers 200 again once the server serves',
    );
    t.true(samples.some((s) => s.name === 'process_cpu_user_seconds_total'));
    t.true(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));
    // The access log is written by the edge threads straight to stdout (not into this logger):
    // test/engine/logs.test.ts checks it on a real process.
  } finally {
    const stopping = server.stop();
    t.is(healthStatus().status, 'stopping');
    await stopping;
  }
});
