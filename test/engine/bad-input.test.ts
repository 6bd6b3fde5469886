import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { finishedRequests } from '../helpers/metrics.js';
import { assertNoObject, randomBytesSeeded, s3Failure, TestServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const MiB = 1024 * 1024;
let server: TestServer;

test.before(async () => {
  server = await TestServer.start({ shards: 2 });
  await server.client().send(new CreateBucketCommand({ Bucket: 'bad' }));
});
test.after.always(async () => {
  await server?.destroy();
});

/** Sends raw bytes on a fresh connection; resolves with what came back before the close. */
function rawExchange(
  bytes: Buffer | string,
  options: { destroyAfterWrite?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.write(bytes, () => {
      if (options.destroyAfterWrite) setTimeout(() => socket.destroy(), 50);
    });
    setTimeout(() => socket.destroy(), 3000).unref();
  });
}

async function presignedPutPath(key: string): Promise<string> {
  const url = new URL(
    await getSignedUrl(server.client(), new PutObjectCommand({ Bucket: 'bad', Key: key }), {
      expiresIn: 600,
    }),
  );
  return url.pathname + url.search;
}

async function assertServerServes(t: { true: (v: boolean, m?: string) => void }): Promise<void> {
  const put = await server
    .client()
    .send(new PutObjectCommand({ Bucket: 'bad', Key: 'alive', Body: 'still serving' }));
  t.true(put.ETag !== undefined, 'the server still serves');
}

test.serial(
  'a client that disconnects mid-upload leaves no object, temp file or block behind',
  async (t) => {
    const before = await fsckReport(server.dataDir);
    const path = await presignedPutPath('torn');
    const putsBefore = await finishedRequests(server, 'PutObject');
    const head = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${5 * MiB}\r\n\r\n`;
    await rawExchange(Buffer.concat([Buffer.from(head), randomBytesSeeded(3 * MiB + 123, 9)]), {
      destroyAfterWrite: true,
    });
    // As for the short body below: look only once the server is done with the torn PUT.
    t.true(
      await eventually(
        async () => (await finishedRequests(server, 'PutObject')) === putsBefore + 1,
      ),
      'the server finished handling the torn PUT',
    );
    await assertNoObject(t, server.client(), 'bad', 'torn');
    t.true(
      await eventually(async () => {
        const report = await fsckReport(server.dataDir);
        return report.tempFiles === 0 && report.blockFiles === before.blockFiles;
      }),
      'the partial upload left no temp file and no block',
    );
    await assertServerServes(t);
  },
);

test.serial('a body shorter than its Content-Length is never stored', async (t) => {
  const path = await presignedPutPath('short');
  const putsBefore = await finishedRequests(server, 'PutObject');
  const head = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 100\r\n\r\n`;
  await rawExchange(`${head}only forty bytes of the promised hundred`, { destroyAfterWrite: true });
  // Wait until the server has finished handling the torn PUT (it is counted once its handler is
  // over, whatever it did): a HEAD sent before that would find nothing even if the PUT then
  // stored the short body.
  t.true(
    await eventually(async () => (await finishedRequests(server, 'PutObject')) === putsBefore + 1),
    'the server finished handling the torn PUT',
  );
  await assertNoObject(t, server.client(), 'bad', 'short');
  await assertServerServes(t);
});

/**
 * How long a server may take to answer or close a connection it cannot serve: well below uWS's
 * 10 s idle timeout, so a server that just waits for the idle timeout is caught as a hang.
 */
const CLOSE_WITHIN_MS = 5000;

/**
 * Sends `bytes` on a fresh connection and waits for the server to close it (at most
 * CLOSE_WITHIN_MS): what came back, and whether the server closed (false: it hung).
 */
function exchangeUntilClose(
  bytes: string,
  withinMs = CLOSE_WITHIN_MS,
): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    const hang = setTimeout(() => {
      socket.destroy();
      resolve({ received, closed: false });
    }, withinMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    const closed = (): void => {
      clearTimeout(hang);
      resolve({ received, closed: true });
    };
    socket.on('error', closed); // a reset is a close too
    socket.on('end', () => socket.end());
    socket.on('close', closed);
    socket.write(bytes);
  });
}

