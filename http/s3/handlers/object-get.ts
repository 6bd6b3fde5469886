import { assert } from '../../../engine/assert.js';
import { LIMITS } from '../../../engine/limits.js';
import { InlineCorruptError, infoOf } from '../../../engine/meta/object-table.js';
import { shardOf } from '../../../engine/pool/placement.js';
import type { ShardClient } from '../../../engine/pool/shard-client.js';
import { evaluatePreconditions } from '../../../engine/preconditions.js';
import { returnCredit } from '../../../engine/protocol/flow.js';
import type {
  CustomerKey,
  ObjectInfo,
  OpenedObject,
  OpenPurpose,
  Preconditions,
} from '../../../engine/protocol/messages.js';
import { assertSafeHeaders } from '../../uws/response.js';
import { hiddenMiss } from '../auth.js';
import { checksumResponseHeaders } from '../checksum-headers.js';
import { checkPreconditions, notModifiedHeaders, requestPreconditions } from '../conditional.js';
import { accessOf, bucketRef, type RequestContext, requireBucket, shardFor } from '../context.js';
import type { GetObjectEndpoint } from '../endpoints.js';
import { fromEngineFailure } from '../engine-errors.js';
import { S3Error } from '../errors.js';
import { expirationHeader } from '../expiration.js';
import { objectResponseHeaders } from '../object-headers.js';
import { lockResponseHeaders, lockNowMs as serverNowMs } from '../object-lock.js';
import { type ByteRange, parseRange } from '../range.js';
import { managedResponseHeaders } from '../sse.js';
import { customerKeyOf, sseResponseHeaders } from '../sse-c.js';
import {
  archiveStatusHeader,
  isArchived,
  isTiered,
  restoreHeader,
  storageClassHeader,
} from '../storage-class.js';
import { checkVersionId, versionIdHeader, versioningOf } from '../versioning.js';
import { taggingCountHeader } from './tagging.js';

/**
 * GetObject and HeadObject: one OpenObject each. A HEAD asks for metadata only; a GET of an
 * inline object gets its body beside the reply; a GET of an object in blocks gets a read session
 * (its blocks pinned so an overwrite cannot pull them away mid-read), unless its preconditions
 * answer 304/412, which the shard evaluates alike. Range is decided here; the body then streams
 * from the shard under credit flow control, each buffer going back once uWS took it.
 */
export async function handleGetObject(ctx: RequestContext, e: GetObjectEndpoint): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  checkVersionId(e.versionId);
  const shard = shardFor(ctx.state, bucket, e.key);
  const head = e.action === 'HeadObject';
  const sse = customerKeyOf(ctx.req.headers);
  const conditions = requestPreconditions(ctx.req.headers);
  let opened: Opened;
  try {
    // A version by id, and a miss in a versioned bucket (a delete marker?), go to the shard.
    opened =
      (e.versionId === undefined
        ? openLocally(ctx, bucket.id, e.key, head, sse, conditions)
        : null) ??
      (await openObject(
        ctx,
        shard,
        bucket.id,
        e.key,
        head ? 'info' : 'read',
        sse,
        conditions,
        e.versionId,
      ));
  } catch (error) {
    throw hiddenMiss(
      ctx.state,
      ctx.principal,
      ctx.facts,
      { bucket, access: accessOf(ctx, bucket) },
      error,
    );
  }
  try {
    await respond(ctx, shard, opened, e, head, bucket.id, conditions);
  } catch (error) {
    releaseOpened(shard, opened);
    throw error;
  }
}

/** The reqId of an object opened on the edge: no shard request, nothing to release. */
const NO_REQUEST = -1;

/**
 * HEAD, and a GET that needs no read session, answered from this edge thread's read-only view
 * of the shard (engine/meta/object-reader.ts): no message to the shard and back. Null when the
 * shard must answer: no view on this thread, SSE-C (the shard checks the key), the body of an
 * SSE-S3/KMS object (the shard opens its data key), a body in blocks
 * to stream, or an inline body that fails its check (the shard records the damage). In
 * cluster mode too: the view is PostgreSQL there, and the shard's own OpenObject costs the same
 * one round trip to it (DECISIONS.md), so the edge keeps no second copy of the open logic's
 * async form.
 */
