import { type IncomingMessage, request } from 'node:http';
import { GetObjectCommand, PutBucketWebsiteCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { newBucket, objectBytes, randomBytesSeeded, TestServer } from '../helpers/server.js';
import { makePublicRead, webRequest } from '../helpers/website.js';

const MiB = 1024 * 1024;
const METRICS_TOKEN = 'read-sessions-metrics-token';
/** Larger than what loopback socket buffers absorb, so a client that reads nothing stalls it. */
const OBJECT_BYTES = 24 * MiB;

/** A GET (S3 or website) whose client takes the first bytes, then never reads again. */
function stalledGet(
  port: number,
  path: string,
  host: string,
): Promise<{ res: IncomingMessage; received: () => number; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host }, agent: false },
      (res) => {
        // A paused socket reads nothing, so it notices the server's close only once resumed.
        const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('error', () => undefined);
        res.once('data', () => {
          res.pause();
          resolve({ res, received: () => bytes, closed });
        });
        if (res.statusCode !== 200) reject(new Error(`stalled GET answered ${res.statusCode}`));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

async function openSessions(server: TestServer): Promise<number> {
  const text = await (
    await fetch(`${server.adminEndpoint}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
  ).text();
  const counts = [...text.matchAll(/^hangar_shard_open_sessions\{[^}]*\} (\d+)$/gm)];
  if (counts.length === 0) throw new Error('no hangar_shard_open_sessions in /metrics');
  return counts.reduce((sum, match) => sum + Number(match[1]), 0);
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Run once with the per-shard bound the tighter one, once with the total bound.
for (const [name, env] of [
  ['per shard', { HANGAR_READ_SESSIONS_PER_SHARD_MAX: '4', HANGAR_READ_SESSIONS_TOTAL_MAX: '64' }],
  ['in total', { HANGAR_READ_SESSIONS_PER_SHARD_MAX: '64', HANGAR_READ_SESSIONS_TOTAL_MAX: '4' }],
] as const) {
  test.serial(`GETs whose clients stop reading are bounded (${name}) and time out`, async (t) => {
    t.timeout(60_000);
    const server = await TestServer.start({
      shards: 2,
      env: { ...env, HANGAR_READ_STALL_TIMEOUT_MS: '2000', HANGAR_METRICS_TOKEN: METRICS_TOKEN },
    });
    try {
      const s3 = server.client();
      const bucket = await newBucket(s3, 'sessions');
      await makePublicRead(s3, bucket);
      await s3.send(
        new PutBucketWebsiteCommand({
          Bucket: bucket,
          WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
        }),
      );
      const body = randomBytesSeeded(OBJECT_BYTES, 3);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: body }));
      const url = new URL(
        await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'big' })),
      );
      const s3Host = `127.0.0.1:${server.port}`;
      const webHost = `${bucket}.web.localhost`;
      // Two anonymous website readers and two S3 readers that stop reading: the bound of 4.
      const stalled = [
        await stalledGet(server.webPort, '/big', webHost),
        await stalledGet(server.webPort, '/big', webHost),
        await stalledGet(server.port, url.pathname + url.search, s3Host),
        await stalledGet(server.port, url.pathname + url.search, s3Host),
      ];
      t.is(await openSessions(server), 4);

      // Past the bound: 503 SlowDown with Retry-After, on both ports; other requests still served.
      const refused = await webRequest(server.webPort, webHost, '/big');
      t.is(refused.status, 503);
      t.is(refused.headers['retry-after'], '1');
      t.regex(refused.body, /SlowDown/);
      const s3Refused = await fetch(url);
      t.is(s3Refused.status, 503);
      t.is(s3Refused.headers.get('retry-after'), '1');
      t.regex(await s3Refused.text(), /<Code>SlowDown<\/Code>/);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'small' }));

      // The stalled readers are cut after the timeout and their sessions freed.
      await waitFor('sessions freed', async () => (await openSessions(server)) === 0);
      // Edge threads' log lines reach the process's log a moment after they are written.
      await waitFor(
        'the stalls logged',
        async () => server.log.match(/GET body stalled/g)?.length === 4,
      );
      t.is(server.log.match(/GET body stalled/g)?.length, 4);
      for (const reader of stalled) {
        reader.res.resume();
        await reader.closed;
        t.true(reader.received() < OBJECT_BYTES, 'the stalled body was cut, not completed');
      }
      t.true((await objectBytes(s3, bucket, 'big')).equals(body));
      t.is((await webRequest(server.webPort, webHost, '/small')).body, 'small');
    } finally {
      await server.destroy();
    }
  });
}
