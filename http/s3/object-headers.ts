import { LIMITS } from '../../engine/limits.js';
import type { ObjectHeaders, ObjectInfo } from '../../engine/protocol/messages.js';
import type { RequestSnapshot } from '../uws/request.js';
import type { Headers } from '../uws/response.js';
import type { ResponseOverrides } from './endpoints.js';
import { S3Error } from './errors.js';
import { checkHeaderName, checkHeaderValue } from './header-values.js';

const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const META_PREFIX = 'x-amz-meta-';
/** Request headers (or PostObject fields) stored with the object and served back as headers. */
const STORED_HEADERS = [
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'x-amz-website-redirect-location',
] as const;

/** The standard content headers and x-amz-meta-* a PUT stores with the object. */
export function objectHeadersFrom(req: RequestSnapshot): ObjectHeaders {
  const h = req.headers;
  const userMeta: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith(META_PREFIX)) continue;
    const metaName = name.slice(META_PREFIX.length);
    // A PostObject field name is any string the form holds; it is written back as a header name.
    checkHeaderName(name);
    checkHeaderValue(name, value);
    userMeta[metaName] = value;
    metaBytes += Buffer.byteLength(metaName) + Buffer.byteLength(value);
  }
  if (metaBytes > LIMITS.userMetadataBytesMax) {
    throw new S3Error('MetadataTooLarge', undefined, {
      Size: String(metaBytes),
      MaxSizeAllowed: String(LIMITS.userMetadataBytesMax),
    });
  }
  for (const name of STORED_HEADERS) {
    const value = h[name];
    if (value !== undefined) checkHeaderValue(name, value);
  }
  const headers: ObjectHeaders = {
    contentType: h['content-type'] || DEFAULT_CONTENT_TYPE,
    userMeta,
  };
  copyIfSet(headers, 'contentEncoding', stripAwsChunked(h['content-encoding']));
  copyIfSet(headers, 'contentDisposition', h['content-disposition']);
  copyIfSet(headers, 'contentLanguage', h['content-language']);
  copyIfSet(headers, 'cacheControl', h['cache-control']);
  copyIfSet(headers, 'expires', h['expires']);
  const redirect = h['x-amz-website-redirect-location'];
  if (redirect !== undefined && redirect !== '') {
    if (!/^(\/|https?:\/\/)/.test(redirect)) {
      throw new S3Error(
        'InvalidArgument',
        "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
      );
    }
    headers.websiteRedirectLocation = redirect;
  }
  return headers;
}

/** `aws-chunked` describes the transfer, not the object: S3 does not store it. */
function stripAwsChunked(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const rest = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part.toLowerCase() !== 'aws-chunked');
  return rest.length === 0 ? undefined : rest.join(', ');
}

function copyIfSet<K extends keyof ObjectHeaders>(
  target: ObjectHeaders,
  name: K,
  value: ObjectHeaders[K] | undefined,
): void {
  if (value !== undefined) target[name] = value;
}

/** Headers of a GET/HEAD answer, with `response-*` overrides applied (checksums: object-get). */
export function objectResponseHeaders(
  info: ObjectInfo,
  overrides: ResponseOverrides,
): Array<[string, string]> {
  const stored = info.headers;
  const headers: Array<[string, string]> = [
    ['etag', info.etag],
    ['last-modified', httpDate(info.lastModifiedMs)],
    ['accept-ranges', 'bytes'],
  ];
  const pairs: Array<[string, string | undefined]> = [
    ['content-type', overrides.contentType ?? stored.contentType],
    ['content-encoding', overrides.contentEncoding ?? stored.contentEncoding],
    ['content-disposition', overrides.contentDisposition ?? stored.contentDisposition],
    ['content-language', overrides.contentLanguage ?? stored.contentLanguage],
    ['cache-control', overrides.cacheControl ?? stored.cacheControl],
    ['expires', overrides.expires ?? stored.expires],
  ];
  for (const [name, value] of pairs) if (value !== undefined) headers.push([name, value]);
  if (stored.websiteRedirectLocation !== undefined)
    headers.push(['x-amz-website-redirect-location', stored.websiteRedirectLocation]);
  for (const [name, value] of Object.entries(stored.userMeta))
    headers.push([META_PREFIX + name, value]);
  return headers;
}

/** RFC 7231 IMF-fixdate, as S3 writes Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function concat(...lists: Headers[]): Headers {
  return lists.flat();
}
