import { shardOf } from '../../../engine/pool/placement.js';
import { ShardFailure } from '../../../engine/pool/shard-client.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest } from '../errors.js';
import { body, string } from '../validate.js';
import { findBucketById } from './bucket-access.js';

/**
 * MoveObjectTier: moves one object version's blocks to another storage tier (issue 18), the
 * operator's (and tests') door to the shard's MoveVersionTier, which the lifecycle transition
 * worker calls directly. Answers once blocks and record are durable.
 */
export async function moveObjectTier(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body, ['bucketId', 'key', 'versionId', 'tier']);
  const bucket = findBucketById(state, string(b, 'bucketId'));
  const key = string(b, 'key');
  const tier = string(b, 'tier');
  const versionId = b['versionId'];
  if (versionId !== undefined && typeof versionId !== 'string') {
    throw badRequest('body.versionId must be a string');
  }
  const { pool } = state.server;
  try {
    const moved = await pool.client(shardOf(bucket.id, key, pool.size)).call(
      {
        kind: 'MoveVersionTier',
        bucketId: bucket.id,
        key,
        ...(versionId !== undefined ? { versionId } : {}),
        tier,
      },
      'TierMoved',
    );
    return { json: { moved: moved.moved, tier: moved.tier, blocks: moved.blocks } };
  } catch (error) {
    throw adminErrorOf(error);
  }
}

/** The shard's refusals as admin errors (a missing version is 404, a bad tier 400). */
function adminErrorOf(error: unknown): unknown {
  if (!(error instanceof ShardFailure)) return error;
  const { code, message } = error.failure;
  if (code === 'NoSuchKey' || code === 'NoSuchVersion') return new AdminError(404, code, message);
  if (code === 'InvalidRequest' || code === 'MethodNotAllowed') {
    return new AdminError(400, code, message);
  }
  if (code === 'ConditionalRequestConflict') return new AdminError(409, code, message);
  return error;
}
