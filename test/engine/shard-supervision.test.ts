import { createHash } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  TestServer,
} from '../helpers/server.js';

const MiB = 1024 * 1024;
/** The test hook's signal (engine/pool/shard-pool.ts): terminates shard 0's thread. */
const KILL_SHARD = 'SIGWINCH';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readyStatus(server: TestServer): Promise<number> {
  return (await fetch(`${server.adminEndpoint}/ready`)).status;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A GET whose client reads the first bytes, then stops: the response stays in flight. */
function stalledGet(url: string): Promise<{ res: IncomingMessage; received: () => number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.once('data', () => {
        res.pause();
        resolve({ res, received: () => bytes });
      });
    });
    req.once('error', reject);
    req.end();
  });
}

/** A PUT that declares `declared` bytes and sends only the first MiB: it waits on its shard. */
function halfSentPut(url: string, declared: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      agent: false,
      headers: { 'content-length': String(declared) },
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.write(Buffer.alloc(MiB, 7));
  });
}

function bodyOf(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString()));
    res.once('error', () => resolve(Buffer.concat(chunks).toString()));
    res.resume();
  });
}

test('a shard thread killed under load: its requests fail at once, it restarts, data is intact', async (t) => {
  t.timeout(60_000);
  const server = await TestServer.start({
    shards: 1,
    // The restart is held back long enough to see /ready and new requests while it is down.
    env: { HANGAR_TEST_HOOKS: '1', HANGAR_SHARD_RESTART_DELAY_MS: '1500' },
  });
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'supervise');
    const big = randomBytesSeeded(24 * MiB, 9);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big }));
    const small = Array.from({ length: 16 }, (_, i) => randomBytesSeeded(4096 + i, i));
    await Promise.all(
      small.map((body, i) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `s${i}`, Body: body })),
      ),
    );
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'big' }));
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'torn' }));
    const get = await stalledGet(getUrl);
    const put = halfSentPut(putUrl, 64 * MiB);
    t.is(await readyStatus(server), 200);
    // Let the half-sent PUT reach its shard, then kill the shard's thread.
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(server.process.pid as number, KILL_SHARD);

    // The pending PUT is answered (not left hanging): 503 ServiceUnavailable, Retry-After.
    const putRes = await put;
    t.is(putRes.statusCode, 503);
    t.is(putRes.headers['retry-after'], '1');
    t.regex(await bodyOf(putRes), /<Code>ServiceUnavailable<\/Code>/);
    // The streamed GET is cut: its client sees the connection end before the whole body.
    const getEnded = new Promise<void>((resolve) => get.res.once('close', () => resolve()));
    get.res.resume();
    await getEnded;
    t.true(get.received() < big.length);

    // While the shard is down, /ready says so and requests that need it get a 503, not a hang;
    // an inline object still reads, from the edge's read-only view of the shard's LMDB.
    t.is(await readyStatus(server), 503);
    const refused = await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' })));
    t.is(refused.status, 503);
    t.is(refused.name, 'ServiceUnavailable');
    const refusedPut = await s3Failure(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'during', Body: 'x' })),
    );
    t.is(refusedPut.status, 503);
    t.true(
      (await objectBytes(s3, bucket, 's0')).equals(small[0] as Buffer),
      'inline GET, shard down',
    );

    // Restarted: ready again, every acknowledged object intact, writes accepted.
    await waitFor('/ready after the restart', async () => (await readyStatus(server)) === 200);
    t.is(sha256(await objectBytes(s3, bucket, 'big')), sha256(big));
    for (const [i, body] of small.entries()) {
      t.true((await objectBytes(s3, bucket, `s${i}`)).equals(body), `s${i}`);
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'after' }));
    t.is((await objectBytes(s3, bucket, 'after')).toString(), 'after');
    t.regex(server.log, /shard thread died/);
    t.regex(server.log, /shard thread restarted/);
    t.is(server.process.exitCode, null);
  } finally {
    await server.destroy();
  }
});

test('shard threads that keep dying make the server exit non-zero', async (t) => {
  t.timeout(60_000);
  const server = await TestServer.start({
    shards: 2,
    env: { HANGAR_TEST_HOOKS: '1' },
    // The exit is what this test provokes.
    expectedLogErrors: [/hangar exited by itself \(code 70, signal null\)/],
  });
  try {
    const exited = new Promise<number | null>((resolve) =>
      server.process.once('exit', (code) => resolve(code)),
    );
    const pid = server.process.pid as number;
    for (let death = 1; death < 3; death++) {
      process.kill(pid, KILL_SHARD);
      await waitFor(`restart ${death}`, () => {
        const restarts = server.log.match(/shard thread restarted/g)?.length ?? 0;
        return restarts >= death;
      });
    }
    process.kill(pid, KILL_SHARD); // the third death within the window
    t.is(await exited, 70);
    t.regex(server.log, /shard threads keep dying/);
  } finally {
    await server.destroy();
  }
});
