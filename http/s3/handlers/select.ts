import { LIMITS } from '../../../engine/limits.js';
import type { ShardClient } from '../../../engine/pool/shard-client.js';
import type { Query } from '../../select/ast.js';
import { errorEvent } from '../../select/event-stream.js';
import { objectChunks } from '../../select/object-source.js';
import type { RangeReader } from '../../select/parquet-input.js';
import { parseQuery } from '../../select/parser.js';
import { parseSelectRequest, type SelectRequest } from '../../select/request.js';
import { type EventSink, runScan, type ScanInput } from '../../select/scan.js';
import { scanRangeBytes } from '../../select/scan-range.js';
import { SelectSqlError } from '../../select/sql-error.js';
import { hiddenMiss } from '../auth.js';
import { accessOf, type RequestContext, requireBucket, shardFor } from '../context.js';
import type { SelectObjectContentEndpoint } from '../endpoints.js';
import { toS3Error } from '../engine-errors.js';
import { S3_ERRORS, S3Error } from '../errors.js';
import { readSignedBody } from '../signed-body.js';
import { customerKeyOf } from '../sse-c.js';
import { type Opened, openObject, releaseOpened } from './object-get.js';

/**
 * SelectObjectContent: runs AWS's Select SQL over a CSV or JSON object and answers the
 * matching records as an event stream (http/select/). The request and its SQL are checked
 * before the object is opened; a failure before the first event is a plain S3 error answer,
 * after it an error event (the 200 is gone). The object is read through the read session a GET
 * uses (verified blocks), chunk by chunk, each event awaited: bounded memory, and a client that
 * stops reading stops the scan.
 */
export async function handleSelectObjectContent(
  ctx: RequestContext,
  e: SelectObjectContentEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const body = await readBody(ctx);
  const request = parseSelectRequest(body);
  refuseUnsupported(request);
  const query = parseSql(request.expression);
  const shard = shardFor(ctx.state, bucket, e.key);
  let opened: Opened;
  try {
    opened = await openObject(ctx, shard, bucket.id, e.key, 'read', customerKeyOf(ctx.req.headers));
  } catch (error) {
    throw hiddenMiss(
      ctx.state,
      ctx.principal,
      ctx.facts,
      { bucket, access: accessOf(ctx, bucket) },
      error,
    );
  }
  await answer(ctx, { shard, bucketId: bucket.id, key: e.key, opened }, request, query);
}

/** The object a Select reads: opened once; Parquet's ranged reads open the same version again. */
interface SelectTarget {
  readonly shard: ShardClient;
  readonly bucketId: string;
  readonly key: string;
  readonly opened: Opened;
}

async function readBody(ctx: RequestContext): Promise<string> {
  return (await readSignedBody(ctx)).toString('utf8');
}

/**
 * What AWS refuses before reading: whole-object compression of a Parquet object (Parquet
 * compresses its columns itself), and a scan range over anything but uncompressed CSV or JSON
 * LINES (Parquet included).
 */
function refuseUnsupported(request: SelectRequest): void {
  if (request.input.kind === 'parquet' && request.compression !== 'NONE') {
    throw new S3Error(
      'InvalidRequestParameter',
      'CompressionType must be NONE for Parquet input: Parquet compresses its own columns.',
    );
  }
  const lines =
    request.input.kind === 'csv' ||
    (request.input.kind === 'json' && request.input.type === 'LINES');
  if (request.scanRange !== null && (request.compression !== 'NONE' || !lines)) {
    throw new S3Error('UnsupportedScanRangeInput');
  }
}

function parseSql(expression: string): Query {
  try {
    return parseQuery(expression);
  } catch (error) {
    throw selectError(error);
  }
}

/** A SelectSqlError as the S3Error of its code; anything else as toS3Error maps it. */
function selectError(error: unknown): S3Error {
  if (error instanceof SelectSqlError) {
    const standard = S3_ERRORS[error.code].message;
    const detail = error.message === error.code ? '' : ` (${error.message})`;
    const where = error.at === null ? '' : ` At character ${error.at + 1}.`;
    return new S3Error(error.code, `${standard}${detail}${where}`);
  }
  return toS3Error(error);
}

