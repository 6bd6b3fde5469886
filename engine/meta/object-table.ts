import { crc32c } from '@node-rs/crc32';
import { assert } from '../assert.js';
import type { Acl } from '../catalog/access.js';
import { recordEncoder } from '../codec.js';
import type {
  BlockRef,
  ListEntry,
  ObjectHeaders,
  ObjectInfo,
  ObjectLock,
  ReplicationStatus,
  RestoreState,
  StoredChecksum,
  Tag,
} from '../protocol/messages.js';
import { summaryOf } from '../sse/managed.js';
import type { StoredEncryption } from '../sse-c.js';
import type { AccessTier, StorageClass } from '../storage-classes.js';
import { plainRefs } from './block-table.js';
import type { BodyTable, BodyToStore } from './bodies.js';
import { compareKeys, keyOf, objectKey, prefixEnd, successorOf } from './keys.js';
import type { KvEnv, KvTable, KvTableOptions } from './kv.js';
import { ListingDecoder, type ListingFields } from './listing-decoder.js';

/** An object's metadata record, as stored in the shard's `objects` table. */
export interface ObjectRecord {
  bytes: number;
  etag: string;
  lastModifiedMs: number;
  headers: ObjectHeaders;
  checksum: StoredChecksum | null;
  /** Content-addressed blocks, in order; empty for inline objects. */
  blocks: BlockRef[];
  /**
   * The body itself for objects up to LIMITS.recordBodyBytesMax (and, in records written before
   * the bodies table, up to the inline limit). Null in a stored record whose body is in `bodies`.
   */
  inline: Uint8Array | null;
  /**
   * Bodies over LIMITS.recordBodyBytesMax up to the inline limit: the SHA-256 (hex) of the bytes
   * as stored, the key of the `bodies` table (content-addressed and counted like blocks). Kept
   * out of the record so that listings and HEADs never copy it.
   */
  body?: string;
  /**
   * CRC32C of the inline body as stored (ciphertext for SSE-C), set by every write and verified
   * by every read of the body (bodyOf). Absent in records written before it existed: not verified.
   */
  inlineCrc32c?: number;
  /** Part sizes of an object completed from a multipart upload (absent otherwise). */
  partSizes?: number[];
  /** The parts' checksums (base64) when the upload had an algorithm (GetObjectAttributes). */
  partChecksums?: string[];
  /** Encrypted objects: SSE-C's key MD5, or SSE-S3/KMS's sealed data key; the IV of each part
   *  (the blocks hold ciphertext). */
  sse?: StoredEncryption;
  /** The object's tags, sorted by key (absent: none). */
  tags?: Tag[];
  /** The canonical id of the object's owner (absent: the bucket's owner). */
  owner?: string;
  /** The object's ACL (absent: its owner's FULL_CONTROL only). */
  acl?: Acl;
  /**
   * Written under versioning: the version's id (version-table.ts, 32 hex digits that sort newest
   * first). Absent in records of never-versioned buckets: those are the null version, placed by
   * their lastModifiedMs if they ever become noncurrent.
   */
  versionId?: string;
  /** This version is the key's null version (written while versioning was Suspended). */
  nullVersion?: true;
  /** A delete marker (only ever in the `versions` table; no body, no blocks, 0 bytes). */
  deleteMarker?: true;
  /** S3 Object Lock: the version's retention and legal hold (absent: never locked). */
  lock?: ObjectLock;
  /** Bucket replication: PENDING/COMPLETED/FAILED on a source, REPLICA on a destination. */
  replication?: ReplicationStatus;
  /** This version's rows in the replication queue (absent: none; replication-queue.ts). */
  replicationRows?: number;
  /**
   * The version's storage class (absent: STANDARD). Stored as the record's FIRST field (put and
   * putRaw see to it) so that a listing's lean decoder meets it before the fields it stops at.
   */
  storageClass?: StorageClass;
  /** An archived version's restore, in progress or done (absent: none; RestoreObject). */
  restore?: RestoreState;
  /**
   * INTELLIGENT_TIERING only: the archive access tier intelligent tiering moved the version to
   * (absent: a frequent/infrequent tier, read directly). Archived versions need a restore.
   */
  accessTier?: AccessTier;
  /**
   * INTELLIGENT_TIERING only: the day (days since the epoch, UTC) of the version's last read
   * (absent: never read since it was written, so its lastModifiedMs counts).
   */
  accessedDay?: number;
  /**
   * The storage tier its blocks live in (absent: "standard"; issue 18): its block keys name it
   * too (block-key.ts). MoveVersionTier changes both at once.
   */
  tier?: string;
}

export interface ListQuery {
  bucketId: string;
  prefix: string;
  delimiter: string;
  after: string;
  limit: number;
  /** Read each object's owner too (ListObjects v1, v2 with fetch-owner): a longer decode. */
  owners?: boolean;
}

