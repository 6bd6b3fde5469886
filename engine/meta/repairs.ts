import type { BlockBacklink, BlockRef } from '../protocol/messages.js';
import type { BlockTable } from './block-table.js';
import type { BodyTable } from './bodies.js';
import { bucketIdOf, keyOf } from './keys.js';
import { type KvEnv, readKv } from './kv.js';
import { type ObjectRecord, type ObjectTable, shownVersionId } from './object-table.js';
import { unwrap } from './outcome.js';
import type { UploadRecord, UploadTable } from './upload-table.js';
import { splitVersionKey, type VersionTable } from './version-table.js';
import type { VersionedObjects } from './versioned.js';

/** The tables the operator's repairs walk and change. */
export interface RepairTables {
  env: KvEnv;
  objects: ObjectTable;
  versions: VersionTable;
  uploads: UploadTable;
  blocks: BlockTable;
  bodies: BodyTable;
  versioned: VersionedObjects;
}

/** A record in `objects` or `versions`: its bucket, key and where it is. */
interface Found {
  bucketId: string;
  key: string;
  record: ObjectRecord;
  current: boolean;
}

/**
 * Whole-shard scans and removals the request path never makes: purging deleted buckets, finding
 * who references a block, giving up on blocks. Each reads its candidates first (no cursor walks
 * a table while the transaction rewrites it), then removes them in one transaction, re-judging
 * each as it is then. Versions are removed with the versioned rules (versioned.ts), so the
 * tables' invariants hold after a repair as after a request.
 */
export class Repairs {
  constructor(private readonly t: RepairTables) {}

  /** Deletes every object, version and upload whose bucket is gone. */
  async purgeBuckets(
    liveBucketIds: ReadonlySet<string>,
  ): Promise<{ objects: number; freed: string[] }> {
    const { dead, deadUploads } = await readKv(this.t.env, () => {
      const dead = this.records((bucketId) => !liveBucketIds.has(bucketId));
      const deadUploads: Array<{ bucketId: string; upload: UploadRecord }> = [];
      for (const { bucketId, upload } of this.t.uploads.all()) {
        if (!liveBucketIds.has(bucketId)) deadUploads.push({ bucketId, upload });
      }
      return { dead, deadUploads };
    });
    if (dead.length === 0 && deadUploads.length === 0) return { objects: 0, freed: [] };
    const freed = await this.t.env.transaction(() => {
      const hashes: string[] = [];
      for (const { bucketId, upload } of deadUploads) {
        hashes.push(...this.t.uploads.drop(bucketId, upload.key, upload.uploadId));
      }
      // Every version of a dead bucket goes: none is promoted in place of another.
      for (const found of dead) {
        if (!this.stillThere(found)) continue;
        hashes.push(
          ...this.t.versioned.release(found.bucketId, found.key, found.record, found.current),
        );
      }
      return hashes;
    });
    return { objects: dead.length, freed };
  }

  /**
   * Who references a block: objects, versions and parts of unfinished uploads, at most `limit`
   * of them (a scan of the shard's records: an operator's question, not a request path).
   */
  blockBacklinks(hash: string, limit: number): BlockBacklink[] {
    const links: BlockBacklink[] = [];
    if (this.t.blocks.refs(hash) === 0 && this.t.bodies.record(hash) === undefined) return links;
    const names = (record: ObjectRecord): boolean =>
      record.body === hash || record.blocks.some((block) => block.hash === hash);
    for (const found of this.records(() => true, names, limit)) {
      links.push({ kind: 'object', bucketId: found.bucketId, key: found.key });
    }
    const uploadsById = new Map<string, { bucketId: string; key: string }>();
    for (const { bucketId, upload } of this.t.uploads.all()) {
      uploadsById.set(upload.uploadId, { bucketId, key: upload.key });
    }
    for (const { uploadId, partNumber, part } of this.t.uploads.allParts()) {
      if (links.length >= limit) return links;
      if (!part.blocks.some((block) => block.hash === hash)) continue;
      const upload = uploadsById.get(uploadId);
      if (upload === undefined) continue;
      links.push({ kind: 'upload', ...upload, uploadId, partNumber });
    }
    return links;
  }

