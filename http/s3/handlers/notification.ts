import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import { LIMITS } from '../../../engine/limits.js';
import type { OutboxMessage } from '../../../engine/protocol/messages.js';
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
  if (messages.length > 0) await recordTestEvents(ctx, bucket, messages);
  sendEmpty(ctx, 200);
}

/**
 * Puts the test events in the outbox of the bucket's shard for key "". The configuration is
 * stored already: a shard that cannot take them (restarting) costs the test events, never an
 * error answer for a change that took effect.
 */
async function recordTestEvents(
  ctx: RequestContext,
  bucket: BucketRecord,
  messages: OutboxMessage[],
): Promise<void> {
  try {
    await shardFor(ctx.state, bucket, '').call(
      { kind: 'RecordOutbox', messages },
      'OutboxRecorded',
    );
  } catch (error) {
    ctx.state.logger.warn(
      { err: error, requestId: ctx.requestId, bucket: bucket.name },
      'notification test events not recorded',
    );
  }
}

/** GetBucketNotificationConfiguration: the stored configuration, or an empty document. */
export function handleGetBucketNotification(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const stored = ctx.state.catalog.getBucketConfig<StoredNotification>(bucket, 'notification');
  sendXml(ctx, 'NotificationConfiguration', notificationXml(stored));
}
