/**
 * The static website endpoint: a second port serving buckets that have a website configuration,
 * chosen by the Host header (`<bucket>.<web root domain>`, or the Host itself naming a bucket),
 * anonymously, GET and HEAD only, with AWS's website semantics: index documents for
 * "directories", the error document, per-object redirects (x-amz-website-redirect-location),
 * RedirectAllRequestsTo and routing rules. Errors are HTML pages, as AWS's website endpoints
 * answer them. The bucket's CORS rules apply here too.
 */

import type { BucketRecord } from '../engine/catalog/catalog.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import { bucketAccessOf } from './access/access-record.js';
import { type PrefetchedObjects, prefetchIfJudged } from './access/object-facts.js';
import { ANONYMOUS } from './access/principal.js';
import { type LoggedBucket, logAccess, loggingOf } from './access-log/access-log.js';
import { WEBSITE_ACTION } from './access-log/record.js';
import { allows, hiddenMiss, requestFactsOf } from './s3/auth.js';
import { checkPreconditions, notModifiedHeaders, requestPreconditions } from './s3/conditional.js';
import { type ServerState, shardFor } from './s3/context.js';
import { actualRequestCorsHeaders } from './s3/cors.js';
import { toS3Error } from './s3/engine-errors.js';
import { S3Error } from './s3/errors.js';
import { handlePreflight } from './s3/handlers/cors.js';
import { type Opened, openObject, releaseOpened, sendBody } from './s3/handlers/object-get.js';
import { objectResponseHeaders } from './s3/object-headers.js';
import { checkKeyLength } from './s3/object-key.js';
import { parseRange } from './s3/range.js';
import type { RoutedRequest } from './s3/router.js';
import { clientScheme } from './s3/scheme.js';
import type { WebsiteConfig, WebsiteRoutingRule } from './s3/website-config.js';
import { escapeXml } from './s3/xml.js';
import type { RequestSnapshot } from './uws/request.js';
import type { Responder } from './uws/response.js';

const NO_QUERY: ReadonlyMap<string, string> = new Map();

/** What the object-serving helpers of the S3 GET need. */
interface WebContext {
  readonly state: ServerState;
  readonly res: Responder;
  readonly requestId: string;
  /** The bucket's server access logging, once the bucket is known (null: not logged). */
  logged: LoggedBucket | null;
  /** The S3 error code the answer carries, for the access log record. */
  errorCode: string | null;
}

/** One website request, after the bucket and its configuration were found. */
interface Site {
  readonly ctx: WebContext;
  readonly req: RequestSnapshot;
  readonly bucket: BucketRecord;
  readonly config: WebsiteConfig;
  readonly head: boolean;
  /** The key as requested (before the index document is appended). */
  readonly key: string;
  /** Whether an anonymous request may read `key` (the one decision). */
  /** Whether an anonymous visitor may read `key` (a promise in cluster mode: facts are read first). */
  readonly mayRead: (key: string) => boolean | Promise<boolean>;
  /** A miss as the visitor should see it: 404 if it may list the bucket, else 403 (auth.ts). */
  readonly hideMiss: (error: unknown) => unknown;
}

/** Serves one request of the website endpoint; never throws. */
export function acceptWebsiteRequest(
  state: ServerState,
  res: Responder,
  req: RequestSnapshot,
  hasBody: boolean,
): void {
  const startedMs = Date.now();
  const startedAt = performance.now();
  const ctx: WebContext = { state, res, requestId: res.requestId, logged: null, errorCode: null };
  res.whenDone(() => logWebsiteAccess(ctx, req, startedMs, performance.now() - startedAt));
  serveWebsite(ctx, req, hasBody).catch((error: unknown) => {
    // Only a failure of the error page itself lands here: drop the connection, keep the process.
    state.logger.error({ err: error, requestId: res.requestId }, 'website: error answer failed');
    res.close();
  });
}

