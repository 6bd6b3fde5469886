import { LIMITS } from '../../../engine/limits.js';
import type { VersionListEntry } from '../../../engine/protocol/messages.js';
import { type RequestContext, requireBucket } from '../context.js';
import type { ListObjectVersionsEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { compareUtf8 } from '../merge.js';
import { objectLockOf } from '../object-lock.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { restoreStatusXml, shownStorageClass } from '../storage-class.js';
import { checkVersionId, versioningOf } from '../versioning.js';
import { escapeXml, isoTime, parseXml, RAW, textOf, type XmlNode } from '../xml.js';
import {
  encodeFor,
  etagXml,
  type ListedOwners,
  listedOwnersOf,
  restoreStatusTime,
  shownOwner,
} from './list.js';

/**
 * PutBucketVersioning: Status Enabled or Suspended (a bucket once versioned is never unversioned
 * again). hangar has no MFA devices: a request that turns MfaDelete on answers AWS's error for
 * an MFA request it cannot authorize.
 */
export async function handlePutBucketVersioning(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  const config = parseXml(body.toString('utf8'), 'VersioningConfiguration');
  const status = textOf(config['Status']);
  const mfaDelete = textOf(config['MfaDelete']);
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') {
    throw new S3Error('MalformedXML');
  }
  if (mfaDelete === 'Enabled' || ctx.req.headers['x-amz-mfa'] !== undefined) {
    throw new S3Error(
      'InvalidRequest',
      'DevPay and Mfa are mutually exclusive authorization methods.',
    );
  }
  if (status === undefined) {
    sendEmpty(ctx, 200);
    return;
  }
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  if (status === 'Suspended' && objectLockOf(ctx.state.catalog, bucket) !== undefined) {
    throw new S3Error(
      'InvalidBucketState',
      'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    );
  }
  if (
    status === 'Suspended' &&
    ctx.state.catalog.getBucketConfig(bucket, 'replication') !== undefined
  ) {
    throw new S3Error(
      'InvalidBucketState',
      'A replication configuration is present on this bucket, so the versioning state cannot be changed.',
    );
  }
  await ctx.state.catalog.putBucketConfig(bucket.id, 'versioning', status);
  sendEmpty(ctx, 200);
}

/** GetBucketVersioning: the Status, or an empty document for a never-versioned bucket. */
export function handleGetBucketVersioning(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const status = versioningOf(ctx.state.catalog, bucket);
  sendXml(ctx, 'VersioningConfiguration', status === undefined ? {} : { Status: status });
}

interface VersionsPage {
  entries: VersionListEntry[];
  truncated: boolean;
}

/**
 * ListObjectVersions over every shard. A key lives on one shard, so each shard lists whole keys
 * (its versions newest first): every shard is asked for a full page after the markers, the pages
 * are merged in key order (a shard's own order kept within a key) and cut at max-keys. An entry
 * a shard did not send sorts after its last one, which is at or after the cut: the page is exact.
 */
async function versionsPage(
  ctx: RequestContext,
  bucketId: string,
  e: ListObjectVersionsEndpoint,
  limit: number,
): Promise<VersionsPage> {
  if (limit === 0) return { entries: [], truncated: false };
  const pool = ctx.state.pool;
  const pages = await Promise.all(
    Array.from({ length: pool.size }, (_, shardId) =>
      pool.client(shardId).call(
        {
          kind: 'ListVersions',
          bucketId,
          prefix: e.prefix ?? '',
          delimiter: e.delimiter ?? '',
          keyMarker: e.keyMarker ?? '',
          versionIdMarker: e.versionIdMarker ?? '',
          limit,
        },
        'VersionsListed',
      ),
    ),
  );
  const merged = mergeVersionPages(pages.map((page) => page.entries));
  const truncated = merged.length > limit || pages.some((page) => page.truncated);
  return { entries: merged.slice(0, limit), truncated };
}

function nameOf(entry: VersionListEntry): string {
  return entry.kind === 'version' ? entry.key : entry.prefix;
}

/** Shards' pages in key order, each shard's order kept within a key; one prefix per name. */
function mergeVersionPages(pages: readonly VersionListEntry[][]): VersionListEntry[] {
  const all = pages.flatMap((page, shard) =>
    page.map((entry, index) => ({ entry, shard, index, name: nameOf(entry) })),
  );
  all.sort((a, b) => compareUtf8(a.name, b.name) || a.shard - b.shard || a.index - b.index);
  const out: VersionListEntry[] = [];
  let lastPrefix: string | null = null;
  for (const { entry } of all) {
    if (entry.kind === 'prefix') {
      if (entry.prefix === lastPrefix) continue;
      lastPrefix = entry.prefix;
    }
    out.push(entry);
  }
  return out;
}

/** GET /bucket?versions: AWS's ListVersionsResult, Version and DeleteMarker in listing order. */
export async function handleListObjectVersions(
  ctx: RequestContext,
  e: ListObjectVersionsEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  checkVersionId(e.versionIdMarker, 'version-id-marker');
  if (e.versionIdMarker !== undefined && (e.keyMarker ?? '') === '') {
    throw new S3Error(
      'InvalidArgument',
      'A version-id marker cannot be specified without a key marker.',
      { ArgumentName: 'version-id-marker', ArgumentValue: e.versionIdMarker },
    );
  }
  const maxKeys = Math.min(e.maxKeys ?? LIMITS.listKeysMax, LIMITS.listKeysMax);
  const restoreAtMs = restoreStatusTime(ctx);
  const page = await versionsPage(ctx, bucket.id, e, maxKeys);
  const encode = encodeFor(e.encodingType);
  const last = page.entries[page.entries.length - 1];
  const next =
    page.truncated && last !== undefined
      ? {
          NextKeyMarker: encode(nameOf(last)),
          ...(last.kind === 'version' ? { NextVersionIdMarker: last.versionId } : {}),
        }
      : {};
  const body: XmlNode = {
    Name: bucket.name,
    Prefix: encode(e.prefix ?? ''),
    KeyMarker: encode(e.keyMarker ?? ''),
    VersionIdMarker: e.versionIdMarker ?? '',
    ...next,
    MaxKeys: e.maxKeys ?? LIMITS.listKeysMax,
    ...(e.delimiter !== undefined && e.delimiter !== '' ? { Delimiter: encode(e.delimiter) } : {}),
    ...(e.encodingType !== undefined ? { EncodingType: e.encodingType } : {}),
    IsTruncated: page.truncated,
    [RAW]: versionsXml(page.entries, encode, listedOwnersOf(ctx, bucket), restoreAtMs),
    CommonPrefixes: page.entries
      .filter((entry) => entry.kind === 'prefix')
      .map((entry) => ({ Prefix: encode(nameOf(entry)) })),
  };
  sendXml(ctx, 'ListVersionsResult', body);
}

/** The Version and DeleteMarker elements of a page, in order, as one string. */
function versionsXml(
  entries: readonly VersionListEntry[],
  encode: (text: string) => string,
  owners: ListedOwners,
  /** RestoreStatus judged at this time (null: not asked for). */
  restoreAtMs: number | null,
): string {
  let xml = '';
  for (const entry of entries) {
    if (entry.kind !== 'version') continue;
    const restoreXml = restoreAtMs === null ? '' : restoreStatusXml(entry.restore, restoreAtMs);
    const ownerXml = owners.names.ownerXml(shownOwner(owners, entry.owner));
    const common = `<Key>${escapeXml(encode(entry.key))}</Key><VersionId>${escapeXml(entry.versionId)}</VersionId><IsLatest>${entry.isLatest}</IsLatest><LastModified>${isoTime(entry.lastModifiedMs)}</LastModified>`;
    xml += entry.deleteMarker
      ? `<DeleteMarker>${common}${ownerXml}</DeleteMarker>`
      : `<Version>${common}<ETag>${etagXml(entry.etag)}</ETag><Size>${entry.bytes}</Size>${ownerXml}<StorageClass>${shownStorageClass(entry.storageClass)}</StorageClass>${restoreXml}</Version>`;
  }
  return xml;
}