async function answer(
  ctx: RequestContext,
  target: SelectTarget,
  request: SelectRequest,
  query: Query,
): Promise<void> {
  const { shard, opened } = target;
  let started = false;
  let source: AsyncGenerator<Uint8Array> | null = null;
  let input: ScanInput;
  if (request.input.kind === 'parquet') {
    // Ranged reads open the object anew; the first open only named the version and its size.
    releaseOpened(shard, opened);
    started = true;
    input = { kind: 'ranges', reader: rangeReader(ctx, target) };
  } else {
    const chunks = sourceOf(ctx, shard, opened, request);
    source = (async function* () {
      started = true;
      yield* chunks;
    })();
    input = { kind: 'bytes', source };
  }
  const sink = eventSink(ctx);
  try {
    await runScan({ request, query }, input, sink);
  } catch (error) {
    const s3 = selectError(error);
    if (!sink.begun) throw s3;
    if (s3.code === 'InternalError' && ctx.res.open)
      ctx.state.logger.error({ requestId: ctx.requestId, err: error }, 'Select failed mid-stream');
    await sink.send(errorEvent(s3.code, s3.message));
  } finally {
    await source?.return(undefined);
    if (!started) releaseOpened(shard, opened);
    if (sink.begun) ctx.res.endChunked();
  }
}

/**
 * Ranged reads of the opened version: each opens it again (If-Match its ETag, and its version
 * id when it has one, so a concurrent overwrite fails the read rather than mixing versions) and
 * gathers the range's verified chunks into one buffer. Callers bound the range (the footer's
 * and a row group's LIMITS).
 */
function rangeReader(ctx: RequestContext, target: SelectTarget): RangeReader {
  const { shard, bucketId, key, opened } = target;
  const gone = (handler: () => void): void => ctx.res.onAbort(handler);
  return {
    byteLength: opened.info.bytes,
    async read(start: number, end: number): Promise<Uint8Array> {
      const again = await openObject(
        ctx,
        shard,
        bucketId,
        key,
        'read',
        customerKeyOf(ctx.req.headers),
        { ifMatch: opened.info.etag },
        opened.info.versionId,
      );
      const out = new Uint8Array(end - start);
      let at = 0;
      for await (const chunk of objectChunks(shard, again, { start, end }, gone)) {
        out.set(chunk, at);
        at += chunk.byteLength;
      }
      return out;
    },
  };
}

/** The object's bytes the scan reads: all of it, or what ScanRange selects. */
function sourceOf(
  ctx: RequestContext,
  shard: ShardClient,
  opened: Opened,
  request: SelectRequest,
): AsyncIterable<Uint8Array> {
  const gone = (handler: () => void): void => ctx.res.onAbort(handler);
  const size = opened.info.bytes;
  const range = request.scanRange;
  if (range === null) return objectChunks(shard, opened, { start: 0, end: size }, gone);
  const start = range.start ?? (range.end === null ? 0 : Math.max(0, size - range.end));
  const end = range.start === null ? size - 1 : Math.min(range.end ?? size - 1, size - 1);
  const readFrom = Math.min(Math.max(0, start - 1), size);
  return scanRangeBytes(
    objectChunks(shard, opened, { start: readFrom, end: size }, gone),
    readFrom,
    start,
    end,
    delimiterByte(request),
  );
}

/** The byte that ends a record: \n, or a one-byte CSV record delimiter (the \n of \r\n). */
function delimiterByte(request: SelectRequest): number {
  const delimiter = request.input.kind === 'csv' ? request.input.recordDelimiter : '\n';
  const code = delimiter.charCodeAt(delimiter.length - 1);
  return code < 0x80 ? code : 0x0a;
}

/**
 * Sends events as chunks of one chunked 200, begun with the first event. A send resolves once
 * uWS took the bytes; one that waits LIMITS.readStallTimeoutMs (a client that stopped reading)
 * cuts the connection, which ends the scan.
 */
function eventSink(ctx: RequestContext): EventSink & { readonly begun: boolean } {
  let begun = false;
  return {
    get begun() {
      return begun;
    },
    get open() {
      return ctx.res.open;
    },
    send(event: Buffer): Promise<void> {
      if (!begun) {
        begun = true;
        ctx.res.beginChunked(200, [['content-type', 'application/vnd.amazon.eventstream']]);
      }
      return new Promise((resolve) => {
        const stall = setTimeout(() => {
          ctx.state.logger.warn(
            { requestId: ctx.requestId },
            'Select stalled: the client took no bytes, connection cut',
          );
          ctx.res.close();
          resolve();
        }, LIMITS.readStallTimeoutMs);
        ctx.res.writeChunked(event, () => {
          clearTimeout(stall);
          resolve();
        });
      });
    },
  };
}