/**
 * The `objects` table: objectKey(bucket, key) (keys.ts) → ObjectRecord, one record per key, and
 * a second read-only handle on the same table that decodes only what a listing shows. Records
 * are stored through `put`, which asserts the size invariant and keeps the inline CRC32C in step
 * with the body; counters, blocks and bodies are moved by the MetaStore in the same transaction.
 */
export class ObjectTable {
  private readonly objects: KvTable<ObjectRecord, Buffer>;
  /** The same table read lean: only what a listing shows (ListingDecoder). */
  private readonly listing: KvTable<ListingFields, Buffer>;
  /** The same, with each record's owner (ListingDecoder's withOwner). */
  private readonly listingOwners: KvTable<ListingFields, Buffer>;

  constructor(env: KvEnv, records: KvTableOptions) {
    this.objects = env.openDB<ObjectRecord, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      ...records,
    });
    this.listing = env.openDB<ListingFields, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      encoder: new ListingDecoder(recordEncoder()),
    });
    this.listingOwners = env.openDB<ListingFields, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      encoder: new ListingDecoder(recordEncoder(), true),
    });
  }

  get(encoded: Buffer): ObjectRecord | undefined {
    return this.objects.get(encoded);
  }

  /** Inside a transaction: stores a record as given (its blocks and body already stored). */
  putRaw(encoded: Buffer, record: ObjectRecord): void {
    this.objects.put(encoded, classFirst(record));
  }

  /**
   * Inside a transaction: stores a new record: an inline body gets the checksum of its bytes,
   * one bound for the bodies table leaves only its name behind, block refs lose their CRCs.
   */
  put(encoded: Buffer, record: ObjectRecord, body: BodyToStore | null): void {
    this.objects.put(
      encoded,
      classFirst(storedRecord({ ...record, blocks: plainRefs(record.blocks) }, body)),
    );
  }

  remove(encoded: Buffer): void {
    this.objects.remove(encoded);
  }

  range(options: { start?: Buffer; end?: Buffer; limit?: number } = {}): Iterable<{
    key: Buffer;
    value: ObjectRecord;
  }> {
    return this.objects.getRange(options);
  }

  /**
   * One page of a bucket's listing in S3 order: keys, and with a delimiter the common prefixes
   * that roll them up. Returns up to `limit` entries and whether more follow.
   */
  list(query: ListQuery): { entries: ListEntry[]; truncated: boolean } {
    const entries: ListEntry[] = [];
    const end = prefixEnd(query.bucketId, query.prefix);
    let start: Buffer | null = listStart(query);
    while (start !== null && entries.length <= query.limit) {
      start = this.scan(query, start, end, entries);
    }
    const truncated = entries.length > query.limit;
    if (truncated) entries.length = query.limit;
    return { entries, truncated };
  }

  /**
   * Appends listing entries from one cursor over [start, end) until the page holds limit + 1
   * entries. A key that rolls up into a common prefix ends the scan: the next one resumes past
   * everything under that prefix. Returns where to resume, or null when done.
   */
  private scan(query: ListQuery, start: Buffer, end: Buffer, entries: ListEntry[]): Buffer | null {
    const view = query.owners === true ? this.listingOwners : this.listing;
    for (const { key: encoded, value } of view.getRange({ start, end })) {
      if (entries.length > query.limit) return null;
      const key = keyOf(encoded);
      const cut = query.delimiter === '' ? -1 : key.indexOf(query.delimiter, query.prefix.length);
      if (cut >= 0) {
        const prefix = key.slice(0, cut + query.delimiter.length);
        entries.push({ kind: 'prefix', prefix });
        return prefixEnd(query.bucketId, prefix);
      }
      entries.push({
        kind: 'object',
        key,
        bytes: value.bytes,
        etag: value.etag,
        lastModifiedMs: value.lastModifiedMs,
        ...(value.owner !== undefined ? { owner: value.owner } : {}),
        ...(value.storageClass !== undefined ? { storageClass: value.storageClass } : {}),
        ...(value.restore !== undefined ? { restore: value.restore } : {}),
      });
    }
    return null;
  }
}

/**
 * Where a listing page starts: at the prefix, or past `after` (past everything under it when it
 * is a rolled-up common prefix), whichever is later.
 */
export function listStart(query: ListQuery): Buffer {
  const atPrefix = objectKey(query.bucketId, query.prefix);
  if (query.after === '' || compareKeys(query.after, query.prefix) < 0) return atPrefix;
  const afterIsRollup =
    query.delimiter !== '' &&
    query.after.startsWith(query.prefix) &&
    query.after.endsWith(query.delimiter) &&
    query.after.indexOf(query.delimiter, query.prefix.length) ===
      query.after.length - query.delimiter.length;
  const start = afterIsRollup
    ? prefixEnd(query.bucketId, query.after)
    : successorOf(query.bucketId, query.after);
  return Buffer.compare(start, atPrefix) > 0 ? start : atPrefix;
}

