import { LIMITS } from '../../../engine/limits.js';
import {
  checkConfigId,
  type InventoryConfig,
  type InventoryConfigs,
  inventoryConfigXml,
  parseInventoryConfiguration,
} from '../../inventory/config.js';
import { type RequestContext, requireBucket } from '../context.js';
import type { BucketConfigIdEndpoint, BucketConfigListEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';

/**
 * PutBucketInventoryConfiguration: adds or replaces the configuration `id` (at most
 * inventoryConfigsMax per bucket). hangar writes CSV reports only: ORC and Parquet are refused
 * (501) rather than stored and never delivered.
 */
export async function handlePutBucketInventory(
  ctx: RequestContext,
  e: BucketConfigIdEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const body = await readSignedBody(ctx);
  const config = parseInventoryConfiguration(body.toString('utf8'), e.id);
  if (config.destination.format !== 'CSV') {
    throw new S3Error(
      'NotImplemented',
      `hangar writes CSV inventory reports only, not ${config.destination.format}.`,
    );
  }
  await ctx.state.catalog.updateBucketConfig<InventoryConfigs>(bucket.id, 'inventory', (all) => {
    const current = all ?? {};
    if (
      current[config.id] === undefined &&
      Object.keys(current).length >= LIMITS.inventoryConfigsMax
    ) {
      throw new S3Error('TooManyConfigurations');
    }
    return { ...current, [config.id]: config };
  });
  sendEmpty(ctx, 200);
}

function configOf(ctx: RequestContext, bucketId: string, id: string): InventoryConfig {
  checkConfigId(id);
  const all = ctx.state.catalog.getBucketConfig<InventoryConfigs>(bucketId, 'inventory');
  const config = all?.[id];
  if (config === undefined) throw new S3Error('NoSuchConfiguration');
  return config;
}

/** GetBucketInventoryConfiguration: the configuration `id`, or 404 NoSuchConfiguration. */
export function handleGetBucketInventory(ctx: RequestContext, e: BucketConfigIdEndpoint): void {
  const bucket = requireBucket(ctx, e.bucket);
  const config = configOf(ctx, bucket.id, e.id);
  sendXml(ctx, 'InventoryConfiguration', inventoryConfigXml(config));
}

/** DeleteBucketInventoryConfiguration: 204; an unknown id is 404 NoSuchConfiguration. */
export async function handleDeleteBucketInventory(
  ctx: RequestContext,
  e: BucketConfigIdEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  configOf(ctx, bucket.id, e.id);
  await ctx.state.catalog.updateBucketConfig<InventoryConfigs>(bucket.id, 'inventory', (all) => {
    if (all === undefined) return undefined;
    const { [e.id]: _gone, ...rest } = all;
    return Object.keys(rest).length === 0 ? undefined : rest;
  });
  // Its schedule goes with it: a configuration later made under the same id starts afresh.
  await ctx.state.catalog.updateBucketConfig<Record<string, unknown>>(
    bucket.id,
    'inventory-runs',
    (runs) => {
      if (runs?.[e.id] === undefined) return runs;
      const { [e.id]: _gone, ...rest } = runs;
      return Object.keys(rest).length === 0 ? undefined : rest;
    },
  );
  sendEmpty(ctx, 204);
}

/**
 * ListBucketInventoryConfigurations: by id, inventoryListPageMax a page; the continuation token
 * is the last id of the previous page (base64url: opaque to clients, as AWS's).
 */
export function handleListBucketInventory(ctx: RequestContext, e: BucketConfigListEndpoint): void {
  const bucket = requireBucket(ctx, e.bucket);
  const all = ctx.state.catalog.getBucketConfig<InventoryConfigs>(bucket.id, 'inventory') ?? {};
  const after = e.continuationToken === undefined ? undefined : tokenId(e.continuationToken);
  const ids = Object.keys(all)
    .sort()
    .filter((id) => after === undefined || id > after);
  const page = ids.slice(0, LIMITS.inventoryListPageMax);
  const truncated = ids.length > page.length;
  const last = page[page.length - 1];
  sendXml(ctx, 'ListInventoryConfigurationsResult', {
    ContinuationToken: e.continuationToken,
    InventoryConfiguration: page.map((id) => inventoryConfigXml(all[id] as InventoryConfig)),
    IsTruncated: truncated,
    NextContinuationToken:
      truncated && last !== undefined ? Buffer.from(last).toString('base64url') : undefined,
  });
}

function tokenId(token: string): string {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  }
  return id;
}
