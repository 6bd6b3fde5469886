import { createHash, randomFillSync } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { type Database, type DatabaseOptions, open, type RootDatabase } from 'lmdb';
import { assert } from '../assert.js';
import { type BlockCrcs, sameCrcs } from '../blocks/segment-crc.js';
import { combineCrcs, compositeChecksum } from '../checksums/checksums.js';
import { recordEncoder } from '../codec.js';
import { EngineFailureError } from '../errors.js';
import { objectExpiry, uploadAbortDue } from '../lifecycle.js';
import { LIMITS } from '../limits.js';
import type {
  BlockBacklink,
  BlockRef,
  BlockTotals,
  ChosenPart,
  EngineFailure,
  LifecycleRule,
  ListEntry,
  ObjectHeaders,
  ObjectInfo,
  PartInfo,
  PartTarget,
  QuotaCheck,
  StoredChecksum,
  Tag,
  UploadChecksum,
  UploadInfo,
  UploadListEntry,
  WriteConditions,
} from '../protocol/messages.js';
import type { StoredEncryption } from '../sse-c.js';
import { shardCounters } from '../stats.js';
import { guardSinceUploadBegan, type WriteGuard } from '../write-conditions.js';
import { BodyTable, type BodyToStore, bodyToStore, recordBody } from './bodies.js';
import { bucketIdOf, compareKeys, keyOf, objectKey, prefixEnd, successorOf } from './keys.js';
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
  /** SSE-C objects: the key's MD5 and the IV of each part (the blocks hold ciphertext). */
  sse?: StoredEncryption;
  /** The object's tags, sorted by key (absent: none). */
  tags?: Tag[];
}

/** An in-progress multipart upload, in the `uploads` table. */
export interface UploadRecord {
  key: string;
  uploadId: string;
  initiatedMs: number;
  headers: ObjectHeaders;
  checksum: UploadChecksum | null;
  /** SSE-C uploads: the MD5 of the customer key (the key itself is never stored). */
  sseKeyMd5?: string;
  /** Tags the completed object gets (CreateMultipartUpload's x-amz-tagging; absent: none). */
  tags?: Tag[];
}

/** One uploaded part, in the `parts` table; its blocks are reference-counted like an object's. */
export interface PartRecord {
  etag: string;
  bytes: number;
  lastModifiedMs: number;
  blocks: BlockRef[];
  checksum: StoredChecksum | null;
  /** SSE-C parts: the key's MD5 and the part's IV (base64). */
  sse?: { keyMd5: string; iv: string };
}

/**
 * A block's reference count: how many object records (and repeats within them) point at it;
 * and the CRC32Cs of its segments, which reads check the file against (BlockRef.crcs). Records
 * written before CRCs were kept have none: their reads check the SHA-256, and the scrub fills
 * them in (setBlockCrcs).
 */
interface BlockRecord {
  refs: number;
  bytes: number;
  crcs?: BlockCrcs;
}

/** A bucket's objects and their bytes on this shard, kept by every transaction that moves them. */
interface CounterRecord {
  objects: number;
  bytes: number;
}

/** Marks the `usage` table as built (stores from before it get their counters on open). */
const COUNTERS_BUILT = '!built';
/** In the `usage` table: distinct blocks this shard references (objects) and their bytes. */
const BLOCKS_STORED = '!blocks';
/** In the `usage` table: references to blocks (objects) and the bytes they name. */
const BLOCK_REFERENCES = '!refs';

/** A block that failed a check (scrub, or a read of its file): kept until fixed or freed. */
export interface BlockErrorRecord {
  /** corrupt: the file's bytes do not hash to its name (it was quarantined); missing: no file. */
  kind: 'corrupt' | 'missing';
  message: string;
  errorCount: number;
  firstErrorMs: number;
  lastTryMs: number;
}

export interface ListQuery {
  bucketId: string;
  prefix: string;
  delimiter: string;
  after: string;
  limit: number;
}

/**
 * One shard's metadata: objects and block reference counts in one LMDB environment, changed
 * together in single transactions so a refcount never disagrees with the records that hold it.
 * lmdb-js batches the writes of one event turn into one transaction (group commit); with
 * `overlappingSync` a write resolves when visible, so durable callers also await `flushed()`.
 */
export class MetaStore {
  private readonly env: RootDatabase;
  private readonly objects: Database<ObjectRecord, Buffer>;
  /** The same table read lean: only what a listing shows (ListingDecoder). */
  private readonly listing: Database<ListingFields, Buffer>;
  private readonly blocks: Database<BlockRecord, string>;
  private readonly uploads: Database<UploadRecord, Buffer>;
  private readonly parts: Database<PartRecord, Buffer>;
  private readonly counters: Database<CounterRecord, string>;
  private readonly blockErrors: Database<BlockErrorRecord, string>;
  /** Medium inline bodies by SHA-256, and their reference counts. */
  private readonly bodies: BodyTable;

