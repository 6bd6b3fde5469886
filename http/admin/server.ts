/**
 * The admin endpoint: a third uWS app (default 127.0.0.1:3903) with Garage's admin API v2 shape:
 * `GET|POST /v2/<Operation>`, JSON in and out, bearer-token authentication. Without a configured
 * admin token only the token generated into `<dataDir>/admin.token` is accepted, and only from a
 * loopback peer (the CLI on this machine); /health stays open.
 */

import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { LIMITS } from '../../engine/limits.js';
import { type HeaderSectionProblem, readRequest } from '../uws/header-section.js';
import { IncomingBody } from '../uws/incoming-body.js';
import { Responder } from '../uws/response.js';
import { isConsolePath, serveConsole } from './console.js';
import type { AdminAuth, AdminReply, AdminRequest, AdminState } from './context.js';
import { AdminError } from './errors.js';
import { isLoopbackPeer } from './local-token.js';
import { ROUTES, type Route } from './routes.js';

let requestCounter = 0;

/** Mounts the admin API on `app`. */
export function mountAdminApi(app: TemplatedApp, state: AdminState): void {
  const table = new Map<string, Route[]>();
  for (const route of ROUTES) table.set(route.path, [...(table.get(route.path) ?? []), route]);
  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    // The same header-section checks as the S3 port: a repeated Authorization is refused, not
    // read one way here and another way by a proxy.
    const { snapshot, problem } = readRequest(req);
    // Read now: the response object may not be touched once this handler has returned.
    const peer = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
    const { method, rawPath: path, rawQuery, headers } = snapshot;
    const responder = new Responder(res, `A${(++requestCounter).toString(16).padStart(10, '0')}`);
    // The web console's files: public (its sign-in page must load without a token), read-only.
    if (problem === null && isConsolePath(path)) {
      serveConsole(responder, method, path, headers, state.s3Listener);
      return;
    }
    const length = headers['content-length'];
    const expectsBody =
      length !== undefined
        ? length !== '0'
        : (headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
    const body = new IncomingBody(responder, expectsBody);
    void serveAdmin(state, table, responder, body, {
      method,
      path,
      rawQuery,
      headers,
      problem,
      peer,
    });
  });
}

interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly problem: HeaderSectionProblem | null;
  /** The client's address, as uWS gives it. */
  readonly peer: string;
}

/**
 * Admin operations that only read: Garage's names say so (Get…, List…, Inspect…), and the
 * unversioned endpoints (/health, /ready, /metrics) are all reads.
 */
const READ_OPERATION = /^\/v2\/(?:Get|List|Inspect)[A-Z]|^\/v2\/openapi\.json$|^\/(?!v2\/)/;

/**
 * Cluster mode's split-brain guard on the admin port: a gateway that cannot prove its etcd lease
 * alive refuses every operation that changes state (buckets, keys, remotes, KMS keys, repairs,
 * worker variables) with 503, as its S3 port refuses writes, and keeps answering reads.
 */
function refuseWhileFenced(state: AdminState, route: Route): void {
  if (state.writeGate === undefined || state.writeGate.open()) return;
  if (READ_OPERATION.test(route.path)) return;
  throw new AdminError(
    503,
    'ServiceUnavailable',
    'this gateway cannot reach etcd to prove its lease: it refuses changes until it can (retry, here or on another gateway)',
  );
}

