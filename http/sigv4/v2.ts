/**
 * AWS Signature Version 2 (S3 API reference, RESTAuthentication): the `Authorization: AWS
 * AKID:signature` header and query-string authentication (AWSAccessKeyId, Expires, Signature).
 * The signature is base64(HMAC-SHA1(secret, StringToSign)), where StringToSign is
 *
 *   Method \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
 *
 * V2 never signs the body: a verified V2 request is UNSIGNED-PAYLOAD (Content-MD5, when sent, is
 * still checked against the body downstream, as for every request).
 */
import { createHmac } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { vhostBucket } from '../s3/router.js';
import { isHeaderName, isHeaderValue } from '../uws/header-safety.js';
import type { RequestSnapshot } from '../uws/request.js';
import { percentDecodeBytes, signaturesEqual } from './canonical.js';
import {
  checkClockSkew,
  formatIso8601,
  parseIso8601Basic,
  type SignedTime,
  secretFor,
} from './shared.js';
import type { AuthResult, SecretLookup, VerifyOptions } from './verify.js';

/** What V2 needs beyond V4's options; its absence turns V2 off. */
export interface SignatureV2Options {
  /** Root domains of virtual-hosted addressing: the bucket in the Host enters the resource. */
  rootDomains: readonly string[];
}

/**
 * The query parameters that are part of the signed resource (AWS's list of sub-resources and
 * response overrides, as botocore's and s3cmd's V2 signers know it); every other parameter is
 * unsigned in V2.
 */
const SIGNED_SUB_RESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'delete',
  'inventory',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'partNumber',
  'policy',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'select',
  'select-type',
  'storageClass',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

const V2_PREFIX = 'AWS ';

/** What AWS answers V2 with in its V4-only regions: hangar's answer when V2 is turned off. */
export function signatureV2NotAccepted(): S3Error {
  return new S3Error(
    'InvalidRequest',
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  );
}

export function isV2Authorization(authorization: string): boolean {
  return authorization.startsWith(V2_PREFIX);
}

/** `Authorization: AWS AKID:signature`, timestamped by x-amz-date or Date (within the skew). */
export function verifyV2Header(
  req: RequestSnapshot,
  authorization: string,
  lookup: SecretLookup,
  opts: VerifyOptions,
): AuthResult {
  const v2 = opts.signatureV2;
  if (v2 === undefined) throw signatureV2NotAccepted();
  const { accessKeyId, signature } = parseV2Authorization(authorization);
  const time = v2Timestamp(req.headers);
  const secret = secretFor(accessKeyId, lookup);
  checkClockSkew(time, opts.nowMs, opts.maxSkewMs);
  // With x-amz-date present, the Date position is empty: x-amz-date is signed among the x-amz-*.
  const dateField = req.headers['x-amz-date'] === undefined ? (req.headers.date ?? '') : '';
  const [toSign, ...alsoSigned] = stringsToSignV2(req, dateField, v2.rootDomains);
  return checkV2Signature(accessKeyId, secret, toSign, signature, alsoSigned);
}

/** `?AWSAccessKeyId=..&Expires=..&Signature=..`: Expires (epoch seconds) takes Date's place. */
export function verifyV2Query(
  req: RequestSnapshot,
  query: ReadonlyMap<string, string>,
  lookup: SecretLookup,
  opts: VerifyOptions,
): AuthResult {
  const v2 = opts.signatureV2;
  if (v2 === undefined) throw signatureV2NotAccepted();
  const accessKeyId = query.get('AWSAccessKeyId');
  const rawSignature = query.get('Signature');
  const expires = query.get('Expires');
  if (!accessKeyId || !rawSignature || expires === undefined) {
    throw new S3Error(
      'AccessDenied',
      'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    );
  }
  if (!/^\d{1,15}$/.test(expires)) {
    throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  }
  const secret = secretFor(accessKeyId, lookup);
  const deadlineMs = Number(expires) * 1000;
  if (opts.nowMs > deadlineMs) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: formatIso8601(deadlineMs),
      ServerTime: formatIso8601(opts.nowMs),
    });
  }
  // Base64 has no spaces: a space here is a '+' sent unescaped and decoded as a form space.
  const signature = rawSignature.replaceAll(' ', '+');
  const moved = headersMovedToQuery(req.headers, query);
  const signed = moved === null ? req : { ...req, headers: { ...req.headers, ...moved } };
  const [toSign, ...alsoSigned] = stringsToSignV2(signed, expires, v2.rootDomains);
  const result = checkV2Signature(accessKeyId, secret, toSign, signature, alsoSigned);
  return moved === null ? result : { ...result, queryHeaders: signed.headers };
}

/**
 * botocore's V2 presigner moves the request's x-amz-*, Content-Type and Content-MD5 headers into
 * the query (`?x-amz-meta-color=blue&...`) and signs them as headers; S3 reads them back as
 * headers. Those the request does not also send as headers are returned (null: none), to enter
 * the signature and then the request. A value no header could carry is InvalidArgument.
 */
function headersMovedToQuery(
  headers: Readonly<Record<string, string>>,
  query: ReadonlyMap<string, string>,
): Record<string, string> | null {
  let moved: Record<string, string> | null = null;
  for (const [rawName, value] of query) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('x-amz-') && name !== 'content-type' && name !== 'content-md5') continue;
    if (headers[name] !== undefined) continue;
    if (!isHeaderName(name) || !isHeaderValue(value)) {
      throw new S3Error('InvalidArgument', `${rawName} cannot be a header value`, {
        ArgumentName: rawName,
      });
    }
    moved ??= {};
    moved[name] = value;
  }
  return moved;
}

