// The signed-in session: an admin token (operator) and/or an S3 access key pair (bucket user).
// Kept in sessionStorage (this tab only, gone when it closes); the secret never leaves the
// browser: S3 requests are signed here with SigV4, and the admin API sees only the token.
import { S3Client } from '@aws-sdk/client-s3';

// The admin API's own formatter (a pure module, bundled in): the console and the API's text agree.
export { formatBytes } from '../../http/admin/format-bytes.js';

export interface S3Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Session {
  /** The admin API's bearer token (operator view); null for a bucket user. */
  readonly adminToken: string | null;
  /** Keys for the S3 API (object browser); null for an operator who gave none. */
  readonly keys: S3Keys | null;
}

export interface ConsoleConfig {
  readonly s3Endpoint: string;
  readonly region: string;
}

const STORAGE_KEY = 'hangar.console.session';

export function loadSession(): Session | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (text === null) return null;
  try {
    return JSON.parse(text) as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session === null) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}

/** An S3 client that signs in this browser, path-style against hangar's S3 endpoint. */
export function s3ClientFor(config: ConsoleConfig, keys: S3Keys): S3Client {
  return new S3Client({
    endpoint: config.s3Endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
  });
}

/** An admin API error, with the code and message hangar answered. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the admin API (same origin as the console) with the bearer token. */
export async function adminCall<T>(
  token: string,
  operation: string,
  options: { query?: Record<string, string>; body?: unknown } = {},
): Promise<T> {
  const query = options.query === undefined ? '' : `?${new URLSearchParams(options.query)}`;
  const response = await fetch(`../v2/${operation}${query}`, {
    method: options.body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  if (!response.ok) {
    let code = `HTTP${response.status}`;
    let message = text;
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      code = parsed.code ?? code;
      message = parsed.message ?? message;
    } catch {
      // not JSON: the text is the message
    }
    throw new AdminApiError(response.status, code, message);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Fetches admin text (the Prometheus metrics). */
export async function adminText(token: string, path: string): Promise<string> {
  const response = await fetch(`../${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new AdminApiError(response.status, 'Metrics', await response.text());
  return response.text();
}

/** A readable message for any error: S3's code and message, the admin API's, or the text. */
export function errorText(error: unknown): string {
  if (error instanceof AdminApiError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const named = error as Error & { Code?: string };
    const code = named.Code ?? error.name;
    return code !== 'Error' && code !== '' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
