import type { PublicAccessBlock } from '../../../engine/catalog/access.js';
import { updateBucketAccess, withoutUndefined } from '../../access/access-record.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { accessOf, type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { parseXml, textOf, type XmlValue } from '../xml.js';

/** The four flags in AWS's element order, with their field names. */
const FLAGS: ReadonlyArray<readonly [string, keyof PublicAccessBlock]> = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
];

/**
 * PutPublicAccessBlock: replaces the bucket's four flags (an absent flag is false, as in AWS);
 * requires Content-MD5 or a checksum.
 * The flags take effect on the next request: the decision reads them with the access record.
 */
export async function handlePutPublicAccessBlock(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  const document = parseXml(body.toString('utf8'), 'PublicAccessBlockConfiguration');
  const block = parsePublicAccessBlock(document);
  await updateBucketAccess(ctx.state.catalog, bucket.id, (current) => ({
    ...current,
    publicAccessBlock: block,
  }));
  sendEmpty(ctx, 200);
}

/** The flags of a PublicAccessBlockConfiguration document; MalformedXML for anything else. */
export function parsePublicAccessBlock(
  document: Readonly<Record<string, XmlValue>>,
): PublicAccessBlock {
  for (const field of Object.keys(document)) {
    if (!FLAGS.some(([element]) => element === field)) throw new S3Error('MalformedXML');
  }
  const flag = (element: string): boolean => {
    const value = textOf(document[element]);
    if (value === undefined) return false;
    const normalized = value.trim().toLowerCase();
    if (normalized !== 'true' && normalized !== 'false') throw new S3Error('MalformedXML');
    return normalized === 'true';
  };
  return {
    blockPublicAcls: flag('BlockPublicAcls'),
    ignorePublicAcls: flag('IgnorePublicAcls'),
    blockPublicPolicy: flag('BlockPublicPolicy'),
    restrictPublicBuckets: flag('RestrictPublicBuckets'),
  };
}

/** GetPublicAccessBlock: the flags, or NoSuchPublicAccessBlockConfiguration. */
export function handleGetPublicAccessBlock(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const block = accessOf(ctx, bucket).publicAccessBlock;
  if (block === undefined) {
    throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: name });
  }
  sendXml(
    ctx,
    'PublicAccessBlockConfiguration',
    Object.fromEntries(FLAGS.map(([element, field]) => [element, String(block[field])])),
  );
}

/** DeletePublicAccessBlock: 204 whether or not there was one. */
export async function handleDeletePublicAccessBlock(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await updateBucketAccess(ctx.state.catalog, bucket.id, (current) =>
    withoutUndefined({ ...current, publicAccessBlock: undefined }),
  );
  sendEmpty(ctx, 204);
}
