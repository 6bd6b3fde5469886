/**
 * SIGTERM stops hangar cleanly through the real process: the listeners close at once (new
 * connections refused), requests in flight finish within LIMITS.shutdownDrainMs (set here with
 * HANGAR_SHUTDOWN_DRAIN_MS), what they wrote is flushed, and the process exits 0.
 */
import { createHash } from 'node:crypto';
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { newBucket, objectBytes, randomBytesSeeded, TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const UPLOAD_BYTES = 256 * MiB;
/** Sent before the SIGTERM: the upload is well under way, 240 MiB still to come. */
const BEFORE_SIGNAL_BYTES = 16 * MiB;

/** The upload's bytes, one MiB at a time: each MiB differs (its index in its first bytes). */
function uploadChunk(base: Buffer, index: number): Buffer {
  const chunk = Buffer.from(base);
  chunk.writeUInt32BE(index, 0);
  return chunk;
}

/** A PUT on its own connection whose body the test writes piece by piece. */
function openUpload(
  url: string,
  length: number,
): {
  req: ClientRequest;
  answer: Promise<{ res: IncomingMessage; body: string } | Error>;
} {
  // A keep-alive agent: with `agent: false` Node asks for `Connection: close` itself, and the
  // server's own `Connection: close` is then not written back.
  const req = request(url, {
    method: 'PUT',
    agent: new Agent({ keepAlive: true }),
    headers: { 'content-length': String(length) },
  });
  const answer = new Promise<{ res: IncomingMessage; body: string } | Error>((resolve) => {
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ res, body: Buffer.concat(chunks).toString() }));
      res.once('error', resolve);
    });
    req.once('error', resolve);
  });
  return { req, answer };
}

/** Writes `chunk`, waiting for the socket to take it when it pushes back. */
async function write(req: ClientRequest, chunk: Buffer): Promise<void> {
  if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve));
}

/** Resolves once a new TCP connection to `port` is refused; rejects after `withinMs`. */
async function refusedSoon(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    if (outcome === 'ECONNREFUSED') return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts (${outcome})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends one raw request on an open socket and reads its whole answer (Content-Length body). */
function exchange(socket: Socket, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== 'open') {
      reject(new Error(`the connection is ${socket.readyState}: no answer`));
      return;
    }
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed without an answer: ${text}`)));
    socket.write(raw);
  });
}

const ANONYMOUS_LIST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
/** Idle keep-alive connections held across the stop: with 2 edge threads, 8 leave each thread
 *  none with a chance of 1 in 128. */
const IDLE_CONNECTIONS = 8;

test('SIGTERM: refuses new connections, finishes the upload in flight, flushes, exits 0', async (t) => {
  t.timeout(180_000);
  const boundMs = 60_000;
  const env = { HANGAR_SHUTDOWN_DRAIN_MS: String(boundMs) };
  // Two edge threads whatever the core count: one drains the upload while the other has nothing
  // in flight, and its idle connections must still be answered 503 until the drain is over.
  let server = await TestServer.start({ env, args: ['--edge-threads', '2'] });
  const { dataDir } = server;
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'drain');
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'big' }));
    // Keep-alive connections that served a request before the stop and send one during it;
    // several, so that edge threads with no request in flight hold some too (the kernel spreads
    // connections over the threads).
    const idles = await Promise.all(
      Array.from({ length: IDLE_CONNECTIONS }, async () => {
        const socket = connect(server.port, '127.0.0.1');
        const closed = new Promise((resolve) => socket.once('close', resolve));
        await new Promise((resolve) => socket.once('connect', resolve));
        t.regex(await exchange(socket, ANONYMOUS_LIST), /^HTTP\/1\.1 403/);
        return { socket, closed };
      }),
    );

    const base = randomBytesSeeded(MiB, 12);
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    const upload = openUpload(url, UPLOAD_BYTES);
    let index = 0;
    const sendUpTo = async (bytes: number): Promise<void> => {
      for (; index * MiB < bytes; index++) {
        const chunk = uploadChunk(base, index);
        md5.update(chunk);
        sha.update(chunk);
        await write(upload.req, chunk);
      }
    };
    await sendUpTo(BEFORE_SIGNAL_BYTES);

    const signalledAt = Date.now();
    const exited = server.sendSignal('SIGTERM');
    await refusedSoon(server.port, 5_000);
    await refusedSoon(server.webPort, 1_000);
    await refusedSoon(server.adminPort, 1_000);
    // The upload is still in flight (most of its body unsent) while new connections are refused;
    // a request on an already open connection is turned away, and that connection closed.
    for (const { socket, closed } of idles) {
      const lateAnswer = await exchange(socket, ANONYMOUS_LIST);
      t.regex(lateAnswer, /^HTTP\/1\.1 503/);
      t.regex(lateAnswer, /<Code>ServiceUnavailable<\/Code>/);
      t.regex(lateAnswer, /\r\nconnection: close\r\n/i);
      await closed;
    }

    await sendUpTo(UPLOAD_BYTES);
    upload.req.end();
    const answer = await upload.answer;
    if (answer instanceof Error) throw answer;
    t.is(answer.res.statusCode, 200, answer.body);
    t.is(answer.res.headers.etag, `"${md5.digest('hex')}"`);
    t.is(answer.res.headers.connection, 'close');

    const exit = await exited;
    t.deepEqual(exit, { code: 0, signal: null });
    t.true(Date.now() - signalledAt < boundMs, 'exited within the drain bound');
    await server.stop(); // the log check

    server = await TestServer.start({ dataDir, env });
    const stored = await objectBytes(server.client(), bucket, 'big');
    t.is(stored.length, UPLOAD_BYTES);
    t.is(createHash('sha256').update(stored).digest('hex'), sha.digest('hex'));
  } finally {
    await server.destroy();
  }
});

test('SIGTERM: an upload that stalls is cut at the drain bound and the process exits 0', async (t) => {
  t.timeout(60_000);
  const boundMs = 1_500;
  const env = { HANGAR_SHUTDOWN_DRAIN_MS: String(boundMs) };
  let server = await TestServer.start({ env });
  const { dataDir } = server;
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'stall');
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'stalled' }));
    const upload = openUpload(url, 64 * MiB);
    const base = randomBytesSeeded(MiB, 13);
    for (let index = 0; index < 4; index++) await write(upload.req, uploadChunk(base, index));
    // The client sends nothing more; the server holds the request until the bound.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalledAt = Date.now();
    const exit = await server.sendSignal('SIGTERM');
    const tookMs = Date.now() - signalledAt;
    t.deepEqual(exit, { code: 0, signal: null });
    t.true(tookMs >= boundMs - 100, `waited for the bound (${tookMs} ms)`);
    t.true(tookMs < boundMs + 10_000, `then stopped (${tookMs} ms)`);
    t.true((await upload.answer) instanceof Error, 'the stalled upload was cut, not answered');
    t.regex(server.log, /drain bound passed/);
    t.regex(server.log, /"requests":1\b/);
    await server.stop(); // the log check

    server = await TestServer.start({ dataDir, env });
    const head = server.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'stalled' }));
    await t.throwsAsync(head, { name: 'NotFound' });
  } finally {
    await server.destroy();
  }
});

test('SIGTERM with nothing in flight exits 0 at once', async (t) => {
  const server = await TestServer.start();
  try {
    const signalledAt = Date.now();
    t.deepEqual(await server.sendSignal('SIGTERM'), { code: 0, signal: null });
    t.true(Date.now() - signalledAt < 5_000);
  } finally {
    await server.destroy();
  }
});
