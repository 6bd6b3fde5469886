import { validateBucketName } from '../../../engine/catalog/bucket-name.js';
import { type BucketRecord, CatalogError, type Grant } from '../../../engine/catalog/catalog.js';
import { LIMITS } from '../../../engine/limits.js';
import type { WebsiteConfig } from '../../s3/website-config.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest, noSuchBucket, noSuchKey } from '../errors.js';
import { body, boolean, object, queryParam, string } from '../validate.js';
import {
  accessInfoOf,
  findBucketById,
  removeBucketPolicy,
  setBucketPolicy,
} from './bucket-access.js';
import { quotasOf, updateBucket as updateQuotas } from './bucket-update.js';

/** Objects, bytes and unfinished uploads of a bucket, summed over every shard. */
async function usageOf(
  state: AdminState,
  bucket: BucketRecord,
): Promise<{
  objects: number;
  bytes: number;
  uploads: number;
  uploadParts: number;
  uploadBytes: number;
}> {
  const usages = await state.server.pool.callAll(
    { kind: 'BucketUsage', bucketId: bucket.id },
    'Usage',
  );
  return usages.reduce(
    (sum, u) => ({
      objects: sum.objects + u.objects,
      bytes: sum.bytes + u.bytes,
      uploads: sum.uploads + u.uploads,
      uploadParts: sum.uploadParts + u.uploadParts,
      uploadBytes: sum.uploadBytes + u.uploadBytes,
    }),
    { objects: 0, bytes: 0, uploads: 0, uploadParts: 0, uploadBytes: 0 },
  );
}

/** Garage's GetBucketInfoResponse, with who may reach the bucket (bucket-access.ts). */
async function bucketInfo(state: AdminState, bucket: BucketRecord): Promise<AdminReply> {
  const catalog = state.server.catalog;
  const website = catalog.getBucketConfig<WebsiteConfig>(bucket.id, 'website');
  const usage = await usageOf(state, bucket);
  const keys = catalog.grantsOfBucket(bucket.id).map(({ accessKeyId, grant }) => ({
    accessKeyId,
    name: catalog.getKey(accessKeyId)?.name ?? '',
    permissions: { ...grant },
    bucketLocalAliases: [],
  }));
  return {
    json: {
      id: bucket.id,
      created: new Date(bucket.createdMs).toISOString(),
      globalAliases: catalog.aliasesOf(bucket.id),
      location: bucket.location || state.server.config.s3.region,
      websiteAccess: website !== undefined,
      websiteConfig:
        website === undefined
          ? null
          : { indexDocument: website.indexSuffix ?? null, errorDocument: website.errorKey ?? null },
      keys,
      objects: usage.objects,
      bytes: usage.bytes,
      unfinishedUploads: usage.uploads,
      unfinishedMultipartUploads: usage.uploads,
      unfinishedMultipartUploadParts: usage.uploadParts,
      unfinishedMultipartUploadBytes: usage.uploadBytes,
      quotas: quotasOf(state, bucket.id),
      ...accessInfoOf(state, bucket),
    },
  };
}

export function listBuckets(state: AdminState): AdminReply {
  return {
    json: state.server.catalog.listBuckets().map((bucket) => ({
      id: bucket.id,
      created: new Date(bucket.createdMs).toISOString(),
      globalAliases: [...bucket.aliases],
      localAliases: [],
    })),
  };
}

/** GetBucketInfo?id=<bucket id> or ?globalAlias=<bucket name>. */
export async function getBucketInfo(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const id = req.query.get('id');
  const alias = req.query.get('globalAlias');
  if ((id === null) === (alias === null)) {
    throw badRequest('exactly one of the query parameters id and globalAlias is required');
  }
  if (id !== null) return bucketInfo(state, findBucketById(state, id));
  const bucket = state.server.catalog.getBucket(alias ?? '');
  if (bucket === undefined) throw noSuchBucket(alias ?? '');
  return bucketInfo(state, bucket);
}

export async function createBucket(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body, ['globalAlias']);
  const name = string(b, 'globalAlias');
  const problem = validateBucketName(name);
  if (problem !== null) throw badRequest(`body.globalAlias: ${problem}`);
  try {
    const bucket = await state.server.catalog.createBucket(name, { location: '' });
    return bucketInfo(state, bucket);
  } catch (error) {
    if (error instanceof CatalogError && error.reason === 'BucketExists') {
      throw new AdminError(409, 'BucketAlreadyExists', `bucket ${name} already exists`);
    }
    throw error;
  }
}

/** DeleteBucket?id=: only an empty bucket (every shard agrees) is removed. */
export async function deleteBucket(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const bucket = findBucketById(state, queryParam(req.query, 'id'));
  const counters = await state.server.pool.callAll(
    { kind: 'BucketCounters', bucketId: bucket.id },
    'Counters',
  );
  const objects = counters.reduce((sum, c) => sum + c.objects, 0);
  if (objects > 0) {
    throw new AdminError(
      409,
      'BucketNotEmpty',
      `bucket ${bucket.name} is not empty (${objects} objects)`,
    );
  }
  await state.server.catalog.deleteBucket(bucket.name);
  void state.server.pool.purgeDeadBuckets([...state.server.catalog.liveBucketIds()], (error) =>
    state.server.logger.error({ err: error }, 'purging a deleted bucket failed'),
  );
  return { json: {} };
}

