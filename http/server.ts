import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { assert } from '../engine/assert.js';
import type { Catalog, KeyRecord } from '../engine/catalog/catalog.js';
import { Catalog as CatalogStore } from '../engine/catalog/catalog.js';
import { type HangarConfig, tlsFilesOf } from '../engine/config.js';
import { ensurePrivateDir, PRIVATE_UMASK } from '../engine/data-dir.js';
import { ensureLayout } from '../engine/layout.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import { ShardPool } from '../engine/pool/shard-pool.js';
import { BufferPool } from '../engine/protocol/buffer-pool.js';
import { OrphanSweeper } from '../engine/workers/orphan-sweep.js';
import { WorkerRegistry } from '../engine/workers/registry.js';
import { ScrubWorker } from '../engine/workers/scrub.js';
import { connectableEndpoint, removeAdminFile, writeAdminFile } from './admin/discovery.js';
import { ensureLocalAdminToken, removeLocalAdminToken } from './admin/local-token.js';
import { bindMetricsSources, recordS3Request } from './admin/metrics.js';
import { mountAdminApi } from './admin/server.js';
import { drainConnections } from './graceful-stop.js';
import { setHealth } from './health.js';
import { LifecycleRunner, type LifecycleRunResult } from './lifecycle-runner.js';
import { authenticate, authorize } from './s3/auth.js';
import type { RequestContext, ServerState } from './s3/context.js';
import { actualRequestCorsHeaders } from './s3/cors.js';
import { dispatch } from './s3/dispatch.js';
import { endpointName } from './s3/endpoints.js';
import { slowDown, stopping, toS3Error } from './s3/engine-errors.js';
import { sendS3Error } from './s3/error-response.js';
import type { S3Error } from './s3/errors.js';
import { handlePreflight } from './s3/handlers/cors.js';
import { handlePostObject } from './s3/handlers/post-object.js';
import { headerSectionError } from './s3/header-values.js';
import { type RoutedRequest, routeRequest } from './s3/router.js';
import { refuseSseCInClear } from './s3/sse-c.js';
import { superviseShards } from './shard-supervisor.js';
import { RequestGate } from './uws/connections.js';
import { type HeaderSectionProblem, readRequest } from './uws/header-section.js';
import { IncomingBody } from './uws/incoming-body.js';
import { type CertificateInfo, openListeners, readCertificate } from './uws/listen.js';
import { loadUws } from './uws/load.js';
import type { RequestSnapshot } from './uws/request.js';
import { Responder } from './uws/response.js';
import { acceptWebsiteRequest } from './website.js';

export interface RunningServer {
  readonly endpoint: string;
  readonly port: number;
  /** The static website endpoint (buckets by Host header). */
  readonly webEndpoint: string;
  readonly webPort: number;
  /** The admin API endpoint (Garage-style /v2/..., /metrics, /health). */
  readonly adminEndpoint: string;
  readonly adminPort: number;
  readonly rootKey: KeyRecord;
  /**
   * Rereads the TLS certificate and key and serves them to new connections on every port (on
   * SIGHUP); open connections keep theirs. Null without TLS; throws (old files still served)
   * when the new ones are unusable.
   */
  reloadTls(): CertificateInfo | null;
  /** Runs every bucket's lifecycle rules now (also on SIGUSR2); resolves with the counts. */
  runLifecycleNow(): Promise<LifecycleRunResult>;
  stop(): Promise<void>;
}

