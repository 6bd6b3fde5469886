import type { RootDatabase } from 'lmdb';
import { objectExpiry, uploadAbortDue } from '../lifecycle.js';
import type { ObjectFacts } from '../notify/events.js';
import type { LifecycleRule, VersioningState } from '../protocol/messages.js';
import { keyOf, objectKey, prefixEnd } from './keys.js';
import type { ObjectRecord, ObjectTable } from './object-table.js';
import type { UploadRecord, UploadTable } from './upload-table.js';
import type { VersionLifecycle } from './version-lifecycle.js';
import type { VersionedObjects } from './versioned.js';

/**
 * Lifecycle's bounded batches over a bucket's current objects, its uploads and (through
 * VersionLifecycle) its versions. Each reads at most `limit` records after a cursor, then acts
 * in one transaction, re-judging each record as it is then.
 */
export class LifecycleBatches {
  constructor(
    private readonly env: RootDatabase,
    private readonly objects: ObjectTable,
    private readonly uploads: UploadTable,
    private readonly versioned: VersionedObjects,
    private readonly versions: VersionLifecycle,
  ) {}

  /**
   * Lifecycle: reads at most `limit` object records (or upload records) of a bucket after the
   * cursor `after` (hex of the last LMDB key read; '' = from the start), then deletes in one
   * transaction those an enabled rule has expired (or aborts the uploads due), re-checking each
   * inside the transaction so a record replaced meanwhile is judged as it now is. Returns the
   * counts, the blocks freed and the cursor to resume from (null: the bucket is done).
   */
  async apply(
    bucketId: string,
    rules: readonly LifecycleRule[],
    nowMs: number,
    target: 'objects' | 'versions' | 'uploads',
    after: string,
    limit: number,
    versioning?: VersioningState,
    note?: ExpiryNote,
  ): Promise<{ expired: number; aborted: number; freed: string[]; next: string | null }> {
    if (target === 'versions') {
      const batch = await this.versions.apply(bucketId, rules, nowMs, after, limit, note);
      return { ...batch, aborted: 0 };
    }
    if (target === 'uploads') {
      const batch = await this.abortUploadsWhere(bucketId, after, limit, (upload) =>
        uploadAbortDue(rules, upload.key, upload.initiatedMs, nowMs),
      );
      return { expired: 0, ...batch };
    }
    const range = { start: resumeAt(bucketId, after), end: prefixEnd(bucketId, ''), limit };
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
    for (const { key, value } of this.objects.range(range)) {
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
        // In a versioned bucket an expired current object becomes noncurrent behind a marker.
        const key = keyOf(encoded);
        if (versioning === undefined) {
          freed.push(...this.versioned.release(bucketId, key, record, true));
          note?.({ key }, false);
        } else {
          const deleted = this.versioned.deleteCurrent(bucketId, key, versioning, nowMs);
          if ('failure' in deleted) continue; // unguarded: never
          freed.push(...deleted.freed);
          const versionId = deleted.outcome.versionId;
          note?.({ key, ...(versionId !== undefined ? { versionId } : {}) }, true);
        }
        count++;
      }
      return { expired: count, aborted: 0, freed, next };
    });
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
    const range = { start: resumeAt(bucketId, after), end: prefixEnd(bucketId, ''), limit };
    let read = 0;
    let last: Buffer | null = null;
    const selected: Buffer[] = [];
    for (const { key, value } of this.uploads.range(range)) {
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
        const upload = this.uploads.getEncoded(encoded);
        if (upload === undefined || !due(upload)) continue;
        freed.push(...this.uploads.drop(bucketId, upload.key, upload.uploadId));
        aborted++;
      }
      return { aborted, freed, next };
    });
  }
}

const ZERO = Buffer.from([0]);

/** Where a batch resumes: after the LMDB key `after` (hex), or at the bucket's first record. */
function resumeAt(bucketId: string, after: string): Buffer {
  return after === '' ? objectKey(bucketId, '') : Buffer.concat([Buffer.from(after, 'hex'), ZERO]);
}

/** Inside the transaction: tells the outbox an object or version expired (marker: one was left). */
export type ExpiryNote = (object: ObjectFacts, marker: boolean) => void;
