/**
 * Verifies AWS Signature Version 4 on an incoming request, by Authorization header or by
 * presigned URL, and answers with the errors AWS S3 gives for the same faults.
 */
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { RequestSnapshot } from '../uws/request.js';
import {
  type ChunkSigningContext,
  canonicalRequest,
  credentialScope,
  deriveSigningKey,
  percentDecodeBytes,
  S3_SERVICE,
  SIGV4_ALGORITHM,
  SIGV4_TERMINATOR,
  signaturesEqual,
  signHex,
  stringToSign,
} from './canonical.js';
import { checkClockSkew, formatIso8601, parseIso8601Basic, secretFor } from './shared.js';
import { isV2Authorization, type SignatureV2Options, verifyV2Header, verifyV2Query } from './v2.js';

export type { ChunkSigningContext } from './canonical.js';

export type PayloadMode =
  | { kind: 'unsigned' } // UNSIGNED-PAYLOAD
  | { kind: 'sha256'; hex: string } // body must hash to this (checked by caller later)
  | { kind: 'streaming-signed'; trailer: boolean } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
  | { kind: 'streaming-unsigned-trailer' }; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

export interface AuthResult {
  accessKeyId: string;
  payload: PayloadMode;
  /** present for streaming-signed: everything needed to verify chunk signatures */
  chunkSigning?: ChunkSigningContext;
  /**
   * A V2 presigned URL's headers with those it carries in its query (botocore moves x-amz-*,
   * Content-Type and Content-MD5 there) and signed as headers: the request is served with these.
   */
  queryHeaders?: Readonly<Record<string, string>>;
}

export interface VerifyOptions {
  region: string;
  nowMs: number;
  /** default 15 min */
  maxSkewMs?: number;
  /** Signature V2 is accepted when given (s3.signature_v2); refused as in AWS's V4-only regions otherwise. */
  signatureV2?: SignatureV2Options | undefined;
}

export type SecretLookup = (accessKeyId: string) => string | undefined;

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const CONTENT_SHA256 = 'x-amz-content-sha256';
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const PRESIGNED_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

/** The signature parameters, wherever they came from (header or query). */
interface SignatureParts {
  accessKeyId: string;
  credentialDate: string;
  signedHeaders: string[];
  signature: string;
}

/** Header auth and presigned URLs word the same faults differently; this carries the wording. */
interface AuthFlavor {
  presigned: boolean;
  malformed: (detail: string, fields?: Record<string, string>) => S3Error;
}

