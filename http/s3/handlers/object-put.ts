import { assert } from '../../../engine/assert.js';
import { newObjectAclOf } from '../acl-on-write.js';
import { planPayload, uploadBody } from '../body-upload.js';
import { checksumResponseHeaders } from '../checksum-headers.js';
import { withConditions, writeConditionsOf } from '../conditional.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import { expirationHeader } from '../expiration.js';
import { notifyField } from '../notifications.js';
import { objectHeadersFrom } from '../object-headers.js';
import { checkKey } from '../object-key.js';
import {
  lockField,
  lockFromHeaders,
  newVersionLock,
  requireDigestForLock,
} from '../object-lock.js';
import { quotaCheckBesideBody } from '../quota.js';
import { replicaField } from '../replica.js';
import { sendEmpty } from '../reply.js';
import { managedResponseHeaders, writeEncryption } from '../sse.js';
import { customerKeyOf, sseResponseHeaders } from '../sse-c.js';
import { versionIdHeader, versioningField } from '../versioning.js';
import { tagsFromHeader } from './tagging.js';

/** PutObject: streams the body to the key's shard; answers once it is durable. */
export async function handlePutObject(
  ctx: RequestContext,
  bucketName: string,
  key: string,
): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  checkKey(key);
  const plan = planPayload(ctx);
  const sse = writeEncryption(ctx.state, bucket, ctx.req.headers, customerKeyOf(ctx.req.headers));
  const headers = objectHeadersFrom(ctx.req);
  const tags = tagsFromHeader(ctx.req.headers['x-amz-tagging']);
  const explicitLock = lockFromHeaders(ctx.state, bucket, ctx.req.headers);
  requireDigestForLock(ctx.req.headers, explicitLock, plan.checksum.algorithm !== null);
  const lock = newVersionLock(ctx.state, bucket, explicitLock);
  const conditions = writeConditionsOf(ctx.req.headers);
  const acl = newObjectAclOf(ctx, bucket);
  const shard = shardFor(ctx.state, bucket, key);
  // No round trip before the body: the other shards' counters are read while it streams.
  const quota = quotaCheckBesideBody(ctx.state, bucket.id, shard);
  const result = await uploadBody(
    ctx,
    shard,
    {
      kind: 'PutBegin',
      bucketId: bucket.id,
      key,
      headers,
      declaredBytes: plan.declaredBytes,
      payloadSha256: plan.expect.sha256Hex !== undefined,
      part: null,
      checksumAlgorithm: plan.checksum.algorithm,
      sse,
      tags,
      ...versioningField(ctx.state.catalog, bucket),
      ...lockField(lock),
      ...acl,
      ...withConditions(conditions),
      ...notifyField(ctx, bucket),
      ...replicaField(ctx, bucket, key),
      ...storageClassField(ctx.req.headers['x-amz-storage-class']),
    },
    plan,
    quota,
  );
  assert(result.kind === 'Put', 'a PutObject stores an object');
  const info = result.info;
  const reply: Array<[string, string]> = [['etag', info.etag]];
  reply.push(
    ...checksumResponseHeaders(info.checksum),
    ...sseResponseHeaders(info.sseKeyMd5),
    ...managedResponseHeaders(ctx.state.config.s3.region, info.sseManaged, true),
    ...expirationHeader(ctx.state.catalog, bucket, info),
    ...versionIdHeader(info.versionId),
  );
  sendEmpty(ctx, 200, reply);
}

/**
 * x-amz-storage-class, passed to the shard, which places the blocks in the class's tier (issue
 * 18; validating and showing the class is the storage-class endpoint's part).
 */
export function storageClassField(raw: string | undefined): { storageClass?: string } {
  const value = raw?.trim();
  return value === undefined || value === '' ? {} : { storageClass: value };
}
