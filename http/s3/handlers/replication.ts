import { LIMITS } from '../../../engine/limits.js';
import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import {
  destinationBucketOf,
  parseReplicationConfiguration,
  replicationXml,
  type StoredReplication,
} from '../replication-config.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { versioningOf } from '../versioning.js';

/**
 * PutBucketReplication: replaces the bucket's replication configuration. As on AWS the source
 * must have versioning Enabled, and every destination must be a bucket hangar can reach: one an
 * operator-registered remote serves (engine/catalog/remotes.ts), else InvalidRequest as AWS
 * answers for a destination bucket that does not exist.
 */
export async function handlePutBucketReplication(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx, LIMITS.xmlBodyBytesMax);
  const stored = parseReplicationConfiguration(body.toString('utf8'));
  if (versioningOf(ctx.state.catalog, bucket) !== 'Enabled') {
    throw new S3Error(
      'InvalidRequest',
      "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
    );
  }
  for (const rule of stored.rules) {
    const destination = destinationBucketOf(rule.destination.bucket);
    if (ctx.state.catalog.remotes.serving(destination) === undefined) {
      throw new S3Error('InvalidRequest', 'Destination bucket must exist.', {
        ArgumentName: 'Bucket',
        ArgumentValue: rule.destination.bucket,
      });
    }
  }
  await ctx.state.catalog.putBucketConfig(bucket.id, 'replication', stored);
  sendEmpty(ctx, 200);
}

/** GetBucketReplication: the stored configuration, or ReplicationConfigurationNotFoundError. */
export function handleGetBucketReplication(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const stored = ctx.state.catalog.getBucketConfig<StoredReplication>(bucket, 'replication');
  if (stored === undefined) {
    throw new S3Error('ReplicationConfigurationNotFoundError', undefined, { BucketName: name });
  }
  sendXml(ctx, 'ReplicationConfiguration', replicationXml(stored));
}

/** DeleteBucketReplication: 204 whether or not there was one (AWS's answer). */
export async function handleDeleteBucketReplication(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'replication');
  sendEmpty(ctx, 204);
}