function openLocally(
  ctx: RequestContext,
  bucketId: string,
  key: string,
  head: boolean,
  sse: CustomerKey | null,
  conditions: Preconditions,
): Opened | null {
  const readers = ctx.state.readers;
  if (readers === undefined || sse !== null) return null;
  const reader = readers[shardOf(bucketId, key, readers.length)];
  assert(reader !== undefined, 'an edge has a reader per shard');
  if (reader.remote) return null;
  // What authorization read for an anonymous or ACL reader is this same view's record, read
  // in this same turn of the event loop: served as is rather than read twice.
  const authorized = ctx.authorizedObject;
  const record =
    authorized?.key === key && ctx.bucket?.id === bucketId
      ? authorized.record
      : reader.object(bucketId, key);
  if (record === undefined) {
    // The shard says whether a delete marker is the latest version (its headers).
    if (versioningOf(ctx.state.catalog, bucketRef(ctx, bucketId)) !== undefined) return null;
    throw fromEngineFailure({ code: 'NoSuchKey', message: 'The specified key does not exist.' });
  }
  // SSE-C needs the shard's key check; an SSE-S3/KMS body needs the shard's keyring, but its
  // HEAD needs no key (as AWS: a disabled KMS key fails GET, not HEAD).
  if (record.sse !== undefined && (record.sse.kind === undefined || !head)) return null;
  const info = infoOf(key, record);
  const opened = (inlineBody: Uint8Array | null): Opened => ({
    reqId: NO_REQUEST,
    info,
    session: false,
    inlineBody,
    source: null,
  });
  // A HEAD, or a GET answered 304/412, sends no body (respond evaluates the same conditions).
  if (head || evaluatePreconditions(info, conditions).kind !== 'ok') return opened(null);
  // An archived version's GET: the shard judges whether it is restored (InvalidObjectState).
  // An INTELLIGENT_TIERING GET too: the shard notes the read (intelligent tiering's clock).
  if (!info.inline || isArchived(info.storageClass) || isTiered(info.storageClass)) return null;
  try {
    return opened(reader.body(bucketId, key, record));
  } catch (error) {
    if (error instanceof InlineCorruptError) return null;
    throw error;
  }
}

/** An OpenObject's answer (see OpenPurpose in engine/protocol/messages.ts). */
export interface Opened {
  reqId: number;
  info: ObjectInfo;
  /** The shard holds a read session: stream it (streamBody, relayBody) or release it. */
  session: boolean;
  /** The whole body of an inline object opened to 'read' (null: none, or not inline). */
  inlineBody: Uint8Array | null;
  /** The copy source ('copy' only). */
  source: OpenedObject | null;
}

export function openObject(
  ctx: Pick<RequestContext, 'res' | 'state'>,
  shard: ShardClient,
  bucketId: string,
  key: string,
  purpose: OpenPurpose,
  sse: CustomerKey | null = null,
  conditions: Preconditions = {},
  versionId?: string,
): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const given = definedConditions(conditions);
    const reqId = shard.open(
      {
        kind: 'OpenObject',
        bucketId,
        key,
        purpose,
        sse,
        ...(purpose === 'read' && given !== null ? { conditions: given } : {}),
        ...(versionId !== undefined ? { versionId } : {}),
        // Every read of the bytes refuses an archived version that is not restored (AWS 403).
        ...(purpose !== 'info' ? { readableAtMs: serverNowMs(ctx.state) } : {}),
      },
      {
        onReply: (reply, body) => {
          if (reply.kind === 'Failed') reject(fromEngineFailure(reply.failure));
          else if (reply.kind === 'Done' && reply.result.kind === 'Opened') {
            const { info, session, source } = reply.result;
            resolve({ reqId, info, session, inlineBody: inlineBodyOf(info, body), source });
          }
        },
      },
    );
    ctx.res.onAbort(() => shard.cancel(reqId));
  });
}

/**
 * The inline body beside an Opened reply: the whole object (an empty one travels as no
 * buffer). None when the shard sent none (not inline, or a 304/412 answer).
 */
function inlineBodyOf(info: ObjectInfo, body: ArrayBuffer | undefined): Uint8Array | null {
  if (!info.inline || (body === undefined && info.bytes > 0)) return null;
  const bytes = new Uint8Array(body ?? new ArrayBuffer(0));
  assert(bytes.byteLength === info.bytes, 'an inline body is the whole object');
  return bytes;
}

