import { LIMITS } from '../../../engine/limits.js';
import { deleteBucketPolicy, policyStatusOf, putBucketPolicy } from '../../access/bucket-policy.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { accessOf, type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';

/**
 * PutBucketPolicy: validates and stores the JSON policy (204, as AWS answers). A body over the
 * policy bound is MalformedPolicy, the error AWS gives an oversized policy. Content-MD5 or a
 * checksum is required, as for every configuration PUT the SDKs mark requestChecksumRequired.
 * x-amz-confirm-remove-self-bucket-access is accepted and ignored: the root key can always
 * change the policy again (decide.ts), so no one locks the bucket for good.
 */
export async function handlePutBucketPolicy(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readPolicyBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  await putBucketPolicy(ctx.state.catalog, bucket.id, body.toString('utf8'));
  sendEmpty(ctx, 204);
}

/**
 * The policy's bytes. A declared length over the bound is refused before a byte is read, so the
 * client gets its MalformedPolicy (a body found too long while reading closes the connection).
 */
async function readPolicyBody(ctx: RequestContext): Promise<Buffer> {
  const headers = ctx.req.headers;
  const declared = Number(
    headers['x-amz-decoded-content-length'] ?? headers['content-length'] ?? '0',
  );
  if (declared > LIMITS.bucketPolicyBytesMax) throw policyTooLarge();
  try {
    return await readSignedBody(ctx, LIMITS.bucketPolicyBytesMax);
  } catch (error) {
    if (error instanceof S3Error && error.code === 'MaxMessageLengthExceeded') {
      throw policyTooLarge();
    }
    throw error;
  }
}

function policyTooLarge(): S3Error {
  return new S3Error('MalformedPolicy', 'Policy exceeds the maximum allowed document size.');
}

/** GetBucketPolicy: the policy exactly as it was put, or NoSuchBucketPolicy. */
export function handleGetBucketPolicy(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const policy = accessOf(ctx, bucket).policy;
  if (policy === undefined) {
    throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: name });
  }
  ctx.res.send(200, [['content-type', 'application/json']], policy.text);
}

/** DeleteBucketPolicy: 204 whether or not the bucket had one. */
export async function handleDeleteBucketPolicy(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await deleteBucketPolicy(ctx.state.catalog, bucket.id);
  sendEmpty(ctx, 204);
}

/** GetBucketPolicyStatus: whether the policy makes the bucket public (no policy: not public). */
export function handleGetBucketPolicyStatus(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const access = accessOf(ctx, bucket);
  sendXml(ctx, 'PolicyStatus', { IsPublic: String(policyStatusOf(access).isPublic) });
}
