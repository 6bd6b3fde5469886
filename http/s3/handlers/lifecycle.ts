import { requireBodyDigest } from '../checksum-headers.js';
import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import {
  lifecycleRulesXml,
  parseLifecycleConfiguration,
  type StoredLifecycleRule,
} from '../lifecycle-config.js';
import {
  type LifecycleOptions,
  lifecycleOptionsOf,
  MINIMUM_SIZE_HEADER,
  parseMinimumSize,
} from '../lifecycle-transitions.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';

/** PutBucketLifecycleConfiguration: replaces the rules; requires Content-MD5 or a checksum. */
export async function handlePutBucketLifecycle(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  const minimumSize = parseMinimumSize(ctx.req.headers[MINIMUM_SIZE_HEADER]);
  const rules = parseLifecycleConfiguration(body.toString('utf8'));
  const options: LifecycleOptions = { minimumSize };
  await ctx.state.catalog.putBucketConfig(bucket.id, 'lifecycle-options', options);
  await ctx.state.catalog.putBucketConfig(bucket.id, 'lifecycle', rules);
  sendEmpty(ctx, 200, [[MINIMUM_SIZE_HEADER, minimumSize]]);
}

/** GetBucketLifecycleConfiguration: the rules, or NoSuchLifecycleConfiguration. */
export function handleGetBucketLifecycle(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const rules = ctx.state.catalog.getBucketConfig<StoredLifecycleRule[]>(bucket.id, 'lifecycle');
  if (rules === undefined) {
    throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: name });
  }
  const { minimumSize } = lifecycleOptionsOf(ctx.state.catalog, bucket.id);
  sendXml(ctx, 'LifecycleConfiguration', { Rule: lifecycleRulesXml(rules) }, [
    [MINIMUM_SIZE_HEADER, minimumSize],
  ]);
}

/** DeleteBucketLifecycle: 204 whether or not the bucket had rules. */
export async function handleDeleteBucketLifecycle(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'lifecycle');
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'lifecycle-options');
  sendEmpty(ctx, 204);
}
