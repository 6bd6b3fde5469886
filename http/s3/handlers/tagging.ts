import { LIMITS } from '../../../engine/limits.js';
import type { Tag } from '../../../engine/protocol/messages.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import type { VersionedObjectEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { notifyField } from '../notifications.js';
import { replicatedTagsNotify } from '../replica.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { versionIdField, versionIdHeader } from '../versioning.js';
import { parseXml, textOf, type XmlNode, type XmlValue } from '../xml.js';

/**
 * S3 tagging: an object's tag set (at most 10 tags, stored in its metadata record on its shard)
 * and a bucket's (at most 50, a catalog configuration document). Both follow the rules of AWS's
 * user-defined tags: keys of 1..128 and values of 0..256 UTF-16 code units (S3 stores tags as
 * UTF-16), made of Unicode letters, numbers and spaces and `_ . : / = + - @`; keys unique; no
 * key in the reserved `aws:` prefix.
 */

export type TagScope = 'object' | 'bucket';

const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Checks a tag set against S3's rules; returns it sorted by key (as S3 lists tags). */
export function checkTags(tags: readonly Tag[], scope: TagScope): Tag[] {
  if (tags.length > (scope === 'object' ? LIMITS.objectTagsMax : LIMITS.bucketTagsMax)) {
    // AWS answers too many object tags with BadRequest (not InvalidTag), bucket ones with InvalidTag.
    throw scope === 'object'
      ? new S3Error('BadRequest', `Object tags cannot be greater than ${LIMITS.objectTagsMax}`)
      : new S3Error(
          'InvalidTag',
          `Bucket tag count cannot be greater than ${LIMITS.bucketTagsMax}`,
        );
  }
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (seen.has(key)) {
      throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', {
        TagKey: key,
      });
    }
    seen.add(key);
    if (key.length === 0 || key.length > LIMITS.tagKeyUnitsMax || !TAG_CHARACTERS.test(key)) {
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: key });
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new S3Error('InvalidTag', reservedPrefixMessage(key, scope), { TagKey: key });
    }
    if (value.length > LIMITS.tagValueUnitsMax || !TAG_CHARACTERS.test(value)) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', {
        TagKey: key,
        TagValue: value,
      });
    }
  }
  return [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function reservedPrefixMessage(key: string, scope: TagScope): string {
  if (!key.startsWith('aws:')) {
    return 'Invalid Tag. Tags cannot start with "aws:"(case insensitive) unless they are System Tags that start with "aws:"(case sensitive)';
  }
  return scope === 'object'
    ? 'Your TagKey cannot be prefixed with aws:'
    : 'System tags cannot be added/updated by requester';
}

/**
 * The `x-amz-tagging` header of PutObject, CopyObject and CreateMultipartUpload: the tag set as
 * a URL query (`k1=v1&k2=v2`, form-encoded: `+` is a space; a key without `=` has the empty
 * value). Absent or empty: no tags.
 */
export function tagsFromHeader(header: string | undefined): Tag[] {
  if (header === undefined || header === '') return [];
  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const pair of header.split('&')) {
    if (pair === '') continue;
    const parts = pair.split('=');
    if (parts.length > 2) throw invalidTaggingHeader(header);
    const key = decodeQueryComponent(parts[0] ?? '', header);
    const value = decodeQueryComponent(parts[1] ?? '', header);
    if (seen.has(key)) throw invalidTaggingHeader(header);
    seen.add(key);
    tags.push({ key, value });
  }
  return checkTags(tags, 'object');
}

function decodeQueryComponent(text: string, header: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw invalidTaggingHeader(header);
  }
}

function invalidTaggingHeader(header: string): S3Error {
  return new S3Error(
    'InvalidArgument',
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    { ArgumentName: 'x-amz-tagging', ArgumentValue: header },
  );
}