  /**
   * Gives up on blocks: deletes every object and version and aborts every upload that
   * references one of them (the operator's last resort for blocks that cannot be recovered).
   */
  async purgeBlocks(
    hashes: readonly string[],
  ): Promise<{ objects: number; uploads: number; freed: string[] }> {
    const doomed = new Set(hashes);
    const touches = (blocks: readonly BlockRef[]): boolean =>
      blocks.some((block) => doomed.has(block.hash));
    const objectTouches = (record: ObjectRecord): boolean =>
      touches(record.blocks) || (record.body !== undefined && doomed.has(record.body));
    const { victims, uploads } = await readKv(this.t.env, () => {
      const victims = this.records(() => true, objectTouches);
      const uploadIds = new Set<string>();
      for (const { uploadId, part } of this.t.uploads.allParts()) {
        if (touches(part.blocks)) uploadIds.add(uploadId);
      }
      const uploads: Array<{ bucketId: string; key: string; uploadId: string }> = [];
      for (const { bucketId, upload } of this.t.uploads.all()) {
        if (uploadIds.has(upload.uploadId)) {
          uploads.push({ bucketId, key: upload.key, uploadId: upload.uploadId });
        }
      }
      return { victims, uploads };
    });
    return this.t.env.transaction(() => {
      const freed: string[] = [];
      let objects = 0;
      for (const found of victims) {
        const now = this.t.versioned.locate(
          found.bucketId,
          found.key,
          shownVersionId(found.record),
        );
        if (now === undefined || !objectTouches(now.record)) continue;
        freed.push(...this.removeOne(found.bucketId, found.key, now.record, now.current));
        objects++;
      }
      let aborted = 0;
      for (const upload of uploads) {
        if (this.t.uploads.get(upload.bucketId, upload.key, upload.uploadId) === undefined) {
          continue;
        }
        freed.push(...this.t.uploads.drop(upload.bucketId, upload.key, upload.uploadId));
        aborted++;
      }
      return { objects, uploads: aborted, freed };
    });
  }

  /** Removes one version: a record of a never-versioned key simply, a version by S3's rules. */
  private removeOne(
    bucketId: string,
    key: string,
    record: ObjectRecord,
    current: boolean,
  ): string[] {
    if (record.versionId === undefined)
      return this.t.versioned.release(bucketId, key, record, current);
    // Its blocks are lost or its bucket is gone: no object lock keeps a record of nothing.
    // No guard: nothing refuses it (unwrap only asserts that).
    return unwrap(this.t.versioned.deleteVersion(bucketId, key, shownVersionId(record), null))
      .freed;
  }

  /** Whether a record found before the transaction is still stored (same version, same place). */
  private stillThere(found: Found): boolean {
    const now = this.t.versioned.locate(found.bucketId, found.key, shownVersionId(found.record));
    return now !== undefined && now.current === found.current;
  }

  /** Records of both tables whose bucket and record pass, at most `limit`. */
  private records(
    bucketPasses: (bucketId: string) => boolean,
    recordPasses: (record: ObjectRecord) => boolean = () => true,
    limit = Number.POSITIVE_INFINITY,
  ): Found[] {
    const out: Found[] = [];
    for (const { key, value } of this.t.objects.range()) {
      if (out.length >= limit) return out;
      const bucketId = bucketIdOf(key);
      if (!bucketPasses(bucketId) || !recordPasses(value)) continue;
      out.push({ bucketId, key: keyOf(key), record: value, current: true });
    }
    for (const { key, value } of this.t.versions.range()) {
      if (out.length >= limit) return out;
      const bucketId = bucketIdOf(key);
      if (!bucketPasses(bucketId) || !recordPasses(value)) continue;
      out.push({
        bucketId,
        key: keyOf(splitVersionKey(key).objectKey),
        record: value,
        current: false,
      });
    }
    return out;
  }
}
