// Runs in an edge thread (http/edge/thread.ts): every S3 and website request enters here.

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { threadId } from 'node:worker_threads';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import type { RequestFacts } from '../access/facts.js';
import { prefetchForDecision } from '../access/object-facts.js';
import { type Principal, principalOf } from '../access/principal.js';
import { type LoggedBucket, logAccess, loggingOf } from '../access-log/access-log.js';
import {
  type Authenticated,
  type Authorized,
  againAfterCatalogMiss,
  authenticate,
  authorize,
  requestFactsOf,
  signedBy,
} from '../s3/auth.js';
import { consoleCorsHeaders, isPreflight } from '../s3/console-cors.js';
import type { RequestContext, ServerState } from '../s3/context.js';
import { actualRequestCorsHeaders } from '../s3/cors.js';
import { dispatch } from '../s3/dispatch.js';
import { endpointName } from '../s3/endpoints.js';
import { slowDown, stopping, toS3Error } from '../s3/engine-errors.js';
import { sendS3Error } from '../s3/error-response.js';
import type { S3Error } from '../s3/errors.js';
import { handlePreflight } from '../s3/handlers/cors.js';
import { handlePostObject } from '../s3/handlers/post-object.js';
import { headerSectionError } from '../s3/header-values.js';
import { type RoutedRequest, routeRequest } from '../s3/router.js';
import { refuseSseCInClear } from '../s3/sse-c.js';
import { refuseWriteWhileFenced } from '../s3/write-gate.js';
import { anonymousPayload } from '../sigv4/verify.js';
import type { RequestGate } from '../uws/connections.js';
import { readRequest } from '../uws/header-section.js';
import { IncomingBody } from '../uws/incoming-body.js';
import type { RequestSnapshot } from '../uws/request.js';
import { type Headers, Responder } from '../uws/response.js';
import { acceptWebsiteRequest } from '../website.js';
import { countFilteredRequest } from './bucket-metrics.js';
import { countEdgeRequest, recordS3Request } from './request-metrics.js';

let requestCounter = 0;
/** The process id and the thread's id: request ids stay unique across edge threads. */
const requestIdPrefix = `${process.pid.toString(16).toUpperCase()}${threadId.toString(16).toUpperCase().padStart(2, '0')}`;

function nextRequestId(): string {
  return `${requestIdPrefix}${(++requestCounter).toString(16).toUpperCase().padStart(10, '0')}`;
}

/**
 * The checks every request of a port passes first, synchronously inside uWS's callback: its
 * header section (400 and close) and the port's request gate (503 SlowDown and close). Returns
 * the copied request and its responder, or null when it was answered already.
 */
function admit(
  res: HttpResponse,
  req: HttpRequest,
  gate: RequestGate,
): { snapshot: RequestSnapshot; responder: Responder } | null {
  countEdgeRequest();
  const { snapshot, problem } = readRequest(req);
  const responder = new Responder(res, nextRequestId());
  if (problem !== null) {
    refuse(responder, snapshot, headerSectionError(problem));
    return null;
  }
  const admission = gate.admit(responder);
  if (admission === 'admitted') return { snapshot, responder };
  refuse(responder, snapshot, admission === 'full' ? slowDown() : stopping());
  return null;
}

/** A website request, past the port's checks. */
export function acceptWebsite(
  state: ServerState,
  res: HttpResponse,
  req: HttpRequest,
  gate: RequestGate,
): void {
  const admitted = admit(res, req, gate);
  if (admitted === null) return;
  const { snapshot, responder } = admitted;
  acceptWebsiteRequest(state, responder, snapshot, expectsBody(snapshot));
}

/** An S3 request, past the port's checks: attach abort and body handlers, then serve it. */
export function acceptRequest(
  state: ServerState,
  res: HttpResponse,
  req: HttpRequest,
  gate: RequestGate,
): void {
  const admitted = admit(res, req, gate);
  if (admitted === null) return;
  const { snapshot, responder } = admitted;
  const body = new IncomingBody(responder, expectsBody(snapshot));
  serve(state, snapshot, responder, body).catch((error: unknown) => {
    // Only a failure of the error answer itself lands here: drop the connection, keep the process.
    state.logger.error({ err: error, requestId: responder.requestId }, 'error answer failed');
    responder.close();
  });
}

