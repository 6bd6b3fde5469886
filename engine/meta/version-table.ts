import { randomFillSync } from 'node:crypto';
import { assert } from '../assert.js';
import { objectKey } from './keys.js';
import type { KvEnv, KvTable, KvTableOptions } from './kv.js';
import { type ObjectRecord, shownVersionId } from './object-table.js';

/**
 * Version ids: 16 bytes, hex. The first 8 are 2^64-1 minus a microsecond stamp, the last 8
 * random: ids of one key sort newest first as strings and as LMDB keys, so a key's versions
 * are one range in S3's order (newest first) and a version-id-marker is a position in it.
 */
const VERSION_ID_BYTES = 16;
const STAMP_MAX = 2n ** 64n - 1n;
const VERSION_ID_PATTERN = /^[0-9a-f]{32}$/;

export function isVersionId(versionId: string): boolean {
  return VERSION_ID_PATTERN.test(versionId);
}

function stampOf(versionId: string): bigint {
  return STAMP_MAX - Buffer.from(versionId, 'hex').readBigUInt64BE(0);
}

function idOfStamp(stamp: bigint): string {
  const id = Buffer.alloc(VERSION_ID_BYTES);
  id.writeBigUInt64BE(STAMP_MAX - stamp, 0);
  randomFillSync(id, 8, 8);
  return id.toString('hex');
}

/**
 * Hands out version ids, each newer than every id this shard gave before and than the key's
 * newest version: a wall clock that steps back can never order a new version behind an old one.
 */
export class VersionClock {
  private last = 0n;

  next(nowMs: number, newest: string | null): string {
    let stamp = BigInt(nowMs) * 1000n;
    if (stamp <= this.last) stamp = this.last + 1n;
    if (newest !== null && stamp <= stampOf(newest)) stamp = stampOf(newest) + 1n;
    this.last = stamp;
    return idOfStamp(stamp);
  }

  /** The id a record written before versioning gets when it becomes noncurrent: its mtime. */
  static ofLegacy(lastModifiedMs: number): string {
    return idOfStamp(BigInt(lastModifiedMs) * 1000n);
  }
}

/**
 * The `versions` table: objectKey(bucket, key) 0x00 versionId(16 bytes) → ObjectRecord. It holds
 * every noncurrent version and every delete marker of versioned keys; the current version, when
 * it is an object, stays in the `objects` table exactly as in a never-versioned bucket (so GET
 * and the listings read one table, one get). Invariants (asserted by the writers in
 * versioned.ts): every record here has a versionId; the `objects` record of a key is newer than
 * all of its versions here; a key with no `objects` record and versions here has a delete
 * marker as its newest version.
 */
export class VersionTable {
  private readonly versions: KvTable<ObjectRecord, Buffer>;
  /**
   * objectKey → the id of the key's null version in `versions`, so that a Suspended write, a
   * `versionId=null` request and the version listing find it in one get instead of scanning
   * every version of the key. Kept by put and remove; built once for stores from before it.
   * Absent (null) on the edge's read-only view, which scans (it never creates tables).
   */
  private readonly nullIndex: KvTable<string, Buffer> | null;

  constructor(env: KvEnv, records: KvTableOptions, opts: { readOnly?: boolean } = {}) {
    this.versions = env.openDB<ObjectRecord, Buffer>({
      name: 'versions',
      keyEncoding: 'binary',
      ...records,
    });
    this.nullIndex =
      opts.readOnly === true
        ? null
        : env.openDB<string, Buffer>({ name: 'null_versions', keyEncoding: 'binary' });
  }

  /** Whether the null-version index exists (a store from before it has none: build it). */
  nullIndexBuilt(): boolean {
    return this.nullIndex === null || this.nullIndex.get(NULL_INDEX_BUILT) !== undefined;
  }

  /** Inside a transaction: indexes every stored null version, once. */
  buildNullIndex(): void {
    const index = this.nullIndex;
    if (index === null) return;
    for (const { key, value } of this.versions.getRange()) {
      if (value.nullVersion !== true) continue;
      const { objectKey, versionId } = splitVersionKey(key);
      index.put(objectKey, versionId);
    }
    index.put(NULL_INDEX_BUILT, 'built');
  }

