import type { PublicAccessBlock } from '../../../engine/catalog/access.js';
import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import { bucketAccessOf } from '../../access/access-record.js';
import { deleteBucketPolicy, putBucketPolicy } from '../../access/bucket-policy.js';
import {
  type BucketAccessStatus,
  bucketAccessStatus,
  type PublicAccessBlockChange,
} from '../../access/bucket-status.js';
import { S3Error } from '../../s3/errors.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest, noSuchBucket } from '../errors.js';
import { body, optionalBoolean, queryParam, string } from '../validate.js';

/**
 * The admin API's view of who may reach a bucket: its access status in GetBucketInfo, its
 * policy (GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy) and its PublicAccessBlock
 * (UpdateBucket's `publicAccessBlock`). The operator acts as the account: no decision is asked,
 * but a policy goes through the same validation and BlockPublicPolicy check as PutBucketPolicy.
 */

/** GetBucketInfo's access fields (bucket-status.ts). */
export function accessInfoOf(state: AdminState, bucket: BucketRecord): BucketAccessStatus {
  return bucketAccessStatus(state.server.catalog, bucket);
}

/** The bucket with this id, or the admin API's NoSuchBucket. */
export function findBucketById(state: AdminState, id: string): BucketRecord {
  const bucket = state.server.catalog.getBucketById(id);
  if (bucket === undefined) throw noSuchBucket(id);
  return bucket;
}

function bucketById(state: AdminState, req: AdminRequest): BucketRecord {
  return findBucketById(state, queryParam(req.query, 'id'));
}

/**
 * An S3 error of the shared policy code as the admin API answers it: its code and message; a
 * 403 (a public policy under BlockPublicPolicy) becomes 409, as the admin API's 403 means a
 * wrong token.
 */
async function asAdminError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof S3Error) {
      throw new AdminError(error.status === 403 ? 409 : error.status, error.code, error.message);
    }
    throw error;
  }
}

/** GetBucketPolicy?id=: `{ policy }`, the document as it was set; 404 NoSuchBucketPolicy. */
export function getBucketPolicy(state: AdminState, req: AdminRequest): AdminReply {
  const bucket = bucketById(state, req);
  const policy = bucketAccessOf(state.server.catalog, bucket.id).policy;
  if (policy === undefined) {
    throw new AdminError(404, 'NoSuchBucketPolicy', `bucket ${bucket.name} has no policy`);
  }
  return { json: { policy: policy.text } };
}

/** PutBucketPolicy?id= `{ policy }`: sets it as S3's PutBucketPolicy would; answers the info. */
export async function setBucketPolicy(
  state: AdminState,
  req: AdminRequest,
  info: (bucket: BucketRecord) => Promise<AdminReply>,
): Promise<AdminReply> {
  const bucket = bucketById(state, req);
  const text = string(body(req.body, ['policy']), 'policy');
  await asAdminError(() => putBucketPolicy(state.server.catalog, bucket.id, text));
  return info(bucket);
}

/** DeleteBucketPolicy?id=: removes it (none: nothing to do); answers the info. */
export async function removeBucketPolicy(
  state: AdminState,
  req: AdminRequest,
  info: (bucket: BucketRecord) => Promise<AdminReply>,
): Promise<AdminReply> {
  const bucket = bucketById(state, req);
  await asAdminError(() => deleteBucketPolicy(state.server.catalog, bucket.id));
  return info(bucket);
}

const BLOCK_FLAGS = [
  'blockPublicAcls',
  'ignorePublicAcls',
  'blockPublicPolicy',
  'restrictPublicBuckets',
] as const;

/** UpdateBucket's `publicAccessBlock`: `{ <flag>?: boolean }` (at least one), or null. */
export function parsePublicAccessBlock(value: unknown): PublicAccessBlockChange {
  if (value === null) return null;
  const prefix = 'body.publicAccessBlock';
  const given = body(value, BLOCK_FLAGS, prefix);
  const change: { -readonly [K in keyof PublicAccessBlock]?: boolean } = {};
  for (const flag of BLOCK_FLAGS) {
    const set = optionalBoolean(given, flag, prefix);
    if (set !== undefined) change[flag] = set;
  }
  if (Object.keys(change).length === 0) {
    throw badRequest(`${prefix} needs at least one of ${BLOCK_FLAGS.join(', ')} (or null)`);
  }
  return change;
}