/** Opens the data directory, starts the shard actors and serves S3 on the configured port. */
export async function startServer(config: HangarConfig, logger: Logger): Promise<RunningServer> {
  setHealth('starting');
  const tls = tlsFilesOf(config);
  // A certificate mistake is a configuration error: say so before any shard starts.
  if (tls !== null) readCertificate(tls);
  const uws = loadUws();
  // Everything hangar writes (catalog, blocks, shard metadata) is for its own user only.
  process.umask(PRIVATE_UMASK);
  const wider = ensurePrivateDir(config.dataDir);
  if (wider !== null)
    logger.warn(
      { dataDir: config.dataDir, mode: wider.previousMode.toString(8) },
      wider.tightened
        ? 'the data directory was open to other users: its mode is now 0700'
        : 'the data directory is open to other users and belongs to another user: make it 0700',
    );
  const layout = ensureLayout(config.dataDir, config.shards);
  const catalog = CatalogStore.open(config.dataDir);
  const rootKey = await ensureRootKey(catalog, config, logger);
  const pool = await ShardPool.start(
    {
      dataDir: config.dataDir,
      shardCount: layout.shards,
      blockBytes: config.blockBytes,
      inlineBytesMax: config.inlineBytesMax,
      durable: config.durability === 'fsync',
    },
    superviseShards(logger),
  );
  const state: ServerState = { config, catalog, pool, logger, buffers: new BufferPool() };
  bindMetricsSources({ dataDir: config.dataDir, shards: pool.clients, catalog });
  void purgeDeletedBuckets(state);
  const lifecycle = new LifecycleRunner(catalog, pool.clients, logger, config.clockOffsetMs);
  lifecycle.start();
  const scrub = new ScrubWorker(config.dataDir, pool.clients, logger);
  await scrub.start();
  const orphans = new OrphanSweeper(pool.clients, logger);
  orphans.start();
  const workers = new WorkerRegistry(scrub, orphans, lifecycle);
  // One gate per port, kept across TLS reloads (a reload mounts a new app on the same port).
  const s3Gate = new RequestGate();
  const webGate = new RequestGate();
  const adminState = {
    server: state,
    startedMs: Date.now(),
    shardCount: layout.shards,
    workers,
    localToken: localAdminToken(config),
  };
  const [s3, web, admin] = openListeners(uws, [
    {
      name: 'S3',
      host: config.s3.host,
      port: config.s3.port,
      tls,
      mount: (app) => app.any('/*', (res, req) => acceptRequest(state, res, req, s3Gate)),
    },
    {
      name: 'website',
      host: config.web.host,
      port: config.web.port,
      tls,
      mount: (app) => app.any('/*', (res, req) => acceptWebsite(state, res, req, webGate)),
    },
    {
      name: 'admin',
      host: config.admin.host,
      port: config.admin.port,
      tls,
      mount: (app) => mountAdminApi(app, adminState),
    },
  ]);
  assert(s3 !== undefined && web !== undefined && admin !== undefined, 'three listeners');
  const listeners = [s3, web, admin];
  const { endpoint, port } = s3;
  const { endpoint: webEndpoint, port: webPort } = web;
  const { endpoint: adminEndpoint, port: adminPort } = admin;
  // The CLI finds the running server (and talks to its admin API, not to the files) by this.
  const announceAdmin = (): void =>
    writeAdminFile(config.dataDir, {
      endpoint: connectableEndpoint(config.admin.host, adminPort, admin.scheme),
      pid: process.pid,
      ...(admin.certificate === null
        ? {}
        : { certificateSha256: admin.certificate.fingerprint256 }),
    });
  announceAdmin();
  setHealth('ok', layout.shards);
  logger.info(
    { endpoint, shards: layout.shards, dataDir: config.dataDir },
    'hangar S3 endpoint ready',
  );
  logger.info(
    { webEndpoint, rootDomains: config.web.rootDomains },
    'hangar website endpoint ready',
  );
  logger.info(
    { adminEndpoint, token: adminState.localToken === null ? 'configured' : 'local' },
    'hangar admin endpoint ready',
  );
  return {
    endpoint,
    port,
    webEndpoint,
    webPort,
    adminEndpoint,
    adminPort,
    rootKey,
    runLifecycleNow: () => lifecycle.runNow(),
    reloadTls: () => {
      if (tls === null) return null;
      // Synchronous, port after port: two SIGHUPs can never interleave their swaps.
      let served: CertificateInfo | null = null;
      for (const listener of listeners) served = listener.reloadCertificate();
      announceAdmin();
      return served;
    },
    stop: async () => {
      await drainConnections(listeners, [s3Gate, webGate], logger);
      await Promise.all([lifecycle.stop(), scrub.stop(), orphans.stop()]);
      await pool.stop();
      bindMetricsSources(null);
      await catalog.close();
      // Last: while it exists the CLI knows a server owns the data directory (and does not open
      // the catalog itself), which stays true until the catalog is closed.
      removeAdminFile(config.dataDir);
    },
  };
}

/**
 * The admin token the local CLI uses when the operator configured none (generated into the data
 * directory on the first start); null when one is configured.
 */
