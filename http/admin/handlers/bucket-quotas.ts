import type { BucketQuotas } from '../../s3/quota.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { badRequest, noSuchBucket } from '../errors.js';
import { body, object, queryParam } from '../validate.js';

/** A bucket's quotas for GetBucketInfo (null: no limit). */
export function quotasOf(state: AdminState, bucketId: string): BucketQuotas {
  const stored = state.server.catalog.getBucketConfig<BucketQuotas>(bucketId, 'quotas');
  return { maxSize: stored?.maxSize ?? null, maxObjects: stored?.maxObjects ?? null };
}

function limit(quotas: Record<string, unknown>, name: 'maxSize' | 'maxObjects'): number | null {
  const value = quotas[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`body.quotas.${name} must be a non-negative integer or null`);
  }
  return value;
}

/**
 * UpdateBucket?id=: Garage's body { quotas: { maxSize, maxObjects } } (null: no limit; both
 * null removes the quotas). Answers the bucket's info (GetBucketInfo) like Garage.
 */
export async function updateBucket(
  state: AdminState,
  req: AdminRequest,
  info: (id: string) => Promise<AdminReply>,
): Promise<AdminReply> {
  const id = queryParam(req.query, 'id');
  if (!state.server.catalog.listBuckets().some((b) => b.id === id)) throw noSuchBucket(id);
  const b = body(req.body, ['quotas']);
  if (b['quotas'] !== undefined) {
    const q = object(b['quotas'], 'body.quotas');
    for (const name of Object.keys(q)) {
      if (name !== 'maxSize' && name !== 'maxObjects') {
        throw badRequest(`body.quotas.${name} is not a known quota (maxSize, maxObjects)`);
      }
    }
    const quotas: BucketQuotas = {
      maxSize: limit(q, 'maxSize'),
      maxObjects: limit(q, 'maxObjects'),
    };
    if (quotas.maxSize === null && quotas.maxObjects === null) {
      await state.server.catalog.deleteBucketConfig(id, 'quotas');
    } else {
      await state.server.catalog.putBucketConfig(id, 'quotas', quotas);
    }
  }
  return info(id);
}