  get(bucketId: string, key: string, versionId: string): ObjectRecord | undefined {
    return this.versions.get(versionKey(bucketId, key, versionId));
  }

  getEncoded(encoded: Buffer): ObjectRecord | undefined {
    return this.versions.get(encoded);
  }

  /** Inside a transaction: stores a version as given (its blocks and body already counted). */
  put(bucketId: string, key: string, record: ObjectRecord): void {
    assert(record.versionId !== undefined, 'a stored version has an id');
    this.versions.put(versionKey(bucketId, key, record.versionId), record);
    if (record.nullVersion === true && this.nullIndex !== null) {
      const indexed = this.nullIndex.get(objectKey(bucketId, key));
      assert(
        indexed === undefined || indexed === record.versionId,
        'a key has at most one null version',
      );
      this.nullIndex.put(objectKey(bucketId, key), record.versionId);
    }
  }

  remove(bucketId: string, key: string, versionId: string): void {
    this.removeEncoded(versionKey(bucketId, key, versionId));
  }

  removeEncoded(encoded: Buffer): void {
    this.versions.remove(encoded);
    if (this.nullIndex === null) return;
    const { objectKey: indexKey, versionId } = splitVersionKey(encoded);
    if (this.nullIndex.get(indexKey) === versionId) this.nullIndex.remove(indexKey);
  }

  /** The key's newest version in this table (noncurrent, or the delete marker that is latest). */
  newest(bucketId: string, key: string): ObjectRecord | undefined {
    for (const { value } of this.versions.getRange({ ...versionsOf(bucketId, key), limit: 1 })) {
      return value;
    }
    return undefined;
  }

  /** The key's null version in this table, if any (one get; the read-only view scans). */
  nullVersion(bucketId: string, key: string): ObjectRecord | undefined {
    if (this.nullIndex !== null) {
      const versionId = this.nullIndex.get(objectKey(bucketId, key));
      if (versionId === undefined) return undefined;
      const record = this.get(bucketId, key, versionId);
      assert(record?.nullVersion === true, 'the null-version index names a null version');
      return record;
    }
    for (const { value } of this.versions.getRange(versionsOf(bucketId, key))) {
      if (value.nullVersion === true) return value;
    }
    return undefined;
  }

  /** The version shown as `shown` ('null' or an id) in this table. */
  find(bucketId: string, key: string, shown: string): ObjectRecord | undefined {
    if (shown === 'null') return this.nullVersion(bucketId, key);
    const record = this.get(bucketId, key, shown);
    return record === undefined || shownVersionId(record) !== shown ? undefined : record;
  }

  range(options: { start?: Buffer; end?: Buffer; limit?: number } = {}): Iterable<{
    key: Buffer;
    value: ObjectRecord;
  }> {
    return this.versions.getRange(options);
  }
}

/** A version's LMDB key: the object's key, 0x00, the 16 bytes of the id. */
export function versionKey(bucketId: string, key: string, versionId: string): Buffer {
  assert(isVersionId(versionId), 'version ids are 32 hex digits');
  return Buffer.concat([objectKey(bucketId, key), ZERO, Buffer.from(versionId, 'hex')]);
}

/** The object key (without bucket) and version id of an encoded version key. */
export function splitVersionKey(encoded: Uint8Array): { objectKey: Buffer; versionId: string } {
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const cut = bytes.length - VERSION_ID_BYTES - 1;
  assert(cut >= 16 && bytes[cut] === 0, 'a version key ends with 0x00 and a 16-byte id');
  return {
    objectKey: Buffer.from(bytes.subarray(0, cut)),
    versionId: bytes.toString('hex', cut + 1),
  };
}

/** The key range of every version of one key. */
export function versionsOf(bucketId: string, key: string): { start: Buffer; end: Buffer } {
  const encoded = objectKey(bucketId, key);
  return { start: Buffer.concat([encoded, ZERO]), end: Buffer.concat([encoded, ONE]) };
}

/** The index's "built" marker: one byte, shorter than any object key (16 bytes of bucket id). */
const NULL_INDEX_BUILT = Buffer.from([0xff]);
const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);