function permissionChange(req: AdminRequest): {
  bucket: string;
  accessKeyId: string;
  permissions: Grant;
} {
  const b = body(req.body, ['bucketId', 'accessKeyId', 'permissions']);
  const bucket = string(b, 'bucketId');
  const accessKeyId = string(b, 'accessKeyId');
  if (b['permissions'] === undefined) throw badRequest('body.permissions is required');
  const p = object(b['permissions'], 'body.permissions');
  for (const name of Object.keys(p)) {
    if (!['read', 'write', 'owner'].includes(name)) {
      throw badRequest(`body.permissions.${name} is not a known permission (read, write, owner)`);
    }
  }
  const permissions: Grant = {
    read: boolean(p, 'read', 'body.permissions'),
    write: boolean(p, 'write', 'body.permissions'),
    owner: boolean(p, 'owner', 'body.permissions'),
  };
  return { bucket, accessKeyId, permissions };
}

async function changeGrant(
  state: AdminState,
  req: AdminRequest,
  allow: boolean,
): Promise<AdminReply> {
  const change = permissionChange(req);
  const bucket = findBucketById(state, change.bucket);
  if (state.server.catalog.getKey(change.accessKeyId) === undefined)
    throw noSuchKey(change.accessKeyId);
  await state.server.catalog.changeGrant(
    bucket.name,
    change.accessKeyId,
    change.permissions,
    allow,
  );
  return bucketInfo(state, bucket);
}

/**
 * UpdateBucket?id=: sets the bucket's quotas, website access and PublicAccessBlock (see
 * bucket-update.ts).
 */
export const updateBucket = (state: AdminState, req: AdminRequest): Promise<AdminReply> =>
  updateQuotas(state, req, (id) => bucketInfo(state, findBucketById(state, id)));

export const putBucketPolicy = (state: AdminState, req: AdminRequest): Promise<AdminReply> =>
  setBucketPolicy(state, req, (bucket) => bucketInfo(state, bucket));
export const deleteBucketPolicy = (state: AdminState, req: AdminRequest): Promise<AdminReply> =>
  removeBucketPolicy(state, req, (bucket) => bucketInfo(state, bucket));

export const allowBucketKey = (state: AdminState, req: AdminRequest): Promise<AdminReply> =>
  changeGrant(state, req, true);
export const denyBucketKey = (state: AdminState, req: AdminRequest): Promise<AdminReply> =>
  changeGrant(state, req, false);

/** The `{bucketId, globalAlias}` body of AddBucketAlias and RemoveBucketAlias. */
function aliasChange(req: AdminRequest): { bucketId: string; alias: string } {
  const b = body(req.body, ['bucketId', 'globalAlias']);
  const bucketId = string(b, 'bucketId');
  const alias = string(b, 'globalAlias');
  const problem = validateBucketName(alias);
  if (problem !== null) throw badRequest(`body.globalAlias: ${problem}`);
  return { bucketId, alias };
}

/** AddBucketAlias: the bucket becomes reachable under one more global alias (409 if taken). */
export async function addBucketAlias(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const { bucketId, alias } = aliasChange(req);
  try {
    return bucketInfo(state, await state.server.catalog.addBucketAlias(bucketId, alias));
  } catch (error) {
    if (error instanceof CatalogError && error.reason === 'NoSuchBucket') {
      throw noSuchBucket(bucketId);
    }
    if (error instanceof CatalogError && error.reason === 'BucketExists') {
      throw new AdminError(409, 'BucketAlreadyExists', `alias ${alias} is already taken`);
    }
    throw error;
  }
}

/** RemoveBucketAlias: removes one global alias; a bucket's last alias is refused (409). */
export async function removeBucketAlias(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const { bucketId, alias } = aliasChange(req);
  try {
    return bucketInfo(state, await state.server.catalog.removeBucketAlias(bucketId, alias));
  } catch (error) {
    if (error instanceof CatalogError && error.reason === 'NoSuchBucket') {
      throw new AdminError(404, 'NoSuchBucket', error.message);
    }
    if (error instanceof CatalogError && error.reason === 'LastAlias') {
      throw new AdminError(
        409,
        'BucketAliasRequired',
        `${alias} is the last global alias of bucket ${bucketId}: delete the bucket instead`,
      );
    }
    throw error;
  }
}

/**
 * CleanupIncompleteUploads (Garage v2): body { bucketId, olderThanSecs }: aborts the bucket's
 * multipart uploads initiated more than olderThanSecs ago, freeing their parts; answers
 * { uploadsDeleted }.
 */
export async function cleanupIncompleteUploads(
  state: AdminState,
  req: AdminRequest,
): Promise<AdminReply> {
  const b = body(req.body, ['bucketId', 'olderThanSecs']);
  const bucket = findBucketById(state, string(b, 'bucketId'));
  const olderThanSecs = b['olderThanSecs'];
  if (
    typeof olderThanSecs !== 'number' ||
    !Number.isSafeInteger(olderThanSecs) ||
    olderThanSecs < 0
  ) {
    throw badRequest('body.olderThanSecs must be a non-negative integer');
  }
  const initiatedBeforeMs = Date.now() - olderThanSecs * 1000;
  const perShard = await Promise.all(
    state.server.pool.clients.map(async (shard) => {
      let aborted = 0;
      let after: string | null = '';
      while (after !== null) {
        const batch: { aborted: number; next: string | null } = await shard.call(
          {
            kind: 'CleanupUploads',
            bucketId: bucket.id,
            initiatedBeforeMs,
            after,
            limit: LIMITS.cleanupBatchUploads,
          },
          'LifecycleApplied',
        );
        aborted += batch.aborted;
        after = batch.next;
      }
      return aborted;
    }),
  );
  return { json: { uploadsDeleted: perShard.reduce((sum, n) => sum + n, 0) } };
}
