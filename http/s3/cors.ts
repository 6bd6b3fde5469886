/**
 * Bucket CORS: the stored rules, their validation (PutBucketCors), matching a request against
 * them and the response headers a match earns. Behaviour follows AWS S3 as observed: the first
 * rule that matches wins; `Access-Control-Request-Method` / `-Headers`, when a request carries
 * them, are what is matched (also on a request that is not a preflight); a request that matches
 * nothing gets no CORS headers at all.
 */

import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import { isHeaderName, isHeaderValue } from '../uws/header-safety.js';
import type { Headers } from '../uws/response.js';
import type { ServerState } from './context.js';
import { S3Error } from './errors.js';
import { checkElements, parseXml, texts, type XmlNode, type XmlValue } from './xml.js';

/** One CORSRule as stored in the catalog (kind 'cors'). */
export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** The methods a CORS rule may allow (AWS refuses any other). */
export const CORS_METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

const RULE_ELEMENTS = new Set([
  'ID',
  'AllowedOrigin',
  'AllowedMethod',
  'AllowedHeader',
  'ExposeHeader',
  'MaxAgeSeconds',
]);

/** The Vary S3 sends with every response a CORS rule matched. */
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

// ---------------------------------------------------------------------------------------------
// PutBucketCors / GetBucketCors documents

/**
 * Parses and validates a CORSConfiguration document. Schema violations are MalformedXML; an
 * unsupported method or a second wildcard is InvalidRequest with AWS's messages.
 */
export function parseCorsConfiguration(xml: string): CorsRule[] {
  const doc = parseXml(xml, 'CORSConfiguration');
  checkElements(doc, new Set(['CORSRule']));
  const rules = doc['CORSRule'];
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > LIMITS.corsRulesMax) {
    throw new S3Error('MalformedXML');
  }
  return rules.map(parseRule);
}

function parseRule(value: XmlValue): CorsRule {
  if (typeof value !== 'object' || Array.isArray(value)) throw new S3Error('MalformedXML');
  checkElements(value, RULE_ELEMENTS);
  const ids = texts(value['ID']);
  const allowedOrigins = texts(value['AllowedOrigin']);
  const allowedMethods = texts(value['AllowedMethod']).map((method) => method.trim());
  const allowedHeaders = texts(value['AllowedHeader']).map((header) => header.trim());
  const exposeHeaders = texts(value['ExposeHeader']).map((header) => header.trim());
  const maxAges = texts(value['MaxAgeSeconds']).map((age) => age.trim());
  if (allowedOrigins.length === 0 || allowedMethods.length === 0) throw new S3Error('MalformedXML');
  if (ids.length > 1 || maxAges.length > 1) throw new S3Error('MalformedXML');
  const id = ids[0];
  if (id !== undefined && id.length > LIMITS.corsRuleIdUnitsMax) throw new S3Error('MalformedXML');
  for (const method of allowedMethods) {
    if (!CORS_METHODS.includes(method)) {
      throw new S3Error(
        'InvalidRequest',
        `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
      );
    }
  }
  for (const origin of allowedOrigins) {
    if (wildcards(origin) > 1) {
      throw new S3Error(
        'InvalidRequest',
        `AllowedOrigin "${origin}" can not have more than one wildcard.`,
      );
    }
  }
  for (const header of allowedHeaders) {
    if (wildcards(header) > 1) {
      throw new S3Error(
        'InvalidRequest',
        `AllowedHeader "${header}" can not have more than one wildcard.`,
      );
    }
  }
  for (const header of exposeHeaders) {
    if (header.includes('*')) {
      throw new S3Error(
        'InvalidRequest',
        `ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
      );
    }
  }
  checkHeaderSafety(allowedOrigins, allowedHeaders, exposeHeaders);
  const maxAge = maxAges[0];
  if (maxAge !== undefined && (!/^\d{1,10}$/.test(maxAge) || Number(maxAge) > 2147483647)) {
    throw new S3Error('MalformedXML');
  }
  return {
    ...(id === undefined ? {} : { id }),
    allowedOrigins,
    allowedMethods,
    allowedHeaders,
    exposeHeaders,
    ...(maxAge === undefined ? {} : { maxAgeSeconds: Number(maxAge) }),
  };
}

/**
 * Origins, allowed headers and exposed headers are written back in Access-Control-* response
 * headers: header names must be tokens ("*" is one) and no value may hold a control character.
 */
