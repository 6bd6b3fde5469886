import { assert } from '../../../engine/assert.js';
import type { ShardCall, ShardClient } from '../../../engine/pool/shard-client.js';
import type { ObjectHeaders, ObjectInfo, ShardResult } from '../../../engine/protocol/messages.js';
import { newObjectAclOf } from '../acl-on-write.js';
import { requireCopySourceAccess } from '../auth.js';
import { checkPreconditions, withConditions, writeConditionsOf } from '../conditional.js';
import { type RequestContext, requireBucket, requireOtherBucket, shardFor } from '../context.js';
import { S3Error } from '../errors.js';
import { expirationHeader } from '../expiration.js';
import { notifyField } from '../notifications.js';
import { objectHeadersFrom } from '../object-headers.js';
import { checkKey, checkKeyLength } from '../object-key.js';
import { lockField, lockFromHeaders, newVersionLock } from '../object-lock.js';
import { quotaCheck } from '../quota.js';
import { type RelaySource, relayBody } from '../relay.js';
import { sendXml } from '../reply.js';
import { managedRequestOf, managedResponseHeaders, writeEncryption } from '../sse.js';
import { customerKeyOf, sseResponseHeaders } from '../sse-c.js';
import { shownStorageClass, storageClassFrom } from '../storage-class.js';
import { checkVersionId, versionIdHeader, versioningField } from '../versioning.js';
import { isoTime } from '../xml.js';
import { openObject } from './object-get.js';
import { tagsFromHeader } from './tagging.js';

/**
 * CopyObject without copying bytes: the source shard opens the object (pinning its blocks), the
 * target shard references the same blocks (hard-linking them when it is another shard), and the
 * source session is released once the target committed.
 */
export async function handleCopyObject(
  ctx: RequestContext,
  bucketName: string,
  key: string,
): Promise<void> {
  const target = requireBucket(ctx, bucketName);
  checkKey(key);
  const source = parseCopySource(ctx.req.headers['x-amz-copy-source'] ?? '');
  const sourceBucket = await requireOtherBucket(ctx, source.bucket);
  await requireCopySourceAccess(ctx, sourceBucket, source.key, source.versionId);
  const replace = metadataDirective(ctx) === 'REPLACE';
  // The copy's class is the request's (absent: STANDARD), never the source's, as on AWS.
  const storageClass = storageClassFrom(ctx.req.headers['x-amz-storage-class']);
  // COPY (the default) keeps the source's tags; REPLACE takes x-amz-tagging's (none if absent).
  const replacedTags =
    taggingDirective(ctx) === 'REPLACE' ? tagsFromHeader(ctx.req.headers['x-amz-tagging']) : null;
  const sourceKey = customerKeyOf(ctx.req.headers, true);
  const targetCustomerKey = customerKeyOf(ctx.req.headers);
  // The copy is encrypted as its own request or the target bucket's default says (never the
  // source's way, as in AWS).
  const targetKey = writeEncryption(ctx.state, target, ctx.req.headers, targetCustomerKey);
  const asksManaged = managedRequestOf(ctx.req.headers) !== null;
  const requested = replace ? objectHeadersFrom(ctx.req) : null;
  // The copy is a new version: its own lock headers or the bucket's default (never the source's).
  const lock = lockField(
    newVersionLock(ctx.state, target, lockFromHeaders(ctx.state, target, ctx.req.headers)),
  );
  const targetConditions = withConditions(writeConditionsOf(ctx.req.headers));
  // The copy's ACL is the request's (never the source's), as on AWS.
  const acl = newObjectAclOf(ctx, target);
  const sourceShard = shardFor(ctx.state, sourceBucket, source.key);
  const opened = await openObject(
    ctx,
    sourceShard,
    sourceBucket.id,
    source.key,
    'copy',
    sourceKey,
    {},
    source.versionId,
  );
  const { reqId, source: object } = opened;
  assert(object !== null, 'a copy source comes with its blocks');
  try {
    // Copying a named version onto its own key is how S3 restores an older version.
    const sameObject =
      sourceBucket.id === target.id && source.key === key && source.versionId === undefined;
    const sameEncryption =
      !asksManaged && (targetCustomerKey?.md5Base64 ?? null) === object.info.sseKeyMd5;
    // A copy onto itself that changes only the storage class is how AWS changes a class.
    const sameClass =
      shownStorageClass(storageClass.storageClass) === shownStorageClass(object.info.storageClass);
    if (sameObject && !replace && sameEncryption && sameClass) throw copyOntoItself();
    checkCopyPreconditions(ctx, object.info);
    const headers: ObjectHeaders = requested ?? object.info.headers;
    const tags = replacedTags ?? object.info.tags;
    const targetShard = shardFor(ctx.state, target, key);
    const quota = await quotaCheck(ctx.state, target.id, targetShard);
    const withQuota = quota !== undefined ? { quota } : {};
    const versioning = versioningField(ctx.state.catalog, target);
    const copied =
      object.info.sseKeyMd5 === null && object.info.sseManaged === undefined && targetKey === null
        ? await targetShard.call(
            {
              kind: 'CopyFrom',
              bucketId: target.id,
              key,
              source: object,
              headers,
              tags,
              ...withQuota,
              ...versioning,
              ...lock,
              ...acl,
              ...targetConditions,
              ...notifyField(ctx, target),
              ...storageClass,
            },
            'Put',
          )
        : await reencrypt(
            ctx,
            { shard: sourceShard, reqId, start: 0, end: object.info.bytes },
            targetShard,
            {
              kind: 'PutBegin',
              bucketId: target.id,
              key,
              headers,
              declaredBytes: object.info.bytes,
              payloadSha256: false,
              part: null,
              checksumAlgorithm: object.info.checksum?.algorithm ?? null,
              sse: targetKey,
              tags,
              ...withQuota,
              ...versioning,
              ...lock,
              ...acl,
              ...targetConditions,
              ...notifyField(ctx, target, 'Copy'),
              ...storageClass,
            },
          );
    sendXml(
      ctx,
      'CopyObjectResult',
      { LastModified: isoTime(copied.info.lastModifiedMs), ETag: copied.info.etag },
      [
        ...sseResponseHeaders(copied.info.sseKeyMd5),
        ...managedResponseHeaders(ctx.state.config.s3.region, copied.info.sseManaged, true),
        ...expirationHeader(ctx.state.catalog, target, copied.info),
        ...versionIdHeader(copied.info.versionId),
        ...(object.info.versionId !== undefined
          ? ([['x-amz-copy-source-version-id', object.info.versionId]] as Array<[string, string]>)
          : []),
      ],
    );
  } finally {
    sourceShard.cancel(reqId);
  }
}

