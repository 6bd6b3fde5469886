import { LIMITS } from '../../../engine/limits.js';
import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { type BucketEncryption, bucketEncryptionOf, managedAlgorithmOf } from '../sse.js';
import { checkElements, elementOf, parseXml, textOf, type XmlNode } from '../xml.js';

/**
 * Put/Get/DeleteBucketEncryption: a bucket's default encryption (SSE-S3 or SSE-KMS), applied by
 * every write that brings no encryption headers of its own (http/s3/sse.ts writeEncryption),
 * never to an SSE-C write. Stored as the catalog's 'encryption' bucket configuration.
 */
export async function handlePutBucketEncryption(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  const document = parseXml(body.toString('utf8'), 'ServerSideEncryptionConfiguration');
  const config = parseBucketEncryption(document);
  await ctx.state.catalog.putBucketConfig(bucket.id, 'encryption', config);
  sendEmpty(ctx, 200);
}

/** The one Rule of a ServerSideEncryptionConfiguration (AWS takes exactly one). */
export function parseBucketEncryption(document: XmlNode): BucketEncryption {
  checkElements(document, ['Rule']);
  // The parser lists Rule elements (lifecycle documents repeat them); AWS takes exactly one.
  const rules = Array.isArray(document.Rule) ? document.Rule : [document.Rule];
  if (rules.length !== 1 || rules[0] === undefined) throw new S3Error('MalformedXML');
  const rule = elementOf(rules[0]);
  checkElements(rule, ['ApplyServerSideEncryptionByDefault', 'BucketKeyEnabled']);
  if (rule.ApplyServerSideEncryptionByDefault === undefined) throw new S3Error('MalformedXML');
  const apply = elementOf(rule.ApplyServerSideEncryptionByDefault);
  checkElements(apply, ['SSEAlgorithm', 'KMSMasterKeyID']);
  const algorithm = managedAlgorithmOf(
    textOf(apply.SSEAlgorithm)?.trim(),
    () => new S3Error('MalformedXML'),
  );
  const keyId = textOf(apply.KMSMasterKeyID)?.trim();
  if (keyId !== undefined && algorithm === 'AES256') {
    throw new S3Error(
      'InvalidArgument',
      'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms',
      { ArgumentName: 'ApplyServerSideEncryptionByDefault' },
    );
  }
  if (keyId !== undefined && (keyId === '' || keyId.length > LIMITS.kmsKeyRefBytesMax)) {
    throw new S3Error('InvalidArgument', 'Invalid keyId', { ArgumentName: 'KMSMasterKeyID' });
  }
  const bucketKeyText = textOf(rule.BucketKeyEnabled)?.trim().toLowerCase();
  if (bucketKeyText !== undefined && bucketKeyText !== 'true' && bucketKeyText !== 'false') {
    throw new S3Error('MalformedXML');
  }
  return {
    algorithm,
    ...(keyId !== undefined ? { kmsKeyId: keyId } : {}),
    bucketKey: bucketKeyText === 'true',
  };
}

/** GetBucketEncryption: the default, or 404 ServerSideEncryptionConfigurationNotFoundError. */
export function handleGetBucketEncryption(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const config = bucketEncryptionOf(ctx.state.catalog, bucket);
  if (config === undefined) {
    throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, {
      BucketName: name,
    });
  }
  sendXml(ctx, 'ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: config.algorithm,
        ...(config.kmsKeyId !== undefined ? { KMSMasterKeyID: config.kmsKeyId } : {}),
      },
      BucketKeyEnabled: String(config.bucketKey),
    },
  });
}

/** DeleteBucketEncryption: 204 whether or not there was one; writes are then unencrypted. */
export async function handleDeleteBucketEncryption(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'encryption');
  sendEmpty(ctx, 204);
}
