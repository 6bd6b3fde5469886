import { LIMITS } from '../../engine/limits.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import { UploadStream } from '../../engine/protocol/flow.js';
import type {
  PutEndFields,
  PutExpectations,
  QuotaCheck,
  ShardRequest,
  ShardResult,
} from '../../engine/protocol/messages.js';
import { AwsChunkedDecoder } from '../sigv4/chunked.js';
import { type ChecksumPlan, planChecksum, trailerValue } from './checksum-headers.js';
import type { RequestContext } from './context.js';
import { fromEngineFailure } from './engine-errors.js';
import { S3Error } from './errors.js';

/** What the request says about its body, checked before any byte is stored. */
export interface PayloadPlan {
  /** Object bytes (decoded length for aws-chunked bodies). */
  declaredBytes: number;
  streaming: boolean;
  expect: PutExpectations;
  /** The additional checksum: algorithm, and value from a header or a trailer. */
  checksum: ChecksumPlan;
}

export function planPayload(ctx: RequestContext): PayloadPlan {
  const h = ctx.req.headers;
  const mode = ctx.payload;
  const streaming = mode.kind === 'streaming-signed' || mode.kind === 'streaming-unsigned-trailer';
  const declaredBytes = declaredLength(h, streaming);
  const expect: PutExpectations = {};
  const md5 = h['content-md5'];
  if (md5 !== undefined) {
    if (Buffer.from(md5, 'base64').length !== 16) throw new S3Error('InvalidDigest');
    expect.md5Base64 = md5;
  }
  if (mode.kind === 'sha256') expect.sha256Hex = mode.hex;
  const checksum = planChecksum(h, streaming);
  if (checksum.headerValue !== null) expect.checksumBase64 = checksum.headerValue;
  return { declaredBytes, streaming, expect, checksum };
}

/** Object bytes: x-amz-decoded-content-length for aws-chunked bodies, Content-Length otherwise. */
function declaredLength(h: Readonly<Record<string, string>>, streaming: boolean): number {
  const lengthHeader = streaming ? h['x-amz-decoded-content-length'] : h['content-length'];
  if (lengthHeader === undefined) throw new S3Error('MissingContentLength');
  if (!/^\d{1,15}$/.test(lengthHeader)) {
    throw new S3Error('InvalidArgument', 'Content-Length must be a non-negative integer.');
  }
  const declaredBytes = Number(lengthHeader);
  if (declaredBytes > LIMITS.putObjectBytesMax) {
    throw new S3Error('EntityTooLarge', undefined, {
      ProposedSize: lengthHeader,
      MaxSizeAllowed: String(LIMITS.putObjectBytesMax),
    });
  }
  return declaredBytes;
}

/** The PutBegin of an upload (PutObject or UploadPart), before its reqId is allocated. */
export type PutBeginCall = Omit<Extract<ShardRequest, { kind: 'PutBegin' }>, 'reqId'>;

/**
 * Carries the request body to the shard request `begin` opens, and resolves with the shard's
 * result (the stored object or part) once the shard has made it durable. Rejects with an
 * S3Error on a bad body (framing, signature, length, digest); nothing is stored then.
 *
 * A body of at most one chunk is gathered here and sent whole with its PutBegin: one message
 * each way instead of PutBegin, BodyChunk, PutEnd answered by Credit and Done. It holds no more
 * than a streamed upload's window would, and a small PUT is most of a CI cache's traffic.
 */
export function uploadBody(
  ctx: RequestContext,
  shard: ShardClient,
  begin: PutBeginCall,
  plan: PayloadPlan,
  quota: Promise<QuotaCheck> | null = null,
): Promise<ShardResult> {
  return plan.declaredBytes <= LIMITS.chunkBytes
    ? uploadWholeBody(ctx, shard, begin, plan, quota)
    : streamBody(ctx, shard, begin, plan, quota);
}

/** A small body: gathered into one buffer of its declared size, then sent with its PutBegin. */
function uploadWholeBody(
  ctx: RequestContext,
  shard: ShardClient,
  begin: PutBeginCall,
  plan: PayloadPlan,
  quota: Promise<QuotaCheck> | null,
): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let reqId: number | null = null;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      if (reqId !== null) shard.cancel(reqId);
      reject(error);
    };
    ctx.res.onAbort(() => fail(new S3Error('RequestTimeout', 'client disconnected')));
    const quotaRead = quota?.catch((error: unknown) => {
      fail(error);
      return null;
    });
    const body = new Uint8Array(plan.declaredBytes);
    let filled = 0;
    const place = (view: Uint8Array): void => {
      if (filled + view.byteLength > body.byteLength) throw new S3Error('IncompleteBody');
      body.set(view, filled);
      filled += view.byteLength;
    };
    const send = (end: PutEndFields): void => {
      if (settled) return;
      try {
        reqId = shard.open(
          { ...begin, end },
          {
            onReply: (reply) => {
              if (reply.kind === 'Failed') fail(fromEngineFailure(reply.failure));
              else if (reply.kind === 'Done' && !settled) {
                settled = true;
                resolve(reply.result);
              }
            },
          },
          body.byteLength > 0 ? body.buffer : undefined,
        );
      } catch (error) {
        fail(error);
      }
    };
    const decoder = plan.streaming ? createDecoder(ctx, place) : null;
    ctx.body.pipe((view, isLast) => {
      if (settled) return;
      try {
        if (decoder !== null) decoder.push(view);
        else place(view);
        if (!isLast) return;
        const expect = expectationsAtEnd(plan, decoder, filled);
        if (quotaRead === undefined) send({ expect });
        else void quotaRead.then((check) => check !== null && send({ expect, quota: check }));
      } catch (error) {
        fail(error);
      }
    });
  });
}

