/**
 * The pieces of AWS Signature Version 4 that both sides compute: canonical request, string to
 * sign, signing key. Follows "Authenticating Requests (AWS Signature Version 4)" in the S3 API
 * reference (sig-v4-header-based-auth, sigv4-query-string-auth), which differs from the generic
 * SigV4 spec in one place: S3 neither normalizes nor double-encodes the path.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { LIMITS } from '../../engine/limits.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const SIGV4_TERMINATOR = 'aws4_request';
export const S3_SERVICE = 's3';
/** Hex SHA-256 of the empty string; chunk signatures hash an empty "headers" part with it. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What the aws-chunked decoder needs to verify the chain of chunk signatures. */
export interface ChunkSigningContext {
  /** Derived signing key (kSigning) of the request's credential scope. */
  signingKey: Buffer;
  /** The request timestamp exactly as signed, "YYYYMMDDTHHMMSSZ". */
  amzDate: string;
  /** "YYYYMMDD/region/s3/aws4_request". */
  scope: string;
  /** The verified request signature; the first chunk signature chains from it. */
  seedSignature: string;
}

export interface CanonicalRequestInput {
  method: string;
  /** Path as received, still percent-encoded. */
  rawPath: string;
  /** Query as received, without "?". */
  rawQuery: string;
  headers: Readonly<Record<string, string>>;
  /** Lower-case names in the order the client listed them. */
  signedHeaders: readonly string[];
  /** The x-amz-content-sha256 value (or UNSIGNED-PAYLOAD for presigned URLs). */
  payloadHash: string;
  /** Query parameter left out of the canonical query (X-Amz-Signature for presigned URLs). */
  excludedQueryParam?: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Compares two hex signatures without leaking, through timing, where they first differ. */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(provided, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// UriEncode as AWS defines it: unreserved bytes stay, everything else becomes %XX (upper case).

const UNRESERVED = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  UNRESERVED[ch.charCodeAt(0)] = 1;
}
const HEX_UPPER = '0123456789ABCDEF';

function uriEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
    else out += `%${HEX_UPPER[byte >> 4]}${HEX_UPPER[byte & 15]}`;
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Percent-decodes to raw bytes (not to a string), so that encoded bytes that are not valid UTF-8
 * survive the decode/encode round trip unchanged. A '%' not followed by two hex digits is taken
 * literally, as S3 does. Characters outside ASCII (should a client send them raw) count as their
 * UTF-8 bytes, which is what a client signing that text would have encoded.
 */
export function percentDecodeBytes(text: string, plusIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 37 /* % */ && i + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    if (code === 43 /* + */ && plusIsSpace) {
      bytes.push(32);
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      const point = text.codePointAt(i) ?? code;
      if (point > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(point), 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** Decodes then re-encodes one path segment or query component with AWS's UriEncode. */
function reencode(component: string, plusIsSpace: boolean): string {
  // Fast path: most keys and parameters (a presigned credential's %2F too) are sent encoded
  // exactly as UriEncode would, and need no decoding, no byte array and no new string.
  if (isUriEncoded(component)) return component;
  return uriEncodeBytes(percentDecodeBytes(component, plusIsSpace));
}

/**
 * Whether UriEncode(decode(text)) is `text` itself: only unreserved characters and upper-case
 * %XX escapes of bytes that are not unreserved ('+' is not unreserved: it takes the slow path).
 */
function isUriEncoded(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 37 /* % */) {
      const hi = upperHexValue(text.charCodeAt(i + 1));
      const lo = upperHexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0 || UNRESERVED[(hi << 4) | lo] === 1) return false;
      i += 2;
    } else if (code > 0x7f || UNRESERVED[code] !== 1) {
      return false;
    }
  }
  return true;
}

function upperHexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Canonical request parts.

/**
 * S3's canonical URI: the path as sent, segment by segment re-encoded so that clients that
 * escape more or fewer characters than UriEncode still match; '/' separators are kept and no
 * "." or "//" normalization happens, because S3 object keys may legitimately contain them.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((segment) => reencode(segment, false))
    .join('/');
}

/**
 * Canonical query string: every name and value decoded and UriEncoded ('/' too), sorted by
 * name then value. '+' counts as a space, as in form encoding; clients that mean a plus sign
 * send %2B.
 */
export function canonicalQueryString(rawQuery: string, excludedParam?: string): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  let sorted = true;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    const name = reencode(rawName, true);
    if (name === excludedParam) continue;
    const pair: [string, string] = [name, reencode(rawValue, true)];
    const previous = pairs[pairs.length - 1];
    if (previous !== undefined && compareQueryPairs(previous, pair) > 0) sorted = false;
    pairs.push(pair);
  }
  // Signers send their parameters in canonical order already (the SDK's presigner does): the
  // sort is then a check that costs one comparison per pair.
  if (!sorted) pairs.sort(compareQueryPairs);
  let out = '';
  for (const [name, value] of pairs) out += out === '' ? `${name}=${value}` : `&${name}=${value}`;
  return out;
}

function compareQueryPairs(a: [string, string], b: [string, string]): number {
  // Encoded strings are pure ASCII, so UTF-16 order is byte (code point) order.
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** A tab, or two blanks in a row: what canonicalHeaderValue collapses. */
const INNER_RUN = /\t| {2}/;

/** Header value as signed: outer whitespace trimmed, inner runs collapsed to one space. */
export function canonicalHeaderValue(value: string): string {
  const trimmed = value.trim();
  // Most values have nothing to collapse: skip the replace and the string it builds.
  return INNER_RUN.test(trimmed) ? trimmed.replace(/[ \t]+/g, ' ') : trimmed;
}

/** "name:value\n" for each signed header; a signed header that is absent signs as empty. */
export function canonicalHeaders(
  headers: Readonly<Record<string, string>>,
  signedHeaders: readonly string[],
): string {
  let out = '';
  for (const name of signedHeaders) {
    // Own properties only: a signed header named `__proto__` or `constructor` is absent, not a
    // property every object inherits.
    const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
    out += `${name}:${canonicalHeaderValue(value ?? '')}\n`;
  }
  return out;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  return [
    input.method,
    canonicalUri(input.rawPath),
    canonicalQueryString(input.rawQuery, input.excludedQueryParam),
    canonicalHeaders(input.headers, input.signedHeaders),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/${SIGV4_TERMINATOR}`;
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

// ---------------------------------------------------------------------------------------------
// Signing key derivation, cached: it costs four HMACs and changes only once a day per key.

const signingKeyCache = new Map<string, Buffer>();

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const cacheKey = `${secret}\0${date}\0${region}\0${service}`;
  const cached = signingKeyCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const dateKey = hmacSha256(`AWS4${secret}`, date);
  const regionKey = hmacSha256(dateKey, region);
  const serviceKey = hmacSha256(regionKey, service);
  const signingKey = hmacSha256(serviceKey, SIGV4_TERMINATOR);
  if (signingKeyCache.size >= LIMITS.signingKeyCacheEntriesMax) {
    // Maps iterate in insertion order: drop the oldest entry.
    const oldest = signingKeyCache.keys().next();
    if (oldest.done !== true) signingKeyCache.delete(oldest.value);
  }
  signingKeyCache.set(cacheKey, signingKey);
  return signingKey;
}

export function signHex(signingKey: Uint8Array, toSign: string): string {
  return createHmac('sha256', signingKey).update(toSign, 'utf8').digest('hex');
}