async function serveWebsite(
  ctx: WebContext,
  req: RequestSnapshot,
  hasBody: boolean,
): Promise<void> {
  const { state, res } = ctx;
  const head = req.method === 'HEAD';
  let site: Site | null = null;
  try {
    const bucketName = bucketNameOf(req.headers.host, state.config.web.rootDomains);
    const key = decodeKey(req.rawPath);
    if (req.method === 'OPTIONS') {
      const routed: RoutedRequest = {
        bucket: bucketName,
        key,
        style: 'vhost',
        query: new Map(),
        endpoint: { action: 'PreflightRequest', bucket: bucketName, key },
      };
      handlePreflight(state, req, routed, res);
      return;
    }
    res.addHeaders(actualRequestCorsHeaders(state, req.headers, req.method, bucketName));
    state.catalog.refresh();
    let bucket = state.catalog.getBucket(bucketName);
    // Cluster mode: a bucket another gateway made a moment ago is no miss (Catalog.catchUp).
    if (bucket === undefined && state.catalog.replicated && (await state.catalog.catchUp())) {
      bucket = state.catalog.getBucket(bucketName);
    }
    if (bucket === undefined) {
      throw new S3Error('NoSuchBucket', undefined, { BucketName: bucketName });
    }
    ctx.logged = loggingOf(state, res, bucket);
    const config = state.catalog.getBucketConfig<WebsiteConfig>(bucket.id, 'website');
    if (config === undefined) {
      throw new S3Error('NoSuchWebsiteConfiguration', undefined, { BucketName: bucketName });
    }
    if (req.method !== 'GET' && !head) {
      throw new S3Error('MethodNotAllowed', undefined, {
        Method: req.method,
        ResourceType: 'OBJECT',
      });
    }
    if (config.redirectAll !== undefined) {
      const protocol = config.redirectAll.protocol ?? clientScheme(state.config, req.headers);
      const query = req.rawQuery === '' ? '' : `?${req.rawQuery}`;
      redirect(ctx, 301, `${protocol}://${config.redirectAll.hostName}${req.rawPath}${query}`);
      return;
    }
    const access = bucketAccessOf(state.catalog, bucket);
    const facts = requestFactsOf(state, req, res, Date.now(), NO_QUERY, null);
    const mayReadWith = (objectKey: string, prefetched?: PrefetchedObjects): boolean =>
      allows(state, ANONYMOUS, prefetched === undefined ? facts : { ...facts, prefetched }, {
        action: 's3:GetObject',
        grant: 'read',
        bucket,
        access,
        objectKey,
      });
    const mayRead = (objectKey: string): boolean | Promise<boolean> => {
      const prefetch = prefetchIfJudged(state, bucket, access, objectKey);
      return prefetch === null
        ? mayReadWith(objectKey)
        : prefetch.then((prefetched) => mayReadWith(objectKey, prefetched));
    };
    const hideMiss = (error: unknown): unknown =>
      hiddenMiss(state, ANONYMOUS, facts, { bucket, access }, error);
    site = { ctx, req, bucket, config, head, key, mayRead, hideMiss };
    const rule = config.routingRules.find(
      (r) =>
        r.condition === undefined ||
        (r.condition.httpErrorCodeReturnedEquals === undefined &&
          key.startsWith(r.condition.keyPrefixEquals ?? '')),
    );
    if (rule !== undefined) {
      redirectByRule(site, rule);
      return;
    }
    await serveKey(site);
  } catch (error) {
    const s3Error = toS3Error(error);
    ctx.errorCode = s3Error.code;
    if (s3Error.code === 'InternalError') {
      state.logger.error({ err: error, requestId: res.requestId }, 'website: internal error');
    }
    if (site !== null && (s3Error.status === 404 || s3Error.status === 403)) {
      await sendSiteError(site, s3Error);
    } else {
      sendHtmlError(ctx, s3Error, head, hasBody);
    }
  }
}

/**
 * The access log record of a website request on a logged bucket: AWS logs them as
 * WEBSITE.<method>.OBJECT, anonymous, with the key as requested.
 */
