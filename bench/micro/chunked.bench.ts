/**
 * aws-chunked decoding of a 1 MiB PUT body (64 KiB chunks, fed in 256 KiB pushes as uWS hands
 * them over), once as the SDK sends it by default (STREAMING-UNSIGNED-PAYLOAD-TRAILER, a CRC32
 * trailer) and once signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD: SHA-256 of every chunk plus one
 * HMAC per chunk). onData copies into a staging buffer, as the edge does, so the reference is a
 * plain 1 MiB Buffer.copy: the ratio is what decoding adds to the copy the edge makes anyway.
 */
import { createHash } from 'node:crypto';
import {
  type ChunkSigningContext,
  credentialScope,
  deriveSigningKey,
  EMPTY_SHA256,
  S3_SERVICE,
  signHex,
} from '../../http/sigv4/canonical.js';
import { AwsChunkedDecoder } from '../../http/sigv4/chunked.js';
import {
  check,
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  pseudoRandomBytes,
  REF_PREFIX,
  runGroup,
} from './harness.js';

const CHUNK = 64 * 1024;
const PUSH = 256 * 1024;

function signingContext(): ChunkSigningContext {
  return {
    signingKey: deriveSigningKey(
      'bench-secret-bench-secret-bench-secret00',
      '20250115',
      'us-east-1',
      S3_SERVICE,
    ),
    amzDate: '20250115T123000Z',
    scope: credentialScope('20250115', 'us-east-1', S3_SERVICE),
    seedSignature: 'a'.repeat(64),
  };
}

/** The wire body: every chunk with its header (and chained signature when signing is given). */
function encodeBody(data: Buffer, signing: ChunkSigningContext | undefined): Buffer {
  const parts: Buffer[] = [];
  let previous = signing?.seedSignature ?? '';
  const header = (size: number, payloadHash: string): string => {
    if (signing === undefined) return size.toString(16);
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.amzDate,
      signing.scope,
      previous,
      EMPTY_SHA256,
      payloadHash,
    ].join('\n');
    previous = signHex(signing.signingKey, toSign);
    return `${size.toString(16)};chunk-signature=${previous}`;
  };
  for (let pos = 0; pos < data.length; pos += CHUNK) {
    const chunk = data.subarray(pos, pos + CHUNK);
    const hash = signing === undefined ? '' : createHash('sha256').update(chunk).digest('hex');
    parts.push(Buffer.from(`${header(chunk.length, hash)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`${header(0, EMPTY_SHA256)}\r\n`));
  parts.push(Buffer.from(signing === undefined ? 'x-amz-checksum-crc32:AAAAAA==\r\n\r\n' : '\r\n'));
  return Buffer.concat(parts);
}

function decodeInto(
  body: Buffer,
  staging: Buffer,
  signing: ChunkSigningContext | undefined,
): number {
  let offset = 0;
  const decoder = new AwsChunkedDecoder({
    ...(signing !== undefined ? { signing } : {}),
    trailer: signing === undefined,
    onData: (view) => {
      staging.set(view, offset);
      offset += view.length;
    },
  });
  for (let pos = 0; pos < body.length; pos += PUSH) decoder.push(body.subarray(pos, pos + PUSH));
  decoder.finish();
  return offset;
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const data = pseudoRandomBytes(MIB);
  const staging = Buffer.alloc(MIB);
  const signing = signingContext();
  const unsignedBody = encodeBody(data, undefined);
  const signedBody = encodeBody(data, signing);
  check(decodeInto(unsignedBody, staging, undefined) === MIB && staging.equals(data), 'unsigned');
  staging.fill(0);
  check(decodeInto(signedBody, staging, signing) === MIB && staging.equals(data), 'signed');

  const names = {
    unsigned: 'decode unsigned-trailer 1 MiB',
    signed: 'decode signed 1 MiB',
    ref: `${REF_PREFIX}Buffer.copy 1 MiB`,
  };
  const bench = newBench('chunked', opts)
    .add(names.unsigned, () => decodeInto(unsignedBody, staging, undefined))
    .add(names.signed, () => decodeInto(signedBody, staging, signing))
    .add(names.ref, () => data.copy(staging));
  return runGroup('chunked', bench, {
    [names.unsigned]: MIB,
    [names.signed]: MIB,
    [names.ref]: MIB,
  });
}
