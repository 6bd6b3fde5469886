import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { type LoggingConfig, loggingStatusXml, parseLoggingStatus } from '../logging-config.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { parseXml } from '../xml.js';

/**
 * PutBucketLogging: turns server access logging on (LoggingEnabled) or off (an empty
 * BucketLoggingStatus). The edge then spools a record per request on the bucket and a worker
 * delivers them as log objects (http/access-log/).
 */
export async function handlePutBucketLogging(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  const config = parseLoggingStatus(parseXml(body.toString('utf8'), 'BucketLoggingStatus'));
  if (config === null) {
    await ctx.state.catalog.deleteBucketConfig(bucket.id, 'logging');
  } else {
    if (ctx.state.catalog.getBucket(config.targetBucket) === undefined) {
      throw new S3Error('InvalidTargetBucketForLogging', undefined, {
        TargetBucket: config.targetBucket,
      });
    }
    await ctx.state.catalog.putBucketConfig(bucket.id, 'logging', config);
  }
  sendEmpty(ctx, 200);
}

/** GetBucketLogging: the configuration, or an empty BucketLoggingStatus when logging is off. */
export function handleGetBucketLogging(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const config = ctx.state.catalog.getBucketConfig<LoggingConfig>(bucket, 'logging');
  sendXml(ctx, 'BucketLoggingStatus', loggingStatusXml(config));
}
