import type { HangarConfig } from '../../../engine/config.js';
import { LIMITS } from '../../../engine/limits.js';
import type { RestoreTier } from '../../../engine/protocol/messages.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import type { VersionedObjectEndpoint } from '../endpoints.js';
import { notifyField } from '../notifications.js';
import { checkKey } from '../object-key.js';
import { lockNowMs } from '../object-lock.js';
import { sendEmpty } from '../reply.js';
import { restoreRequestFrom } from '../restore-request.js';
import { readSignedBody } from '../signed-body.js';
import { versionIdField } from '../versioning.js';

/**
 * RestoreObject (POST ?restore): starts the restore of an archived version (202 Accepted,
 * ObjectRestore:Post) or, once restored, moves its expiry to Days from now (200 OK). The
 * restore worker (http/restore-worker.ts) completes it after its tier's delay. The shard
 * answers InvalidObjectState (not archived) and RestoreAlreadyInProgress (409).
 */
export async function handleRestoreObject(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  checkKey(e.key);
  const body = await readSignedBody(ctx);
  const ask = restoreRequestFrom(body.toString('utf8'));
  const nowMs = lockNowMs(ctx.state);
  const result = await shardFor(ctx.state, bucket, e.key).call(
    {
      kind: 'RestoreObject',
      bucketId: bucket.id,
      key: e.key,
      ...version,
      days: ask.days,
      tier: ask.tier,
      nowMs,
      readyAtMs: nowMs + restoreDelayMs(ctx.state.config, ask.tier),
      ...notifyField(ctx, bucket),
    },
    'Restore',
  );
  sendEmpty(ctx, result.started ? 202 : 200);
}

/** How long a restore at `tier` takes (config restore_delay_ms overrides every tier: tests). */
export function restoreDelayMs(config: HangarConfig, tier: RestoreTier): number {
  return config.restoreDelayMs ?? LIMITS.restoreDelayMs[tier];
}
