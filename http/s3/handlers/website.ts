import { requireBodyDigest } from '../checksum-headers.js';
import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import {
  parseWebsiteConfiguration,
  type WebsiteConfig,
  websiteConfigXml,
} from '../website-config.js';

/** PutBucketWebsite: replaces the website configuration; requires Content-MD5 or a checksum. */
export async function handlePutBucketWebsite(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  const config = parseWebsiteConfiguration(body.toString('utf8'));
  await ctx.state.catalog.putBucketConfig(bucket.id, 'website', config);
  sendEmpty(ctx, 200);
}

/** GetBucketWebsite: the stored configuration, or NoSuchWebsiteConfiguration. */
export function handleGetBucketWebsite(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const config = ctx.state.catalog.getBucketConfig<WebsiteConfig>(bucket.id, 'website');
  if (config === undefined) {
    throw new S3Error('NoSuchWebsiteConfiguration', undefined, { BucketName: name });
  }
  sendXml(ctx, 'WebsiteConfiguration', websiteConfigXml(config));
}

/** DeleteBucketWebsite: 204 whether or not the bucket had a configuration. */
export async function handleDeleteBucketWebsite(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'website');
  sendEmpty(ctx, 204);
}
