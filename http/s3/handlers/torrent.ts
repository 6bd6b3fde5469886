import { LIMITS } from '../../../engine/limits.js';
import type { ShardClient } from '../../../engine/pool/shard-client.js';
import { hiddenMiss } from '../auth.js';
import { accessOf, type RequestContext, requireBucket, shardFor } from '../context.js';
import type { VersionedObjectEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { clientScheme } from '../scheme.js';
import { bencode } from '../torrent/bencode.js';
import {
  cachedPieces,
  hashSession,
  PieceHasher,
  pieceBytesFor,
  pieceCacheKey,
  rememberPieces,
} from '../torrent/pieces.js';
import { checkVersionId } from '../versioning.js';
import { type Opened, openObject, releaseOpened } from './object-get.js';

/**
 * GetObjectTorrent: a BitTorrent v1 metainfo file for one object (version). hangar runs no
 * tracker, so the torrent names none; its `url-list` (BEP 19 web seed) is the object's own URL
 * on this server, from which any client downloads over HTTP and checks each piece against the
 * SHA-1s listed here. As AWS: objects of 5 GB or more, and SSE-C / SSE-KMS objects, are refused.
 */
export async function handleGetObjectTorrent(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  checkVersionId(e.versionId);
  if (ctx.req.headers['x-amz-server-side-encryption-customer-algorithm'] !== undefined) {
    throw notTorrentable('Torrents are not available for objects encrypted with SSE-C.');
  }
  const shard = shardFor(ctx.state, bucket, e.key);
  let opened: Opened;
  try {
    opened = await openObject(ctx, shard, bucket.id, e.key, 'read', null, {}, e.versionId);
  } catch (error) {
    throw hiddenMiss(
      ctx.state,
      ctx.principal,
      ctx.facts,
      { bucket, access: accessOf(ctx, bucket) },
      error,
    );
  }
  let pieces: Buffer;
  try {
    refuseUntorrentable(opened);
    pieces = await piecesOf(shard, opened, bucket.id, e.key);
  } catch (error) {
    releaseOpened(shard, opened);
    throw error;
  }
  const { info } = opened;
  const torrent = bencode({
    'created by': 'hangar',
    'creation date': Math.floor(info.lastModifiedMs / 1000),
    info: {
      length: info.bytes,
      name: displayName(e.key),
      'piece length': pieceBytesFor(info.bytes),
      pieces,
    },
    'url-list': [webSeedUrl(ctx, bucket.name, e.key, info.versionId)],
  });
  const headers: Array<[string, string]> = [['content-type', 'application/x-bittorrent']];
  if (info.versionId !== undefined) headers.push(['x-amz-version-id', info.versionId]);
  ctx.res.send(200, headers, torrent);
}

function notTorrentable(message: string): S3Error {
  return new S3Error('InvalidRequest', message);
}

function refuseUntorrentable(opened: Opened): void {
  const { info } = opened;
  if (info.sseKeyMd5 !== null) {
    throw notTorrentable('Torrents are not available for objects encrypted with SSE-C.');
  }
  const kind = info.sseManaged?.kind;
  if (kind === 'kms' || kind === 'dsse') {
    throw notTorrentable('Torrents are not available for objects encrypted with SSE-KMS.');
  }
  if (info.bytes >= LIMITS.torrentObjectBytesMax) {
    throw notTorrentable('Torrents are available only for objects smaller than 5 GB.');
  }
}

/** The version's piece list: from this thread's cache, or read and hashed now. */
async function piecesOf(
  shard: ShardClient,
  opened: Opened,
  bucketId: string,
  key: string,
): Promise<Buffer> {
  const { info } = opened;
  const cacheKey = pieceCacheKey(bucketId, key, info.versionId, info.etag, info.lastModifiedMs);
  const cached = cachedPieces(cacheKey);
  if (cached !== undefined) {
    releaseOpened(shard, opened);
    return cached;
  }
  const hasher = new PieceHasher(pieceBytesFor(info.bytes));
  if (opened.inlineBody !== null || info.bytes === 0) {
    releaseOpened(shard, opened);
    if (opened.inlineBody !== null) hasher.update(opened.inlineBody);
  } else {
    await hashSession(shard, opened.reqId, info.bytes, hasher);
  }
  const pieces = hasher.finish();
  rememberPieces(cacheKey, pieces);
  return pieces;
}

/** A single-file torrent's suggested file name: the key's last segment ('/' is not allowed). */
function displayName(key: string): string {
  const last = key
    .split('/')
    .filter((s) => s !== '')
    .pop();
  return last ?? 'object';
}

/** The object's URL on this server, as the request addressed the bucket (path or vhost). */
function webSeedUrl(
  ctx: RequestContext,
  bucket: string,
  key: string,
  versionId: string | undefined,
): string {
  const host = ctx.req.headers['host'] ?? ctx.state.config.s3.host;
  const path = key.split('/').map(encodeURIComponent).join('/');
  const base =
    ctx.routed.style === 'vhost'
      ? `${clientScheme(ctx.state.config, ctx.req.headers)}://${host}/${path}`
      : `${clientScheme(ctx.state.config, ctx.req.headers)}://${host}/${encodeURIComponent(bucket)}/${path}`;
  // A version is pinned (the null one too): a later overwrite must not change what the seed
  // serves under a torrent whose pieces describe this version.
  return versionId === undefined ? base : `${base}?versionId=${encodeURIComponent(versionId)}`;
}
