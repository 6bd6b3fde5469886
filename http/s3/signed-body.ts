/**
 * Bodies hangar reads whole (XML documents: DeleteObjects, CompleteMultipartUpload, CreateBucket,
 * the bucket configuration PUTs), checked against what the signature covers before a handler
 * acts on them. The signature covers the body only through x-amz-content-sha256: a hex SHA-256
 * there must be the body's, or anyone on the path could swap the document (which keys to
 * delete, which parts to assemble) under a valid signature. An aws-chunked body is decoded, its
 * chunk signatures verified as PutObject's are, and a trailing checksum checked.
 */
import { createHash } from 'node:crypto';
import { startChecksum } from '../../engine/checksums/checksums.js';
import { LIMITS } from '../../engine/limits.js';
import { createDecoder } from './body-upload.js';
import { planChecksum, trailerValue } from './checksum-headers.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';

/**
 * The request's body, whole, once it matches x-amz-content-sha256 (or its chunk signatures);
 * more than `bytesMax` is MaxMessageLengthExceeded and the connection is closed.
 */
export async function readSignedBody(
  ctx: RequestContext,
  bytesMax: number = LIMITS.xmlBodyBytesMax,
): Promise<Buffer> {
  const mode = ctx.payload;
  const streaming = mode.kind === 'streaming-signed' || mode.kind === 'streaming-unsigned-trailer';
  // aws-chunked framing adds a chunk header per chunk: the wire may be larger than the document.
  const wireBytesMax = streaming ? bytesMax * LIMITS.xmlChunkedWireFactor : bytesMax;
  const wire = await ctx.body.collect(wireBytesMax).catch(() => {
    throw new S3Error('MaxMessageLengthExceeded');
  });
  const body = streaming ? decodeAwsChunked(ctx, wire, bytesMax) : wire;
  if (mode.kind === 'sha256') requireContentSha256(body, mode.hex);
  return body;
}

/** XAmzContentSHA256Mismatch unless `body` hashes to the signed x-amz-content-sha256. */
export function requireContentSha256(body: Buffer, signedHex: string): void {
  const computed = createHash('sha256').update(body).digest('hex');
  if (computed !== signedHex.toLowerCase()) {
    throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
      ClientComputedContentSHA256: signedHex,
      S3ComputedContentSHA256: computed,
    });
  }
}

/** The payload of a whole aws-chunked body, framing and signatures checked. */
function decodeAwsChunked(ctx: RequestContext, wire: Buffer, bytesMax: number): Buffer {
  const pieces: Buffer[] = [];
  let bytes = 0;
  const decoder = createDecoder(ctx, (view) => {
    bytes += view.byteLength;
    if (bytes > bytesMax) throw new S3Error('MaxMessageLengthExceeded');
    pieces.push(Buffer.from(view));
  });
  decoder.push(wire);
  const trailers = decoder.finish();
  const declared = ctx.req.headers['x-amz-decoded-content-length'];
  if (declared !== undefined && Number(declared) !== decoder.decodedBytes)
    throw new S3Error('IncompleteBody');
  const body = Buffer.concat(pieces, bytes);
  requireTrailingChecksum(ctx, trailers, body);
  return body;
}

/** A checksum sent as a trailer is checked as the same header would be. */
function requireTrailingChecksum(
  ctx: RequestContext,
  trailers: Readonly<Record<string, string>>,
  body: Buffer,
): void {
  const plan = planChecksum(ctx.req.headers, true);
  const value = trailerValue(plan, trailers);
  if (value === null || plan.algorithm === null) return;
  const running = startChecksum(plan.algorithm);
  running.update(body);
  if (running.digest().toString('base64') !== value) {
    throw new S3Error(
      'BadDigest',
      `The ${plan.algorithm} you specified did not match the calculated checksum.`,
    );
  }
}
