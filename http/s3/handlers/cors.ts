import { LIMITS } from '../../../engine/limits.js';
import type { RequestSnapshot } from '../../uws/request.js';
import type { Responder } from '../../uws/response.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { type RequestContext, requireBucket, type ServerState } from '../context.js';
import {
  bucketCorsRules,
  CORS_METHODS,
  corsResponseHeaders,
  corsRulesXml,
  matchCorsRule,
  parseCorsConfiguration,
  requestedHeadersOf,
} from '../cors.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import type { RoutedRequest } from '../router.js';
import { readSignedBody } from '../signed-body.js';

/** PutBucketCors: replaces the bucket's rules; the body must carry Content-MD5 or a checksum. */
export async function handlePutBucketCors(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx, Math.min(LIMITS.corsBodyBytesMax, LIMITS.xmlBodyBytesMax));
  requireBodyDigest(ctx.req.headers, body);
  const rules = parseCorsConfiguration(body.toString('utf8'));
  await ctx.state.catalog.putBucketConfig(bucket.id, 'cors', rules);
  sendEmpty(ctx, 200);
}

/** GetBucketCors: the stored rules, or NoSuchCORSConfiguration. */
export function handleGetBucketCors(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const rules = bucketCorsRules(ctx.state, bucket);
  if (rules === undefined) {
    throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: name });
  }
  sendXml(ctx, 'CORSConfiguration', { CORSRule: corsRulesXml(rules) });
}

/** DeleteBucketCors: 204 whether or not the bucket had a configuration. */
export async function handleDeleteBucketCors(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'cors');
  sendEmpty(ctx, 204);
}

/**
 * The browser's CORS preflight (OPTIONS), answered without authentication from the bucket's
 * rules, with AWS's errors in AWS's order: no Origin is BadRequest; a missing bucket or one
 * without CORS is AccessForbidden; then a missing or unknown Access-Control-Request-Method is
 * BadRequest; a request no rule allows is AccessForbidden.
 */
export function handlePreflight(
  state: ServerState,
  req: RequestSnapshot,
  routed: RoutedRequest,
  res: Responder,
): void {
  const origin = req.headers.origin;
  if (origin === undefined) {
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  }
  const requestMethod = req.headers['access-control-request-method'];
  const forbidden = (message: string, resourceType: 'BUCKET' | 'OBJECT'): S3Error =>
    new S3Error('AccessForbidden', message, {
      Method: requestMethod ?? 'OPTIONS',
      ResourceType: resourceType,
    });
  const bucket = routed.bucket === null ? undefined : state.catalog.getBucket(routed.bucket);
  if (bucket === undefined) throw forbidden('CORSResponse: Bucket not found', 'BUCKET');
  const rules = bucketCorsRules(state, bucket);
  if (rules === undefined) {
    throw forbidden('CORSResponse: CORS is not enabled for this bucket.', 'BUCKET');
  }
  if (requestMethod === undefined || !CORS_METHODS.includes(requestMethod)) {
    throw new S3Error(
      'BadRequest',
      `Invalid Access-Control-Request-Method: ${requestMethod ?? 'null'}`,
    );
  }
  const requested = requestedHeadersOf(req.headers['access-control-request-headers']);
  const rule = matchCorsRule(rules, origin, requestMethod, requested);
  if (rule === undefined) {
    throw forbidden(
      new S3Error('AccessForbidden').message,
      routed.key === null ? 'BUCKET' : 'OBJECT',
    );
  }
  res.send(200, corsResponseHeaders(rule, origin, requested), '');
}
