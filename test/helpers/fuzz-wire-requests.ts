/**
 * The requests the wire fuzzer starts from (test/helpers/fuzz-wire.ts): valid ones signed by AWS's
 * signer (smithy) as raw bytes, aws-chunked PUTs with their chunk signatures, the response-splitting
 * probe, and the header mutations applied to them. Valid requests only write under the scratch
 * bucket's `fuzz/` keys and only read the kept object.
 */
import { createHash } from 'node:crypto';
import { type ChunkSigner, encodeChunked, signingKey } from './chunk-signer.js';
import { REGION, ROOT_SECRET_KEY } from './server.js';
import { queryOf, rootSigner } from './sign.js';

/** Where the fuzzer aims: the server's port and the buckets it may write to or only read. */
export interface WireFuzzTarget {
  port: number;
  /** A bucket the fuzzer may write to (its keys live under `fuzz/`). */
  scratchBucket: string;
  /** A bucket and key that must never change; the fuzzer only reads them. */
  keepBucket: string;
  keepKey: string;
  /** The size of the kept object (for reads cut off mid-response). */
  keepBytes: number;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: every case draws from its own generator, seeded by (seed, index).

export class Rng {
  #state: number;
  constructor(seed: number, index: number) {
    this.#state =
      (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  }
  /** mulberry32: small, fast, good enough to explore inputs. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
  /** Sorted distinct cut points in 1..length-1. */
  cuts(length: number, count: number): number[] {
    const cuts = new Set<number>();
    for (let i = 0; i < count && length > 1; i++) cuts.add(1 + this.int(length - 1));
    return [...cuts].sort((a, b) => a - b);
  }
}
// ---------------------------------------------------------------------------------------------
// Valid signed requests, as raw bytes

/** A request as it goes on the wire: head lines (request line first) and body. */
export interface RawRequest {
  method: string;
  lines: string[];
  body: Buffer;
}

export function serialize(req: RawRequest): Buffer {
  return Buffer.concat([Buffer.from(`${req.lines.join('\r\n')}\r\n\r\n`, 'latin1'), req.body]);
}

export async function signed(
  port: number,
  method: string,
  target: string,
  body: Buffer,
  headers: Record<string, string> = {},
  payloadHash = createHash('sha256').update(body).digest('hex'),
): Promise<RawRequest> {
  const url = new URL(target, `http://127.0.0.1:${port}`);
  const result = await rootSigner().sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port,
    path: url.pathname,
    query: queryOf(url),
    headers: {
      host: url.host,
      'x-amz-content-sha256': payloadHash,
      ...(method === 'GET' || method === 'HEAD' ? {} : { 'content-length': String(body.length) }),
      ...headers,
    },
  });
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`];
  for (const [name, value] of Object.entries(result.headers)) lines.push(`${name}: ${value}`);
  // Unsigned: the server closes after answering, so every case ends by itself.
  lines.push('connection: close');
  return { method, lines, body };
}

/** A valid request of a random kind that touches only the scratch bucket or reads the kept object. */
export async function validRequest(rng: Rng, target: WireFuzzTarget): Promise<RawRequest> {
  const scratch = `/${target.scratchBucket}`;
  const key = `${scratch}/fuzz/${rng.int(64)}`;
  switch (rng.int(8)) {
    case 0:
      return signed(target.port, 'GET', `/${target.keepBucket}/${target.keepKey}`, Buffer.alloc(0));
    case 1:
      return signed(
        target.port,
        'HEAD',
        `/${target.keepBucket}/${target.keepKey}`,
        Buffer.alloc(0),
      );
    case 2:
    case 3:
      return signed(target.port, 'PUT', key, rng.bytes(rng.int(70_000)), {
        'content-type': 'application/octet-stream',
        'x-amz-meta-fuzz': String(rng.int(1000)),
      });
    case 4:
      return signed(target.port, 'GET', `${scratch}?list-type=2&prefix=fuzz/`, Buffer.alloc(0));
    case 5:
      return signed(target.port, 'DELETE', key, Buffer.alloc(0));
    case 6: {
      const xml = Buffer.from(
        `<Delete><Object><Key>fuzz/${rng.int(64)}</Key></Object><Quiet>true</Quiet></Delete>`,
      );
      const md5 = createHash('md5').update(xml).digest('base64');
      return signed(target.port, 'POST', `${scratch}?delete`, xml, { 'content-md5': md5 });
    }
    default: {
      const xml = Buffer.from(
        `<Tagging><TagSet><Tag><Key>k</Key><Value>${rng.int(100)}</Value></Tag></TagSet></Tagging>`,
      );
      const md5 = createHash('md5').update(xml).digest('base64');
      return signed(target.port, 'PUT', `${scratch}?tagging`, xml, { 'content-md5': md5 });
    }
  }
}

/** A streaming-signed (aws-chunked) PUT to the scratch bucket, with a trailer now and then. */
export async function chunkedPut(rng: Rng, target: WireFuzzTarget): Promise<RawRequest> {
  const data = rng.bytes(rng.int(40_000));
  const trailer = rng.chance(0.5);
  const mode = trailer
    ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
    : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  const path = `/${target.scratchBucket}/fuzz/chunked-${rng.int(16)}`;
  const headers: Record<string, string> = {
    host: `127.0.0.1:${target.port}`,
    'x-amz-content-sha256': mode,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(data.length),
    ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-sha256' } : {}),
  };
  const result = await rootSigner().sign({
    method: 'PUT',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: target.port,
    path,
    query: {},
    headers,
  });
  const signedHeaders = result.headers as Record<string, string>;
  const seed = /Signature=([0-9a-f]{64})/.exec(signedHeaders['authorization'] ?? '')?.[1];
  const amzDate = signedHeaders['x-amz-date'];
  if (seed === undefined || amzDate === undefined) throw new Error('smithy did not sign');
  const date = amzDate.slice(0, 8);
  const signer: ChunkSigner = {
    key: signingKey(ROOT_SECRET_KEY, date, REGION),
    amzDate,
    scope: `${date}/${REGION}/s3/aws4_request`,
    previous: seed,
  };
  const checksum = createHash('sha256').update(data).digest('base64');
  const body = encodeChunked(
    data,
    8192 + rng.int(8192),
    signer,
    trailer ? ['x-amz-checksum-sha256', checksum] : undefined,
  );
  const lines = [`PUT ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(signedHeaders)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${body.length}`, 'connection: close');
  return { method: 'PUT', lines, body };
}

const HEADER_MUTATIONS = [
  'drop',
  'duplicate',
  'flip',
  'oversize',
  'control',
  'length',
  'te-chunked',
  'request-line',
  'no-colon',
  'fold',
  'prototype-name',
] as const;

export function mutateHeaders(rng: Rng, req: RawRequest): RawRequest {
  const lines = [...req.lines];
  let body = req.body;
  const count = 1 + rng.int(3);
  for (let n = 0; n < count; n++) {
    const at = 1 + rng.int(Math.max(1, lines.length - 1));
    const line = lines[at] ?? '';
    switch (rng.pick(HEADER_MUTATIONS)) {
      case 'drop':
        lines.splice(at, 1);
        break;
      case 'duplicate':
        lines.splice(at, 0, line);
        break;
      case 'flip': {
        const i = rng.int(Math.max(1, line.length));
        lines[at] = line.slice(0, i) + String.fromCharCode(33 + rng.int(94)) + line.slice(i + 1);
        break;
      }
      case 'oversize':
        lines.splice(at, 0, `x-amz-meta-big: ${'v'.repeat(1 + rng.int(20_000))}`);
        break;
      case 'control':
        lines[at] = `${line}${rng.pick(['\u0000', '\u000b', '\u007f', '\r', '\u00ff'])}x`;
        break;
      case 'length':
        lines.push(
          `content-length: ${rng.pick(['-1', '0', 'abc', '99999999999999999999', String(body.length + 1 + rng.int(10)), ' 5'])}`,
        );
        break;
      case 'te-chunked':
        lines.push('transfer-encoding: chunked');
        if (rng.chance(0.5))
          body = Buffer.concat([
            Buffer.from(`${body.length.toString(16)}\r\n`),
            body,
            Buffer.from('\r\n0\r\n\r\n'),
          ]);
        break;
      case 'request-line':
        lines[0] = rng.pick([
          `${req.method} / HTTP/1.0`,
          `${req.method}  /x HTTP/1.1`,
          `${req.method} http://127.0.0.1/x HTTP/1.1`,
          `${req.method} * HTTP/1.1`,
          `BREW ${lines[0]?.split(' ')[1] ?? '/'} HTTP/1.1`,
          `${lines[0] ?? ''} extra`,
          `${req.method} /${'a'.repeat(rng.int(20_000))} HTTP/1.1`,
        ]);
        break;
      case 'no-colon':
        lines.splice(at, 0, 'this line has no colon');
        break;
      case 'fold':
        lines.splice(at + 1, 0, ' folded-continuation');
        break;
      case 'prototype-name': {
        // Header names that are Object.prototype members, for code that keeps headers in a
        // plain object.
        const name = rng.pick([
          '__proto__',
          'constructor',
          'toString',
          'valueOf',
          'hasOwnProperty',
        ]);
        lines.splice(at, 0, `${name}: ${rng.pick(['1', '', '{}', 'x'])}`);
        break;
      }
    }
  }
  return { ...req, lines, body };
}
/**
 * A signed GET of the kept object whose response-* overrides try to add a header: if
 * `x-fuzz-injected` ever appears in a response head, a value reached the wire unescaped.
 */
export async function injectionRequest(rng: Rng, target: WireFuzzTarget): Promise<RawRequest> {
  const name = rng.pick([
    'response-content-type',
    'response-content-disposition',
    'response-cache-control',
    'response-content-language',
    'response-expires',
    'response-content-encoding',
  ]);
  const crlf = rng.pick(['%0D%0A', '%0A', '%0D', '%0d%0a%20']);
  return signed(
    target.port,
    'GET',
    `/${target.keepBucket}/${target.keepKey}?${name}=text/plain${crlf}x-fuzz-injected:%201`,
    Buffer.alloc(0),
  );
}