/** An inline body that does not match the checksum stored with it: it is never served. */
export class InlineCorruptError extends Error {
  constructor(bucketId: string, key: string) {
    super(`inline body of object ${JSON.stringify(key)} in bucket ${bucketId} fails its CRC32C`);
    this.name = 'InlineCorruptError';
  }
}

/**
 * The record to store: an inline body gets the checksum of its bytes (always recomputed); one
 * bound for the bodies table leaves only its name and checksum behind.
 */
function storedRecord(record: ObjectRecord, body: BodyToStore | null): ObjectRecord {
  const { inlineCrc32c: _, body: _name, ...rest } = record;
  if (body !== null) return { ...rest, inline: null, body: body.hash, inlineCrc32c: body.crc32c };
  if (record.inline === null) return rest;
  return { ...rest, inlineCrc32c: crc32c(record.inline) };
}

/**
 * Checks a record's inline body against its stored checksum before any of it is served; a
 * record from before the checksum existed has none and passes.
 */
export function verifyInline(bucketId: string, key: string, record: ObjectRecord): void {
  if (record.inline === null || record.inlineCrc32c === undefined) return;
  if (crc32c(record.inline) !== record.inlineCrc32c) throw new InlineCorruptError(bucketId, key);
}

/**
 * The body of an object record, checked against its CRC32C before any of it is served: the
 * record's own (small objects, and records from before the bodies table: read where they are,
 * never migrated) or a copy out of the bodies table. Null for an object stored in blocks.
 * Throws InlineCorruptError for bytes that fail the check or a body that is gone. The shard
 * (MetaStore.bodyOf) and the edge threads (ObjectReader) read bodies through this one check.
 */
export function recordBody(
  bodies: BodyTable,
  bucketId: string,
  key: string,
  record: ObjectRecord,
): Uint8Array | null {
  if (record.body === undefined) {
    verifyInline(bucketId, key, record);
    return record.inline;
  }
  const data = bodies.read(record.body, record.inlineCrc32c);
  if (data === null) throw new InlineCorruptError(bucketId, key);
  return data;
}

export function infoOf(key: string, record: ObjectRecord): ObjectInfo {
  return {
    key,
    bytes: record.bytes,
    etag: record.etag,
    lastModifiedMs: record.lastModifiedMs,
    headers: record.headers,
    checksum: record.checksum ?? null,
    inline: record.inline !== null || record.body !== undefined,
    partSizes: record.partSizes ?? null,
    partChecksums: record.partChecksums ?? null,
    sseKeyMd5: record.sse?.kind === undefined ? (record.sse?.keyMd5 ?? null) : null,
    ...(record.sse?.kind !== undefined ? { sseManaged: summaryOf(record.sse) } : {}),
    tags: record.tags ?? [],
    ...(record.versionId !== undefined ? { versionId: shownVersionId(record) } : {}),
    ...(record.lock !== undefined ? { lock: record.lock } : {}),
    ...(record.replication !== undefined ? { replication: record.replication } : {}),
    ...(record.storageClass !== undefined ? { storageClass: record.storageClass } : {}),
    ...(record.restore !== undefined ? { restore: record.restore } : {}),
    ...(record.accessTier !== undefined ? { accessTier: record.accessTier } : {}),
  };
}

/**
 * The record with its storage class as its first field, and its restore (if any) second (cbor-x
 * writes fields in insertion order): the listing decoder stops once it has bytes, etag and
 * lastModifiedMs, so both must come before them to be seen. Records without a class are stored
 * as given.
 */
export function classFirst(record: ObjectRecord): ObjectRecord {
  if (record.storageClass === undefined) return record;
  // Redefining a key keeps its first position: storageClass stays first, restore second.
  return record.restore === undefined
    ? { storageClass: record.storageClass, ...record }
    : { storageClass: record.storageClass, restore: record.restore, ...record };
}

/** A record's version id as S3 shows it: 'null' for the null version (and unversioned records). */
export function shownVersionId(record: ObjectRecord): string {
  return record.nullVersion === true || record.versionId === undefined ? 'null' : record.versionId;
}

/** Asserts the record's size invariant: its bytes are its inline body's or its blocks' sum. */
export function assertSized(record: ObjectRecord): void {
  const size =
    record.inline !== null
      ? record.inline.byteLength
      : record.blocks.reduce((sum, block) => sum + block.bytes, 0);
  assert(record.bytes === size, 'object size equals the sum of its blocks');
}
