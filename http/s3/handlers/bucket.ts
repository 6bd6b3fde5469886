import { type BucketAccess, NEW_BUCKET_ACCESS } from '../../../engine/catalog/access.js';
import { validateBucketName } from '../../../engine/catalog/bucket-name.js';
import { CatalogError } from '../../../engine/catalog/catalog.js';
import { aclOf, isDefaultAcl, isOwnerOnly, requestedAclOf } from '../../access/acl.js';
import { canonicalIdOf } from '../../access/principal.js';
import { requireAclAccepted } from '../acl-on-write.js';
import { signingKey } from '../auth.js';
import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import type { ObjectLockConfig } from '../object-lock.js';
import { ownerNamesOf } from '../owners.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { isoTime, parseXml, textOf } from '../xml.js';
import { ownershipHeaderOf } from './ownership.js';

/**
 * ListBuckets: the buckets the key holds any grant on (all of them for the root key), once per
 * global alias (as Garage lists them).
 */
export function handleListBuckets(ctx: RequestContext): void {
  const { catalog } = ctx.state;
  const key = signingKey(ctx);
  const visible = catalog
    .listBucketAliases()
    .filter(
      (bucket) =>
        key.root ||
        bucket.ownerKey === key.accessKeyId ||
        Object.values(catalog.getGrant(bucket.id, key.accessKeyId)).some(Boolean),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  sendXml(ctx, 'ListAllMyBucketsResult', {
    // The requester: each key is its own canonical user, owning what it lists (owners.ts).
    Owner: ownerNamesOf(ctx).node(canonicalIdOf(key)),
    Buckets: {
      Bucket: visible.map((bucket) => ({
        Name: bucket.name,
        CreationDate: isoTime(bucket.createdMs),
      })),
    },
  });
}

/** CreateBucket, with an optional CreateBucketConfiguration naming the region. */
export async function handleCreateBucket(ctx: RequestContext, name: string): Promise<void> {
  const invalid = validateBucketName(name);
  if (invalid !== null)
    throw new S3Error('InvalidBucketName', `The specified bucket is not valid: ${invalid}`, {
      BucketName: name,
    });
  const location = await readLocationConstraint(ctx);
  const region = ctx.state.config.s3.region;
  if (location !== '' && location !== region) {
    throw new S3Error(
      'IllegalLocationConstraintException',
      `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  const existing = ctx.state.catalog.getBucket(name);
  if (existing !== undefined) throw alreadyExists(ctx, name);
  const creator = signingKey(ctx);
  const access = newBucketAccess(ctx, canonicalIdOf(creator));
  try {
    await ctx.state.catalog.createBucket(name, {
      location,
      ownerKey: creator.root ? undefined : creator.accessKeyId,
      access,
    });
  } catch (error) {
    if (error instanceof CatalogError && error.reason === 'BucketExists')
      throw alreadyExists(ctx, name);
    throw error;
  }
  if (objectLockRequested(ctx)) await enableObjectLock(ctx, name);
  sendEmpty(ctx, 200, [['location', `/${name}`]]);
}

/**
 * A new bucket's access record: AWS's defaults (NEW_BUCKET_ACCESS), with the ownership of an
 * `x-amz-object-ownership` header and the ACL of `x-amz-acl` / `x-amz-grant-*`. An ACL beyond
 * the owner's own on a bucket with ACLs disabled is AWS's InvalidBucketAclWithObjectOwnership;
 * a public one under the default BlockPublicAcls is AccessDenied.
 */
function newBucketAccess(ctx: RequestContext, owner: string): BucketAccess {
  const ownership = ownershipHeaderOf(ctx.req.headers) ?? 'BucketOwnerEnforced';
  const access: BucketAccess = { ...NEW_BUCKET_ACCESS, ownership };
  const requested = requestedAclOf(ctx.req.headers, ctx.state.catalog);
  if (requested === undefined) return access;
  const acl = aclOf(requested, owner, owner, 'bucket');
  if (ownership === 'BucketOwnerEnforced' && !isOwnerOnly(acl, owner)) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  requireAclAccepted(access, acl, owner);
  return isDefaultAcl(acl, owner) ? access : { ...access, acl };
}

function objectLockRequested(ctx: RequestContext): boolean {
  const header = ctx.req.headers['x-amz-bucket-object-lock-enabled'];
  return header?.trim().toLowerCase() === 'true';
}

/**
 * `x-amz-bucket-object-lock-enabled: true`: versioning Enabled first, then object lock, so no
 * moment sees a lock-enabled bucket that is not versioned (object lock needs versions).
 */
async function enableObjectLock(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.putBucketConfig(bucket.id, 'versioning', 'Enabled');
  const config: ObjectLockConfig = { enabled: true };
  await ctx.state.catalog.putBucketConfig(bucket.id, 'object-lock', config);
}

function alreadyExists(ctx: RequestContext, name: string): S3Error {
  const bucket = ctx.state.catalog.getBucket(name);
  const key = signingKey(ctx);
  const owned =
    bucket !== undefined &&
    (key.root ||
      bucket.ownerKey === key.accessKeyId ||
      ctx.state.catalog.getGrant(bucket.id, key.accessKeyId).owner);
  return new S3Error(owned ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', undefined, {
    BucketName: name,
  });
}

async function readLocationConstraint(ctx: RequestContext): Promise<string> {
  const body = await readSignedBody(ctx);
  if (body.length === 0) return '';
  const config = parseXml(body.toString('utf8'), 'CreateBucketConfiguration');
  const location = textOf(config['LocationConstraint']) ?? '';
  return location.trim();
}

/**
 * DeleteBucket: only an empty bucket (every shard agrees) is removed. On a bucket with other
 * global aliases it removes just the alias named, empty or not (Garage's semantics).
 */
export async function handleDeleteBucket(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  if (ctx.state.catalog.aliasesOf(bucket.id).length > 1) {
    try {
      await ctx.state.catalog.removeBucketAlias(bucket.id, name);
      sendEmpty(ctx, 204);
      return;
    } catch (error) {
      // Another alias went away meanwhile: this is the last one, so delete the bucket.
      if (!(error instanceof CatalogError && error.reason === 'LastAlias')) throw error;
    }
  }
  if (await ctx.state.pool.holdsObjects(bucket.id))
    throw new S3Error('BucketNotEmpty', undefined, { BucketName: name });
  await ctx.state.catalog.deleteBucket(name);
  sendEmpty(ctx, 204);
  // Uploads still in progress die with the bucket; their parts' blocks are freed now.
  void ctx.state.pool.purgeDeadBuckets([...ctx.state.catalog.liveBucketIds()], (error) =>
    ctx.state.logger.error({ err: error }, 'purging a deleted bucket failed'),
  );
}

export function handleHeadBucket(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  sendEmpty(ctx, 200, [
    ['x-amz-bucket-region', bucket.location || ctx.state.config.s3.region],
    ['x-amz-access-point-alias', 'false'],
  ]);
}

/** GetBucketLocation: empty for the default region us-east-1, as AWS answers. */
export function handleGetBucketLocation(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const region = bucket.location || ctx.state.config.s3.region;
  sendXml(ctx, 'LocationConstraint', { '#text': region === 'us-east-1' ? '' : region });
}