/**
 * A request refused before it is served: a repeated single-valued header or an oversized header
 * section (400), a request past the port's cap (503 SlowDown) or one sent on an open connection
 * while the server stops (503 ServiceUnavailable); body unread, connection closed.
 */
function refuse(res: Responder, req: RequestSnapshot, error: S3Error): void {
  sendS3Error(res, error, req.rawPath, req.method === 'HEAD', false);
}

async function serve(
  state: ServerState,
  req: RequestSnapshot,
  res: Responder,
  body: IncomingBody,
): Promise<void> {
  const startedMs = Date.now();
  const startedAt = performance.now();
  // Every grant, key and bucket configuration a client was told about is seen from here on.
  state.catalog.refresh();
  let operation = 'Unknown';
  let routedBucket: string | null = null;
  let routedKey: string | null = null;
  // For the bucket's server access log: who asked, the bucket record read, the error answered.
  let principal: Principal | null = null;
  let logged: LoggedBucket | null = null;
  let bucketRead = false;
  let errorCode: string | null = null;
  // The bucket authorization read (allowed or refused): its metrics configurations count it.
  let metered: BucketRecord | null = null;
  // The web console's origin gets CORS on every bucket, before routing: its preflights (even for
  // a name the router refuses) are answered here, and every answer carries its headers.
  const consoleCors = consoleCorsHeaders(state.config.admin.consoleOrigins, req.headers);
  try {
    if (consoleCors !== null && isPreflight(req.method, req.headers)) {
      operation = 'PreflightRequest';
      res.send(200, consoleCors, '');
      return;
    }
    if (consoleCors !== null) res.addHeaders(consoleCors);
    // PostObject is authenticated by its form's signed policy, not by a header: route it first.
    // Other requests keep their order (a bad signature is reported before a bad route).
    let routed: RoutedRequest | null = null;
    let routeError: unknown = null;
    try {
      routed = routeRequest(req, { rootDomains: state.config.s3.rootDomains });
    } catch (error) {
      routeError = error;
    }
    if (routed !== null) {
      routedBucket = routed.bucket;
      routedKey = routed.key;
    }
    // CORS preflights are answered from the bucket's CORS rules, unauthenticated, as S3 does.
    if (routed?.endpoint.action === 'PreflightRequest') {
      operation = 'PreflightRequest';
      handlePreflight(state, req, routed, res);
      return;
    }
    // Every other answer to a browser's cross-origin request, error or not, carries CORS headers.
    if (routed !== null && consoleCors === null) {
      res.addHeaders(actualRequestCorsHeaders(state, req.headers, req.method, routed.bucket));
    }
    if (routed !== null) refuseWriteWhileFenced(state, req.method, routed.endpoint);
    if (routed?.endpoint.action === 'PostObject') {
      operation = 'PostObject';
      // Signed by its form, not a header: the requester is not known here (logged as '-').
      if (state.accessLog !== undefined) {
        bucketRead = true;
        logged = loggingOf(state, res, state.catalog.getBucket(routed.endpoint.bucket));
      }
      await handlePostObject(state, req, routed, res, body, routed.endpoint.bucket);
      return;
    }
    const received = req;
    // Authentication and authorization: synchronous catalog reads, no body read yet. In cluster
    // mode the object a decision may look at is read first (embedded: nothing awaited here).
    const admit = (): Admitted | Promise<Admitted> => {
      const { auth, key } = authenticate(state, received, startedMs);
      if (routed === null) throw routeError;
      const target = routed;
      // A V2 presigned URL's signed headers came in its query: from here on they are headers.
      const signed =
        auth?.queryHeaders === undefined ? received : { ...received, headers: auth.queryHeaders };
      operation = endpointName(target.endpoint);
      const requester = principalOf(key);
      principal = requester;
      const requestFacts = requestFactsOf(
        state,
        signed,
        res,
        startedMs,
        target.query,
        signedBy(signed, auth),
      );
      const decide = (facts: RequestFacts): Admitted => {
        // The bucket's logging is read with the record authorization reads, refused or not.
        const authorized = authorize(state, requester, target, facts, signed.headers, (found) => {
          bucketRead = true;
          metered = found;
          logged = loggingOf(state, res, found);
        });
        return { auth, key, principal: requester, facts, authorized, routed: target, signed };
      };
      const prefetch = prefetchForDecision(state, target.bucket, target.key, target.endpoint);
      if (prefetch === null) return decide(requestFacts);
      return prefetch.then((prefetched) => decide({ ...requestFacts, prefetched }));
    };
    let admitted: Admitted;
    try {
      const first = admit();
      admitted = first instanceof Promise ? await first : first;
    } catch (error) {
      // Cluster mode: a bucket or key made on another gateway a moment ago is not a miss.
      admitted = await againAfterCatalogMiss(state.catalog, error, admit);
    }
    const { auth, key, facts, authorized } = admitted;
    routed = admitted.routed;
    req = admitted.signed;
    const { bucket, access, object } = authorized;
    if (authorized.requestCharged) res.addHeaders(REQUEST_CHARGED);
    refuseSseCInClear(state.config, Object.keys(req.headers));
    const ctx: RequestContext = {
      state,
      req,
      routed,
      res,
      body,
      auth,
      payload: auth?.payload ?? anonymousPayload(req.headers),
      key,
      principal: admitted.principal,
      facts,
      requestId: res.requestId,
      bucket,
      access,
      authorizedObject: object,
    };
    await dispatch(ctx);
  } catch (error) {
    const s3Error = toS3Error(error);
    errorCode = s3Error.code;
    // Refused before authorization read the bucket (a bad signature, AccessDenied): read it now.
    if (!bucketRead && routedBucket !== null && state.accessLog !== undefined) {
      logged = loggingOf(state, res, state.catalog.getBucket(routedBucket));
    }
    if (s3Error.code === 'InternalError')
      state.logger.error({ err: error, requestId: res.requestId }, 'internal error');
    const drained = await body.discardRest(
      declaredLength(req),
      LIMITS.errorDrainBytesMax,
      LIMITS.errorDrainTimeoutMs,
    );
    sendS3Error(res, s3Error, req.rawPath, req.method === 'HEAD', drained);
  } finally {
    // A streamed GET is still sending when its handler returns: record once the response is over.
    res.whenDone(() => {
      const durationMs = recordRequest(
        state,
        req,
        res,
        body,
        operation,
        routedBucket,
        routedKey,
        startedAt,
      );
      if (metered !== null) {
        countFilteredRequest(state, {
          bucket: metered,
          key: routedKey,
          method: req.method,
          status: res.status,
          bytesIn: body.bytesReceived,
          bytesOut: res.bytesSent,
        });
      }
      if (logged === null || routedBucket === null) return;
      logAccess(state, logged, {
        req,
        res,
        action: operation,
        bucketName: routedBucket,
        key: routedKey,
        principal,
        errorCode,
        bytesIn: body.bytesReceived,
        startedMs,
        durationMs,
      });
    });
  }
}

