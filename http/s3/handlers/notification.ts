import { LIMITS } from '../../../engine/limits.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import {
  notificationXml,
  notifyTargetsOf,
  parseNotificationConfiguration,
  type StoredNotification,
  testEventMessages,
} from '../notifications.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';

/**
 * PutBucketNotificationConfiguration: replaces the bucket's configuration (an empty document
 * removes it). Every destination must be one of the operator's targets (engine/notify/targets.ts).
 * Each target the new configuration names and the old one did not gets AWS's s3:TestEvent,
 * through the outbox like any event (DECISIONS.md: durable test events).
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
    notifyTargetsOf(ctx.state),
  );
  const before = ctx.state.catalog.getBucketConfig<StoredNotification>(bucket, 'notification');
  if (stored.rules.length === 0 && !stored.eventBridge) {
    await ctx.state.catalog.deleteBucketConfig(bucket.id, 'notification');
  } else {
    await ctx.state.catalog.putBucketConfig(bucket.id, 'notification', stored);
  }
  const messages = testEventMessages(before, stored, bucket.name, ctx.requestId, Date.now());
  if (messages.length > 0) {
    await shardFor(ctx.state, bucket, '').call(
      { kind: 'RecordOutbox', messages },
      'OutboxRecorded',
    );
  }
  sendEmpty(ctx, 200);
}

/** GetBucketNotificationConfiguration: the stored configuration, or an empty document. */
export function handleGetBucketNotification(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const stored = ctx.state.catalog.getBucketConfig<StoredNotification>(bucket, 'notification');
  sendXml(ctx, 'NotificationConfiguration', notificationXml(stored));
}
