/**
 * CORS for the web console (console/, served by the admin port under /console). The console
 * signs S3 requests in the browser and sends them to the S3 port, another origin: every bucket
 * must answer its preflights and expose its headers to the console without the user configuring
 * CORS. So the S3 port answers CORS itself for the console's origins, and only those: the
 * admin listener's own origin(s) and `admin.console_origins`. No credentials mode is allowed
 * (S3 authenticates by signature, never by cookie), so the answers can expose every header.
 * A bucket's own CORS rules still govern every other origin (http/s3/cors.ts).
 */

import type { HangarConfig } from '../../engine/config.js';
import { isHeaderName } from '../uws/header-safety.js';
import type { Headers } from '../uws/response.js';
import { requestedHeadersOf } from './cors.js';

/** What the console may ask of the S3 port: every method an S3 call uses. */
const CONSOLE_METHODS = 'GET, PUT, POST, DELETE, HEAD';
/** Seconds a browser may cache a console preflight. */
const CONSOLE_PREFLIGHT_MAX_AGE_S = 600;

/**
 * `config` with the console's origins completed: the configured ones plus the origins a browser
 * sends when it loads the console from the admin listener itself (`scheme://host:port`; for a
 * loopback or wildcard listen address, the loopback names). A wildcard listener's public names
 * cannot be guessed: an operator reaching the console by one lists it in console_origins.
 */
export function withConsoleOrigins(
  config: HangarConfig,
  scheme: 'http' | 'https',
  adminPort: number,
): HangarConfig {
  const origins = new Set(config.admin.consoleOrigins);
  for (const host of consoleHostsOf(config.admin.host)) {
    origins.add(new URL(`${scheme}://${host}:${adminPort}`).origin);
  }
  return { ...config, admin: { ...config.admin, consoleOrigins: [...origins] } };
}

function consoleHostsOf(listenHost: string): string[] {
  const loopback = ['127.0.0.1', 'localhost'];
  if (listenHost === '0.0.0.0' || listenHost === '127.0.0.1' || listenHost === 'localhost') {
    return loopback;
  }
  if (listenHost === '::' || listenHost === '::1') return [...loopback, '[::1]'];
  return [listenHost.includes(':') ? `[${listenHost}]` : listenHost];
}

/**
 * The CORS headers for a request from a console origin, or null when the request has no Origin
 * or another one (then the bucket's own rules apply).
 */
export function consoleCorsHeaders(
  consoleOrigins: readonly string[],
  headers: Readonly<Record<string, string>>,
): Headers | null {
  const origin = headers.origin;
  if (origin === undefined || !consoleOrigins.includes(origin)) return null;
  const out: Array<[string, string]> = [
    ['access-control-allow-origin', origin],
    ['access-control-allow-methods', CONSOLE_METHODS],
  ];
  const requested = requestedHeadersOf(headers['access-control-request-headers']).filter(
    isHeaderName,
  );
  if (requested.length > 0) out.push(['access-control-allow-headers', requested.join(', ')]);
  // '*' exposes every response header to a request without credentials (all of the console's).
  out.push(['access-control-expose-headers', '*']);
  out.push(['access-control-max-age', String(CONSOLE_PREFLIGHT_MAX_AGE_S)]);
  out.push(['vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method']);
  return out;
}

/** Whether a request is a CORS preflight (OPTIONS naming the method it asks about). */
export function isPreflight(method: string, headers: Readonly<Record<string, string>>): boolean {
  return method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;
}
