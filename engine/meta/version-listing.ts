import type { ShardRequest, VersionListEntry } from '../protocol/messages.js';
import { keyOf, objectKey, prefixEnd } from './keys.js';
import { listStart, type ObjectRecord, type ObjectTable, shownVersionId } from './object-table.js';
import { collectPage } from './outcome.js';
import { SeekCursor } from './seek-cursor.js';
import { splitVersionKey, type VersionTable, versionKey } from './version-table.js';

/** The shard's ListVersions request, as the protocol carries it. */
export type VersionListQuery = Omit<
  Extract<ShardRequest, { kind: 'ListVersions' }>,
  'kind' | 'reqId'
>;

const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);

/**
 * One shard's page of ListObjectVersions: the `objects` table (current objects) and the
 * `versions` table (noncurrent versions, delete markers) walked as one byte order. A key's
 * current object (objectKey) sorts just before its versions (objectKey 0x00 id, newest first),
 * so the merged order is S3's: keys ascending, each key's versions newest first.
 */
export class VersionLister {
  constructor(
    private readonly objects: ObjectTable,
    private readonly versions: VersionTable,
  ) {}

  list(query: VersionListQuery): { entries: VersionListEntry[]; truncated: boolean } {
    // One cursor per table and page: a page's starts only grow (seek-cursor.ts).
    const tables: PageCursors = {
      objects: new SeekCursor((start, end) => this.objects.range({ start, end })),
      versions: new SeekCursor((start, end) => this.versions.range({ start, end })),
    };
    return collectPage(
      this.start(query),
      prefixEnd(query.bucketId, query.prefix),
      query.limit,
      (start, end) => this.next(query, tables, start, end),
    );
  }

  /** Where the page starts: after (key-marker, version-id-marker), never before the prefix. */
  private start(query: VersionListQuery): Buffer {
    const atPrefix = objectKey(query.bucketId, query.prefix);
    if (query.keyMarker === '') return atPrefix;
    const start =
      query.versionIdMarker === ''
        ? this.pastKey(query)
        : this.pastVersion(query.bucketId, query.keyMarker, query.versionIdMarker);
    return Buffer.compare(start, atPrefix) > 0 ? start : atPrefix;
  }

  /** Past every version of key-marker, or past a rolled-up common prefix. */
  private pastKey(query: VersionListQuery): Buffer {
    const rollup = listStart({ ...query, after: query.keyMarker });
    const pastVersions = Buffer.concat([objectKey(query.bucketId, query.keyMarker), ONE]);
    return Buffer.compare(rollup, pastVersions) > 0 ? rollup : pastVersions;
  }

  /** Just past one version of a key: the current object, or a stored version's LMDB key. */
  private pastVersion(bucketId: string, key: string, shown: string): Buffer {
    const encoded = objectKey(bucketId, key);
    const current = this.objects.get(encoded);
    if (current !== undefined && shownVersionId(current) === shown) {
      return Buffer.concat([encoded, ZERO]);
    }
    if (shown === 'null') {
      const stored = this.versions.nullVersion(bucketId, key);
      // A null version that is gone: resume after the key's versions (S3 has no position).
      if (stored?.versionId === undefined) return Buffer.concat([encoded, ONE]);
      return Buffer.concat([versionKey(bucketId, key, stored.versionId), ZERO]);
    }
    // Ids order the key's versions, so an id past which to resume need not still exist.
    return Buffer.concat([versionKey(bucketId, key, shown), ZERO]);
  }

  /** The next entry at or after `start`, from whichever table has the smaller key. */
  private next(
    query: VersionListQuery,
    tables: PageCursors,
    start: Buffer,
    end: Buffer,
  ): { entry: VersionListEntry; resumeAt: Buffer } | undefined {
    const current = tables.objects.first(start, end);
    const stored = tables.versions.first(start, end);
    if (current === undefined && stored === undefined) return undefined;
    const fromObjects =
      stored === undefined ||
      (current !== undefined && Buffer.compare(current.key, stored.key) < 0);
    const chosen = fromObjects ? current : stored;
    if (chosen === undefined) return undefined;
    const encodedObject = fromObjects
      ? Buffer.from(chosen.key)
      : splitVersionKey(chosen.key).objectKey;
    const key = keyOf(encodedObject);
    const cut = query.delimiter === '' ? -1 : key.indexOf(query.delimiter, query.prefix.length);
    if (cut >= 0) {
      const prefix = key.slice(0, cut + query.delimiter.length);
      return { entry: { kind: 'prefix', prefix }, resumeAt: prefixEnd(query.bucketId, prefix) };
    }
    const isLatest =
      fromObjects || this.isLatestStored(query.bucketId, key, encodedObject, chosen.value);
    return {
      entry: entryOf(key, chosen.value, isLatest),
      resumeAt: Buffer.concat([Buffer.from(chosen.key), ZERO]),
    };
  }

  /** A stored version is the latest when the key has no current object and it is the newest. */
  private isLatestStored(
    bucketId: string,
    key: string,
    encodedObject: Buffer,
    record: ObjectRecord,
  ): boolean {
    if (this.objects.get(encodedObject) !== undefined) return false;
    return this.versions.newest(bucketId, key)?.versionId === record.versionId;
  }
}

/** A page's cursors over the two tables it merges. */
interface PageCursors {
  objects: SeekCursor<ObjectRecord>;
  versions: SeekCursor<ObjectRecord>;
}

function entryOf(key: string, record: ObjectRecord, isLatest: boolean): VersionListEntry {
  return {
    kind: 'version',
    key,
    versionId: shownVersionId(record),
    isLatest,
    deleteMarker: record.deleteMarker === true,
    bytes: record.bytes,
    etag: record.etag,
    lastModifiedMs: record.lastModifiedMs,
    ...(record.owner !== undefined ? { owner: record.owner } : {}),
    ...(record.storageClass !== undefined ? { storageClass: record.storageClass } : {}),
    ...(record.restore !== undefined ? { restore: record.restore } : {}),
  };
}
