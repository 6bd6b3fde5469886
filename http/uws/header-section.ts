import type { HttpRequest } from 'uWebSockets.js';
import { LIMITS } from '../../engine/limits.js';
import type { RequestSnapshot } from './request.js';

/**
 * Headers that must appear at most once. When one is repeated, a proxy in front of hangar and
 * hangar itself may each read a different copy (which Authorization was checked? which
 * Content-Length frames the body?), so such a request is refused rather than interpreted.
 */
const SINGLE_VALUED = new Set([
  'authorization',
  'x-amz-date',
  'x-amz-content-sha256',
  'content-length',
  'host',
]);

/** Why a request's header section is refused before anything else reads it. */
export type HeaderSectionProblem =
  | { readonly kind: 'repeated'; readonly name: string }
  | { readonly kind: 'too-large'; readonly bytes: number };

export interface ReadRequest {
  readonly snapshot: RequestSnapshot;
  /** Set when the request must be refused (400) and its connection closed. */
  readonly problem: HeaderSectionProblem | null;
}

/**
 * Copies what hangar needs from a uWS HttpRequest (which dies when the route callback returns),
 * measuring the header section and spotting repeated single-valued headers on the way. The
 * headers object has no prototype, so a header (or a signed-header list) named `__proto__` or
 * `constructor` reads as absent instead of as an inherited property.
 */
export function readRequest(req: HttpRequest): ReadRequest {
  const headers: Record<string, string> = Object.create(null);
  let problem: HeaderSectionProblem | null = null;
  let sectionBytes = 0;
  req.forEach((name, value) => {
    // "name: value\r\n", as on the wire.
    sectionBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
    const previous = headers[name];
    if (previous === undefined) {
      headers[name] = value;
      return;
    }
    headers[name] = `${previous},${value}`;
    if (problem === null && SINGLE_VALUED.has(name)) problem = { kind: 'repeated', name };
  });
  if (sectionBytes > LIMITS.requestHeaderBytesMax) {
    problem = { kind: 'too-large', bytes: sectionBytes };
  }
  return {
    snapshot: {
      method: req.getMethod().toUpperCase(),
      rawPath: req.getUrl(),
      rawQuery: req.getQuery() ?? '',
      headers,
    },
    problem,
  };
}