function checkHeaderSafety(
  allowedOrigins: readonly string[],
  allowedHeaders: readonly string[],
  exposeHeaders: readonly string[],
): void {
  for (const origin of allowedOrigins) {
    if (!isHeaderValue(origin)) {
      throw new S3Error(
        'InvalidRequest',
        'AllowedOrigin contains a character not allowed in a header.',
      );
    }
  }
  for (const [element, names] of [
    ['AllowedHeader', allowedHeaders],
    ['ExposeHeader', exposeHeaders],
  ] as const) {
    for (const name of names) {
      if (!isHeaderName(name)) {
        // Not echoed: the XML answer could not carry its control characters.
        throw new S3Error('InvalidRequest', `${element} is not a valid HTTP header name.`);
      }
    }
  }
}

function wildcards(pattern: string): number {
  let count = 0;
  for (const c of pattern) if (c === '*') count++;
  return count;
}

/** The `<CORSRule>` elements of a GetBucketCors answer, in AWS's element order. */
export function corsRulesXml(rules: readonly CorsRule[]): XmlNode[] {
  return rules.map((rule) => ({
    ID: rule.id,
    AllowedHeader: rule.allowedHeaders,
    AllowedMethod: rule.allowedMethods,
    AllowedOrigin: rule.allowedOrigins,
    ExposeHeader: rule.exposeHeaders,
    MaxAgeSeconds: rule.maxAgeSeconds,
  }));
}

// ---------------------------------------------------------------------------------------------
// Matching

/** `Access-Control-Request-Headers` as S3 reads it: comma-separated, trimmed, lower-cased. */
export function requestedHeadersOf(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** A pattern with at most one `*`, which stands for any run of characters. */
function globMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return (
    value.length >= prefix.length + suffix.length &&
    value.startsWith(prefix) &&
    value.endsWith(suffix)
  );
}

/**
 * The first rule allowing `origin` (case-sensitive), `method` and every requested header
 * (case-insensitive, each against the rule's AllowedHeader patterns).
 */
export function matchCorsRule(
  rules: readonly CorsRule[],
  origin: string,
  method: string,
  requestedHeaders: readonly string[],
): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedMethods.includes(method) &&
      rule.allowedOrigins.some((pattern) => globMatch(pattern, origin)) &&
      requestedHeaders.every((header) =>
        rule.allowedHeaders.some((pattern) => globMatch(pattern.toLowerCase(), header)),
      ),
  );
}

/**
 * The headers a matched rule adds to a response (preflight or not): the allowed origin (`*` for
 * a rule allowing every origin, else the request's origin, with credentials), the rule's methods,
 * the requested headers, exposed headers and max age, and Vary.
 */
export function corsResponseHeaders(
  rule: CorsRule,
  origin: string,
  requestedHeaders: readonly string[],
): Array<[string, string]> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const headers: Array<[string, string]> = [
    ['access-control-allow-origin', anyOrigin ? '*' : origin],
  ];
  if (!anyOrigin) headers.push(['access-control-allow-credentials', 'true']);
  headers.push(['access-control-allow-methods', rule.allowedMethods.join(', ')]);
  if (requestedHeaders.length > 0) {
    headers.push(['access-control-allow-headers', requestedHeaders.join(', ')]);
  }
  if (rule.exposeHeaders.length > 0) {
    headers.push(['access-control-expose-headers', rule.exposeHeaders.join(', ')]);
  }
  if (rule.maxAgeSeconds !== undefined) {
    headers.push(['access-control-max-age', String(rule.maxAgeSeconds)]);
  }
  headers.push(['vary', VARY]);
  return headers;
}

/** A bucket's CORS rules, or undefined when it has no configuration. */
export function bucketCorsRules(
  state: ServerState,
  bucket: BucketRecord | string,
): CorsRule[] | undefined {
  return state.catalog.getBucketConfig<CorsRule[]>(bucket, 'cors');
}

/**
 * The CORS headers for an S3 request that is not a preflight (its success or error answer alike):
 * none without an Origin header or a bucket; otherwise one bucket and one configuration lookup.
 */
export function actualRequestCorsHeaders(
  state: ServerState,
  headers: Readonly<Record<string, string>>,
  method: string,
  bucketName: string | null,
): Headers {
  const origin = headers.origin;
  if (origin === undefined || bucketName === null) return [];
  const bucket = state.catalog.getBucket(bucketName);
  if (bucket === undefined) return [];
  const rules = bucketCorsRules(state, bucket);
  if (rules === undefined) return [];
  const requested = requestedHeadersOf(headers['access-control-request-headers']);
  const rule = matchCorsRule(
    rules,
    origin,
    headers['access-control-request-method'] ?? method,
    requested,
  );
  return rule === undefined ? [] : corsResponseHeaders(rule, origin, requested);
}
