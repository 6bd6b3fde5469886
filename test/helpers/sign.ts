import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY } from './server.js';

/** SHA-256 / HMAC for the smithy signer, on node:crypto. */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** AWS's own SigV4 signer (smithy) for the root key; it signs paths as given (S3 style). */
export function rootSigner(): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY },
    region: REGION,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** The query parameters of `url`, as the signer takes them. */
export function queryOf(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, name) => {
    query[name] = value;
  });
  return query;
}

export interface SignedRequestOptions {
  method: string;
  path: string;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Signs this x-amz-content-sha256 instead of the body's real hash. */
  payloadHash?: string;
}

/** Sends a request signed by AWS's own SigV4 signer (smithy), for cases the SDK will not send. */
export async function signedFetch(
  endpoint: string,
  options: SignedRequestOptions,
): Promise<Response> {
  const url = new URL(options.path, endpoint);
  const body = options.body ?? Buffer.alloc(0);
  const signer = rootSigner();
  const query = queryOf(url);
  const payloadHash = options.payloadHash ?? createHash('sha256').update(body).digest('hex');
  const signed = await signer.sign({
    method: options.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: { host: url.host, 'x-amz-content-sha256': payloadHash, ...options.headers },
    body,
  });
  return fetch(url, {
    method: options.method,
    headers: signed.headers as Record<string, string>,
    ...(options.method === 'GET' || options.method === 'HEAD' ? {} : { body }),
  });
}