/**
 * The digests to check once the body is whole: the request's, and a trailer's checksum. Throws
 * IncompleteBody when the body's length is not the declared one.
 */
function expectationsAtEnd(
  plan: PayloadPlan,
  decoder: AwsChunkedDecoder | null,
  receivedBytes: number,
): PutExpectations {
  const expect = { ...plan.expect };
  if (decoder !== null) {
    const trailers = decoder.finish();
    if (decoder.decodedBytes !== plan.declaredBytes) throw new S3Error('IncompleteBody');
    const trailing = trailerValue(plan.checksum, trailers);
    if (trailing !== null) expect.checksumBase64 = trailing;
  } else if (receivedBytes !== plan.declaredBytes) {
    throw new S3Error('IncompleteBody');
  }
  return expect;
}

/** A larger body: streamed in chunks under the shard's credit, ended by PutEnd. */
function streamBody(
  ctx: RequestContext,
  shard: ShardClient,
  begin: PutBeginCall,
  plan: PayloadPlan,
  quota: Promise<QuotaCheck> | null,
): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, result?: ShardResult): void => {
      if (settled) return;
      settled = true;
      if (error === null && result !== undefined) resolve(result);
      else reject(error);
    };
    const reqId = shard.open(begin, {
      onReply: (reply, body) => {
        if (reply.kind === 'Credit') upload.credit(reply.bytes, body);
        else if (reply.kind === 'Failed') refuse(fromEngineFailure(reply.failure));
        else if (reply.kind === 'Done') settle(null, reply.result);
      },
    });
    const upload = new UploadStream(shard, reqId, ctx.state.buffers, ctx.res, plan.declaredBytes);
    const abandon = (error: unknown): void => {
      shard.cancel(reqId);
      upload.discard();
      settle(error);
    };
    const refuse = (error: unknown): void => {
      // The shard refused (bad part, digest, disk): stop its session and let the socket run so
      // the error answer can drain the rest of the body.
      abandon(error);
      ctx.res.resume();
    };
    ctx.res.onAbort(() => abandon(new S3Error('RequestTimeout', 'client disconnected')));
    // Read while the body streams; a failed read refuses the upload (null: refused).
    const quotaRead = quota?.catch((error: unknown) => {
      refuse(error);
      return null;
    });
    const end = (fields: PutEndFields): void => {
      if (!settled) shard.send({ kind: 'PutEnd', reqId, ...fields });
    };
    const decoder = plan.streaming ? createDecoder(ctx, (view) => upload.write(view)) : null;
    let receivedBytes = 0;
    ctx.body.pipe((view, isLast) => {
      if (settled) return;
      try {
        if (decoder !== null) decoder.push(view);
        else upload.write(view);
        receivedBytes += view.byteLength;
        if (!isLast) return;
        const expect = expectationsAtEnd(plan, decoder, receivedBytes);
        upload.flush();
        if (quotaRead === undefined) end({ expect });
        else void quotaRead.then((check) => check !== null && end({ expect, quota: check }));
      } catch (error) {
        abandon(error);
      }
    });
  });
}

export function createDecoder(
  ctx: RequestContext,
  onData: (view: Uint8Array) => void,
): AwsChunkedDecoder {
  const signing = ctx.auth?.chunkSigning;
  return new AwsChunkedDecoder({
    ...(signing !== undefined ? { signing } : {}),
    trailer: hasTrailer(ctx),
    // AWS's 8 KiB minimum chunk applies to signed chunks; unsigned streams are cut wherever the
    // client's stream yields, and SDKs do send smaller pieces.
    ...(signing === undefined ? { minChunkBytes: 0 } : {}),
    onData,
  });
}

/** Whether the aws-chunked body ends with trailing headers (the content-sha256 mode says so). */
function hasTrailer(ctx: RequestContext): boolean {
  const mode = ctx.payload;
  return (
    mode.kind === 'streaming-unsigned-trailer' || (mode.kind === 'streaming-signed' && mode.trailer)
  );
}
