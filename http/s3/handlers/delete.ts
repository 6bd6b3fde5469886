import { LIMITS } from '../../../engine/limits.js';
import { shardOf } from '../../../engine/pool/placement.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import { S3Error } from '../errors.js';
import { checkKeyLength } from '../object-key.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { parseXml, textOf, type XmlNode, type XmlValue } from '../xml.js';

/**
 * DeleteObject: 204 whether or not the key existed, as S3 answers. With If-Match (2025 API;
 * "*" matches any object), only the object with that ETag goes: 412 for another, 404 for none.
 */
export async function handleDeleteObject(
  ctx: RequestContext,
  bucketName: string,
  key: string,
): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  const ifMatch = ctx.req.headers['if-match'];
  await shardFor(ctx.state, bucket, key).call(
    {
      kind: 'DeleteObjects',
      bucketId: bucket.id,
      keys: [key],
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    },
    'Deleted',
  );
  sendEmpty(ctx, 204);
}

/** DeleteObjects: up to 1000 keys, split by shard and deleted in parallel. */
export async function handleDeleteObjects(ctx: RequestContext, bucketName: string): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  const body = await readSignedBody(ctx);
  // S3 requires Content-MD5 or a checksum here, so a corrupted body cannot delete the wrong keys.
  requireBodyDigest(ctx.req.headers, body);
  const request = parseXml(body.toString('utf8'), 'Delete');
  const keys = objectKeys(request['Object']);
  const quiet = textOf(request['Quiet'])?.trim().toLowerCase() === 'true';
  const byShard = new Map<number, string[]>();
  for (const key of keys) {
    const shardId = shardOf(bucket.id, key, ctx.state.pool.size);
    byShard.set(shardId, [...(byShard.get(shardId) ?? []), key]);
  }
  await Promise.all(
    [...byShard].map(([shardId, shardKeys]) =>
      ctx.state.pool
        .client(shardId)
        .call({ kind: 'DeleteObjects', bucketId: bucket.id, keys: shardKeys }, 'Deleted'),
    ),
  );
  const result: XmlNode = quiet ? {} : { Deleted: keys.map((key) => ({ Key: key })) };
  sendXml(ctx, 'DeleteResult', result);
}

export function objectKeys(objects: XmlValue): string[] {
  const list = Array.isArray(objects) ? objects : [];
  if (list.length === 0 || list.length > LIMITS.deleteObjectsKeysMax)
    throw new S3Error('MalformedXML');
  return list.map((entry) => {
    const key =
      typeof entry === 'object' && !Array.isArray(entry) ? textOf(entry['Key']) : undefined;
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    checkKeyLength(key);
    return key;
  });
}