/** `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`, checked for `scope`. */
export function tagsFromXml(text: string, scope: TagScope): Tag[] {
  const doc = parseXml(text, 'Tagging');
  const set = doc['TagSet'];
  if (typeof set === 'string' && set.trim() === '') return [];
  if (typeof set !== 'object' || Array.isArray(set)) throw new S3Error('MalformedXML');
  const list: XmlValue[] = Array.isArray(set['Tag']) ? set['Tag'] : [];
  const tags = list.map((node): Tag => {
    if (typeof node !== 'object' || Array.isArray(node)) throw new S3Error('MalformedXML');
    const key = textOf(node['Key']);
    const value = textOf(node['Value']);
    if (key === undefined || value === undefined) throw new S3Error('MalformedXML');
    return { key, value };
  });
  return checkTags(tags, scope);
}

function taggingDocument(tags: readonly Tag[]): XmlNode {
  return { TagSet: { Tag: tags.map((tag) => ({ Key: tag.key, Value: tag.value })) } };
}

/** The `x-amz-tagging-count` header of GET/HEAD, for an object that has tags. */
export function taggingCountHeader(tags: readonly Tag[]): Array<[string, string]> {
  return tags.length === 0 ? [] : [['x-amz-tagging-count', String(tags.length)]];
}

async function readTagging(ctx: RequestContext, scope: TagScope): Promise<Tag[]> {
  const body = await readSignedBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  return tagsFromXml(body.toString('utf8'), scope);
}

// ---- object tagging ----

/** PutObjectTagging: replaces the object's tag set (an empty set removes it). */
export async function handlePutObjectTagging(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  const tags = await readTagging(ctx, 'object');
  const stored = await shardFor(ctx.state, bucket, e.key).call(
    {
      kind: 'SetTags',
      bucketId: bucket.id,
      key: e.key,
      tags,
      ...version,
      ...replicatedTagsNotify(ctx, bucket, e.key, notifyField(ctx, bucket)),
    },
    'Tags',
  );
  sendEmpty(ctx, 200, versionIdHeader(stored.versionId));
}

/** GetObjectTagging: the object's tag set, empty when it has none. */
export async function handleGetObjectTagging(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  const { tags, versionId } = await shardFor(ctx.state, bucket, e.key).call(
    { kind: 'GetTags', bucketId: bucket.id, key: e.key, ...version },
    'Tags',
  );
  sendXml(ctx, 'Tagging', taggingDocument(tags), versionIdHeader(versionId));
}

/** DeleteObjectTagging: removes the object's tag set (204, tags or not). */
export async function handleDeleteObjectTagging(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  const stored = await shardFor(ctx.state, bucket, e.key).call(
    {
      kind: 'SetTags',
      bucketId: bucket.id,
      key: e.key,
      tags: [],
      ...version,
      ...replicatedTagsNotify(ctx, bucket, e.key, notifyField(ctx, bucket)),
    },
    'Tags',
  );
  sendEmpty(ctx, 204, versionIdHeader(stored.versionId));
}

// ---- bucket tagging ----

/** PutBucketTagging: replaces the bucket's tag set; an empty one removes it. AWS answers 204. */
export async function handlePutBucketTagging(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const tags = await readTagging(ctx, 'bucket');
  if (tags.length === 0) await ctx.state.catalog.deleteBucketConfig(bucket.id, 'tagging');
  else await ctx.state.catalog.putBucketConfig(bucket.id, 'tagging', tags);
  sendEmpty(ctx, 204);
}

/** GetBucketTagging: the bucket's tag set; NoSuchTagSet when it has none. */
export function handleGetBucketTagging(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const tags = ctx.state.catalog.getBucketConfig<Tag[]>(bucket.id, 'tagging');
  if (tags === undefined || tags.length === 0) {
    throw new S3Error('NoSuchTagSet', undefined, { BucketName: name });
  }
  sendXml(ctx, 'Tagging', taggingDocument(tags));
}

export async function handleDeleteBucketTagging(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  await ctx.state.catalog.deleteBucketConfig(bucket.id, 'tagging');
  sendEmpty(ctx, 204);
}
