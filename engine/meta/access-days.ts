import { objectKey } from './keys.js';
import type { ObjectRecord } from './object-table.js';
import type { ObjectWriteTables } from './object-writes.js';
import type { Located } from './versioned.js';

/**
 * Intelligent tiering's access tracking: the day an INTELLIGENT_TIERING version was last read,
 * on its record (accessedDay). A read notes it at most once per version per day and only for
 * that class, so the GET path of every other object never writes, and an INTELLIGENT_TIERING
 * one at most one small record write a day (after its reply: nothing waits on it).
 */
export class AccessDays {
  constructor(private readonly t: Pick<ObjectWriteTables, 'env' | 'objects' | 'versioned'>) {}

  /** Whether a read of `record` on `day` has something to note (cheap: no transaction). */
  static worthNoting(record: ObjectRecord, day: number): boolean {
    return (
      record.storageClass === 'INTELLIGENT_TIERING' &&
      record.accessTier === undefined &&
      (record.accessedDay ?? -1) < day
    );
  }

  /**
   * Notes a read of the version (`versionId` as S3 shows it; absent: the current one) on `day`,
   * re-judged inside the transaction: a version replaced, transitioned or archived meanwhile is
   * left as it is. Returns whether the record was written.
   */
  async note(
    bucketId: string,
    key: string,
    versionId: string | undefined,
    day: number,
  ): Promise<boolean> {
    return this.t.env.transaction(() => {
      const located = this.locate(bucketId, key, versionId);
      if (located === undefined || !AccessDays.worthNoting(located.record, day)) return false;
      this.t.versioned.rewrite(bucketId, key, located, { ...located.record, accessedDay: day });
      return true;
    });
  }

  private locate(
    bucketId: string,
    key: string,
    versionId: string | undefined,
  ): Located | undefined {
    if (versionId !== undefined) return this.t.versioned.locate(bucketId, key, versionId);
    const current = this.t.objects.get(objectKey(bucketId, key));
    return current === undefined ? undefined : { record: current, current: true };
  }
}
