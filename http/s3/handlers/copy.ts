import type { ObjectHeaders } from '../../../engine/protocol/messages.js';
import { mayAccess } from '../auth.js';
import { checkPreconditions } from '../conditional.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import { S3Error } from '../errors.js';
import { objectHeadersFrom } from '../object-headers.js';
import { sendXml } from '../reply.js';
import { isoTime } from '../xml.js';
import { openObject } from './object-get.js';
import { checkKey } from './object-put.js';

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
  const sourceBucket = requireBucket(ctx, source.bucket);
  if (!mayAccess(ctx.state, ctx.key, sourceBucket, 'read')) throw new S3Error('AccessDenied');
  const replace = metadataDirective(ctx) === 'REPLACE';
  if (!replace && sourceBucket.id === target.id && source.key === key) throw copyOntoItself();
  const requested = replace ? objectHeadersFrom(ctx.req) : null;
  const sourceShard = shardFor(ctx.state, sourceBucket, source.key);
  const { reqId, object } = await openObject(ctx, sourceShard, sourceBucket.id, source.key, true);
  try {
    const h = ctx.req.headers;
    checkPreconditions(
      object.info,
      {
        ifMatch: h['x-amz-copy-source-if-match'],
        ifNoneMatch: h['x-amz-copy-source-if-none-match'],
        ifModifiedSince: h['x-amz-copy-source-if-modified-since'],
        ifUnmodifiedSince: h['x-amz-copy-source-if-unmodified-since'],
      },
      true,
    );
    const headers: ObjectHeaders = requested ?? object.info.headers;
    const copied = await shardFor(ctx.state, target, key).call(
      { kind: 'CopyFrom', bucketId: target.id, key, source: object, headers },
      'Put',
    );
    sendXml(ctx, 'CopyObjectResult', {
      LastModified: isoTime(copied.info.lastModifiedMs),
      ETag: copied.info.etag,
    });
  } finally {
    sourceShard.cancel(reqId);
  }
}

/** `x-amz-copy-source`: "bucket/key" or "/bucket/key", URL-encoded, maybe with ?versionId=. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const [path = '', query] = header.split('?', 2);
  if (query !== undefined && !/^versionId=(null)?$/.test(query)) {
    throw new S3Error(
      'NotImplemented',
      'Copying a specific version is not supported: this bucket is not versioned.',
    );
  }
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
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
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

function copyOntoItself(): S3Error {
  return new S3Error(
    'InvalidRequest',
    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
  );
}