  constructor(path: string, durable: boolean) {
    this.env = open({ path, maxDbs: META_TABLES_MAX, noSync: !durable, mapSize: 2 ** 34 });
    const records = { encoder: recordEncoder() } as DatabaseOptions;
    this.objects = this.env.openDB<ObjectRecord, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      ...records,
    });
    this.listing = this.env.openDB<ListingFields, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      encoder: new ListingDecoder(recordEncoder()),
    } as DatabaseOptions & { name: string });
    this.blocks = this.env.openDB<BlockRecord, string>({ name: 'blocks', ...records });
    this.uploads = this.env.openDB<UploadRecord, Buffer>({
      name: 'uploads',
      keyEncoding: 'binary',
      ...records,
    });
    this.parts = this.env.openDB<PartRecord, Buffer>({
      name: 'parts',
      keyEncoding: 'binary',
      ...records,
    });
    this.counters = this.env.openDB<CounterRecord, string>({ name: 'usage', ...records });
    this.blockErrors = this.env.openDB<BlockErrorRecord, string>({
      name: 'block_errors',
      ...records,
    });
    this.bodies = new BodyTable(this.env, records, this.blockErrors);
    if (this.counters.get(COUNTERS_BUILT) === undefined) this.buildCounters();
    if (this.counters.get(BLOCKS_STORED) === undefined) this.buildBlockTotals();
  }

  /** Sums the blocks table once (a store from before the block totals existed). */
  private buildBlockTotals(): void {
    const stored = { objects: 0, bytes: 0 };
    const references = { objects: 0, bytes: 0 };
    for (const { value } of this.blocks.getRange({})) {
      stored.objects++;
      stored.bytes += value.bytes;
      references.objects += value.refs;
      references.bytes += value.refs * value.bytes;
    }
    this.env.transactionSync(() => {
      this.counters.put(BLOCKS_STORED, stored);
      this.counters.put(BLOCK_REFERENCES, references);
    });
  }

  /** Distinct blocks and references of this shard: O(1). */
  blockTotals(): BlockTotals {
    const stored = this.counters.get(BLOCKS_STORED) ?? { objects: 0, bytes: 0 };
    const references = this.counters.get(BLOCK_REFERENCES) ?? { objects: 0, bytes: 0 };
    return {
      stored: stored.objects,
      storedBytes: stored.bytes,
      references: references.objects,
      referencedBytes: references.bytes,
    };
  }

  /** Every bucket with objects on this shard, with its counters. */
  allBucketCounters(): Array<{ bucketId: string; objects: number; bytes: number }> {
    const all = [];
    for (const { key, value } of this.counters.getRange({})) {
      if (key.startsWith('!')) continue;
      all.push({ bucketId: key, objects: value.objects, bytes: value.bytes });
    }
    return all;
  }

  /** Inside a transaction: moves one of the `!` totals of the usage table. */
  private moveTotal(name: string, objects: number, bytes: number): void {
    const current = this.counters.get(name) ?? { objects: 0, bytes: 0 };
    const next = { objects: current.objects + objects, bytes: current.bytes + bytes };
    assert(next.objects >= 0 && next.bytes >= 0, `${name} stays non-negative`);
    this.counters.put(name, next);
  }

  /** Counts every bucket's objects once (a store from before the counters existed). */
  private buildCounters(): void {
    const sums = new Map<string, CounterRecord>();
    for (const { key, value } of this.objects.getRange({})) {
      const bucketId = bucketIdOf(key);
      const sum = sums.get(bucketId) ?? { objects: 0, bytes: 0 };
      sum.objects++;
      sum.bytes += value.bytes;
      sums.set(bucketId, sum);
    }
    this.env.transactionSync(() => {
      for (const key of this.counters.getKeys({})) this.counters.remove(key);
      for (const [bucketId, sum] of sums) this.counters.put(bucketId, sum);
      this.counters.put(COUNTERS_BUILT, { objects: 0, bytes: 0 });
    });
  }

  /** The bucket's objects and bytes on this shard: O(1). */
  bucketCounters(bucketId: string): CounterRecord {
    return this.counters.get(bucketId) ?? { objects: 0, bytes: 0 };
  }

  /** Inside a transaction: moves a bucket's counters. */
  private count(bucketId: string, objects: number, bytes: number): void {
    if (objects === 0 && bytes === 0) return;
    const current = this.bucketCounters(bucketId);
    const next = { objects: current.objects + objects, bytes: current.bytes + bytes };
    assert(next.objects >= 0 && next.bytes >= 0, 'bucket counters stay non-negative');
    if (next.objects === 0 && next.bytes === 0) this.counters.remove(bucketId);
    else this.counters.put(bucketId, next);
  }

  /**
   * Inside a transaction: whether a write adding `objects` and `bytes` (negative: freeing) would
   * pass a quota, counting this shard's counters now and the other shards' as the HTTP side read
   * them. As Garage: a write that adds nothing to a measure is never refused for it (overwriting
   * a key at maxObjects, replacing an object with a smaller one).
   */
  /**
   * Inside a transaction: stores `record` under `encoded`, replacing any previous version,
   * after the write's condition (`guard`, on the record it replaces) and the quota check; moves
   * the usage counters and block refcounts. Returns the hashes whose count reached zero, or the
   * refusal.
   */
  private replaceObject(
    bucketId: string,
    encoded: Buffer,
    record: ObjectRecord,
    quota: QuotaCheck | null,
    body: BodyToStore | null = null,
    guard: WriteGuard | null = null,
  ): { freed: string[] } | { failure: EngineFailure } {
    const previous = this.objects.get(encoded);
    const unmet = guard?.(previous) ?? null;
    if (unmet !== null) return { failure: unmet };
    const objects = previous === undefined ? 1 : 0;
    const bytes = record.bytes - (previous?.bytes ?? 0);
    const refusal = this.quotaRefusal(bucketId, quota, objects, bytes);
    if (refusal !== null) return refusal;
    this.objects.put(encoded, storedRecord({ ...record, blocks: plainRefs(record.blocks) }, body));
    this.count(bucketId, objects, bytes);
    for (const block of record.blocks) this.incref(block);
    // The new body is counted before the old one is let go: an overwrite with the same bytes
    // keeps the body it shares.
    if (body !== null) this.bodies.incref(body);
    if (previous === undefined) return { freed: [] };
    if (previous.body !== undefined) this.bodies.decref(previous.body);
    return { freed: this.decrefAll(previous.blocks) };
  }

  /** The record's body, checked against its CRC32C (recordBody in bodies.ts). */
  bodyOf(bucketId: string, key: string, record: ObjectRecord): Uint8Array | null {
    return recordBody(this.bodies, bucketId, key, record);
  }

  private quotaRefusal(
    bucketId: string,
    quota: QuotaCheck | null,
    objects: number,
    bytes: number,
  ): { failure: EngineFailure } | null {
    if (quota === null) return null;
    const own = this.bucketCounters(bucketId);
    const total = {
      objects: own.objects + quota.otherObjects,
      bytes: own.bytes + quota.otherBytes,
    };
    if (quota.maxObjects !== null && objects > 0 && total.objects + objects > quota.maxObjects) {
      return failed(
        'QuotaExceeded',
        `Object quota is reached, maximum objects for this bucket: ${quota.maxObjects}`,
      );
    }
    if (quota.maxSize !== null && bytes > 0 && total.bytes + bytes > quota.maxSize) {
      return failed(
        'QuotaExceeded',
        `Bucket size quota is reached, maximum total size of objects for this bucket: ${quota.maxSize}. The bucket is already ${total.bytes} bytes, and this object would add ${bytes} bytes.`,
      );
    }
    return null;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }

  /**
   * Resolves when every committed write is on disk. Each wait is timed as a 'meta' fsync (the
   * commits of one event turn share one LMDB sync, so these are waits, not distinct syncs).
   */
  async flushed(): Promise<void> {
    await shardCounters.timeFsync('meta', async () => {
      await this.env.flushed;
    });
  }

  getObject(bucketId: string, key: string): ObjectRecord | undefined {
    return this.objects.get(objectKey(bucketId, key));
  }

  blockRefs(hash: string): number {
    return this.blocks.get(hash)?.refs ?? 0;
  }

  /**
   * Stores `record` under the key, replacing any previous version, and moves the block reference
   * counts in the same transaction. Returns the hashes whose count reached zero (to unlink).
   */
  async putObject(
    bucketId: string,
    key: string,
    record: ObjectRecord,
    quota: QuotaCheck | null = null,
    guard: WriteGuard | null = null,
  ): Promise<string[]> {
    assert(record.bytes === sizeOf(record), 'object size equals the sum of its blocks');
    const encoded = objectKey(bucketId, key);
    // Hashed here, not inside the transaction: the commit batch of this event turn waits for it.
    const body = bodyToStore(record.inline);
    const outcome = await this.env.transaction(() =>
      this.replaceObject(bucketId, encoded, record, quota, body, guard),
    );
    return unwrap(outcome).freed;
  }

  /**
   * Replaces the object's tags (an empty set removes them), keeping the rest of its record:
   * blocks and their counts do not move. Fails with NoSuchKey if the object does not exist.
   */
  async setTags(bucketId: string, key: string, tags: readonly Tag[]): Promise<Tag[]> {
    const encoded = objectKey(bucketId, key);
    const outcome = await this.env.transaction(() => {
      const current = this.objects.get(encoded);
      if (current === undefined) return failed('NoSuchKey', 'The specified key does not exist.');
      const { tags: _previous, ...rest } = current;
      this.objects.put(encoded, tags.length === 0 ? rest : { ...rest, tags: [...tags] });
      return { tags: [...tags] };
    });
    return unwrap(outcome).tags;
  }

  /**
   * Removes the object if `guard` (DeleteObject's If-Match) allows; returns whether it existed
   * and the hashes whose count reached zero.
   */
  async deleteObject(
    bucketId: string,
    key: string,
    guard: WriteGuard | null = null,
  ): Promise<{ existed: boolean; freed: string[] }> {
    const encoded = objectKey(bucketId, key);
    const outcome = await this.env.transaction(
      (): { existed: boolean; freed: string[] } | { failure: EngineFailure } => {
        const previous = this.objects.get(encoded);
        const unmet = guard?.(previous) ?? null;
        if (unmet !== null) return { failure: unmet };
        if (previous === undefined) return { existed: false, freed: [] };
        return { existed: true, freed: this.removeObjectRecord(encoded, previous) };
      },
    );
    return unwrap(outcome);
  }

  /**
   * Inside a transaction: removes an object record (`encoded`, holding `record`), moving its
   * bucket's counters and its blocks' refcounts. Returns the hashes whose count reached zero.
   */
  private removeObjectRecord(encoded: Buffer, record: ObjectRecord): string[] {
    this.objects.remove(encoded);
    this.count(bucketIdOf(encoded), -1, -record.bytes);
    if (record.body !== undefined) this.bodies.decref(record.body);
    return this.decrefAll(record.blocks);
  }

  /**
   * Inside a transaction: one more reference to a block. CRCs the reference brings (fresh from
   * a writer, or a copy source's record) are kept; those the block already has stay otherwise.
   */
  private incref(block: BlockRef): void {
    const current = this.blocks.get(block.hash);
    assert(current === undefined || current.bytes === block.bytes, 'a hash names one size');
    const crcs = block.crcs ?? current?.crcs;
    this.blocks.put(block.hash, {
      refs: (current?.refs ?? 0) + 1,
      bytes: block.bytes,
      ...(crcs !== undefined ? { crcs } : {}),
    });
    if (current === undefined) this.moveTotal(BLOCKS_STORED, 1, block.bytes);
    this.moveTotal(BLOCK_REFERENCES, 1, block.bytes);
  }

  private decrefAll(blocks: readonly BlockRef[]): string[] {
    const freed: string[] = [];
    for (const block of blocks) {
      const current = this.blocks.get(block.hash);
      assert(current !== undefined && current.refs > 0, `block ${block.hash} is referenced`);
      this.moveTotal(BLOCK_REFERENCES, -1, -current.bytes);
      if (current.refs === 1) {
        this.blocks.remove(block.hash);
        this.moveTotal(BLOCKS_STORED, -1, -current.bytes);
        // A freed block's file goes: whatever error it had goes with it.
        this.blockErrors.remove(block.hash);
        freed.push(block.hash);
      } else {
        this.blocks.put(block.hash, { ...current, refs: current.refs - 1 });
      }
    }
    return freed;
  }

  /**
   * One page of a bucket's listing in S3 order: keys, and with a delimiter the common prefixes
   * that roll them up. Returns up to `limit` entries and whether more follow.
   */
  list(query: ListQuery): { entries: ListEntry[]; truncated: boolean } {
    const entries: ListEntry[] = [];
    const end = prefixEnd(query.bucketId, query.prefix);
    let start: Buffer | null = this.listStart(query);
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
    for (const { key: encoded, value } of this.listing.getRange({ start, end })) {
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
      });
    }
    return null;
  }

  private listStart(query: ListQuery): Buffer {
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

  /**
   * A bucket's objects and bytes (O(1) counters) and its unfinished uploads with their parts
   * (counted: uploads in progress are few).
   */
  usage(bucketId: string): {
    objects: number;
    bytes: number;
    uploads: number;
    uploadParts: number;
    uploadBytes: number;
  } {
    const bounds = { start: objectKey(bucketId, ''), end: prefixEnd(bucketId, '') };
    let uploads = 0;
    let uploadParts = 0;
    let uploadBytes = 0;
    for (const { value } of this.uploads.getRange(bounds)) {
      uploads++;
      for (const { value: part } of this.parts.getRange(partsOf(value.uploadId))) {
        uploadParts++;
        uploadBytes += part.bytes;
      }
    }
    return { ...this.bucketCounters(bucketId), uploads, uploadParts, uploadBytes };
  }

  // ---- multipart uploads ----

  async createUpload(
    bucketId: string,
    key: string,
    spec: {
      headers: ObjectHeaders;
      checksum: UploadChecksum | null;
      sseKeyMd5: string | null;
      tags: Tag[];
    },
    nowMs: number,
  ): Promise<UploadRecord> {
    const uploadId = newUploadId(nowMs);
    const record: UploadRecord = {
      key,
      uploadId,
      initiatedMs: nowMs,
      headers: spec.headers,
      checksum: spec.checksum,
      ...(spec.sseKeyMd5 !== null ? { sseKeyMd5: spec.sseKeyMd5 } : {}),
      ...(spec.tags.length > 0 ? { tags: spec.tags } : {}),
    };
    await this.uploads.put(uploadKey(bucketId, key, uploadId), record);
    return record;
  }

  getUpload(bucketId: string, key: string, uploadId: string): UploadRecord | undefined {
    if (!isUploadId(uploadId)) return undefined;
    return this.uploads.get(uploadKey(bucketId, key, uploadId));
  }

  /**
   * Stores a part (replacing a previous upload of the same number) and moves refcounts in the
   * same transaction. Fails with NoSuchUpload if the upload was completed or aborted meanwhile.
   */
  async putPart(
    bucketId: string,
    key: string,
    target: PartTarget,
    part: PartRecord,
  ): Promise<string[]> {
    const outcome = await this.env.transaction(() => {
      if (this.getUpload(bucketId, key, target.uploadId) === undefined) return noSuchUpload();
      const encoded = partKey(target.uploadId, target.partNumber);
      const previous = this.parts.get(encoded);
      this.parts.put(encoded, { ...part, blocks: plainRefs(part.blocks) });
      for (const block of part.blocks) this.incref(block);
      return { freed: previous === undefined ? [] : this.decrefAll(previous.blocks) };
    });
    return unwrap(outcome).freed;
  }

  listParts(
    uploadId: string,
    afterPartNumber: number,
    limit: number,
  ): { parts: PartInfo[]; truncated: boolean } {
    const parts: PartInfo[] = [];
    const range = this.parts.getRange({
      start: partKey(uploadId, afterPartNumber + 1),
      end: partKey(uploadId, PART_NUMBER_END),
      limit: limit + 1,
    });
    for (const { key, value } of range) {
      parts.push({
        partNumber: key.readUInt32BE(UPLOAD_ID_BYTES),
        etag: value.etag,
        bytes: value.bytes,
        lastModifiedMs: value.lastModifiedMs,
        checksum: value.checksum ?? null,
      });
    }
    const truncated = parts.length > limit;
    if (truncated) parts.length = limit;
    return { parts, truncated };
  }

  /**
   * Completes an upload: the object record takes the chosen parts' blocks (no byte is copied),
   * every part record and the upload are removed, and all refcounts move in one transaction.
   */
  async completeUpload(
    bucketId: string,
    key: string,
    uploadId: string,
    chosen: readonly ChosenPart[],
    fullObjectBase64: string | null,
    nowMs: number,
    quota: QuotaCheck | null = null,
    conditions: WriteConditions | null = null,
  ): Promise<{ record: ObjectRecord; freed: string[] }> {
    const outcome = await this.env.transaction(() => {
      const upload = this.getUpload(bucketId, key, uploadId);
      if (upload === undefined) return noSuchUpload();
      const assembled = this.assemble(upload, chosen, fullObjectBase64);
      if ('failure' in assembled) return assembled;
      const record: ObjectRecord = {
        ...assembled.record,
        lastModifiedMs: nowMs,
        headers: upload.headers,
        ...(upload.tags !== undefined && upload.tags.length > 0 ? { tags: upload.tags } : {}),
      };
      const guard = conditions && guardSinceUploadBegan(conditions, upload.initiatedMs);
      const encoded = objectKey(bucketId, key);
      const replaced = this.replaceObject(bucketId, encoded, record, quota, null, guard);
      if ('failure' in replaced) return replaced;
      const freed = [...replaced.freed, ...this.dropUpload(bucketId, key, uploadId)];
      return { record, freed };
    });
    return unwrap(outcome);
  }

  /** Checks the client's part list against the stored parts and builds the object record. */
  private assemble(
    upload: UploadRecord,
    chosen: readonly ChosenPart[],
    fullObjectBase64: string | null,
  ): { record: Omit<ObjectRecord, 'lastModifiedMs' | 'headers'> } | { failure: EngineFailure } {
    const parts: PartRecord[] = [];
    for (const [index, wanted] of chosen.entries()) {
      const part = this.chosenPart(
        upload,
        wanted,
        chosen[index - 1]?.partNumber ?? 0,
        index === chosen.length - 1,
      );
      if ('failure' in part) return part;
      parts.push(part);
    }
    const checksum = assembledChecksum(upload.checksum, parts, fullObjectBase64);
    if (checksum !== null && 'failure' in checksum) return checksum;
    const md5s = parts.map((part) => Buffer.from(unquote(part.etag), 'hex'));
    const record: Omit<ObjectRecord, 'lastModifiedMs' | 'headers'> = {
      bytes: parts.reduce((sum, part) => sum + part.bytes, 0),
      etag: `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`,
      checksum,
      blocks: parts.flatMap((part) => part.blocks),
      inline: null,
      partSizes: parts.map((part) => part.bytes),
    };
    if (upload.checksum !== null)
      record.partChecksums = parts.map((part) => part.checksum?.base64 ?? '');
    if (upload.sseKeyMd5 !== undefined) {
      const ivs = parts.map((part) =>
        part.sse !== undefined && part.sse.keyMd5 === upload.sseKeyMd5 ? part.sse.iv : '',
      );
      if (ivs.includes(''))
        return failed(
          'InvalidRequest',
          "Every part of an SSE-C upload must be encrypted with the upload's key.",
        );
      record.sse = { keyMd5: upload.sseKeyMd5, ivs };
    }
    return { record };
  }

  /** One listed part: in order, uploaded, ETag and checksums matching, big enough unless last. */
  private chosenPart(
    upload: UploadRecord,
    wanted: ChosenPart,
    previousNumber: number,
    last: boolean,
  ): PartRecord | { failure: EngineFailure } {
    if (wanted.partNumber <= previousNumber) {
      return failed(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
    const part = this.parts.get(partKey(upload.uploadId, wanted.partNumber));
    if (part === undefined || unquote(part.etag) !== unquote(wanted.etag)) {
      return failed(
        'InvalidPart',
        `Part ${wanted.partNumber} was not uploaded or its ETag does not match.`,
      );
    }
    // A checksum the client lists is compared with the part's own, when the part has one of
    // that algorithm (clients list checksums they computed even when they did not send them).
    for (const [algorithm, value] of Object.entries(wanted.checksums)) {
      if (part.checksum?.algorithm === algorithm && part.checksum.base64 !== value) {
        return failed(
          'InvalidPart',
          `The ${algorithm} checksum of part ${wanted.partNumber} does not match the part's.`,
        );
      }
    }
    if (!last && part.bytes < LIMITS.multipartPartBytesMin) {
      return failed(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
    }
    return part;
  }

  async abortUpload(bucketId: string, key: string, uploadId: string): Promise<string[]> {
    const outcome = await this.env.transaction(() => {
      if (this.getUpload(bucketId, key, uploadId) === undefined) return noSuchUpload();
      return { freed: this.dropUpload(bucketId, key, uploadId) };
    });
    return unwrap(outcome).freed;
  }

  /** Inside a transaction: removes an upload and its parts, returning blocks freed. */
  private dropUpload(bucketId: string, key: string, uploadId: string): string[] {
    const freed: string[] = [];
    for (const { key: encoded, value } of this.parts.getRange(partsOf(uploadId))) {
      freed.push(...this.decrefAll(value.blocks));
      this.parts.remove(encoded);
    }
    this.uploads.remove(uploadKey(bucketId, key, uploadId));
    return freed;
  }

  /** One page of in-progress uploads, ordered by key then initiation, with prefix rollup. */
  listUploads(query: UploadListQuery): { entries: UploadListEntry[]; truncated: boolean } {
    return collectPage(
      this.uploadListStart(query),
      prefixEnd(query.bucketId, query.prefix),
      query.limit,
      (start, end) => this.nextUploadEntry(query, start, end),
    );
  }

  private uploadListStart(query: UploadListQuery): Buffer {
    const atPrefix = objectKey(query.bucketId, query.prefix);
    if (query.afterKey === '') return atPrefix;
    const start = this.afterUploadMarker(query);
    return Buffer.compare(start, atPrefix) > 0 ? start : atPrefix;
  }

  /**
   * Where listing resumes after (key-marker, upload-id-marker): after that upload; or, with no
   * upload id, after every upload of key-marker (S3's rule), or after a rolled-up prefix.
   */
  private afterUploadMarker(query: UploadListQuery): Buffer {
    if (query.afterUploadId !== '' && isUploadId(query.afterUploadId)) {
      return Buffer.concat([
        uploadKey(query.bucketId, query.afterKey, query.afterUploadId),
        Buffer.from([0]),
      ]);
    }
    const rollup = this.listStart({ ...query, after: query.afterKey });
    // Upload keys are <key> 0x00 <id>: <key> 0x01 is past every upload of the key itself.
    const pastKey = Buffer.concat([objectKey(query.bucketId, query.afterKey), Buffer.from([1])]);
    return Buffer.compare(rollup, pastKey) > 0 ? rollup : pastKey;
  }

  private nextUploadEntry(
    query: UploadListQuery,
    start: Buffer,
    end: Buffer,
  ): { entry: UploadListEntry; resumeAt: Buffer } | undefined {
    for (const { key: encoded, value } of this.uploads.getRange({ start, end, limit: 1 })) {
      const cut =
        query.delimiter === '' ? -1 : value.key.indexOf(query.delimiter, query.prefix.length);
      if (cut >= 0) {
        const prefix = value.key.slice(0, cut + query.delimiter.length);
        return { entry: { kind: 'prefix', prefix }, resumeAt: prefixEnd(query.bucketId, prefix) };
      }
      return {
        entry: { kind: 'upload', upload: uploadInfoOf(value) },
        resumeAt: Buffer.concat([Buffer.from(encoded), Buffer.from([0])]),
      };
    }
    return undefined;
  }

  /** Deletes every object whose bucket is gone; returns the count and the freed blocks. */
  async purgeBuckets(
    liveBucketIds: ReadonlySet<string>,
  ): Promise<{ objects: number; freed: string[] }> {
    const dead: Buffer[] = [];
    for (const { key } of this.objects.getRange({})) {
      const bucketId = bucketIdOf(key);
      if (!liveBucketIds.has(bucketId)) dead.push(Buffer.from(key));
    }
    const deadUploads: UploadRecord[] = [];
    const deadUploadBuckets: string[] = [];
    for (const { key, value } of this.uploads.getRange({})) {
      const bucketId = bucketIdOf(key);
      if (liveBucketIds.has(bucketId)) continue;
      deadUploads.push(value);
      deadUploadBuckets.push(bucketId);
    }
    if (dead.length === 0 && deadUploads.length === 0) return { objects: 0, freed: [] };
    const freed = await this.env.transaction(() => {
      const hashes: string[] = [];
      for (const [index, upload] of deadUploads.entries()) {
        hashes.push(
          ...this.dropUpload(deadUploadBuckets[index] ?? '', upload.key, upload.uploadId),
        );
      }
      for (const encoded of dead) {
        const record = this.objects.get(encoded);
        if (record === undefined) continue;
        hashes.push(...this.removeObjectRecord(encoded, record));
      }
      return hashes;
    });
    return { objects: dead.length, freed };
  }

  /**
   * Lifecycle: reads at most `limit` object records (or upload records) of a bucket after the
   * cursor `after` (hex of the last LMDB key read; '' = from the start), then deletes in one
   * transaction those an enabled rule has expired (or aborts the uploads due), re-checking each
   * inside the transaction so a record replaced meanwhile is judged as it now is. Returns the
   * counts, the blocks freed and the cursor to resume from (null: the bucket is done).
   */
  async applyLifecycle(
    bucketId: string,
    rules: readonly LifecycleRule[],
    nowMs: number,
    target: 'objects' | 'uploads',
    after: string,
    limit: number,
  ): Promise<{ expired: number; aborted: number; freed: string[]; next: string | null }> {
    if (target === 'uploads') {
      const batch = await this.abortUploadsWhere(bucketId, after, limit, (upload) =>
        uploadAbortDue(rules, upload.key, upload.initiatedMs, nowMs),
      );
      return { expired: 0, ...batch };
    }
    const range = { start: this.resumeAt(bucketId, after), end: prefixEnd(bucketId, ''), limit };
    let read = 0;
    let last: Buffer | null = null;
    const due: Buffer[] = [];
    const expired = (encoded: Buffer, record: ObjectRecord | undefined): boolean => {
      if (record === undefined) return false;
      const expiry = objectExpiry(
        rules,
        keyOf(encoded),
        record.bytes,
        record.tags ?? [],
        record.lastModifiedMs,
      );
      return expiry !== null && expiry.atMs <= nowMs;
    };
    for (const { key, value } of this.objects.getRange(range)) {
      read++;
      last = Buffer.from(key);
      if (expired(last, value)) due.push(last);
    }
    const next = read < limit || last === null ? null : last.toString('hex');
    if (due.length === 0) return { expired: 0, aborted: 0, freed: [], next };
    return this.env.transaction(() => {
      const freed: string[] = [];
      let count = 0;
      for (const encoded of due) {
        const record = this.objects.get(encoded);
        if (record === undefined || !expired(encoded, record)) continue;
        freed.push(...this.removeObjectRecord(encoded, record));
        count++;
      }
      return { expired: count, aborted: 0, freed, next };
    });
  }

  /** Where a batch resumes: after the LMDB key `after` (hex), or at the bucket's first record. */
  private resumeAt(bucketId: string, after: string): Buffer {
    return after === ''
      ? objectKey(bucketId, '')
      : Buffer.concat([Buffer.from(after, 'hex'), ZERO]);
  }

  /**
   * One bounded batch (at most `limit` records after the cursor `after`) of a bucket's multipart
   * uploads: aborts those `due` selects, re-judging each inside the transaction, and frees their
   * parts' blocks. Lifecycle rules and the admin API's CleanupIncompleteUploads use it.
   */
  async abortUploadsWhere(
    bucketId: string,
    after: string,
    limit: number,
    due: (upload: UploadRecord) => boolean,
  ): Promise<{ aborted: number; freed: string[]; next: string | null }> {
    const range = { start: this.resumeAt(bucketId, after), end: prefixEnd(bucketId, ''), limit };
    let read = 0;
    let last: Buffer | null = null;
    const selected: Buffer[] = [];
    for (const { key, value } of this.uploads.getRange(range)) {
      read++;
      last = Buffer.from(key);
      if (due(value)) selected.push(last);
    }
    const next = read < limit || last === null ? null : last.toString('hex');
    if (selected.length === 0) return { aborted: 0, freed: [], next };
    return this.env.transaction(() => {
      const freed: string[] = [];
      let aborted = 0;
      for (const encoded of selected) {
        const upload = this.uploads.get(encoded);
        if (upload === undefined || !due(upload)) continue;
        freed.push(...this.dropUpload(bucketId, upload.key, upload.uploadId));
        aborted++;
      }
      return { aborted, freed, next };
    });
  }

  // ---- block health (scrub, orphan cleanup, operator repairs) ----

  /** A block's reference record, if anything references it. */
  blockRecord(hash: string): { refs: number; bytes: number; crcs?: BlockCrcs } | undefined {
    return this.blocks.get(hash);
  }

  /** The references with the CRCs each block has on record (none for a block from before). */
  withStoredCrcs(blocks: readonly BlockRef[]): BlockRef[] {
    return blocks.map((block) => {
      const crcs = this.blocks.get(block.hash)?.crcs;
      return crcs === undefined ? block : { ...block, crcs };
    });
  }

  /**
   * Records the CRC32Cs of a block's bytes, computed by a check that found the file whole (its
   * SHA-256 equal to its name): fills them in for a block written before CRCs were kept, and
   * corrects wrong ones. Returns whether the record changed.
   */
  async setBlockCrcs(hash: string, crcs: BlockCrcs): Promise<boolean> {
    return this.env.transaction(() => {
      const current = this.blocks.get(hash);
      if (current === undefined || sameCrcs(current.crcs, crcs)) return false;
      this.blocks.put(hash, { ...current, crcs });
      return true;
    });
  }

  /**
   * Up to `limit` referenced blocks and bodies after `after`, merged in hash order ('' = from
   * the first): the scrub walks both. (A body and a block of the same bytes share a hash: a
   * batch that ends between the two leaves the second for the next pass.)
   */
  blocksAfter(
    after: string,
    limit: number,
  ): Array<{ hash: string; bytes: number; kind: 'block' | 'body' }> {
    const range = { start: after === '' ? '' : `${after}\0`, limit };
    const out: Array<{ hash: string; bytes: number; kind: 'block' | 'body' }> = [];
    for (const { key, value } of this.blocks.getRange(range)) {
      out.push({ hash: key, bytes: value.bytes, kind: 'block' });
    }
    for (const body of this.bodies.range(range.start, limit)) out.push({ ...body, kind: 'body' });
    out.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    return out.slice(0, limit);
  }

  /** The scrub's check of a stored body (BodyTable.check). */
  async checkBody(hash: string, nowMs: number): Promise<'ok' | 'corrupt' | 'skipped'> {
    return this.bodies.check(hash, nowMs);
  }

  blockError(hash: string): BlockErrorRecord | undefined {
    return this.blockErrors.get(hash);
  }

  blockErrorCount(): number {
    return this.blockErrors.getKeysCount();
  }

  listBlockErrors(): Array<{ hash: string; error: BlockErrorRecord; refs: number }> {
    const out = [];
    for (const { key, value } of this.blockErrors.getRange({})) {
      const refs = this.blockRefs(key) || (this.bodies.record(key)?.refs ?? 0);
      out.push({ hash: key, error: value, refs });
    }
    return out;
  }

  /** Records a failed check of a referenced block (a block nothing references has no error). */
  async recordBlockError(
    hash: string,
    kind: BlockErrorRecord['kind'],
    message: string,
    nowMs: number,
  ): Promise<void> {
    await this.env.transaction(() => {
      if (this.blockRefs(hash) === 0) return;
      const previous = this.blockErrors.get(hash);
      // A quarantined corrupt file is missing afterwards: it stays reported as corrupt.
      const keep = previous?.kind === 'corrupt' && kind === 'missing';
      this.blockErrors.put(hash, {
        kind: keep ? previous.kind : kind,
        message: keep ? previous.message : message,
        errorCount: (previous?.errorCount ?? 0) + 1,
        firstErrorMs: previous?.firstErrorMs ?? nowMs,
        lastTryMs: nowMs,
      });
    });
  }

  async clearBlockError(hash: string): Promise<boolean> {
    return this.env.transaction(() => this.blockErrors.remove(hash));
  }

  /**
   * Who references a block: objects and parts of unfinished uploads, at most `limit` of them
   * (a scan of the shard's records: an operator's question, not a request path).
   */
  blockBacklinks(hash: string, limit: number): BlockBacklink[] {
    const links: BlockBacklink[] = [];
    if (this.blockRefs(hash) === 0 && this.bodies.record(hash) === undefined) return links;
    for (const { key, value } of this.objects.getRange({})) {
      if (links.length >= limit) return links;
      const names = value.body === hash || value.blocks.some((block) => block.hash === hash);
      if (!names) continue;
      const encoded = Buffer.from(key);
      links.push({ kind: 'object', bucketId: bucketIdOf(encoded), key: keyOf(encoded) });
    }
    const uploadsById = new Map<string, { bucketId: string; key: string }>();
    for (const { key, value } of this.uploads.getRange({})) {
      uploadsById.set(value.uploadId, { bucketId: bucketIdOf(Buffer.from(key)), key: value.key });
    }
    for (const { key, value } of this.parts.getRange({})) {
      if (links.length >= limit) return links;
      if (!value.blocks.some((block) => block.hash === hash)) continue;
      const encoded = Buffer.from(key);
      const uploadId = uploadIdOfPart(encoded);
      const upload = uploadsById.get(uploadId);
      if (upload === undefined) continue;
      links.push({
        kind: 'upload',
        ...upload,
        uploadId,
        partNumber: encoded.readUInt32BE(UPLOAD_ID_BYTES),
      });
    }
    return links;
  }

  /**
   * Gives up on blocks: deletes every object and aborts every upload that references one of
   * them (the operator's last resort for blocks that cannot be recovered). Returns the counts
   * and the blocks freed.
   */
  async purgeBlocks(
    hashes: readonly string[],
  ): Promise<{ objects: number; uploads: number; freed: string[] }> {
    const doomed = new Set(hashes);
    const touches = (blocks: readonly BlockRef[]): boolean =>
      blocks.some((block) => doomed.has(block.hash));
    const objectTouches = (record: ObjectRecord): boolean =>
      touches(record.blocks) || (record.body !== undefined && doomed.has(record.body));
    // Find the records first (no cursor walks a table while the transaction rewrites it) ...
    const objectKeys: Buffer[] = [];
    for (const { key, value } of this.objects.getRange({})) {
      if (objectTouches(value)) objectKeys.push(Buffer.from(key));
    }
    const uploadIds = new Set<string>();
    for (const { key, value } of this.parts.getRange({})) {
      if (touches(value.blocks)) {
        uploadIds.add(uploadIdOfPart(key));
      }
    }
    const uploads: Array<{ bucketId: string; key: string; uploadId: string }> = [];
    for (const { key, value } of this.uploads.getRange({})) {
      if (uploadIds.has(value.uploadId)) {
        uploads.push({ bucketId: bucketIdOf(key), key: value.key, uploadId: value.uploadId });
      }
    }
    // ... then remove them, re-checking each: a record replaced meanwhile is judged as it is now.
    return this.env.transaction(() => {
      const freed: string[] = [];
      let objects = 0;
      for (const encoded of objectKeys) {
        const record = this.objects.get(encoded);
        if (record === undefined || !objectTouches(record)) continue;
        freed.push(...this.removeObjectRecord(encoded, record));
        objects++;
      }
      let aborted = 0;
      for (const upload of uploads) {
        if (this.getUpload(upload.bucketId, upload.key, upload.uploadId) === undefined) continue;
        freed.push(...this.dropUpload(upload.bucketId, upload.key, upload.uploadId));
        aborted++;
      }
      return { objects, uploads: aborted, freed };
    });
  }

  /** Every block hash with a reference, for the start-up sweep of unreferenced block files. */
  referencedBlocks(): Set<string> {
    return new Set(this.blocks.getKeys({}) as Iterable<string>);
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
    sseKeyMd5: record.sse?.keyMd5 ?? null,
    tags: record.tags ?? [],
  };
}

export function uploadInfoOf(record: UploadRecord): UploadInfo {
  return {
    key: record.key,
    uploadId: record.uploadId,
    initiatedMs: record.initiatedMs,
    headers: record.headers,
    checksum: record.checksum ?? null,
    sseKeyMd5: record.sseKeyMd5 ?? null,
  };
}

/**
 * Walks a key range entry by entry (each step may jump past a rolled-up prefix) and returns
 * up to `limit` entries, reading one more to know whether the page is truncated.
 */
function collectPage<T>(
  first: Buffer,
  end: Buffer,
  limit: number,
  next: (start: Buffer, end: Buffer) => { entry: T; resumeAt: Buffer } | undefined,
): { entries: T[]; truncated: boolean } {
  const entries: T[] = [];
  let start = first;
  while (entries.length <= limit) {
    const step = next(start, end);
    if (step === undefined) break;
    entries.push(step.entry);
    start = step.resumeAt;
  }
  const truncated = entries.length > limit;
  if (truncated) entries.length = limit;
  return { entries, truncated };
}

export interface UploadListQuery {
  bucketId: string;
  prefix: string;
  delimiter: string;
  afterKey: string;
  afterUploadId: string;
  limit: number;
}

/** objects, blocks, uploads, parts, usage, block_errors, bodies, body_refs; room to grow. */
export const META_TABLES_MAX = 12;
const UPLOAD_ID_BYTES = 16;
const ZERO = Buffer.from([0]);
const PART_NUMBER_END = 0xffffffff;

/** Upload ids: 8 bytes of initiation time then 8 random bytes, hex: sorting them sorts by time. */
function newUploadId(nowMs: number): string {
  const id = Buffer.alloc(UPLOAD_ID_BYTES);
  id.writeBigUInt64BE(BigInt(nowMs), 0);
  randomFillSync(id, 8, 8);
  return id.toString('hex');
}

function isUploadId(uploadId: string): boolean {
  return /^[0-9a-f]{32}$/.test(uploadId);
}

/** Upload records sit under the object's key, so a bucket's uploads list in key order. */
function uploadKey(bucketId: string, key: string, uploadId: string): Buffer {
  assert(isUploadId(uploadId), 'upload ids are 32 hex digits');
  return Buffer.concat([objectKey(bucketId, key), Buffer.from([0]), Buffer.from(uploadId, 'hex')]);
}

/** The key range of every part of an upload. */
function partsOf(uploadId: string): { start: Buffer; end: Buffer } {
  return { start: partKey(uploadId, 0), end: partKey(uploadId, PART_NUMBER_END) };
}

/** The upload id a part key starts with. */
function uploadIdOfPart(encoded: Uint8Array): string {
  return Buffer.from(encoded.buffer, encoded.byteOffset, UPLOAD_ID_BYTES).toString('hex');
}

function partKey(uploadId: string, partNumber: number): Buffer {
  const encoded = Buffer.alloc(UPLOAD_ID_BYTES + 4);
  encoded.write(uploadId, 0, 'hex');
  encoded.writeUInt32BE(partNumber, UPLOAD_ID_BYTES);
  return encoded;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1');
}

function failed(code: EngineFailure['code'], message: string): { failure: EngineFailure } {
  return { failure: { code, message } };
}

/**
 * The object checksum of a completed upload: COMPOSITE (the checksum of the part checksums) or
 * FULL_OBJECT (the parts' CRCs combined), per the upload's algorithm and type. Every part must
 * carry the upload's algorithm; a client-asserted full-object value must match.
 */
function assembledChecksum(
  wanted: UploadRecord['checksum'],
  parts: readonly PartRecord[],
  fullObjectBase64: string | null,
): StoredChecksum | { failure: EngineFailure } | null {
  if (wanted === null) return null;
  const digests: Buffer[] = [];
  for (const part of parts) {
    if (part.checksum?.algorithm !== wanted.algorithm) {
      return failed(
        'InvalidRequest',
        `The upload was created using a ${wanted.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for one or more parts.`,
      );
    }
    digests.push(Buffer.from(part.checksum.base64, 'base64'));
  }
  const base64 =
    wanted.type === 'COMPOSITE'
      ? compositeChecksum(wanted.algorithm, digests)
      : combineCrcs(
          wanted.algorithm,
          parts.map((part, i) => ({ digest: digests[i] ?? Buffer.alloc(0), bytes: part.bytes })),
        ).toString('base64');
  if (fullObjectBase64 !== null && fullObjectBase64 !== base64) {
    return failed(
      'BadDigest',
      `The ${wanted.algorithm} you specified did not match the calculated checksum.`,
    );
  }
  return { algorithm: wanted.algorithm, base64, type: wanted.type };
}

function noSuchUpload(): { failure: EngineFailure } {
  return {
    failure: {
      code: 'NoSuchUpload',
      message:
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    },
  };
}

/** Transactions return failures as data (a throw inside one is not a clean abort): rethrow here. */
function unwrap<T extends object>(outcome: T | { failure: EngineFailure }): T {
  if ('failure' in outcome) throw new EngineFailureError(outcome.failure);
  return outcome;
}

/** Block references as object and part records keep them: CRCs live in the blocks table. */
function plainRefs(blocks: readonly BlockRef[]): BlockRef[] {
  return blocks.map(({ hash, bytes }) => ({ hash, bytes }));
}

function sizeOf(record: ObjectRecord): number {
  if (record.inline !== null) return record.inline.byteLength;
  return record.blocks.reduce((sum, block) => sum + block.bytes, 0);
}