const HEADER_FLAVOR: AuthFlavor = {
  presigned: false,
  malformed: (detail, fields) =>
    new S3Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; ${detail}`,
      fields,
    ),
};

const QUERY_FLAVOR: AuthFlavor = {
  presigned: true,
  malformed: (detail, fields) =>
    new S3Error(
      'AuthorizationQueryParametersError',
      `Error parsing the X-Amz-Credential parameter; ${detail}`,
      fields,
    ),
};

/** Returns null when the request carries no authentication at all (anonymous). Throws S3Error otherwise on failure. */
export function verifyRequest(
  req: RequestSnapshot,
  lookup: SecretLookup,
  opts: VerifyOptions,
): AuthResult | null {
  const authorization = req.headers.authorization;
  const query = authQueryParams(req.rawQuery);
  const presigned = PRESIGNED_PARAMS.some((name) => query.has(name));
  const presignedV2 = query.has('AWSAccessKeyId') || query.has('Signature');
  if (authorization !== undefined && (presigned || presignedV2)) throw onlyOneAuthMechanism();
  if (authorization !== undefined) {
    if (isV2Authorization(authorization)) return verifyV2Header(req, authorization, lookup, opts);
    return verifyHeaderAuth(req, authorization, lookup, opts);
  }
  if (presigned) return verifyPresigned(req, query, lookup, opts);
  if (presignedV2) return verifyV2Query(req, query, lookup, opts);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Authorization header

function verifyHeaderAuth(
  req: RequestSnapshot,
  authorization: string,
  lookup: SecretLookup,
  opts: VerifyOptions,
): AuthResult {
  const parts = parseAuthorizationHeader(authorization, opts.region);
  const timestamp = headerTimestamp(req.headers);
  checkCredentialDate(parts.credentialDate, timestamp.amzDate, HEADER_FLAVOR);
  const secret = secretFor(parts.accessKeyId, lookup);
  checkClockSkew(timestamp, opts.nowMs, opts.maxSkewMs);
  const contentSha256 = req.headers[CONTENT_SHA256];
  if (contentSha256 === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  return checkSignature(req, opts.region, {
    flavor: HEADER_FLAVOR,
    parts,
    secret,
    amzDate: timestamp.amzDate,
    payloadHash: contentSha256,
  });
}

function parseAuthorizationHeader(authorization: string, region: string): SignatureParts {
  if (authorization.startsWith('AWS4-ECDSA-P256-SHA256')) {
    throw new S3Error('NotImplemented', 'Signature Version 4A is not supported');
  }
  if (!authorization.startsWith(`${SIGV4_ALGORITHM} `)) {
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const components = authorizationComponents(authorization.slice(SIGV4_ALGORITHM.length + 1));
  const credential = components.get('Credential');
  const signedHeaders = components.get('SignedHeaders');
  const signature = components.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw HEADER_FLAVOR.malformed(
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  return {
    ...parseCredential(credential, region, HEADER_FLAVOR),
    signedHeaders: parseSignedHeaders(signedHeaders, HEADER_FLAVOR),
    signature,
  };
}

/** "Credential=..., SignedHeaders=..., Signature=..." (spaces after commas are optional). */
function authorizationComponents(text: string): Map<string, string> {
  const components = new Map<string, string>();
  for (const piece of text.split(',')) {
    const trimmed = piece.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) {
      throw HEADER_FLAVOR.malformed(`the authorization component "${trimmed}" is malformed.`);
    }
    components.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  return components;
}

/** x-amz-date wins over Date, as in AWS; either must parse. */
function headerTimestamp(headers: Readonly<Record<string, string>>): Timestamp {
  const amzDate = headers['x-amz-date'];
  if (amzDate !== undefined) {
    const ms = parseIso8601Basic(amzDate);
    if (ms !== undefined) return { amzDate, ms, raw: amzDate };
  } else {
    const date = headers.date;
    const ms = date === undefined ? Number.NaN : Date.parse(date);
    if (date !== undefined && !Number.isNaN(ms)) {
      return { amzDate: formatIso8601Basic(ms), ms, raw: date };
    }
  }
  throw new S3Error(
    'AccessDenied',
    'AWS authentication requires a valid Date or x-amz-date header',
  );
}

// ---------------------------------------------------------------------------------------------
// Presigned URL (query-string auth)

function verifyPresigned(
  req: RequestSnapshot,
  query: Map<string, string>,
  lookup: SecretLookup,
  opts: VerifyOptions,
): AuthResult {
  const params = presignedParams(query);
  if (params.algorithm !== SIGV4_ALGORITHM) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    );
  }
  const parts: SignatureParts = {
    ...parseCredential(params.credential, opts.region, QUERY_FLAVOR),
    signedHeaders: parseSignedHeaders(params.signedHeaders, QUERY_FLAVOR),
    signature: params.signature,
  };
  const expiresS = parseExpires(params.expires);
  const ms = parseIso8601Basic(params.date);
  if (ms === undefined) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    );
  }
  checkCredentialDate(parts.credentialDate, params.date, QUERY_FLAVOR);
  const secret = secretFor(parts.accessKeyId, lookup);
  checkPresignedWindow(ms, expiresS, opts);
  // The body hash may come as a header or, hoisted by the AWS SDK presigner, as a (signed)
  // query parameter; a plain presigned URL leaves the body unsigned.
  const contentSha256 =
    req.headers[CONTENT_SHA256] ??
    queryParamIgnoringCase(query, CONTENT_SHA256) ??
    UNSIGNED_PAYLOAD;
  return checkSignature(req, opts.region, {
    flavor: QUERY_FLAVOR,
    parts,
    secret,
    amzDate: params.date,
    payloadHash: contentSha256,
  });
}

interface PresignedParams {
  algorithm: string;
  credential: string;
  signature: string;
  date: string;
  signedHeaders: string;
  expires: string;
}

function presignedParams(query: Map<string, string>): PresignedParams {
  const [algorithm, credential, signature, date, signedHeaders, expires] = PRESIGNED_PARAMS.map(
    (name) => query.get(name),
  );
  if (
    algorithm === undefined ||
    credential === undefined ||
    signature === undefined ||
    date === undefined ||
    signedHeaders === undefined ||
    expires === undefined
  ) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  return { algorithm, credential, signature, date, signedHeaders, expires };
}

function parseExpires(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  }
  const seconds = Number(text);
  if (seconds > LIMITS.presignedExpiresMaxSeconds) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be less than a week (in seconds) that is; 604800',
    );
  }
  if (seconds < 1) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be between 1 and 604800 seconds',
    );
  }
  return seconds;
}

function checkPresignedWindow(signedAtMs: number, expiresS: number, opts: VerifyOptions): void {
  const deadlineMs = signedAtMs + expiresS * 1000;
  if (opts.nowMs > deadlineMs) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expiresS),
      Expires: formatIso8601(deadlineMs),
      ServerTime: formatIso8601(opts.nowMs),
    });
  }
  // A URL signed in the future would otherwise live longer than its X-Amz-Expires says.
  if (signedAtMs - opts.nowMs > (opts.maxSkewMs ?? LIMITS.clockSkewMaxMs)) {
    // AWS's words and fields (its X-Amz-Date here is in epoch milliseconds).
    throw new S3Error('AccessDenied', 'Request is not yet valid', {
      'X-Amz-Date': String(signedAtMs),
      Expires: formatIso8601(deadlineMs),
      ServerTime: formatIso8601(opts.nowMs),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Shared by both flavours

/** "AKID/YYYYMMDD/region/s3/aws4_request", every part checked against what this server is. */
function parseCredential(
  credential: string,
  region: string,
  flavor: AuthFlavor,
): Pick<SignatureParts, 'accessKeyId' | 'credentialDate'> {
  const fields = credential.split('/');
  const [accessKeyId, date, scopeRegion, service, terminator] = fields;
  if (
    fields.length !== 5 ||
    accessKeyId === undefined ||
    accessKeyId === '' ||
    date === undefined ||
    scopeRegion === undefined ||
    service === undefined ||
    terminator === undefined
  ) {
    throw flavor.malformed(
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  if (scopeRegion !== region) {
    throw flavor.malformed(`the region '${scopeRegion}' is wrong; expecting '${region}'`, {
      Region: region,
    });
  }
  if (service !== S3_SERVICE) {
    throw flavor.malformed(`incorrect service "${service}". This endpoint belongs to "s3".`);
  }
  if (terminator !== SIGV4_TERMINATOR) {
    throw flavor.malformed(
      `incorrect terminal "${terminator}". This endpoint uses "${SIGV4_TERMINATOR}".`,
    );
  }
  return { accessKeyId, credentialDate: date };
}

function parseSignedHeaders(text: string, flavor: AuthFlavor): string[] {
  const names = text.split(';');
  for (const name of names) {
    if (!HEADER_NAME.test(name)) {
      throw flavor.malformed(`the SignedHeaders component "${text}" is malformed.`);
    }
  }
  return names;
}

/** The scope date must be the day of the signed timestamp, or the signing key would differ. */
function checkCredentialDate(credentialDate: string, amzDate: string, flavor: AuthFlavor): void {
  const day = amzDate.slice(0, 8);
  if (credentialDate !== day) {
    throw flavor.malformed(
      `Invalid credential date "${credentialDate}". This date is not the same as X-Amz-Date: "${day}".`,
    );
  }
}

/**
 * The body of an unsigned (anonymous) request: as x-amz-content-sha256 declares it (a hash is
 * still checked; aws-chunked without signatures is still decoded), unsigned when absent. A
 * streaming-signed body cannot be anonymous.
 */
export function anonymousPayload(headers: Readonly<Record<string, string>>): PayloadMode {
  const declared = headers[CONTENT_SHA256];
  if (declared === undefined) return { kind: 'unsigned' };
  const mode = payloadModeOf(declared);
  if (mode.kind === 'streaming-signed') {
    throw new S3Error('AccessDenied', 'A streaming-signed body needs a signed request.');
  }
  return mode;
}

function payloadModeOf(contentSha256: string): PayloadMode {
  switch (contentSha256) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' };
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      throw new S3Error('NotImplemented', 'Signature Version 4A is not supported');
  }
  if (SHA256_HEX.test(contentSha256)) return { kind: 'sha256', hex: contentSha256.toLowerCase() };
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: CONTENT_SHA256, ArgumentValue: contentSha256 },
  );
}

/**
 * Host and every x-amz-* header present must be signed: otherwise a man in the middle could
 * change the target bucket (virtual-host style) or S3 semantics (ACL, storage class, ...).
 */
function checkHeadersSigned(
  headers: Readonly<Record<string, string>>,
  signedHeaders: readonly string[],
): void {
  // A few signed names: a scan of the list beats building a Set for every request, and the list
  // of unsigned ones is only made when there is one.
  let unsigned: string[] | undefined;
  for (const name of Object.keys(headers)) {
    if ((name === 'host' || name.startsWith('x-amz-')) && !signedHeaders.includes(name)) {
      unsigned ??= [];
      unsigned.push(name);
    }
  }
  if (!signedHeaders.includes('host') && !unsigned?.includes('host')) {
    unsigned ??= [];
    unsigned.unshift('host');
  }
  if (unsigned === undefined) return;
  throw new S3Error(
    'AccessDenied',
    'There were headers present in the request which were not signed',
    {
      HeadersNotSigned: unsigned.join(', '),
    },
  );
}

/** Everything the signature computation needs besides the request itself. */
interface SignatureCheck {
  flavor: AuthFlavor;
  parts: SignatureParts;
  secret: string;
  /** Timestamp exactly as it enters the string to sign. */
  amzDate: string;
  /** The x-amz-content-sha256 value, or UNSIGNED-PAYLOAD. */
  payloadHash: string;
}

function checkSignature(req: RequestSnapshot, region: string, check: SignatureCheck): AuthResult {
  const { flavor, parts, secret, amzDate, payloadHash } = check;
  // Validated before the (costlier) signature so that a bad value gets its own error.
  const payload = payloadModeOf(payloadHash);
  checkHeadersSigned(req.headers, parts.signedHeaders);
  const canonical = canonicalRequest({
    method: req.method,
    rawPath: req.rawPath,
    rawQuery: req.rawQuery,
    headers: req.headers,
    signedHeaders: parts.signedHeaders,
    payloadHash,
    // A presigned URL cannot sign its own signature parameter.
    ...(flavor.presigned ? { excludedQueryParam: 'X-Amz-Signature' } : {}),
  });
  const scope = credentialScope(parts.credentialDate, region, S3_SERVICE);
  const toSign = stringToSign(amzDate, scope, canonical);
  const signingKey = deriveSigningKey(secret, parts.credentialDate, region, S3_SERVICE);
  const expected = signHex(signingKey, toSign);
  if (!signaturesEqual(expected, parts.signature)) {
    // AWS returns these so that clients can see where their canonicalization differs.
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: parts.accessKeyId,
      StringToSign: toSign,
      SignatureProvided: parts.signature,
      CanonicalRequest: canonical,
    });
  }
  const result: AuthResult = { accessKeyId: parts.accessKeyId, payload };
  if (payload.kind === 'streaming-signed') {
    result.chunkSigning = { signingKey, amzDate, scope, seedSignature: expected };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

interface Timestamp {
  /** "YYYYMMDDTHHMMSSZ" as it enters the string to sign. */
  amzDate: string;
  ms: number;
  /** The header text as sent, for error reports. */
  raw: string;
}

/** Decoded query parameters (first occurrence wins), only to read the auth parameters. */
function authQueryParams(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  if (rawQuery === '') return params;
  for (const piece of rawQuery.split('&')) {
    const eq = piece.indexOf('=');
    const name = decodeQueryComponent(eq < 0 ? piece : piece.slice(0, eq));
    if (params.has(name)) continue;
    params.set(name, decodeQueryComponent(eq < 0 ? '' : piece.slice(eq + 1)));
  }
  return params;
}

function queryParamIgnoringCase(query: Map<string, string>, lowerName: string): string | undefined {
  for (const [name, value] of query) {
    if (name.toLowerCase() === lowerName) return value;
  }
  return undefined;
}

function decodeQueryComponent(text: string): string {
  return text.includes('%') || text.includes('+')
    ? percentDecodeBytes(text, true).toString('utf8')
    : text;
}

function formatIso8601Basic(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

function onlyOneAuthMechanism(): S3Error {
  return new S3Error(
    'InvalidArgument',
    'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    { ArgumentName: 'Authorization' },
  );
}
