import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { newBucket, objectBytes, randomBytesSeeded, TestServer } from '../helpers/server.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CONNECTIONS = 2000;
const OBJECT_BYTES = 64 * KiB;
/** The server's limits: 2,000 connections are ~8x the port's request cap, or 30x what the two
 *  shards take; each bound is tried alone (the other one out of reach). */
const LIMITS_TRIED = [
  ['the port cap', { HANGAR_REQUESTS_IN_FLIGHT_MAX: '256', HANGAR_SHARD_IN_FLIGHT_MAX: '100000' }],
  [
    'the shard bound',
    { HANGAR_REQUESTS_IN_FLIGHT_MAX: '100000', HANGAR_SHARD_IN_FLIGHT_MAX: '32' },
  ],
] as const;
/** What the overload may add to the server's resident memory at its peak. */
const GROWTH_BOUND_BYTES = 96 * MiB;

/** One field of /proc/<pid>/status, in bytes. */
function statusBytes(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * KiB;
}

interface Outcome {
  status: number | null;
  retryAfter: string | undefined;
  body: string;
  error: string | null;
}

/** One request on its own connection; resolves however it ends (answer, reset, timeout). */
function attempt(url: string, method: 'GET' | 'PUT', body: Buffer | null): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(url, {
      method,
      agent: false,
      timeout: 25_000,
      headers: body === null ? {} : { 'content-length': String(body.length) },
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      const done = (error: string | null): void =>
        resolve({
          status: res.statusCode ?? null,
          retryAfter: res.headers['retry-after'] as string | undefined,
          body: method === 'GET' && res.statusCode === 200 ? '' : Buffer.concat(chunks).toString(),
          error,
        });
      res.once('end', () => done(null));
      res.once('error', (error) => done(error.message));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (error) => {
      resolve({ status: null, retryAfter: undefined, body: '', error: error.message });
    });
    req.end(body ?? undefined);
  });
}

for (const [bound, env] of LIMITS_TRIED) {
  test.serial(
    `10x overload past ${bound}: SlowDown with Retry-After, bounded memory, the server survives`,
    async (t) => {
      t.timeout(90_000);
      const server = await TestServer.start({
        shards: 2,
        // Read sessions are bounded too (read-sessions.test.ts): out of reach here.
        env: {
          ...env,
          HANGAR_READ_SESSIONS_TOTAL_MAX: '100000',
          HANGAR_READ_SESSIONS_PER_SHARD_MAX: '100000',
        },
      });
      try {
        const pid = server.process.pid as number;
        const s3 = server.client();
        const bucket = await newBucket(s3, 'overload');
        const body = randomBytesSeeded(OBJECT_BYTES, 5);
        for (let i = 0; i < 16; i++) {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `get-${i}`, Body: body }));
        }
        const urls = await Promise.all(
          Array.from({ length: CONNECTIONS }, (_, i) =>
            i % 2 === 0
              ? getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: `put-${i}` }))
              : getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: `get-${i % 16}` })),
          ),
        );
        // The peak is the kernel's high-water mark (VmHWM: no sampling can miss it), reset here so
        // it covers the overload only. It counts file pages too, so it bounds anonymous growth.
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        const before = statusBytes(pid, 'VmRSS');
        const outcomes = await Promise.all(
          urls.map((url, i) =>
            attempt(url, i % 2 === 0 ? 'PUT' : 'GET', i % 2 === 0 ? body : null),
          ),
        );
        const growth = statusBytes(pid, 'VmHWM') - before;

        const slowDowns = outcomes.filter((o) => o.status === 503);
        const ok = outcomes.filter((o) => o.status === 200);
        const resets = outcomes.filter((o) => o.status === null);
        t.log(
          `${ok.length} OK, ${slowDowns.length} SlowDown, ${resets.length} without an answer` +
            ` (${[...new Set(resets.map((o) => o.error))].join(', ')}); peak growth ${(growth / MiB).toFixed(0)} MiB`,
        );
        t.true(slowDowns.length > 0, 'some requests are shed');
        for (const answer of slowDowns) {
          t.is(answer.retryAfter, '1');
          t.regex(answer.body, /<Code>SlowDown<\/Code>/);
        }
        t.true(ok.length > 0, 'some requests are served');
        t.false(
          outcomes.some((o) => o.error === 'timeout'),
          'no request is left hanging',
        );
        t.true(growth < GROWTH_BOUND_BYTES, `peak growth ${growth} bytes`);

        // The server survived and serves normally, acknowledged PUTs included.
        t.is(server.process.exitCode, null);
        const stored = outcomes.findIndex((o, i) => i % 2 === 0 && o.status === 200);
        if (stored >= 0) t.true((await objectBytes(s3, bucket, `put-${stored}`)).equals(body));
        t.true((await objectBytes(s3, bucket, 'get-0')).equals(body));
        t.notRegex(server.log, /AssertionError|Uncaught/);
      } finally {
        await server.destroy();
      }
    },
  );
}
