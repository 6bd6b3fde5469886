import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import test from 'ava';
import { loadUws } from '../../http/uws/load.js';
import {
  newBucket,
  objectBytes,
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  randomBytesSeeded,
  runCli,
  s3Failure,
  TestServer,
  useServer,
  useTempDir,
} from '../helpers/server.js';
import { TestCa } from '../helpers/tls.js';

/** Debian's awscli (installed by .ci/run); the one on PATH otherwise. */
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

const work = useTempDir(test, 'hangar-tls-');
/** The files the server is configured with; SIGHUP tests overwrite them. */
const served = { certFile: join(work, 'server.pem'), keyFile: join(work, 'server.key') };
let ca: TestCa;

// Registered before useServer's hook, so the files exist when the server starts.
test.serial.before(() => {
  ca = new TestCa(work);
  serve(ca.issue('hangar-1', 1001));
});

const suite = useServer(test, {
  scheme: 'https',
  args: ['--tls-cert-file', served.certFile, '--tls-key-file', served.keyFile],
});

function serve(files: { certFile: string; keyFile: string }): void {
  copyFileSync(files.keyFile, served.keyFile);
  copyFileSync(files.certFile, served.certFile);
}

function tlsClient(server: TestServer): S3Client {
  return server.client(
    { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY },
    { requestHandler: new NodeHttpHandler({ httpsAgent: ca.agent() }) },
  );
}

function ports(server: TestServer): Array<[string, number]> {
  return [
    ['S3', server.port],
    ['website', server.webPort],
    ['admin', server.adminPort],
  ];
}

type Handshake =
  | { ok: true; protocol: string | null; commonName: string; authorized: boolean }
  | { ok: false; code: string };

/** One TLS handshake with the port (no HTTP), trusting the test CA. */
function handshake(port: number, options: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca.pem, ...options }, () => {
      resolve({
        ok: true,
        protocol: socket.getProtocol(),
        commonName: String(socket.getPeerCertificate().subject.CN),
        authorized: socket.authorized,
      });
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, code: error.code ?? error.message }),
    );
  });
}

interface Answer {
  status: number;
  location: string | undefined;
  commonName: string;
  /** Whether the request went over a connection an earlier request opened. */
  reused: boolean;
  body: string;
}

/** GET `path` on `port` over https through `agent`; host header `host` when given. */
function httpsGet(port: number, agent: HttpsAgent, path = '/', host?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      { host: '127.0.0.1', port, path, agent, ...(host ? { headers: { host } } : {}) },
      (res) => {
        const commonName = String(
          (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN,
        );
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            commonName,
            reused: request.reusedSocket,
            body,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

test.serial('the start lines name https; every port speaks TLS 1.2 and 1.3 only', async (t) => {
  const { server } = suite;
  t.true(server.log.includes(`serving S3 at https://127.0.0.1:${server.port}`));
  t.true(server.log.includes(`serving websites at https://127.0.0.1:${server.webPort}`));
  t.true(server.log.includes(`serving the admin API at https://127.0.0.1:${server.adminPort}`));
  for (const [name, port] of ports(server)) {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const accepted = await handshake(port, { minVersion: version, maxVersion: version });
      t.like(
        accepted,
        { ok: true, protocol: version, commonName: 'hangar-1', authorized: true },
        `${name} ${version}`,
      );
    }
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const refused = await handshake(port, {
        minVersion: 'TLSv1',
        maxVersion: version,
        // Let this client offer the old versions at all; the refusal must be the server's.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      // The server's protocol_version alert, received by the client.
      t.deepEqual(refused, { ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, name);
    }
  }
});

test.serial(
  'no other listener can share the admin port; none but SO_REUSEPORT joins S3/website',
  (t) => {
    // uSockets' default listen sets SO_REUSEPORT. The admin port is bound without it: nothing joins.
    // The S3 and website ports are shared by the edge threads (SO_REUSEPORT): a listener without it
    // (another hangar's start-up claim) is refused; one with it, of the same user, could join
    // (SECURITY.md, DECISIONS.md: edge threads).
    const uws = loadUws();
    for (const [name, port] of ports(suite.server)) {
      let joined: unknown;
      const options = name === 'admin' ? 0 : 1; // LIBUS_LISTEN_DEFAULT / LIBUS_LISTEN_EXCLUSIVE_PORT
      const app = uws.App();
      const listen = app.listen as unknown as (
        host: string,
        port: number,
        options: number,
        callback: (socket: unknown) => void,
      ) => void;
      listen.call(app, '127.0.0.1', port, options, (socket) => {
        joined = socket;
        if (socket) uws.us_listen_socket_close(socket as never);
      });
      t.is(joined, false, `a second listener joined the ${name} port`);
    }
  },
);

test.serial('the website and admin ports answer HTTP over TLS', async (t) => {
  const { server } = suite;
  const health = await httpsGet(server.adminPort, ca.agent(), '/health');
  t.is(health.status, 200);
  const site = await httpsGet(server.webPort, ca.agent(), '/', 'no-such-site.web.localhost');
  t.is(site.status, 404);
  t.regex(site.body, /NoSuchBucket/);
});

test.serial('plain HTTP to a TLS port gets no HTTP answer, only a close', async (t) => {
  const received = await new Promise<string>((resolve, reject) => {
    const socket = netConnect(suite.server.port, '127.0.0.1', () =>
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
    );
    let bytes = '';
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1');
    });
    socket.on('close', () => resolve(bytes));
    socket.on('error', () => resolve(bytes));
    setTimeout(() => reject(new Error('the TLS port kept a plain-HTTP connection open')), 15_000);
  });
  t.false(received.startsWith('HTTP/'));
});

test.serial('the AWS SDK works over TLS, SSE-C included', async (t) => {
  const s3 = tlsClient(suite.server);
  const bucket = await newBucket(s3, 'tls');
  const body = randomBytesSeeded(300_000, 7);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body }));
  t.deepEqual(await objectBytes(s3, bucket, 'plain'), body);
  const key = randomBytesSeeded(32, 9).toString('base64');
  const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key };
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: body, ...sse }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret', ...sse }));
  t.deepEqual(
    Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    ),
    body,
  );
  const withoutKey = await s3Failure(
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'secret' })),
  );
  t.is(withoutKey.status, 400);
});

