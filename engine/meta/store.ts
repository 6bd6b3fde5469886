import { type Database, type DatabaseOptions, open, type RootDatabase } from 'lmdb';
import { assert } from '../assert.js';
import { recordEncoder } from '../codec.js';
import type {
  BlockRef,
  ListEntry,
  ObjectHeaders,
  ObjectInfo,
  StoredChecksums,
} from '../protocol/messages.js';
import { compareKeys, keyOf, objectKey, prefixEnd, successorOf } from './keys.js';

/** An object's metadata record, as stored in the shard's `objects` table. */
export interface ObjectRecord {
  bytes: number;
  etag: string;
  lastModifiedMs: number;
  headers: ObjectHeaders;
  checksums: StoredChecksums;
  /** Content-addressed blocks, in order; empty for inline objects. */
  blocks: BlockRef[];
  /** The body itself for small objects. */
  inline: Uint8Array | null;
}

/** A block's reference count: how many object records (and repeats within them) point at it. */
interface BlockRecord {
  refs: number;
  bytes: number;
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
  private readonly blocks: Database<BlockRecord, string>;

  constructor(path: string, durable: boolean) {
    this.env = open({ path, maxDbs: 8, noSync: !durable, mapSize: 2 ** 34 });
    const records = { encoder: recordEncoder() } as DatabaseOptions;
    this.objects = this.env.openDB<ObjectRecord, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      ...records,
    });
    this.blocks = this.env.openDB<BlockRecord, string>({ name: 'blocks', ...records });
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }

  /** Resolves when every committed write is on disk. */
  async flushed(): Promise<void> {
    await this.env.flushed;
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
  async putObject(bucketId: string, key: string, record: ObjectRecord): Promise<string[]> {
    assert(record.bytes === sizeOf(record), 'object size equals the sum of its blocks');
    const encoded = objectKey(bucketId, key);
    return this.env.transaction(() => {
      const previous = this.objects.get(encoded);
      this.objects.put(encoded, record);
      for (const block of record.blocks) this.incref(block);
      return previous === undefined ? [] : this.decrefAll(previous.blocks);
    });
  }

  /** Removes the object; returns whether it existed and the hashes whose count reached zero. */
  async deleteObject(
    bucketId: string,
    key: string,
  ): Promise<{ existed: boolean; freed: string[] }> {
    const encoded = objectKey(bucketId, key);
    return this.env.transaction(() => {
      const previous = this.objects.get(encoded);
      if (previous === undefined) return { existed: false, freed: [] };
      this.objects.remove(encoded);
      return { existed: true, freed: this.decrefAll(previous.blocks) };
    });
  }

  private incref(block: BlockRef): void {
    const current = this.blocks.get(block.hash);
    assert(current === undefined || current.bytes === block.bytes, 'a hash names one size');
    this.blocks.put(block.hash, { refs: (current?.refs ?? 0) + 1, bytes: block.bytes });
  }

  private decrefAll(blocks: readonly BlockRef[]): string[] {
    const freed: string[] = [];
    for (const block of blocks) {
      const current = this.blocks.get(block.hash);
      assert(current !== undefined && current.refs > 0, `block ${block.hash} is referenced`);
      if (current.refs === 1) {
        this.blocks.remove(block.hash);
        freed.push(block.hash);
      } else {
        this.blocks.put(block.hash, { refs: current.refs - 1, bytes: current.bytes });
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
    let start = this.listStart(query);
    while (entries.length <= query.limit) {
      const next = this.nextEntry(query, start, end);
      if (next === undefined) break;
      entries.push(next.entry);
      start = next.resumeAt;
    }
    const truncated = entries.length > query.limit;
    if (truncated) entries.length = query.limit;
    return { entries, truncated };
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

  private nextEntry(
    query: ListQuery,
    start: Buffer,
    end: Buffer,
  ): { entry: ListEntry; resumeAt: Buffer } | undefined {
    for (const { key: encoded, value } of this.objects.getRange({ start, end, limit: 1 })) {
      const key = keyOf(encoded);
      const cut = query.delimiter === '' ? -1 : key.indexOf(query.delimiter, query.prefix.length);
      if (cut >= 0) {
        const prefix = key.slice(0, cut + query.delimiter.length);
        return { entry: { kind: 'prefix', prefix }, resumeAt: prefixEnd(query.bucketId, prefix) };
      }
      return {
        entry: { kind: 'object', info: infoOf(key, value) },
        resumeAt: successorOf(query.bucketId, key),
      };
    }
    return undefined;
  }

  usage(bucketId: string): { objects: number; bytes: number } {
    let objects = 0;
    let bytes = 0;
    const range = this.objects.getRange({
      start: objectKey(bucketId, ''),
      end: prefixEnd(bucketId, ''),
    });
    for (const { value } of range) {
      objects++;
      bytes += value.bytes;
    }
    return { objects, bytes };
  }

  /** Deletes every object whose bucket is gone; returns the count and the freed blocks. */
  async purgeBuckets(
    liveBucketIds: ReadonlySet<string>,
  ): Promise<{ objects: number; freed: string[] }> {
    const dead: Buffer[] = [];
    for (const { key } of this.objects.getRange({})) {
      const bucketId = Buffer.from(key).subarray(0, 16).toString('hex');
      if (!liveBucketIds.has(bucketId)) dead.push(Buffer.from(key));
    }
    if (dead.length === 0) return { objects: 0, freed: [] };
    const freed = await this.env.transaction(() => {
      const hashes: string[] = [];
      for (const encoded of dead) {
        const record = this.objects.get(encoded);
        if (record === undefined) continue;
        this.objects.remove(encoded);
        hashes.push(...this.decrefAll(record.blocks));
      }
      return hashes;
    });
    return { objects: dead.length, freed };
  }

  /** Every block hash with a reference, for the start-up sweep of unreferenced block files. */
  referencedBlocks(): Set<string> {
    return new Set(this.blocks.getKeys({}) as Iterable<string>);
  }
}

export function infoOf(key: string, record: ObjectRecord): ObjectInfo {
  return {
    key,
    bytes: record.bytes,
    etag: record.etag,
    lastModifiedMs: record.lastModifiedMs,
    headers: record.headers,
    checksums: record.checksums,
    inline: record.inline !== null,
  };
}

function sizeOf(record: ObjectRecord): number {
  if (record.inline !== null) return record.inline.byteLength;
  return record.blocks.reduce((sum, block) => sum + block.bytes, 0);
}
