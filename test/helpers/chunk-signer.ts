import { createHash, createHmac } from 'node:crypto';
import { REGION, ROOT_SECRET_KEY } from './server.js';
import { queryOf, rootSigner } from './sign.js';

/**
 * An independent aws-chunked encoder for tests: the seed request is signed by AWS's own SigV4
 * signer (smithy); every chunk and trailer signature after it is computed here with node:crypto,
 * straight from the AWS "Signature Calculations for the Authorization Header: Transferring
 * Payload in Multiple Chunks" rules, without any code from the server.
 */

export type StreamingMode =
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
  | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export interface StreamingRequestOptions {
  method: string;
  path: string;
  mode: StreamingMode;
  data: Buffer;
  chunkBytes: number;
  /** One trailing header (trailer modes), e.g. ['x-amz-checksum-crc32c', 'base64']. */
  trailer?: [string, string];
  /** Extra signed headers. */
  headers?: Record<string, string>;
  /** Overrides x-amz-decoded-content-length (signed like the rest). */
  decodedLength?: number;
  /** Changes the encoded body after signing (tampering). */
  tamper?: (encoded: Buffer) => Buffer;
  /** Replaces the trailer signature. */
  trailerSignature?: string;
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export interface ChunkSigner {
  key: Buffer;
  amzDate: string;
  scope: string;
  previous: string;
}

/** The signature of one data chunk (or of the final empty one), chained from `signer.previous`. */
export function signChunk(signer: ChunkSigner, data: Buffer): string {
  const toSign = [
    'AWS4-HMAC-SHA256-PAYLOAD',
    signer.amzDate,
    signer.scope,
    signer.previous,
    EMPTY_SHA256,
    sha256Hex(data),
  ].join('\n');
  const signature = hmac(signer.key, toSign).toString('hex');
  signer.previous = signature;
  return signature;
}

/** The trailer signature: over "name:value\n" of every trailing header, chained from the last chunk. */
export function signTrailer(signer: ChunkSigner, trailers: Array<[string, string]>): string {
  const canonical = trailers.map(([name, value]) => `${name}:${value}\n`).join('');
  const toSign = [
    'AWS4-HMAC-SHA256-TRAILER',
    signer.amzDate,
    signer.scope,
    signer.previous,
    sha256Hex(canonical),
  ].join('\n');
  return hmac(signer.key, toSign).toString('hex');
}

/** Encodes `data` as aws-chunked, signed when `signer` is given. */
export function encodeChunked(
  data: Buffer,
  chunkBytes: number,
  signer: ChunkSigner | null,
  trailer: [string, string] | undefined,
  trailerSignature?: string,
): Buffer {
  const pieces: Buffer[] = [];
  const ext = (chunk: Buffer): string =>
    signer === null ? '' : `;chunk-signature=${signChunk(signer, chunk)}`;
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    const chunk = data.subarray(offset, offset + chunkBytes);
    pieces.push(Buffer.from(`${chunk.length.toString(16)}${ext(chunk)}\r\n`), chunk);
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`0${ext(Buffer.alloc(0))}\r\n`));
  if (trailer !== undefined) {
    pieces.push(Buffer.from(`${trailer[0]}:${trailer[1]}\r\n`));
    if (signer !== null) {
      const signature = trailerSignature ?? signTrailer(signer, [trailer]);
      pieces.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n`));
    }
  }
  pieces.push(Buffer.from('\r\n'));
  return Buffer.concat(pieces);
}

/** Sends a streaming (aws-chunked) upload with the root key. */
export async function streamingFetch(
  endpoint: string,
  options: StreamingRequestOptions,
): Promise<Response> {
  const url = new URL(options.path, endpoint);
  const query = queryOf(url);
  const signer = rootSigner();
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': options.mode,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(options.decodedLength ?? options.data.length),
    ...(options.trailer !== undefined ? { 'x-amz-trailer': options.trailer[0] } : {}),
    ...options.headers,
  };
  const signed = await signer.sign({
    method: options.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers,
  });
  const signedHeaders = signed.headers as Record<string, string>;
  const authorization = signedHeaders['authorization'] ?? signedHeaders['Authorization'] ?? '';
  const seed = /Signature=([0-9a-f]{64})/.exec(authorization)?.[1];
  const amzDate = signedHeaders['x-amz-date'] ?? signedHeaders['X-Amz-Date'];
  if (seed === undefined || amzDate === undefined) throw new Error('smithy did not sign');
  const date = amzDate.slice(0, 8);
  const chunkSigner: ChunkSigner | null =
    options.mode === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
      ? null
      : {
          key: signingKey(ROOT_SECRET_KEY, date, REGION),
          amzDate,
          scope: `${date}/${REGION}/s3/aws4_request`,
          previous: seed,
        };
  let body = encodeChunked(
    options.data,
    options.chunkBytes,
    chunkSigner,
    options.trailer,
    options.trailerSignature,
  );
  if (options.tamper !== undefined) body = options.tamper(body);
  return fetch(url, { method: options.method, headers: signedHeaders, body });
}
