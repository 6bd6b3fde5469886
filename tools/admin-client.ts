import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { Command } from 'commander';
import type { HangarConfig } from '../engine/config.js';
import type { AdminFile } from '../http/admin/discovery.js';
import { localTokenPath, readLocalAdminToken } from '../http/admin/local-token.js';

/**
 * The CLI's side of a running server's admin API (found by `<dataDir>/admin.json`), and the two
 * errors a command ends with.
 */

/** A mistake in how the command was invoked (exit 2). */
export class UsageError extends Error {}
/** The operation could not be done (exit 1). */
export class OperationError extends Error {}

/**
 * A running server's admin API (found by `<dataDir>/admin.json`): while a server runs, key and
 * bucket commands go through it, so the CLI and the server never write the same files.
 */
export class AdminClient {
  constructor(
    private readonly server: AdminFile,
    private readonly token: string,
  ) {}

  async call<T>(
    method: 'GET' | 'POST',
    operation: string,
    query: Record<string, string> = {},
    body?: unknown,
  ): Promise<T> {
    const url = new URL(`${this.server.endpoint}/v2/${operation}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: AdminResponse;
    try {
      response = await send(this.server, url, method, headers, body);
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new OperationError(
        `cannot reach the admin API of the hangar server (pid ${this.server.pid}) at ` +
          `${this.server.endpoint}: ${cause ?? (error as Error).message}; ` +
          'if no server runs on this data directory, remove its admin.json',
      );
    }
    const text = response.text;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const { message, code } = (json ?? {}) as { message?: unknown; code?: unknown };
      // The code too: it is what scripts and S3-minded operators know (MalformedPolicy, ...).
      const detail =
        typeof message !== 'string'
          ? text.trim() || response.statusText
          : typeof code === 'string'
            ? `${code}: ${message}`
            : message;
      const problem = `admin API ${operation}: ${detail} (HTTP ${response.status})`;
      // 403: the token is missing or wrong, a configuration mistake.
      throw response.status === 403 ? new UsageError(problem) : new OperationError(problem);
    }
    return json as T;
  }

  /**
   * A node-local operation (`?node=self`): this node's answer, unwrapped from Garage's
   * MultiResponse `{ success: { <node id>: answer }, error: { <node id>: message } }`.
   */
  async onNode<T>(method: 'GET' | 'POST', operation: string, body?: unknown): Promise<T> {
    const multi = await this.call<MultiResponse<T>>(method, operation, { node: 'self' }, body);
    const failed = Object.values(multi.error ?? {});
    if (failed.length > 0) {
      throw new OperationError(`admin API ${operation}: ${failed.map(String).join('; ')}`);
    }
    const answers = Object.values(multi.success ?? {});
    if (answers.length !== 1) {
      throw new OperationError(
        `admin API ${operation}: expected one node's answer, got ${answers.length}`,
      );
    }
    return answers[0] as T;
  }
}

interface AdminResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

/** One request to the admin API: plain fetch over HTTP, a pinned certificate over HTTPS. */
async function send(
  server: AdminFile,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<AdminResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (url.protocol !== 'https:') {
    const response = await fetch(url, { method, headers, ...(payload ? { body: payload } : {}) });
    const { ok, status, statusText } = response;
    return { ok, status, statusText, text: await response.text() };
  }
  const pinned = server.certificateSha256;
  if (pinned === undefined) {
    throw new Error('its admin.json names an https endpoint without a certificate fingerprint');
  }
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { method, headers, agent: pinnedAgent(pinned) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({
          ok: status >= 200 && status < 300,
          status,
          statusText: res.statusMessage ?? '',
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    request.on('error', (error) =>
      reject(Object.assign(new Error(error.message), { cause: error })),
    );
    request.end(payload);
  });
}

/**
 * An agent whose TLS connections are handed to a request (so the bearer token is sent) only once
 * the server has shown the certificate admin.json names: the server wrote that file, and anyone
 * able to rewrite it could write the catalog itself. A CA chain and a host name are not checked
 * (a certificate for the S3 domain does not name 127.0.0.1, nor is its CA always trusted here).
 */
function pinnedAgent(fingerprint256: string): HttpsAgent {
  const agent = new HttpsAgent({ keepAlive: false });
  const createConnection = (
    options: ConnectionOptions,
    created: (error: Error | null, socket?: TLSSocket) => void,
  ): undefined => {
    const socket = tlsConnect({ ...options, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      const served = socket.getPeerCertificate().fingerprint256;
      if (served === fingerprint256) {
        created(null, socket);
        return;
      }
      socket.destroy();
      created(
        new Error(
          `the admin API serves certificate ${served}, not the ${fingerprint256} its admin.json names`,
        ),
      );
    });
    socket.once('error', (error) => created(error));
    return undefined;
  };
  // Node's agent takes a socket from createConnection's callback when it returns nothing.
  Object.assign(agent, { createConnection });
  return agent;
}

/** Garage's answer to a node-local operation. */
interface MultiResponse<T> {
  readonly success?: Readonly<Record<string, T>>;
  readonly error?: Readonly<Record<string, unknown>>;
}

/**
 * The client for `server`, with the admin token from --admin-token, else the configuration
 * (HANGAR_ADMIN_TOKEN, then admin.admin_token), else the token the server generated into the
 * data directory (`admin.token`, accepted from this machine only); none is a usage error.
 */
export function adminClient(
  command: Command,
  config: HangarConfig,
  server: AdminFile,
): AdminClient {
  const given = command.optsWithGlobals<{ adminToken?: string }>().adminToken;
  const configured = given !== undefined && given !== '' ? given : config.admin.adminToken;
  if (configured !== null && configured !== '') return new AdminClient(server, configured);
  const local = readLocalAdminToken(config.dataDir);
  if (local.token !== null) return new AdminClient(server, local.token);
  const giveIt =
    'give the admin token with --admin-token or HANGAR_ADMIN_TOKEN (or admin.admin_token in ' +
    'the configuration)';
  const why =
    local.problem === null
      ? `it was started with an admin token of its own (it made no ` +
        `${localTokenPath(config.dataDir)}): ${giveIt}`
      : `${local.problem}: run this command as the user the server runs as, or ${giveIt}`;
  throw new UsageError(
    `a hangar server (pid ${server.pid}) is running on ${config.dataDir}, so this command ` +
      `goes through its admin API at ${server.endpoint}; ${why}`,
  );
}