/**
 * The StringToSign of a request and the other one it may have been signed with: a path-style
 * bucket request ("/bucket", no slash after) is signed as "/bucket" by some clients and as
 * "/bucket/" by others (botocore signs the virtual-hosted form's path). Both name the same
 * resource, so the second is tried when the first misses.
 */
function stringsToSignV2(
  req: RequestSnapshot,
  dateField: string,
  rootDomains: readonly string[],
): [string, ...string[]] {
  const toSign = stringToSignV2(req, dateField, rootDomains);
  if (!isPathStyleBucketRoot(req, rootDomains)) return [toSign];
  return [toSign, stringToSignV2({ ...req, rawPath: `${req.rawPath}/` }, dateField, rootDomains)];
}

function isPathStyleBucketRoot(req: RequestSnapshot, rootDomains: readonly string[]): boolean {
  return (
    req.rawPath.length > 1 &&
    req.rawPath.indexOf('/', 1) < 0 &&
    vhostBucket(req.headers.host, rootDomains) === null
  );
}

/** base64(HMAC-SHA1(secret, text)): the V2 signature of a request or of a POST policy. */
export function signV2(secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

/**
 * Checks a V2 signature in constant time against what the server signed (`toSign`, or one of
 * `alsoSigned`); a miss reports the first, as AWS does. Requests and POST policies alike.
 */
export function checkV2Signature(
  accessKeyId: string,
  secret: string,
  toSign: string,
  signature: string,
  alsoSigned: readonly string[] = [],
): AuthResult {
  for (const text of [toSign, ...alsoSigned]) {
    if (signaturesEqual(signV2(secret, text), signature)) return verified(accessKeyId);
  }
  throw signatureMismatch(accessKeyId, toSign, signature);
}

/** V2 never signs the body: UNSIGNED-PAYLOAD, to the handlers. */
function verified(accessKeyId: string): AuthResult {
  return { accessKeyId, payload: { kind: 'unsigned' } };
}

function signatureMismatch(accessKeyId: string, toSign: string, signature: string): S3Error {
  return new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: accessKeyId,
    StringToSign: toSign,
    SignatureProvided: signature,
    StringToSignBytes: hexBytes(toSign),
  });
}

/** The V2 StringToSign of a request; `dateField` is the Date header, '' or the query's Expires. */
export function stringToSignV2(
  req: RequestSnapshot,
  dateField: string,
  rootDomains: readonly string[],
): string {
  const { headers } = req;
  return (
    `${req.method}\n` +
    `${(headers['content-md5'] ?? '').trim()}\n` +
    `${(headers['content-type'] ?? '').trim()}\n` +
    `${dateField}\n` +
    canonicalAmzHeaders(headers) +
    canonicalResource(req, rootDomains)
  );
}

/**
 * Every x-amz-* header as "name:value\n", names lower-case and sorted, values trimmed (repeated
 * headers already arrive joined with commas).
 */
function canonicalAmzHeaders(headers: Readonly<Record<string, string>>): string {
  const names = Object.keys(headers)
    .filter((name) => name.startsWith('x-amz-'))
    .sort();
  let text = '';
  for (const name of names) text += `${name}:${(headers[name] ?? '').trim()}\n`;
  return text;
}

/**
 * "/bucket/key" as sent (still percent-encoded; a virtual-hosted bucket from the Host), then the
 * signed sub-resources sorted by name, values decoded: "?acl", "?partNumber=2&uploadId=x".
 */
function canonicalResource(req: RequestSnapshot, rootDomains: readonly string[]): string {
  const bucket = vhostBucket(req.headers.host, rootDomains);
  const path = bucket === null ? req.rawPath : `/${bucket}${req.rawPath}`;
  const subResources = signedSubResources(req.rawQuery);
  return subResources.length === 0 ? path : `${path}?${subResources.join('&')}`;
}

function signedSubResources(rawQuery: string): string[] {
  if (rawQuery === '') return [];
  const found: [string, string][] = [];
  for (const piece of rawQuery.split('&')) {
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    if (!SIGNED_SUB_RESOURCES.has(name)) continue;
    // Signers sign the decoded value ('+' stays '+', as botocore's unquote leaves it).
    const value = eq < 0 ? '' : percentDecodeBytes(piece.slice(eq + 1), false).toString('utf8');
    found.push([name, value === '' ? name : `${name}=${value}`]);
  }
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return found.map(([, text]) => text);
}

/** "AWS AKID:signature"; the key id has no ':' and base64 has none either. */
function parseV2Authorization(authorization: string): { accessKeyId: string; signature: string } {
  const credentials = authorization.slice(V2_PREFIX.length).trim();
  const colon = credentials.indexOf(':');
  if (colon <= 0 || colon === credentials.length - 1) {
    throw new S3Error(
      'InvalidArgument',
      'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature',
      { ArgumentName: 'Authorization', ArgumentValue: authorization },
    );
  }
  return { accessKeyId: credentials.slice(0, colon), signature: credentials.slice(colon + 1) };
}

/** x-amz-date wins over Date; V2 clients send RFC 1123 dates, some ISO 8601 basic ones. */
function v2Timestamp(headers: Readonly<Record<string, string>>): SignedTime {
  const raw = headers['x-amz-date'] ?? headers.date;
  if (raw !== undefined) {
    const ms = parseIso8601Basic(raw) ?? Date.parse(raw);
    if (!Number.isNaN(ms)) return { ms, raw };
  }
  throw new S3Error(
    'AccessDenied',
    'AWS authentication requires a valid Date or x-amz-date header',
  );
}

/** AWS's StringToSignBytes: each byte of the UTF-8 text in hex, space-separated. */
function hexBytes(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('hex')
    .replace(/(..)(?=.)/g, '$1 ');
}