/** The only clean outcomes: an HTTP 4xx answer then a close, or a close with no bytes at all. */
function assertRefusedCleanly(
  t: ExecutionContext,
  outcome: { received: string; closed: boolean },
  what: string,
): void {
  t.true(outcome.closed, `${what}: the server neither answered-and-closed nor closed; it hung`);
  if (outcome.received.length > 0) {
    t.regex(outcome.received, /^HTTP\/1\.1 4\d\d /, `${what}: the answer is not an HTTP 4xx`);
  }
}

/**
 * uWS 20.30 hands JavaScript nothing before a request line parses, so a few bytes that are not
 * HTTP wait for its compiled-in 10 s idle timeout (issue 11 row 5, not met: see SECURITY.md's
 * known limits). The bound still holds: such a connection is closed, never kept.
 */
const NOT_HTTP_CLOSE_WITHIN_MS = 15_000;

test.serial('garbage and oversized headers get a 4xx and a close, or a bare close', async (t) => {
  assertRefusedCleanly(
    t,
    await exchangeUntilClose('\x00\x01\x02 not http at all\r\n\r\n', NOT_HTTP_CLOSE_WITHIN_MS),
    'bytes that are not HTTP',
  );
  assertRefusedCleanly(
    t,
    await exchangeUntilClose(
      `GET /bad/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`,
    ),
    'a 200 KB header',
  );
  // Past the request-header bound (issue 11 row 4) but under uWS's own: hangar's answer and close.
  assertRefusedCleanly(
    t,
    await exchangeUntilClose(
      `GET /bad/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    ),
    'a 64 KiB header',
  );
  await assertServerServes(t);
});

test.serial('malformed XML is MalformedXML', async (t) => {
  const url = await getSignedUrl(server.client(), new CreateBucketCommand({ Bucket: 'badxml' }), {
    expiresIn: 600,
  });
  const response = await fetch(url, {
    method: 'PUT',
    body: '<CreateBucketConfiguration><LocationConstraint>',
  });
  t.is(response.status, 400);
  t.regex(await response.text(), /<Code>MalformedXML<\/Code>/);
});

test.serial('curl with Expect: 100-continue uploads through a presigned URL', async (t) => {
  const url = await getSignedUrl(
    server.client(),
    new PutObjectCommand({ Bucket: 'bad', Key: 'curl-upload' }),
    { expiresIn: 600 },
  );
  const body = randomBytesSeeded(2 * MiB, 5).toString('base64');
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    const child = execFile(
      'curl',
      ['-sS', '-v', '-f', '-X', 'PUT', '-H', 'Expect: 100-continue', '--data-binary', '@-', url],
      (error, _stdout, stderrText) => {
        resolve({ code: error === null ? 0 : 1, stderr: stderrText });
      },
    );
    child.stdin?.end(body);
  });
  t.is(code, 0, stderr);
  t.regex(stderr, /100 Continue/);
  const head = await server
    .client()
    .send(new HeadObjectCommand({ Bucket: 'bad', Key: 'curl-upload' }));
  t.is(head.ContentLength, body.length);
});

test.serial(
  'a body that does not match its signed x-amz-content-sha256 is rejected and not stored',
  async (t) => {
    const response = await signedFetch(server.endpoint, {
      method: 'PUT',
      path: '/bad/mismatch',
      body: Buffer.from('the bytes actually sent'),
      payloadHash: createHash('sha256').update('some other bytes').digest('hex'),
    });
    t.is(response.status, 400);
    t.regex(await response.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    const missing = await s3Failure(
      server.client().send(new HeadObjectCommand({ Bucket: 'bad', Key: 'mismatch' })),
    );
    t.is(missing.status, 404);
    const ok = await signedFetch(server.endpoint, {
      method: 'PUT',
      path: '/bad/matching',
      body: Buffer.from('signed bytes'),
    });
    t.is(ok.status, 200);
  },
);