function localAdminToken(config: HangarConfig): string | null {
  if (config.admin.adminToken !== null) {
    removeLocalAdminToken(config.dataDir);
    return null;
  }
  return ensureLocalAdminToken(config.dataDir);
}

/**
 * The root key: from HANGAR_ROOT_ACCESS_KEY / HANGAR_ROOT_SECRET_KEY when set, otherwise the one
 * generated on the data directory's first start and kept in its catalog. Setting a new pair
 * rotates it: the previous root key is deleted (and said so in the log), not left with every right.
 */
async function ensureRootKey(
  catalog: Catalog,
  config: HangarConfig,
  logger: Logger,
): Promise<KeyRecord> {
  if (config.rootAccessKey !== null && config.rootSecretKey !== null) {
    const { key, removed } = await catalog.putRootKey(config.rootAccessKey, config.rootSecretKey);
    if (removed.length > 0) {
      logger.warn(
        { removed, rootAccessKey: key.accessKeyId },
        'root key rotated: the previous root keys are deleted',
      );
    }
    return key;
  }
  const existing = catalog.listKeys().find((key) => key.root);
  if (existing !== undefined) return existing;
  const created = await catalog.createKey('root');
  return (await catalog.putRootKey(created.accessKeyId, created.secretAccessKey)).key;
}

/** Objects of buckets deleted while a PUT raced the deletion are removed at start-up. */
function purgeDeletedBuckets(state: ServerState): Promise<void> {
  return state.pool.purgeDeadBuckets([...state.catalog.liveBucketIds()], (error) =>
    state.logger.error({ err: error }, 'purging objects of deleted buckets failed'),
  );
}

let requestCounter = 0;
const requestIdPrefix = `${process.pid.toString(16).toUpperCase()}`;

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
  const { snapshot, problem } = readRequest(req);
  const responder = new Responder(res, nextRequestId());
  if (problem !== null) {
    refuseHeaderSection(responder, snapshot, problem);
    return null;
  }
  const admission = gate.admit(responder);
  if (admission === 'admitted') return { snapshot, responder };
  refuseUnadmitted(responder, snapshot, admission === 'full' ? slowDown() : stopping());
  return null;
}

/** A website request, past the port's checks. */
function acceptWebsite(
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
function acceptRequest(
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

/** A repeated single-valued header or an oversized header section: 400, then close. */
function refuseHeaderSection(
  res: Responder,
  req: RequestSnapshot,
  problem: HeaderSectionProblem,
): void {
  sendS3Error(res, headerSectionError(problem), req.rawPath, req.method === 'HEAD', false);
}

/**
 * A request past the port's cap (503 SlowDown) or sent on an open connection while the server
 * stops (503 ServiceUnavailable): Retry-After, body unread, connection closed.
 */
function refuseUnadmitted(res: Responder, req: RequestSnapshot, error: S3Error): void {
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
  let operation = 'Unknown';
  let routedBucket: string | null = null;
  let routedKey: string | null = null;
  try {
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
    if (routed !== null) {
      res.addHeaders(actualRequestCorsHeaders(state, req.headers, req.method, routed.bucket));
    }
    if (routed?.endpoint.action === 'PostObject') {
      operation = 'PostObject';
      await handlePostObject(state, req, routed, res, body, routed.endpoint.bucket);
      return;
    }
    const { auth, key } = authenticate(state, req, startedMs);
    if (routed === null) throw routeError;
    operation = endpointName(routed.endpoint);
    authorize(state, key, routed.endpoint, routed.bucket);
    refuseSseCInClear(state.config, Object.keys(req.headers));
    const ctx: RequestContext = {
      state,
      req,
      routed,
      res,
      body,
      auth,
      key,
      requestId: res.requestId,
    };
    await dispatch(ctx);
  } catch (error) {
    const s3Error = toS3Error(error);
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
    res.whenDone(() =>
      recordRequest(state, req, res, body, operation, routedBucket, routedKey, startedAt),
    );
  }
}

/** Metrics and the access log line (info level) of one finished S3 request. */
function recordRequest(
  state: ServerState,
  req: RequestSnapshot,
  res: Responder,
  body: IncomingBody,
  operation: string,
  bucket: string | null,
  key: string | null,
  startedAt: number,
): void {
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