test.serial('URLs hangar writes back name https', async (t) => {
  const s3 = tlsClient(suite.server);
  const bucket = await newBucket(s3, 'tls-urls');
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm' }));
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'm',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: 'part',
    }),
  );
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'm',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  t.is(completed.Location, `https://127.0.0.1:${suite.server.port}/${bucket}/m`);
  // A website redirect without a configured protocol keeps the visitor on https.
  await s3.send(
    new PutBucketWebsiteCommand({
      Bucket: bucket,
      WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'example.com' } },
    }),
  );
  const redirected = await httpsGet(
    suite.server.webPort,
    ca.agent(),
    '/page',
    `${bucket}.web.localhost`,
  );
  t.is(redirected.status, 301);
  t.is(redirected.location, 'https://example.com/page');
});

test.serial('awscli works over TLS with --ca-bundle, SSE-C included', async (t) => {
  const s3 = tlsClient(suite.server);
  const bucket = await newBucket(s3, 'tls-cli');
  const source = join(work, 'upload.bin');
  const back = join(work, 'download.bin');
  const keyFile = join(work, 'sse-c.key');
  writeFileSync(source, randomBytesSeeded(200_000, 11));
  writeFileSync(keyFile, randomBytesSeeded(32, 12));
  const sse = ['--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`];
  await aws('s3', 'cp', source, `s3://${bucket}/cli.bin`, ...sse);
  await aws('s3', 'cp', `s3://${bucket}/cli.bin`, back, ...sse);
  t.deepEqual(readFileSync(back), readFileSync(source));
  t.regex(await aws('s3', 'ls', `s3://${bucket}/`), /cli\.bin/);
});

function aws(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      AWS,
      ['--endpoint-url', suite.server.endpoint, '--ca-bundle', ca.certFile, ...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: work,
          AWS_CONFIG_FILE: join(work, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
          AWS_ACCESS_KEY_ID: ROOT_ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: ROOT_SECRET_KEY,
          AWS_DEFAULT_REGION: REGION,
          AWS_PAGER: '',
        },
      },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new Error(`aws ${args.join(' ')} failed: ${stderr}`));
      },
    );
  });
}

