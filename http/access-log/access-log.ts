// Runs in an edge thread: server access logging, from a finished request to its spooled record.
import { join } from 'node:path';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import type { Principal } from '../access/principal.js';
import { bucketOwnerId } from '../access/principal.js';
import type { ServerState } from '../s3/context.js';
import type { LoggingConfig } from '../s3/logging-config.js';
import type { RequestSnapshot } from '../uws/request.js';
import type { Responder } from '../uws/response.js';
import { AccessLogDelivery } from './delivery.js';
import { type AccessLogStatus, measurePending } from './metrics.js';
import { type AccessLogFacts, formatRecord, WEBSITE_ACTION } from './record.js';
import { AccessLogSpool, adoptOrphanSpools, type SpoolEntry } from './spool.js';

/** The thread's spool and its delivery worker. */
export class AccessLog {
  private constructor(
    readonly spool: AccessLogSpool,
    readonly delivery: AccessLogDelivery,
  ) {}

  /** Opens edge thread `index`'s spool under the data directory and starts its delivery. */
  static async start(state: ServerState, index: number, edgeCount: number): Promise<AccessLog> {
    const dir = join(state.config.dataDir, 'access-log');
    const spool = await AccessLogSpool.open(dir, index);
    if (index === 0) adoptOrphanSpools(dir, edgeCount, Date.now());
    const delivery = new AccessLogDelivery(state, spool);
    measurePending(() => spool.records + delivery.batchRecords);
    delivery.start();
    return new AccessLog(spool, delivery);
  }

  /** The thread's delivery status: records waiting (spool and batch), delivered, failed runs. */
  status(): AccessLogStatus {
    return this.delivery.status(this.spool.records + this.delivery.batchRecords);
  }

  /** Stops delivery and makes every accepted record durable (delivered after the restart). */
  async stop(): Promise<void> {
    this.delivery.stop();
    await this.spool.close();
  }
}

/** What the edge knows of a finished request on a logged bucket, for its record. */
export interface FinishedRequest {
  readonly req: RequestSnapshot;
  readonly res: Responder;
  readonly action: string;
  readonly bucketName: string;
  readonly key: string | null;
  readonly principal: Principal | null;
  readonly errorCode: string | null;
  readonly bytesIn: number;
  readonly startedMs: number;
  readonly durationMs: number;
}

/** A logged bucket, as the edge keeps it while the request runs. */
export interface LoggedBucket {
  readonly bucket: BucketRecord;
  readonly config: LoggingConfig;
}

/**
 * The bucket's logging, when it has any: the one cached configuration lookup a request pays
 * for access logging. For a logged bucket it also reads the peer's address now, while the
 * response is open (uWS forbids it once the response has ended).
 */
export function loggingOf(
  state: ServerState,
  res: Responder,
  bucket: BucketRecord | null | undefined,
): LoggedBucket | null {
  if (state.accessLog === undefined || bucket === null || bucket === undefined) return null;
  const config = state.catalog.getBucketConfig<LoggingConfig>(bucket, 'logging');
  if (config === undefined) return null;
  res.remoteAddress();
  return { bucket, config };
}

/** Spools the record of a finished request on a logged bucket. */
export function logAccess(state: ServerState, logged: LoggedBucket, done: FinishedRequest): void {
  try {
    spool(state, logged, done);
  } catch (error) {
    // Runs where the response ends: a failed record must never touch the response.
    state.logger.error({ err: error, requestId: done.res.requestId }, 'access log record failed');
  }
}

function spool(state: ServerState, logged: LoggedBucket, done: FinishedRequest): void {
  const { config } = logged;
  const entry: SpoolEntry = {
    t: config.targetBucket,
    p: config.targetPrefix,
    f:
      config.keyFormat.kind === 'simple'
        ? 'S'
        : config.keyFormat.dateSource === 'EventTime'
          ? 'E'
          : 'D',
    s: done.bucketName,
    e: done.startedMs,
    l: formatRecord(factsOf(logged.bucket, done)),
  };
  state.accessLog?.spool.add(entry);
}

const UPLOADS: ReadonlySet<string> = new Set(['PutObject', 'UploadPart', 'PostObject']);
/** Reads whose whole 200 body is the object. */
const WHOLE_READS: ReadonlySet<string> = new Set(['GetObject', WEBSITE_ACTION]);

function factsOf(bucket: BucketRecord, done: FinishedRequest): AccessLogFacts {
  const { req, res } = done;
  const signing = signingOf(req);
  return {
    bucketOwner: bucketOwnerId(bucket),
    bucket: done.bucketName,
    timeMs: done.startedMs,
    remoteIp: res.remoteAddress(),
    requester: done.principal?.kind === 'key' ? done.principal.canonicalId : null,
    requestId: res.requestId,
    action: done.action,
    method: req.method,
    key: done.key,
    rawPath: req.rawPath,
    rawQuery: req.rawQuery,
    status: res.status,
    errorCode: done.errorCode,
    bytesSent: res.bytesSent,
    // The object's size: what an upload brought, or what a whole GET sent.
    objectSize: UPLOADS.has(done.action)
      ? done.bytesIn
      : WHOLE_READS.has(done.action) && req.method === 'GET' && res.status === 200
        ? res.bytesSent
        : null,
    totalTimeMs: done.durationMs,
    referer: req.headers.referer,
    userAgent: req.headers['user-agent'],
    versionId: new URLSearchParams(req.rawQuery).get('versionId') ?? undefined,
    signatureVersion: signing.version,
    authType: signing.type,
    host: req.headers.host,
  };
}

/** How the request was signed, read from the request itself (a refused signature included). */
function signingOf(req: RequestSnapshot): {
  version: AccessLogFacts['signatureVersion'];
  type: AccessLogFacts['authType'];
} {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    return { version: authorization.startsWith('AWS ') ? 'SigV2' : 'SigV4', type: 'AuthHeader' };
  }
  const query = req.rawQuery;
  if (query.includes('X-Amz-Signature=')) return { version: 'SigV4', type: 'QueryString' };
  if (query.includes('Signature=')) return { version: 'SigV2', type: 'QueryString' };
  return { version: null, type: null };
}
