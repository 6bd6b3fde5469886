import type { ObjectOwnership } from '../../../engine/catalog/access.js';
import { updateBucketAccess, withoutUndefined } from '../../access/access-record.js';
import { isOwnerOnly } from '../../access/acl.js';
import { bucketOwnerId } from '../../access/principal.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { accessOf, type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { parseXml, textOf } from '../xml.js';

/**
 * Put/Get/DeleteBucketOwnershipControls: the bucket's one Object Ownership rule, the
 * `ownership` of its access record. BucketOwnerEnforced turns ACLs off (and the bucket owner
 * owns every object); BucketOwnerPreferred gives the bucket owner the objects written with
 * bucket-owner-full-control; ObjectWriter (also: no rule) leaves each object to its writer.
 */

const OWNERSHIPS: ReadonlySet<string> = new Set([
  'BucketOwnerEnforced',
  'BucketOwnerPreferred',
  'ObjectWriter',
]);

/** `<OwnershipControls><Rule><ObjectOwnership>…</ObjectOwnership></Rule></OwnershipControls>`. */
export function parseOwnershipControls(text: string): ObjectOwnership {
  const doc = parseXml(text, 'OwnershipControls');
  const rules = doc['Rule'];
  if (!Array.isArray(rules) || rules.length !== 1) throw new S3Error('MalformedXML');
  const rule = rules[0];
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw new S3Error('MalformedXML');
  }
  const value = textOf(rule['ObjectOwnership']);
  if (value === undefined || !OWNERSHIPS.has(value)) throw new S3Error('MalformedXML');
  return value as ObjectOwnership;
}

/** The ObjectOwnership a CreateBucket's `x-amz-object-ownership` header names, if any. */
export function ownershipHeaderOf(
  headers: Readonly<Record<string, string>>,
): ObjectOwnership | undefined {
  const value = headers['x-amz-object-ownership'];
  if (value === undefined) return undefined;
  if (!OWNERSHIPS.has(value)) {
    throw new S3Error('InvalidArgument', 'Invalid x-amz-object-ownership header', {
      ArgumentName: 'x-amz-object-ownership',
      ArgumentValue: value,
    });
  }
  return value as ObjectOwnership;
}

export async function handlePutBucketOwnershipControls(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  const ownership = parseOwnershipControls(body.toString('utf8'));
  const owner = bucketOwnerId(bucket);
  await updateBucketAccess(ctx.state.catalog, bucket.id, (current) => {
    // ACLs off with an ACL that grants others would silently revoke those grants: AWS refuses.
    if (
      ownership === 'BucketOwnerEnforced' &&
      current.acl !== undefined &&
      !isOwnerOnly(current.acl, owner)
    ) {
      throw new S3Error('InvalidBucketAclWithObjectOwnership');
    }
    return { ...current, ownership };
  });
  sendEmpty(ctx, 200);
}

export function handleGetBucketOwnershipControls(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const ownership = accessOf(ctx, bucket).ownership;
  if (ownership === undefined) {
    throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: name });
  }
  sendXml(ctx, 'OwnershipControls', { Rule: { ObjectOwnership: ownership } });
}

export async function handleDeleteBucketOwnershipControls(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await updateBucketAccess(ctx.state.catalog, bucket.id, (current) =>
    withoutUndefined({ ...current, ownership: undefined }),
  );
  sendEmpty(ctx, 204);
}
