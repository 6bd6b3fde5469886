import { assert } from '../../../engine/assert.js';
import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import { LIMITS } from '../../../engine/limits.js';
import type { ListEntry } from '../../../engine/protocol/messages.js';
import type { RequestContext } from '../context.js';
import { requireBucket } from '../context.js';
import type { ListObjectsEndpoint, ListObjectsV2Endpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { mergeShardPages } from '../merge.js';
import { ownerOf, sendXml } from '../reply.js';
import { isoTime, type XmlNode } from '../xml.js';

interface Page {
  entries: ListEntry[];
  truncated: boolean;
}

/**
 * One listing page over every shard. Each shard returns its first `limit` entries after `after`
 * (keys, and common prefixes it rolled up) in UTF-8 byte order; the first `limit` distinct
 * entries of the k-way merge are exactly the page, because no shard can contribute an entry it
 * did not return ahead of one it did. A prefix reported by several shards counts once.
 */
async function listPage(
  ctx: RequestContext,
  bucket: BucketRecord,
  prefix: string,
  delimiter: string,
  requestedAfter: string,
  limit: number,
): Promise<Page> {
  if (limit === 0) return { entries: [], truncated: false };
  // Compared in UTF-8 byte order (the listing order), not JS's UTF-16 order: a start point past
  // every key under the prefix lists nothing, one before them all lists from the prefix.
  let after = requestedAfter;
  if (after !== '' && !after.startsWith(prefix)) {
    if (Buffer.compare(Buffer.from(after, 'utf8'), Buffer.from(prefix, 'utf8')) > 0)
      return { entries: [], truncated: false };
    after = '';
  }
  const pages = await ctx.state.pool.callAll(
    { kind: 'List', bucketId: bucket.id, prefix, delimiter, after, limit },
    'Listed',
  );
  const merged = mergeShardPages(
    pages.map((page) => page.entries),
    (entry) => Buffer.from(nameOf(entry), 'utf8'),
  );
  const entries = merged.slice(0, limit);
  // A truncated shard holds entries beyond its limit-th, which is at or after the page's last.
  const truncated = merged.length > limit || pages.some((page) => page.truncated);
  return { entries, truncated };
}

function nameOf(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.key : entry.prefix;
}

function lastName(entries: readonly ListEntry[]): string {
  const last = entries[entries.length - 1];
  return last === undefined ? '' : nameOf(last);
}

function encodeFor(encodingType: string | undefined): (text: string) => string {
  return encodingType === 'url' ? (text) => encodeURIComponent(text) : (text) => text;
}

function contentsOf(
  entries: readonly ListEntry[],
  encode: (text: string) => string,
  owner: XmlNode | undefined,
): XmlNode[] {
  const contents: XmlNode[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'object') continue;
    contents.push({
      Key: encode(entry.key),
      LastModified: isoTime(entry.lastModifiedMs),
      ETag: entry.etag,
      Size: entry.bytes,
      ...(owner !== undefined ? { Owner: owner } : {}),
      StorageClass: 'STANDARD',
    });
  }
  return contents;
}

function prefixesOf(entries: readonly ListEntry[], encode: (text: string) => string): XmlNode[] {
  return entries
    .filter((entry) => entry.kind === 'prefix')
    .map((entry) => ({ Prefix: encode(nameOf(entry)) }));
}

function maxKeysOf(requested: number | undefined): number {
  return Math.min(requested ?? LIMITS.listKeysMax, LIMITS.listKeysMax);
}

/** ListObjectsV2. The continuation token is the last name returned, base64url-encoded. */
export async function handleListObjectsV2(
  ctx: RequestContext,
  e: ListObjectsV2Endpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const prefix = e.prefix ?? '';
  const delimiter = e.delimiter ?? '';
  const maxKeys = maxKeysOf(e.maxKeys);
  const token = e.continuationToken !== undefined ? decodeToken(e.continuationToken) : undefined;
  const after = token ?? e.startAfter ?? '';
  const page = await listPage(ctx, bucket, prefix, delimiter, after, maxKeys);
  const encode = encodeFor(e.encodingType);
  const body: XmlNode = {
    Name: bucket.name,
    Prefix: encode(prefix),
    ...(e.startAfter !== undefined ? { StartAfter: encode(e.startAfter) } : {}),
    ...(e.continuationToken !== undefined ? { ContinuationToken: e.continuationToken } : {}),
    ...(page.truncated ? { NextContinuationToken: encodeToken(lastName(page.entries)) } : {}),
    KeyCount: page.entries.length,
    MaxKeys: e.maxKeys ?? LIMITS.listKeysMax,
    ...(delimiter !== '' ? { Delimiter: encode(delimiter) } : {}),
    ...(e.encodingType !== undefined ? { EncodingType: e.encodingType } : {}),
    IsTruncated: page.truncated,
    Contents: contentsOf(page.entries, encode, e.fetchOwner === true ? ownerOf(ctx) : undefined),
    CommonPrefixes: prefixesOf(page.entries, encode),
  };
  sendXml(ctx, 'ListBucketResult', body);
}

/** ListObjects (v1). NextMarker is sent only with a delimiter, as S3 does. */
export async function handleListObjects(
  ctx: RequestContext,
  e: ListObjectsEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const prefix = e.prefix ?? '';
  const delimiter = e.delimiter ?? '';
  const maxKeys = maxKeysOf(e.maxKeys);
  const page = await listPage(ctx, bucket, prefix, delimiter, e.marker ?? '', maxKeys);
  const encode = encodeFor(e.encodingType);
  const body: XmlNode = {
    Name: bucket.name,
    Prefix: encode(prefix),
    Marker: encode(e.marker ?? ''),
    ...(page.truncated && delimiter !== '' ? { NextMarker: encode(lastName(page.entries)) } : {}),
    MaxKeys: e.maxKeys ?? LIMITS.listKeysMax,
    ...(delimiter !== '' ? { Delimiter: encode(delimiter) } : {}),
    ...(e.encodingType !== undefined ? { EncodingType: e.encodingType } : {}),
    IsTruncated: page.truncated,
    Contents: contentsOf(page.entries, encode, ownerOf(ctx)),
    CommonPrefixes: prefixesOf(page.entries, encode),
  };
  sendXml(ctx, 'ListBucketResult', body);
}

function encodeToken(name: string): string {
  assert(name !== '', 'a truncated page ends with a name');
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '' || Buffer.from(name, 'utf8').toString('base64url') !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  }
  return name;
}
