/**
 * The web console's files (console/, built by tools/build-console.ts into dist/console), served
 * by the admin port under /console. Hashed asset names are immutable; index.html is revalidated
 * by ETag. Each file was compressed at build time (.br, .gz beside it): the best encoding the
 * client accepts is sent as is. index.html carries a strict Content-Security-Policy: scripts and
 * styles from this origin only, network access to this origin and the S3 endpoint only.
 * `/console/config.json` tells the console where the S3 endpoint is (public facts only: the
 * console itself reaches hangar through the admin API and the S3 API, nothing else).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Headers, Responder } from '../uws/response.js';

/** The URL prefix of the console on the admin port. */
export const CONSOLE_PREFIX = '/console';

/** Where the S3 port listens, as the console's browser must reach it. */
export interface S3Listener {
  readonly scheme: 'http' | 'https';
  /** The listen address; a wildcard one is replaced by the host the browser used. */
  readonly host: string;
  readonly port: number;
  readonly region: string;
}

interface Asset {
  readonly contentType: string;
  readonly identity: Buffer;
  readonly gzip: Buffer | undefined;
  readonly brotli: Buffer | undefined;
  readonly etag: string;
  /** Content-hashed file name: cached for a year, never revalidated. */
  readonly immutable: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** dist/console, next to dist/http (this file is dist/http/admin/console.js). */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

let assets: ReadonlyMap<string, Asset> | null = null;

/** Every built file, read once (the bundle is small; the admin port serves it from memory). */
function loadAssets(): ReadonlyMap<string, Asset> {
  if (assets !== null) return assets;
  const found = new Map<string, Asset>();
  let files: string[];
  try {
    files = listFiles(CONSOLE_DIR);
  } catch {
    files = []; // not built: every console path answers 404 with a hint
  }
  for (const file of files) {
    const ext = extname(file);
    if (ext === '.gz' || ext === '.br') continue;
    const contentType = CONTENT_TYPES[ext];
    if (contentType === undefined) continue;
    const identity = readFileSync(file);
    const name = `/${relative(CONSOLE_DIR, file).split('\\').join('/')}`;
    found.set(name, {
      contentType,
      identity,
      gzip: files.includes(`${file}.gz`) ? readFileSync(`${file}.gz`) : undefined,
      brotli: files.includes(`${file}.br`) ? readFileSync(`${file}.br`) : undefined,
      etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
      immutable: name.startsWith('/assets/'),
    });
  }
  assets = found;
  return found;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Whether `path` belongs to the console (the admin API's routes never start so). */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
}

/** Answers one console request (GET or HEAD; no body is read). */
export function serveConsole(
  res: Responder,
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  s3: S3Listener,
): void {
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) {
    res.send(405, [['allow', 'GET, HEAD']], '', { close: true });
    return;
  }
  if (path === CONSOLE_PREFIX) {
    res.send(301, [['location', `${CONSOLE_PREFIX}/`]], '');
    return;
  }
  const name = path.slice(CONSOLE_PREFIX.length);
  if (name === '/config.json') {
    const text = JSON.stringify({ s3Endpoint: s3OriginFor(s3, headers), region: s3.region });
    res.send(200, [...securityHeaders(), ['content-type', 'application/json'], NO_STORE], text, {
      ...(head ? { headLength: Buffer.byteLength(text) } : {}),
    });
    return;
  }
  const asset = loadAssets().get(name === '/' ? '/index.html' : name);
  if (asset === undefined) {
    const text = assets?.size === 0 ? 'the console is not built (npm run build)\n' : 'not found\n';
    res.send(404, [['content-type', 'text/plain; charset=utf-8'], NO_STORE], head ? '' : text);
    return;
  }
  sendAsset(res, asset, headers, head, name === '/' ? consolePolicy(s3, headers) : null);
}

const NO_STORE: readonly [string, string] = ['cache-control', 'no-store'];

function securityHeaders(): Array<[string, string]> {
  return [
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['x-frame-options', 'DENY'],
  ];
}

function sendAsset(
  res: Responder,
  asset: Asset,
  headers: Readonly<Record<string, string>>,
  head: boolean,
  policy: string | null,
): void {
  const common: Array<[string, string]> = [
    ...securityHeaders(),
    ['etag', asset.etag],
    [
      'cache-control',
      asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache, private',
    ],
    ['vary', 'Accept-Encoding'],
  ];
  if (policy !== null) common.push(['content-security-policy', policy]);
  if (ifNoneMatch(headers['if-none-match'], asset.etag)) {
    res.send(304, common, '');
    return;
  }
  const { encoding, body } = bestEncoding(asset, headers['accept-encoding'] ?? '');
  const out: Headers = [
    ...common,
    ['content-type', asset.contentType],
    ...(encoding === null ? [] : [['content-encoding', encoding] as [string, string]]),
  ];
  if (head) res.send(200, out, '', { headLength: body.byteLength });
  else res.send(200, out, body);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  // The header section is bounded already (readRequest): the value is short.
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/** Brotli, then gzip, when the client lists it (with a q above 0); else the plain bytes. */
function bestEncoding(
  asset: Asset,
  acceptEncoding: string,
): { encoding: string | null; body: Buffer } {
  const accepted = new Set(
    acceptEncoding
      .toLowerCase()
      .split(',')
      .map((item) => item.trim().split(';'))
      .filter(([, q]) => q === undefined || !/^\s*q=0(\.0*)?\s*$/.test(q))
      .map(([name]) => (name ?? '').trim()),
  );
  if (asset.brotli !== undefined && accepted.has('br')) {
    return { encoding: 'br', body: asset.brotli };
  }
  if (asset.gzip !== undefined && accepted.has('gzip')) {
    return { encoding: 'gzip', body: asset.gzip };
  }
  return { encoding: null, body: asset.identity };
}

/**
 * The S3 endpoint's origin as the console's browser reaches it: the S3 listen address, or for a
 * wildcard one the host name the browser used for the admin port (from Host, validated by URL).
 */
function s3OriginFor(s3: S3Listener, headers: Readonly<Record<string, string>>): string {
  let host = s3.host;
  if (host === '0.0.0.0' || host === '::') {
    host = hostnameOf(headers.host) ?? (host === '::' ? '[::1]' : '127.0.0.1');
  } else if (host.includes(':')) host = `[${host}]`;
  return `${s3.scheme}://${host}:${s3.port}`;
}

function hostnameOf(hostHeader: string | undefined): string | null {
  if (hostHeader === undefined) return null;
  try {
    const parsed = new URL(`http://${hostHeader}`);
    return parsed.hostname === '' ? null : parsed.hostname;
  } catch {
    return null;
  }
}

/** The console page's CSP: nothing inline, nothing from elsewhere than here and S3. */
function consolePolicy(s3: S3Listener, headers: Readonly<Record<string, string>>): string {
  const s3Origin = s3OriginFor(s3, headers);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${s3Origin}`,
    `media-src 'self' blob: ${s3Origin}`,
    `connect-src 'self' ${s3Origin}`,
    `frame-src blob: ${s3Origin}`,
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