function logWebsiteAccess(
  ctx: WebContext,
  req: RequestSnapshot,
  startedMs: number,
  durationMs: number,
): void {
  if (ctx.logged === null) return;
  let key: string | null = null;
  try {
    key = decodeURIComponent(req.rawPath.replace(/^\//, ''));
  } catch {
    // An undecodable path was answered InvalidURI: logged without a key.
  }
  logAccess(ctx.state, ctx.logged, {
    req,
    res: ctx.res,
    action: WEBSITE_ACTION,
    bucketName: ctx.logged.bucket.name,
    key,
    principal: null,
    errorCode: ctx.errorCode,
    bytesIn: 0,
    startedMs,
    durationMs,
  });
}

/** The bucket a Host header names: `<bucket>.<root domain>`, else the host itself. */
export function bucketNameOf(host: string | undefined, rootDomains: readonly string[]): string {
  let name = (host ?? '').trim().toLowerCase();
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1);
  else name = name.replace(/:\d*$/, '');
  name = name.replace(/\.$/, '');
  for (const domain of rootDomains) {
    if (name.endsWith(`.${domain}`)) return name.slice(0, -(domain.length + 1));
  }
  return name;
}

function decodeKey(rawPath: string): string {
  let key: string;
  try {
    key = decodeURIComponent(rawPath.replace(/^\//, ''));
  } catch {
    throw new S3Error('InvalidURI', 'Could not parse the specified URI.');
  }
  checkKeyLength(key);
  return key;
}

/** A key as written in a Location path: each segment percent-encoded. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function redirect(ctx: WebContext, status: number, location: string): void {
  ctx.res.send(status, [['location', location]], '', { headLength: 0 });
}

/** Redirects as a routing rule says: replaced key or key prefix, host, protocol, code. */
function redirectByRule(site: Site, rule: WebsiteRoutingRule): void {
  const r = rule.redirect;
  const prefix = rule.condition?.keyPrefixEquals ?? '';
  let key = site.key;
  if (r.replaceKeyWith !== undefined) key = r.replaceKeyWith;
  else if (r.replaceKeyPrefixWith !== undefined)
    key = r.replaceKeyPrefixWith + site.key.slice(prefix.length);
  const protocol = r.protocol ?? clientScheme(site.ctx.state.config, site.req.headers);
  const host = r.hostName ?? site.req.headers.host ?? '';
  redirect(
    site.ctx,
    Number(r.httpRedirectCode ?? '301'),
    `${protocol}://${host}/${encodeKey(key)}`,
  );
}

/** The object a key names (its index document for a "directory"), or a redirect. */
async function serveKey(site: Site): Promise<void> {
  const { ctx, bucket, key } = site;
  const suffix = site.config.indexSuffix ?? 'index.html';
  const directory = key === '' || key.endsWith('/');
  const target = directory ? key + suffix : key;
  if (!(await site.mayRead(target))) throw new S3Error('AccessDenied');
  const shard = shardFor(ctx.state, bucket, target);
  let opened: Opened;
  try {
    opened = await openObject(
      ctx,
      shard,
      bucket.id,
      target,
      site.head ? 'info' : 'read',
      null,
      requestPreconditions(site.req.headers),
    );
  } catch (error) {
    const miss = toS3Error(error).code === 'NoSuchKey';
    // `/docs` where `docs/index.html` exists: redirect to the "directory".
    if (!directory && miss && (await site.mayRead(`${key}/${suffix}`))) {
      const indexKey = `${key}/${suffix}`;
      const indexShard = shardFor(ctx.state, bucket, indexKey);
      const found = await openObject(ctx, indexShard, bucket.id, indexKey, 'info').then(
        () => true,
        () => false,
      );
      if (found) {
        redirect(ctx, 302, `/${encodeKey(key)}/`);
        return;
      }
    }
    throw site.hideMiss(error);
  }
  try {
    const location = opened.info.headers.websiteRedirectLocation;
    if (location !== undefined) {
      releaseOpened(shard, opened);
      redirect(ctx, 301, location);
      return;
    }
    await respond(site, shard, opened, 200, true);
  } catch (error) {
    releaseOpened(shard, opened);
    throw error;
  }
}

/**
 * Sends an opened object with `status`. With `conditional`, preconditions (304/412) and Range
 * (206/416) apply as on GetObject; an error document is sent whole, without them.
 */
async function respond(
  site: Site,
  shard: ShardClient,
  opened: Opened,
  status: number,
  conditional: boolean,
): Promise<void> {
  const { ctx, req, head } = site;
  const h = req.headers;
  const info = opened.info;
  const headers = objectResponseHeaders(info, {});
  let range: { start: number; end: number } | null = null;
  if (conditional) {
    if (checkPreconditions(info, requestPreconditions(h)) === 'not-modified') {
      releaseOpened(shard, opened);
      ctx.res.send(304, notModifiedHeaders(headers));
      return;
    }
    range = parseRange(h['range'], info.bytes);
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? info.bytes;
  if (range !== null) {
    headers.push(['content-range', `bytes ${start}-${end - 1}/${info.bytes}`]);
    status = 206;
  }
  if (head) {
    ctx.res.send(status, headers, '', { headLength: end - start });
    return;
  }
  await sendBody(ctx, shard, opened, { start, end }, status, headers);
}

/**
 * A 403/404 of a website bucket: a routing rule for the error code redirects; else the error
 * document is sent with the error's status; else (or when that document is missing) an HTML page.
 */
async function sendSiteError(site: Site, error: S3Error): Promise<void> {
  const { ctx, bucket, config, key } = site;
  const code = String(error.status);
  const rule = config.routingRules.find(
    (r) =>
      r.condition?.httpErrorCodeReturnedEquals === code &&
      key.startsWith(r.condition.keyPrefixEquals ?? ''),
  );
  if (rule !== undefined) {
    redirectByRule(site, rule);
    return;
  }
  const errorFields = error.code === 'NoSuchKey' ? { Key: key } : {};
  const withFields = new S3Error(error.code, error.message, { ...error.fields, ...errorFields });
  if (config.errorKey === undefined) {
    sendHtmlError(ctx, withFields, site.head, false);
    return;
  }
  const shard = shardFor(ctx.state, bucket, config.errorKey);
  let opened: Opened;
  try {
    // The error document is served only if a visitor may read it, as any other object.
    if (!(await site.mayRead(config.errorKey))) throw new S3Error('AccessDenied');
    opened = await openObject(ctx, shard, bucket.id, config.errorKey, site.head ? 'info' : 'read');
  } catch (docError) {
    sendHtmlError(ctx, withFields, site.head, false, toS3Error(docError));
    return;
  }
  try {
    await respond(site, shard, opened, error.status, false);
  } catch (sendError) {
    releaseOpened(shard, opened);
    sendHtmlError(ctx, withFields, site.head, false);
    ctx.state.logger.error({ err: sendError }, 'website: error document failed');
  }
}

/** An error as AWS's website endpoints render it: a small HTML page listing Code and Message. */
function sendHtmlError(
  ctx: WebContext,
  error: S3Error,
  head: boolean,
  hasBody: boolean,
  documentError?: S3Error,
): void {
  const headers: Array<[string, string]> = [
    ['content-type', 'text/html; charset=utf-8'],
    ...Object.entries(error.headers),
  ];
  if (head) {
    ctx.res.send(error.status, headers, '', { headLength: 0, close: hasBody });
    return;
  }
  const title = `${error.status} ${STATUS_TITLES[error.status] ?? 'Error'}`;
  const items = (fields: Record<string, string>): string =>
    Object.entries(fields)
      .map(([name, value]) => `<li>${escapeXml(name)}: ${escapeXml(value)}</li>\n`)
      .join('');
  let html =
    `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<ul>\n` +
    items({
      Code: error.code,
      Message: error.message,
      ...error.fields,
      RequestId: ctx.requestId,
    }) +
    '</ul>\n';
  if (documentError !== undefined) {
    html +=
      '<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n' +
      items({ Code: documentError.code, Message: documentError.message }) +
      '</ul>\n';
  }
  html += '<hr/>\n</body>\n</html>\n';
  ctx.res.send(error.status, headers, html, { close: hasBody });
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};
