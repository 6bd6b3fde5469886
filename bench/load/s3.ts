/**
 * The SDK side of the load benchmark: presigned request lines for wrk, and preloading objects.
 *
 * URLs are presigned (path-style, 1 h expiry) for the fixed Host `127.0.0.1` rather than for the
 * target's port: wrk sends that Host header to every target, so one list of lines serves every
 * target with the same credentials.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SourceData } from '@smithy/types';
import type { Credentials } from './targets.js';

export const BUCKET = 'bench';
export const PRESIGN_HOST = '127.0.0.1';
const REGION = 'us-east-1';

export type Method = 'PUT' | 'GET' | 'HEAD' | 'DELETE' | 'LIST';

export interface RequestSpec {
  method: Method;
  /** Object key, or for LIST the start-after key. */
  key: string;
}

export function client(endpoint: string, credentials: Credentials, sockets = 64): S3Client {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    // No flexible checksums: they would add checksum parameters to presigned PUTs.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: sockets }),
      requestTimeout: 120_000,
    }),
  });
}

/** node:crypto behind the SDK's hash interface (HMAC when given a secret). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.create();
  }
}

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Presigns requests for PRESIGN_HOST and returns "METHOD PATH?QUERY" lines. Uses the presigner's
 * S3RequestPresigner directly: getSignedUrl's command middleware costs ~10× more per URL
 * (~180 µs against ~19 µs here), which matters for 100k+ URLs.
 */
export async function presignLines(
  credentials: Credentials,
  requests: readonly RequestSpec[],
): Promise<string[]> {
  const presigner = new S3RequestPresigner({
    credentials,
    region: REGION,
    sha256: NodeSha256,
  });
  const lines: string[] = [];
  for (const r of requests) {
    const list = r.method === 'LIST';
    if (!/^[A-Za-z0-9/._-]+$/.test(r.key)) throw new Error(`key needs escaping: ${r.key}`);
    const signed = await presigner.presign(
      {
        method: list ? 'GET' : r.method,
        protocol: 'http:',
        hostname: PRESIGN_HOST,
        path: list ? `/${BUCKET}` : `/${BUCKET}/${r.key}`,
        query: list ? { 'list-type': '2', 'max-keys': '1000', 'start-after': r.key } : {},
        headers: { host: PRESIGN_HOST },
      },
      { expiresIn: 3600 },
    );
    const query = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
      .join('&');
    lines.push(`${signed.method} ${signed.path}?${query}`);
  }
  return lines;
}

/** Writes presignLines' lines to `file`, one request a line, for requests.lua. */
export async function presignToFile(
  file: string,
  credentials: Credentials,
  requests: readonly RequestSpec[],
): Promise<void> {
  const lines = await presignLines(credentials, requests);
  await writeFile(file, `${lines.join('\n')}\n`);
}

export async function createBucket(endpoint: string, credentials: Credentials): Promise<void> {
  const s3 = client(endpoint, credentials, 4);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  } finally {
    s3.destroy();
  }
}

export class PreloadTimeout extends Error {
  constructor(
    readonly done: number,
    readonly wanted: number,
    readonly seconds: number,
  ) {
    super(`preload timed out after ${seconds} s (${done} of ${wanted} objects)`);
  }
}

/**
 * PUTs `count` objects named by `keyOf(i)` with `body`, `concurrency` at a time, over presigned
 * URLs and node:http keep-alive connections (the SDK client's per-request middleware made the
 * preload, not the server, the bottleneck: ~1.3k PUT/s against hangar's ~6k). Stops with
 * PreloadTimeout (saying how many were written: keys 0 .. done-1) past `timeoutS`.
 */
export async function preload(
  port: number,
  credentials: Credentials,
  count: number,
  keyOf: (i: number) => string,
  body: Uint8Array,
  concurrency: number,
  timeoutS: number,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = Date.now() + timeoutS * 1000;
  const batch = 4096;
  // One presigning promise per batch of keys, shared by the workers that need it.
  const batches = new Map<number, Promise<string[]>>();
  let next = 0;
  let done = 0;
  let timedOut = false;
  let failure: Error | undefined;
  const lineFor = async (i: number): Promise<string> => {
    const from = Math.floor(i / batch) * batch;
    let lines = batches.get(from);
    if (lines === undefined) {
      const n = Math.min(batch, count - from);
      lines = presignLines(
        credentials,
        Array.from({ length: n }, (_, k) => ({ method: 'PUT' as const, key: keyOf(from + k) })),
      );
      batches.set(from, lines);
      batches.delete(from - 2 * batch);
    }
    const line = (await lines)[i - from];
    if (line === undefined) throw new Error(`preload: no presigned line for object ${i}`);
    return line.slice(4);
  };
  const put = (path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path,
          agent,
          headers: { host: PRESIGN_HOST, 'content-length': body.length },
          timeout: 120_000,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            if (text.length < 2000) text += c.toString();
          });
          res.on('end', () => {
            if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
              resolve();
            } else
              reject(new Error(`preload PUT ${path.split('?')[0]}: ${res.statusCode} ${text}`));
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('preload PUT timed out')));
      req.end(body);
    });
  const worker = async (): Promise<void> => {
    while (next < count && !timedOut && failure === undefined) {
      if (Date.now() > deadline) {
        timedOut = true;
        return;
      }
      const i = next++;
      try {
        await put(await lineFor(i));
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
        return;
      }
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    agent.destroy();
  }
  if (failure !== undefined) throw failure;
  if (timedOut) throw new PreloadTimeout(done, count, timeoutS);
}

/** One signed GET, to show what a target answers when wrk saw errors. */
export async function probe(
  endpoint: string,
  credentials: Credentials,
  key: string,
): Promise<string> {
  const s3 = client(endpoint, credentials, 1);
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return `HEAD ${key}: ${out.$metadata.httpStatusCode}`;
  } catch (error) {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    return `HEAD ${key}: ${e.$metadata?.httpStatusCode ?? '?'} ${e.name ?? ''} ${e.message ?? ''}`;
  } finally {
    s3.destroy();
  }
}
