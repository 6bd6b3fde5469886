import { changePublicAccessBlock } from '../../access/bucket-status.js';
import type { BucketQuotas } from '../../s3/quota.js';
import type { WebsiteConfig } from '../../s3/website-config.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { badRequest } from '../errors.js';
import { body, boolean, type JsonObject, optionalString, queryParam } from '../validate.js';
import { findBucketById, parsePublicAccessBlock } from './bucket-access.js';

/** A bucket's quotas for GetBucketInfo (null: no limit). */
export function quotasOf(state: AdminState, bucketId: string): BucketQuotas {
  const stored = state.server.catalog.getBucketConfig<BucketQuotas>(bucketId, 'quotas');
  return { maxSize: stored?.maxSize ?? null, maxObjects: stored?.maxObjects ?? null };
}

function limit(quotas: JsonObject, name: 'maxSize' | 'maxObjects'): number | null {
  const value = quotas[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`body.quotas.${name} must be a non-negative integer or null`);
  }
  return value;
}

/** `{ maxSize, maxObjects }`: null lifts a limit. */
function parseQuotas(value: unknown): BucketQuotas {
  const q = body(value, ['maxSize', 'maxObjects'], 'body.quotas');
  return { maxSize: limit(q, 'maxSize'), maxObjects: limit(q, 'maxObjects') };
}

async function applyQuotas(state: AdminState, id: string, quotas: BucketQuotas): Promise<void> {
  if (quotas.maxSize === null && quotas.maxObjects === null) {
    await state.server.catalog.deleteBucketConfig(id, 'quotas');
  } else {
    await state.server.catalog.putBucketConfig(id, 'quotas', quotas);
  }
}

/**
 * `{ enabled, indexDocument, errorDocument }` (Garage's websiteAccess): enabling gives the
 * bucket the website configuration PutBucketWebsite with IndexDocument/ErrorDocument would (so
 * GetBucketWebsite shows it and the website endpoint serves it); null means disabling it.
 */
function parseWebsite(value: unknown): WebsiteConfig | null {
  const w = body(value, ['enabled', 'indexDocument', 'errorDocument'], 'body.websiteAccess');
  const prefix = 'body.websiteAccess';
  const enabled = boolean(w, 'enabled', prefix);
  const indexDocument = optionalString(w, 'indexDocument', prefix);
  const errorDocument = optionalString(w, 'errorDocument', prefix);
  if (!enabled) {
    if (indexDocument !== undefined || errorDocument !== undefined) {
      throw badRequest(
        `${prefix}: indexDocument and errorDocument are only valid with enabled: true`,
      );
    }
    return null;
  }
  // S3's rules for IndexDocument Suffix and ErrorDocument Key.
  if (indexDocument === undefined || indexDocument === '' || indexDocument.includes('/')) {
    throw badRequest(
      `${prefix}.indexDocument is required to enable website access, and may not be empty or contain a slash`,
    );
  }
  if (errorDocument === '') throw badRequest(`${prefix}.errorDocument may not be empty`);
  return {
    indexSuffix: indexDocument,
    ...(errorDocument === undefined ? {} : { errorKey: errorDocument }),
    routingRules: [],
  };
}

async function applyWebsite(state: AdminState, id: string, website: WebsiteConfig | null) {
  if (website === null) await state.server.catalog.deleteBucketConfig(id, 'website');
  else await state.server.catalog.putBucketConfig(id, 'website', website);
}

/**
 * UpdateBucket?id=: Garage's body `{ websiteAccess?, quotas? }`, and hangar's
 * `publicAccessBlock?` (flags to set, or null to remove the block). The whole body is validated
 * before anything changes; answers the bucket's info (GetBucketInfo) like Garage.
 */
export async function updateBucket(
  state: AdminState,
  req: AdminRequest,
  info: (id: string) => Promise<AdminReply>,
): Promise<AdminReply> {
  const id = queryParam(req.query, 'id');
  findBucketById(state, id);
  const b = body(req.body, ['websiteAccess', 'quotas', 'publicAccessBlock']);
  const quotas = b['quotas'] === undefined ? undefined : parseQuotas(b['quotas']);
  const website = b['websiteAccess'] === undefined ? undefined : parseWebsite(b['websiteAccess']);
  const block =
    b['publicAccessBlock'] === undefined
      ? undefined
      : parsePublicAccessBlock(b['publicAccessBlock']);
  if (quotas !== undefined) await applyQuotas(state, id, quotas);
  if (website !== undefined) await applyWebsite(state, id, website);
  if (block !== undefined) await changePublicAccessBlock(state.server.catalog, id, block);
  return info(id);
}