/** Gives back an opened object's read session, if the shard opened one. */
export function releaseOpened(shard: ShardClient, opened: Opened): void {
  if (opened.session) shard.cancel(opened.reqId);
}

/** The conditions a request gave (null: none), without the absent ones (lean on the wire). */
function definedConditions(conditions: Preconditions): Preconditions | null {
  const given: Preconditions = {};
  let any = false;
  for (const name of PRECONDITION_NAMES) {
    const value = conditions[name];
    if (value === undefined) continue;
    given[name] = value;
    any = true;
  }
  return any ? given : null;
}

const PRECONDITION_NAMES = [
  'ifMatch',
  'ifNoneMatch',
  'ifModifiedSince',
  'ifUnmodifiedSince',
] as const;

/**
 * An object written before its bucket's versioning was first set has no version id of its own:
 * in a bucket that has been versioned AWS names it the `null` version; in one never versioned,
 * no header at all.
 */
function nullVersionIfVersioned(ctx: RequestContext, bucketId: string): string | undefined {
  return versioningOf(ctx.state.catalog, bucketRef(ctx, bucketId)) === undefined
    ? undefined
    : 'null';
}

async function respond(
  ctx: RequestContext,
  shard: ShardClient,
  opened: Opened,
  e: GetObjectEndpoint,
  head: boolean,
  bucketId: string,
  conditions: Preconditions,
): Promise<void> {
  const h = ctx.req.headers;
  const info = opened.info;
  const part = e.partNumber === undefined ? null : partRange(info, e.partNumber);
  const headers = objectResponseHeaders(info, e.responseOverrides);
  headers.push(
    ...sseResponseHeaders(info.sseKeyMd5),
    ...managedResponseHeaders(ctx.state.config.s3.region, info.sseManaged),
    ...taggingCountHeader(info.tags),
    ...expirationHeader(ctx.state.catalog, bucketRef(ctx, bucketId), info),
    ...versionIdHeader(info.versionId ?? nullVersionIfVersioned(ctx, bucketId)),
    ...lockResponseHeaders(info.lock),
    ...(info.replication !== undefined
      ? [['x-amz-replication-status', info.replication] as [string, string]]
      : []),
    ...storageClassHeader(info.storageClass),
    ...restoreHeader(info.restore, serverNowMs(ctx.state)),
    ...archiveStatusHeader(info.accessTier),
  );
  if (part !== null && info.partSizes !== null)
    headers.push(['x-amz-mp-parts-count', String(info.partSizes.length)]);
  if (checkPreconditions(info, conditions) === 'not-modified') {
    releaseOpened(shard, opened);
    ctx.res.send(304, notModifiedHeaders(headers));
    return;
  }
  // Preconditions (412/304) come before Range (416), as RFC 7233 orders them.
  const range = part ?? parseRange(h['range'], info.bytes);
  if (h['x-amz-checksum-mode']?.toUpperCase() === 'ENABLED') {
    headers.push(...checksumFor(info, range === null, e.partNumber));
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? info.bytes;
  if (range !== null) headers.push(['content-range', `bytes ${start}-${end - 1}/${info.bytes}`]);
  const status = range !== null ? 206 : 200;
  if (head) {
    ctx.res.send(status, headers, '', { headLength: end - start });
    return;
  }
  await sendBody(ctx, shard, opened, { start, end }, status, headers);
}

/**
 * Sends `range` of an opened object: an inline body at once, anything else streamed from the
 * read session (which an empty range releases unread).
 */
export async function sendBody(
  ctx: Pick<RequestContext, 'res' | 'state' | 'requestId'>,
  shard: ShardClient,
  opened: Opened,
  range: ByteRange,
  status: number,
  headers: Array<[string, string]>,
): Promise<void> {
  if (opened.inlineBody !== null || range.end === range.start) {
    releaseOpened(shard, opened);
    ctx.res.send(status, headers, opened.inlineBody?.subarray(range.start, range.end) ?? '');
    return;
  }
  assert(opened.session, 'a body in blocks streams from a read session');
  await streamBody(ctx, shard, opened.reqId, range, status, headers);
}

/**
 * The checksum headers of a GET/HEAD with checksum mode: the stored object checksum for a whole
 * object, a part's own checksum for ?partNumber=N, and none for other ranges (the stored value
 * describes the whole object; an SDK validating a partial body against it would reject it).
 */
function checksumFor(
  info: ObjectInfo,
  whole: boolean,
  partNumber: number | undefined,
): Array<[string, string]> {
  if (whole) return checksumResponseHeaders(info.checksum);
  const partChecksum = partNumber === undefined ? undefined : info.partChecksums?.[partNumber - 1];
  if (info.checksum === null || partChecksum === undefined || partChecksum === '') return [];
  return checksumResponseHeaders({ ...info.checksum, base64: partChecksum, type: 'FULL_OBJECT' });
}

/**
 * The byte range of part `partNumber` (GET/HEAD ?partNumber=N). An object not made by a
 * multipart upload has one part, the whole object.
 */
function partRange(info: ObjectInfo, partNumber: number): ByteRange | null {
  const sizes = info.partSizes ?? [info.bytes];
  if (partNumber > sizes.length) {
    throw new S3Error('InvalidPartNumber', undefined, {
      PartNumberRequested: String(partNumber),
      ActualPartCount: String(sizes.length),
    });
  }
  if (info.partSizes === null) return null;
  const start = sizes.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
  return { start, end: start + (sizes[partNumber - 1] ?? 0) };
}

/**
 * Streams `range` of an opened object as the body of a `status` response. The status line and
 * headers go with the first chunk, once the shard has read and verified the first block: a read
 * that fails before that (a corrupt or missing block) rejects, and the caller answers an error
 * (500 InternalError) instead. After the headers, a failure can only cut the connection: the
 * client sees a short body, never a complete wrong one.
 */
export function streamBody(
  ctx: Pick<RequestContext, 'res' | 'state' | 'requestId'>,
  shard: ShardClient,
  reqId: number,
  range: ByteRange,
  status: number,
  headers: Array<[string, string]>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = false;
    // Headers are checked before any byte is read: a stored value that fails the check (written
    // by an older version) is a 500 through the caller, not a throw in a shard reply callback.
    try {
      assertSafeHeaders(headers);
    } catch (error) {
      shard.cancel(reqId);
      reject(error);
      return;
    }
    const stall = watchForStall(ctx, shard, reqId);
    // A client gone before the first chunk (the shard is cancelled by openObject and says no
    // more), or a connection cut by the stall timer: the request is over either way (whenDone
    // also runs on an abort).
    ctx.res.whenDone(resolve);
    shard.resume(
      reqId,
      { kind: 'ReadRange', reqId, start: range.start, endExclusive: range.end },
      {
        onReply: (reply, body) => {
          if (reply.kind === 'BodyChunk') {
            assert(body !== undefined, 'a body chunk carries bytes');
            if (!started) {
              started = true;
              ctx.res.beginStream(status, headers, range.end - range.start);
              resolve();
            }
            ctx.res.writeChunk(new Uint8Array(body, 0, reply.bytes), () => {
              stall.refresh();
              returnCredit(shard, reqId, body);
            });
          } else if (reply.kind === 'Failed') {
            if (!started) {
              reject(fromEngineFailure(reply.failure));
              return;
            }
            // Headers are gone already: the only honest signal left is a cut connection.
            ctx.state.logger.error(
              { requestId: ctx.requestId, failure: reply.failure },
              'GET body failed',
            );
            ctx.res.close();
          }
        },
      },
    );
  });
}

/**
 * A streamed body whose client takes no bytes for LIMITS.readStallTimeoutMs is cut: a reader
 * that stops reading (slowloris in reverse) would otherwise pin a shard read session and its
 * window of buffers for as long as it keeps the connection open.
 */
function watchForStall(
  ctx: Pick<RequestContext, 'res' | 'state' | 'requestId'>,
  shard: ShardClient,
  reqId: number,
): NodeJS.Timeout {
  const timer = setTimeout(() => {
    ctx.state.logger.warn(
      { requestId: ctx.requestId, timeoutMs: LIMITS.readStallTimeoutMs },
      'GET body stalled: the client took no bytes, connection cut',
    );
    shard.cancel(reqId);
    ctx.res.close();
  }, LIMITS.readStallTimeoutMs);
  ctx.res.whenDone(() => clearTimeout(timer));
  return timer;
}
