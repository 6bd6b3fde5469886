import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { randomBytesSeeded, s3Failure, TestServer } from '../helpers/server.js';
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
    const head = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${5 * MiB}\r\n\r\n`;
    await rawExchange(Buffer.concat([Buffer.from(head), randomBytesSeeded(3 * MiB + 123, 9)]), {
      destroyAfterWrite: true,
    });
    const missing = await s3Failure(
      server.client().send(new HeadObjectCommand({ Bucket: 'bad', Key: 'torn' })),
    );
    t.is(missing.status, 404, 'no torn object is visible');
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
  const head = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 100\r\n\r\n`;
  await rawExchange(`${head}only forty bytes of the promised hundred`, { destroyAfterWrite: true });
  const missing = await s3Failure(
    server.client().send(new HeadObjectCommand({ Bucket: 'bad', Key: 'short' })),
  );
  t.is(missing.status, 404);
  await assertServerServes(t);
});

test.serial(
  'garbage and oversized headers get a clean answer or close, never a crash',
  async (t) => {
    const garbage = await rawExchange('\x00\x01\x02 not http at all\r\n\r\n');
    t.notRegex(garbage, /^HTTP\/1\.1 2/);
    const huge = await rawExchange(
      `GET /bad/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`,
    );
    t.notRegex(huge, /^HTTP\/1\.1 2/);
    await assertServerServes(t);
  },
);

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
