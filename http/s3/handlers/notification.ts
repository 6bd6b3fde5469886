import { LIMITS } from '../../../engine/limits.js';
import { type RequestContext, requireBucket } from '../context.js';
import {
  notificationXml,
  parseNotificationConfiguration,
  type StoredNotification,
} from '../notifications.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';

/**
 * PutBucketNotificationConfiguration: replaces the bucket's configuration (an empty document
 * removes it). Every destination must be one of the operator's targets (engine/notify/targets.ts).
 */
export async function handlePutBucketNotification(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx, LIMITS.xmlBodyBytesMax);
  const { region } = ctx.state.config.s3;
  const stored = parseNotificationConfiguration(
    body.toString('utf8'),
    region,
    ctx.state.config.notify.targets,
  );
  if (stored.rules.length === 0 && !stored.eventBridge) {
    await ctx.state.catalog.deleteBucketConfig(bucket.id, 'notification');
  } else {
    await ctx.state.catalog.putBucketConfig(bucket.id, 'notification', stored);
  }
  sendEmpty(ctx, 200);
}

/** GetBucketNotificationConfiguration: the stored configuration, or an empty document. */
export function handleGetBucketNotification(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const stored = ctx.state.catalog.getBucketConfig<StoredNotification>(bucket, 'notification');
  sendXml(ctx, 'NotificationConfiguration', notificationXml(stored));
}