async function serveAdmin(
  state: AdminState,
  table: ReadonlyMap<string, Route[]>,
  res: Responder,
  body: IncomingBody,
  raw: RawRequest,
): Promise<void> {
  const startedMs = Date.now();
  let closeAfter = false;
  try {
    if (raw.problem !== null) {
      closeAfter = true;
      throw headerSectionAdminError(raw.problem);
    }
    const candidates = table.get(raw.path);
    if (candidates === undefined) {
      throw new AdminError(404, 'NoSuchEndpoint', `no admin endpoint ${raw.path}`);
    }
    const route = candidates.find((r) => r.method === raw.method);
    if (route === undefined) {
      throw new AdminError(
        405,
        'MethodNotAllowed',
        `${raw.path} expects ${candidates.map((r) => r.method).join(' or ')}`,
      );
    }
    checkToken(state, route.auth, raw.headers['authorization'], raw.peer);
    refuseWhileFenced(state, route);
    const declared = raw.headers['content-length'];
    if (declared !== undefined && Number(declared) > LIMITS.adminBodyBytesMax) {
      closeAfter = true;
      throw new AdminError(
        413,
        'PayloadTooLarge',
        `request bodies are limited to ${LIMITS.adminBodyBytesMax} bytes`,
      );
    }
    const bytes = await body.collect(LIMITS.adminBodyBytesMax);
    let parsed: unknown;
    if (bytes.length > 0) {
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        throw new AdminError(
          400,
          'InvalidRequest',
          `body is not valid JSON: ${(error as Error).message}`,
        );
      }
    }
    const request: AdminRequest = {
      method: raw.method,
      path: raw.path,
      query: new URLSearchParams(raw.rawQuery),
      headers: raw.headers,
      body: parsed,
    };
    send(res, await route.handler(state, request), raw.method === 'HEAD');
  } catch (error) {
    let adminError: AdminError;
    if (error instanceof AdminError) adminError = error;
    else {
      state.server.logger.error({ err: error, path: raw.path }, 'admin API: internal error');
      adminError = new AdminError(500, 'InternalError', (error as Error).message ?? String(error));
    }
    if (!body.complete) closeAfter = true;
    res.send(
      adminError.status,
      [['content-type', 'application/json']],
      JSON.stringify({
        code: adminError.code,
        message: adminError.message,
        region: state.server.config.s3.region,
        path: raw.path,
      }),
      { close: closeAfter },
    );
  } finally {
    state.server.logger.debug(
      { method: raw.method, path: raw.path, ms: Date.now() - startedMs },
      'admin request',
    );
  }
}

function headerSectionAdminError(problem: HeaderSectionProblem): AdminError {
  return problem.kind === 'too-large'
    ? new AdminError(400, 'RequestHeaderSectionTooLarge', 'the request header section is too large')
    : new AdminError(400, 'InvalidRequest', `the request repeats the ${problem.name} header`);
}

function send(res: Responder, reply: AdminReply, head: boolean): void {
  const status = reply.status ?? 200;
  if ('json' in reply) {
    const text = JSON.stringify(reply.json, null, 2);
    res.send(status, [['content-type', 'application/json']], head ? '' : text);
  } else {
    res.send(status, [['content-type', reply.contentType]], head ? '' : reply.text);
  }
}

/**
 * Garage's rules: missing or wrong token → 403. The configured token (or metrics token) works from
 * anywhere. Without one, the generated local token works from a loopback peer only; any other
 * peer is refused before its token is looked at, so the network learns nothing about it.
 */
function checkToken(
  state: AdminState,
  auth: AdminAuth,
  header: string | undefined,
  peer: string,
): void {
  if (auth === 'none') return;
  const { adminToken, metricsToken } = state.server.config.admin;
  const configured = auth === 'metrics' ? (metricsToken ?? adminToken) : adminToken;
  const expected = configured ?? state.localToken;
  if (expected === null) {
    throw new AdminError(
      403,
      'Forbidden',
      "Admin token isn't configured, admin API access is disabled (set HANGAR_ADMIN_TOKEN)",
    );
  }
  if (configured === null && !isLoopbackPeer(peer)) {
    throw new AdminError(
      403,
      'Forbidden',
      "Admin token isn't configured: the admin API answers only the local CLI (loopback " +
        'clients with the token in the data directory); set HANGAR_ADMIN_TOKEN or ' +
        'admin.admin_token to use it over the network',
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (match === null) {
    throw new AdminError(403, 'Forbidden', 'Authorization token must be provided');
  }
  if (!sameSecret(match[1] ?? '', expected)) {
    throw new AdminError(403, 'Forbidden', 'Invalid authorization token');
  }
}

/** Constant-time comparison (of digests, so lengths leak nothing either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