/** What a Requester Pays bucket's answers carry when the requester accepted the charge. */
const REQUEST_CHARGED: Headers = [['x-amz-request-charged', 'requester']];

/** Metrics and the access log line (info level) of one finished S3 request; its duration. */
function recordRequest(
  state: ServerState,
  req: RequestSnapshot,
  res: Responder,
  body: IncomingBody,
  operation: string,
  bucket: string | null,
  key: string | null,
  startedAt: number,
): number {
  const durationMs = performance.now() - startedAt;
  const bytesIn = body.bytesReceived;
  const bytesOut = res.bytesSent;
  recordS3Request({
    operation,
    status: res.status,
    durationSeconds: durationMs / 1000,
    bytesIn,
    bytesOut,
  });
  state.logger.info(
    {
      requestId: res.requestId,
      operation,
      method: req.method,
      bucket,
      key,
      status: res.status,
      bytesIn,
      bytesOut,
      ms: Math.round(durationMs * 1000) / 1000,
      ...(res.clientGone ? { aborted: true } : {}),
    },
    'request',
  );
  return durationMs;
}

/** The body's length on the wire, when the request states it. */
function declaredLength(req: RequestSnapshot): number | null {
  const length = req.headers['content-length'];
  return length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : null;
}

function expectsBody(req: RequestSnapshot): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return (req.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
}

/** What authentication and authorization made of a request, before its handler runs. */
interface Admitted {
  readonly auth: Authenticated['auth'];
  readonly key: Authenticated['key'];
  readonly principal: Principal;
  readonly facts: RequestFacts;
  readonly authorized: Authorized;
  readonly routed: RoutedRequest;
  readonly signed: RequestSnapshot;
}
