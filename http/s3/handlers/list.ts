import { assert } from '../../../engine/assert.js';
import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import { LIMITS } from '../../../engine/limits.js';
import type { ListEntry } from '../../../engine/protocol/messages.js';
import { bucketOwnerId } from '../../access/principal.js';
import { accessOf, type RequestContext, requireBucket } from '../context.js';
import type { ListObjectsEndpoint, ListObjectsV2Endpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { compareUtf8, mergeSources } from '../merge.js';
import { lockNowMs } from '../object-lock.js';
import { type OwnerNames, ownerNamesOf } from '../owners.js';
import { sendXml } from '../reply.js';
import { restoreStatusXml, shownStorageClass, wantsRestoreStatus } from '../storage-class.js';
import { escapeXml, isoTime, RAW, type XmlNode } from '../xml.js';

interface Page {
  entries: ListEntry[];
  truncated: boolean;
}

/**
 * One listing page over every shard: a k-way merge of per-shard cursors (mergeSources) that
 * asks each shard for about its share of the page and more only when the page needs it. Each
 * shard lists its own keys after `after` in UTF-8 byte order, rolling keys up into common
 * prefixes itself; a prefix reported by several shards counts once.
 */
async function listPage(
  ctx: RequestContext,
  bucket: BucketRecord,
  prefix: string,
  delimiter: string,
  requestedAfter: string,
  limit: number,
  owners: boolean | undefined,
): Promise<Page> {
  if (limit === 0) return { entries: [], truncated: false };
  // Compared in UTF-8 byte order (the listing order), not JS's UTF-16 order: a start point past
  // every key under the prefix lists nothing, one before them all lists from the prefix.
  let after = requestedAfter;
  if (after !== '' && !after.startsWith(prefix)) {
    if (compareUtf8(after, prefix) > 0) return { entries: [], truncated: false };
    after = '';
  }
  // The edge thread scans each shard's LMDB itself (engine/meta/object-reader.ts): no message,
  // no packing, no shard thread woken.
  const readers = ctx.state.readers;
  assert(readers !== undefined, 'S3 requests are served by edge threads');
  const sources = readers.map((reader) => ({
    fetch: async (from: string, batch: number) =>
      reader.list({
        bucketId: bucket.id,
        prefix,
        delimiter,
        after: from,
        limit: batch,
        owners: owners === true,
      }),
  }));
  return mergeSources(sources, nameOf, after, limit);
}

function nameOf(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.key : entry.prefix;
}

function lastName(entries: readonly ListEntry[]): string {
  const last = entries[entries.length - 1];
  return last === undefined ? '' : nameOf(last);
}

export function encodeFor(encodingType: string | undefined): (text: string) => string {
  return encodingType === 'url' ? (text) => encodeURIComponent(text) : (text) => text;
}

/**
 * Who owns the listed objects: each record's owner, else the bucket's. Under
 * BucketOwnerEnforced the bucket owner owns every object (AWS), whoever wrote it and whatever
 * its record says (objects written before the setting changed): no record's owner is read.
 */
export interface ListedOwners {
  readonly names: OwnerNames;
  readonly bucketOwner: string;
  /** Objects have owners of their own (ObjectWriter, BucketOwnerPreferred). */
  readonly perObject: boolean;
}

export function listedOwnersOf(ctx: RequestContext, bucket: BucketRecord): ListedOwners {
  const access = accessOf(ctx, bucket);
  return {
    names: ownerNamesOf(ctx),
    bucketOwner: bucketOwnerId(bucket),
    perObject: access.ownership !== 'BucketOwnerEnforced',
  };
}

/** The canonical id a listing shows as the owner of an object or version. */
export function shownOwner(owners: ListedOwners, recordOwner: string | undefined): string {
  return owners.perObject ? (recordOwner ?? owners.bucketOwner) : owners.bucketOwner;
}

/**
 * The Contents elements of a page as one string: at 1000 entries a page, building a node per
 * entry for renderXml cost more than the markup itself (bench/micro/xml.bench.ts).
 */
function contentsOf(
  entries: readonly ListEntry[],
  encode: (text: string) => string,
  owners: ListedOwners | null,
  /** RestoreStatus judged at this time (null: not asked for). */
  restoreAtMs: number | null,
): string {
  let xml = '';
  for (const entry of entries) {
    if (entry.kind !== 'object') continue;
    const ownerXml = owners === null ? '' : owners.names.ownerXml(shownOwner(owners, entry.owner));
    const restoreXml = restoreAtMs === null ? '' : restoreStatusXml(entry.restore, restoreAtMs);
    xml += `<Contents><Key>${escapeXml(encode(entry.key))}</Key><LastModified>${isoTime(entry.lastModifiedMs)}</LastModified><ETag>${etagXml(entry.etag)}</ETag><Size>${entry.bytes}</Size>${ownerXml}<StorageClass>${shownStorageClass(entry.storageClass)}</StorageClass>${restoreXml}</Contents>`;
  }
  return xml;
}

/** ETags are quoted: the quotes are escaped without a regex replace per entry. */
export function etagXml(etag: string): string {
  const quoted = etag.length >= 2 && etag.charCodeAt(0) === 34 && etag.endsWith('"');
  const inner = quoted ? etag.slice(1, -1) : etag;
  if (!quoted || inner.includes('"')) return escapeXml(etag);
  return `&quot;${escapeXml(inner)}&quot;`;
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
  const owners = e.fetchOwner === true ? listedOwnersOf(ctx, bucket) : null;
  const restoreAtMs = restoreStatusTime(ctx);
  const page = await listPage(ctx, bucket, prefix, delimiter, after, maxKeys, owners?.perObject);
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
    [RAW]: contentsOf(page.entries, encode, owners, restoreAtMs),
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
  const owners = listedOwnersOf(ctx, bucket);
  const restoreAtMs = restoreStatusTime(ctx);
  const marker = e.marker ?? '';
  const page = await listPage(ctx, bucket, prefix, delimiter, marker, maxKeys, owners.perObject);
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
    [RAW]: contentsOf(page.entries, encode, owners, restoreAtMs),
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

/**
 * When the request asks for RestoreStatus (x-amz-optional-object-attributes), the time restores
 * are judged at (the server's clock, test offset applied); null when it does not.
 */
export function restoreStatusTime(ctx: RequestContext): number | null {
  return wantsRestoreStatus(ctx.req.headers['x-amz-optional-object-attributes'])
    ? lockNowMs(ctx.state)
    : null;
}
