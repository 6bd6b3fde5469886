/**
 * The SHA-1 piece list of a torrent: the object read whole through the shard's verified read
 * path (every block checked against its hash before a byte comes back), hashed piece by piece.
 * Computed lists are kept per edge thread, keyed by the version's identity, so a popular object
 * is read once per version rather than once per torrent request.
 */
import { createHash, type Hash } from 'node:crypto';
import { assert } from '../../../engine/assert.js';
import { LIMITS } from '../../../engine/limits.js';
import type { ShardClient } from '../../../engine/pool/shard-client.js';
import { returnCredit } from '../../../engine/protocol/flow.js';
import { fromEngineFailure } from '../engine-errors.js';

/** The piece size for an object: a power of two from torrentPieceBytesMin, pieces bounded. */
export function pieceBytesFor(objectBytes: number): number {
  let piece = LIMITS.torrentPieceBytesMin;
  while (Math.ceil(objectBytes / piece) > LIMITS.torrentPiecesMax) piece *= 2;
  return piece;
}

/** Hashes a stream of chunks into consecutive pieces of `pieceBytes`. */
export class PieceHasher {
  private readonly hashes: Buffer[] = [];
  private current: Hash = createHash('sha1');
  private filled = 0;

  constructor(private readonly pieceBytes: number) {}

  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(this.pieceBytes - this.filled, chunk.byteLength - offset);
      this.current.update(chunk.subarray(offset, offset + take));
      this.filled += take;
      offset += take;
      if (this.filled === this.pieceBytes) this.closePiece();
    }
  }

  /** The concatenated 20-byte hashes (a last short piece included; none for 0 bytes). */
  finish(): Buffer {
    if (this.filled > 0) this.closePiece();
    return Buffer.concat(this.hashes);
  }

  private closePiece(): void {
    this.hashes.push(this.current.digest());
    this.current = createHash('sha1');
    this.filled = 0;
  }
}

/** Reads an opened object's read session whole into `hasher` (the session ends with it). */
export function hashSession(
  shard: ShardClient,
  reqId: number,
  bytes: number,
  hasher: PieceHasher,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    shard.resume(
      reqId,
      { kind: 'ReadRange', reqId, start: 0, endExclusive: bytes },
      {
        onReply: (reply, body) => {
          if (reply.kind === 'BodyChunk') {
            assert(body !== undefined, 'a body chunk carries bytes');
            hasher.update(new Uint8Array(body, 0, reply.bytes));
            seen += reply.bytes;
            returnCredit(shard, reqId, body);
            if (seen === bytes) resolve();
          } else if (reply.kind === 'Failed') {
            reject(fromEngineFailure(reply.failure));
          } else if (reply.kind === 'Done' && seen === bytes) {
            resolve();
          }
        },
      },
    );
  });
}

/** Per-thread LRU of computed piece lists (a Map iterates in insertion order). */
const cache = new Map<string, Buffer>();

/** The cache key of one version's bytes: its id, ETag and write time all must match. */
export function pieceCacheKey(
  bucketId: string,
  key: string,
  versionId: string | undefined,
  etag: string,
  lastModifiedMs: number,
): string {
  return [bucketId, key, versionId ?? '', etag, String(lastModifiedMs)].join('\u0000');
}

export function cachedPieces(cacheKey: string): Buffer | undefined {
  const hit = cache.get(cacheKey);
  if (hit !== undefined) {
    cache.delete(cacheKey);
    cache.set(cacheKey, hit);
  }
  return hit;
}

export function rememberPieces(cacheKey: string, pieces: Buffer): void {
  cache.set(cacheKey, pieces);
  while (cache.size > LIMITS.torrentPieceCacheEntriesMax) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
}