function checkCopyPreconditions(ctx: RequestContext, info: ObjectInfo): void {
  const h = ctx.req.headers;
  checkPreconditions(
    info,
    {
      ifMatch: h['x-amz-copy-source-if-match'],
      ifNoneMatch: h['x-amz-copy-source-if-none-match'],
      ifModifiedSince: h['x-amz-copy-source-if-modified-since'],
      ifUnmodifiedSince: h['x-amz-copy-source-if-unmodified-since'],
    },
    true,
  );
}

/**
 * A copy from or to an SSE-C object cannot share blocks (they hold ciphertext under one key):
 * the bytes stream through, decrypted by the source shard and encrypted by the target's.
 */
async function reencrypt(
  ctx: RequestContext,
  source: RelaySource,
  target: ShardClient,
  begin: ShardCall,
): Promise<Extract<ShardResult, { kind: 'Put' }>> {
  const result = await relayBody(ctx, source, target, begin);
  assert(result.kind === 'Put', 'a copy stores an object');
  return result;
}

/** `x-amz-copy-source`: "bucket/key" or "/bucket/key", URL-encoded, maybe with ?versionId=. */
export function parseCopySource(header: string): {
  bucket: string;
  key: string;
  versionId?: string;
} {
  const [path = '', query] = header.split('?', 2);
  const versionId = query === undefined ? undefined : /^versionId=(.*)$/.exec(query)?.[1];
  if (query !== undefined && versionId === undefined) {
    throw new S3Error('InvalidArgument', 'Unsupported copy source parameter.', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: header,
    });
  }
  checkVersionId(versionId, 'x-amz-copy-source');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding.', {
      ArgumentName: 'x-amz-copy-source',
    });
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      { ArgumentName: 'x-amz-copy-source' },
    );
  }
  const key = decoded.slice(slash + 1);
  checkKeyLength(key);
  const bucket = decoded.slice(0, slash);
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId };
}

function metadataDirective(ctx: RequestContext): 'COPY' | 'REPLACE' {
  const value = ctx.req.headers['x-amz-metadata-directive'] ?? 'COPY';
  if (value !== 'COPY' && value !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', {
      ArgumentName: 'x-amz-metadata-directive',
      ArgumentValue: value,
    });
  }
  return value;
}

function taggingDirective(ctx: RequestContext): 'COPY' | 'REPLACE' {
  const value = ctx.req.headers['x-amz-tagging-directive'] ?? 'COPY';
  if (value !== 'COPY' && value !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', {
      ArgumentName: 'x-amz-tagging-directive',
      ArgumentValue: value,
    });
  }
  return value;
}

function copyOntoItself(): S3Error {
  return new S3Error(
    'InvalidRequest',
    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
  );
}
