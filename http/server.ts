import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Catalog, KeyRecord } from '../engine/catalog/catalog.js';
import { Catalog as CatalogStore } from '../engine/catalog/catalog.js';
import type { HangarConfig } from '../engine/config.js';
import { ensureLayout } from '../engine/layout.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import { ShardPool } from '../engine/pool/shard-pool.js';
import { BufferPool } from '../engine/protocol/buffer-pool.js';
import { OrphanSweeper } from '../engine/workers/orphan-sweep.js';
import { WorkerRegistry } from '../engine/workers/registry.js';
import { ScrubWorker } from '../engine/workers/scrub.js';
import { connectableEndpoint, removeAdminFile, writeAdminFile } from './admin/discovery.js';
import { bindMetricsSources, recordS3Request } from './admin/metrics.js';
import { mountAdminApi } from './admin/server.js';
import { setHealth } from './health.js';
import { LifecycleRunner, type LifecycleRunResult } from './lifecycle-runner.js';
import { authenticate, authorize } from './s3/auth.js';
import type { RequestContext, ServerState } from './s3/context.js';
import { actualRequestCorsHeaders } from './s3/cors.js';
import { dispatch } from './s3/dispatch.js';
import { endpointName } from './s3/endpoints.js';
import { toS3Error } from './s3/engine-errors.js';
import { sendS3Error } from './s3/error-response.js';
import { handlePreflight } from './s3/handlers/cors.js';
import { handlePostObject } from './s3/handlers/post-object.js';
import { headerSectionError } from './s3/header-values.js';
import { type RoutedRequest, routeRequest } from './s3/router.js';
import { type HeaderSectionProblem, readRequest } from './uws/header-section.js';
import { IncomingBody } from './uws/incoming-body.js';
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
  /** Runs every bucket's lifecycle rules now (also on SIGUSR2); resolves with the counts. */
  runLifecycleNow(): Promise<LifecycleRunResult>;
  stop(): Promise<void>;
}

/** Opens the data directory, starts the shard actors and serves S3 on the configured port. */
export async function startServer(config: HangarConfig, logger: Logger): Promise<RunningServer> {
  setHealth('starting');
  const uws = loadUws();
  const layout = ensureLayout(config.dataDir, config.shards);
  const catalog = CatalogStore.open(config.dataDir);
  const rootKey = await ensureRootKey(catalog, config);
  const pool = await ShardPool.start(
    {
      dataDir: config.dataDir,
      shardCount: layout.shards,
      blockBytes: config.blockBytes,
      inlineBytesMax: config.inlineBytesMax,
      durable: config.durability === 'fsync',
    },
    (shardId, error) => logger.fatal({ shardId, err: error }, 'shard actor died'),
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
  const app = uws.App();
  app.any('/*', (res, req) => acceptRequest(state, res, req));
  const listenSocket = await listen(app, config.s3.host, config.s3.port);
  const port = uws.us_socket_local_port(listenSocket);
  const endpoint = `http://${config.s3.host}:${port}`;
  const webApp = uws.App();
  webApp.any('/*', (res, req) => {
    const { snapshot, problem } = readRequest(req);
    const responder = new Responder(res, nextRequestId());
    if (problem !== null) refuseHeaderSection(responder, snapshot, problem);
    else acceptWebsiteRequest(state, responder, snapshot, expectsBody(snapshot));
  });
  let webSocket: us_listen_socket;
  try {
    webSocket = await listen(webApp, config.web.host, config.web.port);
  } catch (error) {
    uws.us_listen_socket_close(listenSocket);
    throw error;
  }
  const webPort = uws.us_socket_local_port(webSocket);
  const webEndpoint = `http://${config.web.host}:${webPort}`;
  const adminApp = uws.App();
  mountAdminApi(adminApp, {
    server: state,
    startedMs: Date.now(),
    shardCount: layout.shards,
    workers,
  });
  let adminSocket: us_listen_socket;
  try {
    adminSocket = await listen(adminApp, config.admin.host, config.admin.port);
  } catch (error) {
    uws.us_listen_socket_close(listenSocket);
    uws.us_listen_socket_close(webSocket);
    throw error;
  }
  const adminPort = uws.us_socket_local_port(adminSocket);
  const adminEndpoint = `http://${config.admin.host}:${adminPort}`;
  // The CLI finds the running server (and talks to its admin API, not to the files) by this.
  writeAdminFile(config.dataDir, {
    endpoint: connectableEndpoint(config.admin.host, adminPort),
    pid: process.pid,
  });
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
    { adminEndpoint, enabled: config.admin.adminToken !== null },
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
    stop: async () => {
      setHealth('stopping');
      removeAdminFile(config.dataDir);
      await Promise.all([lifecycle.stop(), scrub.stop(), orphans.stop()]);
      uws.us_listen_socket_close(listenSocket);
      uws.us_listen_socket_close(webSocket);
      uws.us_listen_socket_close(adminSocket);
      await pool.stop();
      bindMetricsSources(null);
      await catalog.close();
    },
  };
}

function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`hangar: cannot listen on ${host}:${port} (address in use?)`));
    });
  });
}

/**
 * The root key: from HANGAR_ROOT_ACCESS_KEY / HANGAR_ROOT_SECRET_KEY when set, otherwise the one
 * generated on the data directory's first start and kept in its catalog.
 */
async function ensureRootKey(catalog: Catalog, config: HangarConfig): Promise<KeyRecord> {
  if (config.rootAccessKey !== null && config.rootSecretKey !== null) {
    return catalog.putRootKey(config.rootAccessKey, config.rootSecretKey);
  }
  const existing = catalog.listKeys().find((key) => key.root);
  if (existing !== undefined) return existing;
  const created = await catalog.createKey('root');
  return catalog.putRootKey(created.accessKeyId, created.secretAccessKey);
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

/** Runs synchronously inside uWS's callback: copy the request, attach abort and body handlers. */
function acceptRequest(state: ServerState, res: HttpResponse, req: HttpRequest): void {
  const { snapshot, problem } = readRequest(req);
  const responder = new Responder(res, nextRequestId());
  if (problem !== null) {
    refuseHeaderSection(responder, snapshot, problem);
    return;
  }
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