/** Polls fresh connections to `port` until one is served `commonName` (bounded: 20 s). */
async function untilServed(port: number, commonName: string, meanwhile: () => Promise<void>) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const seen = await handshake(port);
    if (seen.ok && seen.commonName === commonName) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never served ${commonName}`);
    await meanwhile();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test.serial(
  'SIGHUP: new connections get the new certificate, open ones keep working',
  async (t) => {
    const { server } = suite;
    const keepAlive = ca.agent({ keepAlive: true, maxSockets: 1 });
    const before = await httpsGet(server.port, keepAlive);
    t.like(before, { status: 403, commonName: 'hangar-1', reused: false });
    serve(ca.issue('hangar-2', 1002));
    // Twice at once, as a careless deploy script might: the server must come through.
    server.process.kill('SIGHUP');
    server.process.kill('SIGHUP');
    // Meanwhile the kept-alive connection carries requests (which also keeps it from idling out).
    const oldConnection = async (): Promise<void> => {
      const answer = await httpsGet(server.port, keepAlive);
      t.like(answer, { status: 403, commonName: 'hangar-1', reused: true });
    };
    for (const [, port] of ports(server)) await untilServed(port, 'hangar-2', oldConnection);
    await oldConnection();
    t.like(await httpsGet(server.port, ca.agent()), { status: 403, commonName: 'hangar-2' });
    keepAlive.destroy();
    // The CLI reaches the admin API over TLS (it pins the certificate admin.json names).
    const listed = await server.cli('key', 'list', '--json');
    t.is(listed.code, 0, listed.stderr);
    t.true(listed.stdout.includes(ROOT_ACCESS_KEY));
    const s3 = tlsClient(server);
    const bucket = await newBucket(s3, 'after-reload');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'after' }));
    t.is((await objectBytes(s3, bucket, 'k')).toString(), 'after');
  },
);

test.serial('SIGHUP with a key that does not match keeps the old certificate', async (t) => {
  const { server } = suite;
  const current = await handshake(server.port);
  t.true(current.ok);
  const commonName = current.ok ? current.commonName : '';
  const mismatched = ca.issue('hangar-3', 1003);
  copyFileSync(mismatched.certFile, served.certFile); // the key file stays the previous one
  server.process.kill('SIGHUP');
  const deadline = Date.now() + 20_000;
  while (!server.log.includes('TLS certificate reload failed')) {
    if (Date.now() > deadline) throw new Error(`no reload failure logged:\n${server.log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.regex(server.log, /tls\.key_file .* is not the private key of tls\.cert_file/);
  for (const [name, port] of ports(server)) {
    t.like(await handshake(port), { ok: true, commonName }, name);
  }
  t.is((await httpsGet(server.adminPort, ca.agent(), '/health')).status, 200);
});

test.serial('a key that does not match the certificate: the server does not start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-tls-bad-'));
  const one = ca.issue('mismatch-1', 2001);
  const two = ca.issue('mismatch-2', 2002);
  const start = (certFile: string, keyFile: string) =>
    runCli([
      'server',
      '--data-dir',
      dataDir,
      '--s3-port',
      '0',
      '--web-port',
      '0',
      '--admin-port',
      '0',
      '--tls-cert-file',
      certFile,
      '--tls-key-file',
      keyFile,
    ]);
  const mismatch = await start(one.certFile, two.keyFile);
  t.is(mismatch.code, 2);
  t.regex(
    mismatch.stdout + mismatch.stderr,
    /tls\.key_file .*mismatch-2\.key is not the private key/,
  );
  const missing = await start(join(work, 'absent.pem'), one.keyFile);
  t.is(missing.code, 2);
  t.regex(missing.stdout + missing.stderr, /tls\.cert_file .*absent\.pem cannot be read/);
});

test.serial('SSE-C over plain HTTP is refused as AWS does', async (t) => {
  const plain = await TestServer.start();
  try {
    const s3 = plain.client();
    const bucket = await newBucket(s3, 'sse-c-clear');
    const key = randomBytesSeeded(32, 3).toString('base64');
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key };
    const expectRefused = async (promise: Promise<unknown>): Promise<void> => {
      const error = await s3Failure(promise);
      t.is(error.status, 400);
      t.is(error.name, 'InvalidRequest');
      t.is(
        error.message,
        'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
      );
    };
    await expectRefused(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'secret', ...sse })),
    );
    const absent = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
    t.is(absent.status, 404);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'plain' }));
    await expectRefused(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...sse })));
    await expectRefused(
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'copy',
          CopySource: `${bucket}/plain`,
          CopySourceSSECustomerAlgorithm: 'AES256',
          CopySourceSSECustomerKey: key,
        }),
      ),
    );
  } finally {
    await plain.destroy();
  }
});
