import { assert } from '../assert.js';
import { DAY_MS } from '../lifecycle.js';
import type { NotifyContext, RestoreRow, ShardRequest } from '../protocol/messages.js';
import { isRestored, restoreExpiryMs } from '../restore.js';
import { isArchiveClass } from '../storage-classes.js';
import { type ChangeEvents, createdFacts } from './change-events.js';
import { objectKey } from './keys.js';
import type { KvEnv, KvTable, KvTableOptions } from './kv.js';
import { type ObjectRecord, shownVersionId } from './object-table.js';
import type { ObjectWriteTables } from './object-writes.js';
import { failed, type Outcome, unwrap } from './outcome.js';
import { locateToChange } from './record-rewrites.js';
import type { Located } from './versioned.js';

/** What RestoreObject asks of a version: its message's fields. */
export type RestoreAsk = Omit<Extract<ShardRequest, { kind: 'RestoreObject' }>, 'kind' | 'reqId'>;

/**
 * RestoreObject's record changes and the `restores` table that times their next steps. A
 * restore changes only the version's record (`restore`): the bytes stay in the archive tier's
 * blocks and a restored version is read from them. Each row (dueMs, object key, version) →
 * RestoreRow is written and removed in the transaction that changes the record, so a row
 * never outlives nor misses its step; a row whose version changed meanwhile (deleted,
 * overwritten, restored again) is dropped when due, as its `requestedMs` no longer matches.
 */
export class Restores {
  private readonly rows: KvTable<RestoreRow, Buffer>;

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
    private readonly tables: Pick<ObjectWriteTables, 'objects' | 'versioned'>,
    private readonly events: ChangeEvents,
  ) {
    this.rows = env.openDB<RestoreRow, Buffer>({
      name: 'restores',
      keyEncoding: 'binary',
      ...records,
    });
  }

  /**
   * Starts a restore (started: true; ObjectRestore:Post) or extends a done one's expiry to
   * Days from now (started: false). InvalidObjectState for a version that is not archived,
   * RestoreAlreadyInProgress while one runs.
   */
  async request(ask: RestoreAsk): Promise<{ started: boolean; record: ObjectRecord }> {
    const outcome = await this.env.transaction(
      (): Outcome<{ started: boolean; record: ObjectRecord }> => {
        const located = locateToChange(this.tables, ask.bucketId, ask.key, ask.versionId);
        if ('failure' in located) return located;
        const { record } = located;
        if (record.accessTier !== undefined) return this.requestFromAccessTier(ask, located);
        if (record.storageClass === undefined || !isArchiveClass(record.storageClass)) {
          return failed(
            'InvalidObjectState',
            "The operation is not valid for the object's storage class",
          );
        }
        const restore = record.restore;
        if (restore !== undefined && restore.expiryMs === null) {
          return failed('RestoreAlreadyInProgress', 'Object restore is already in progress');
        }
        const versionId = shownVersionId(record);
        if (restore !== undefined && isRestored(restore, ask.nowMs)) {
          // Done and readable: only the expiry moves (AWS answers 200).
          const expiryMs = restoreExpiryMs(ask.nowMs, ask.days);
          this.unqueue(ask.bucketId, ask.key, versionId, restore.expiryMs ?? 0);
          const changed = { ...record, restore: { ...restore, days: ask.days, expiryMs } };
          this.tables.versioned.rewrite(ask.bucketId, ask.key, located, changed);
          this.queue({
            ...this.rowOf(ask, versionId, restore.requestedMs),
            dueMs: expiryMs,
            step: 'expire',
          });
          return { started: false, record: changed };
        }
        // An expired restore's row may still wait (the worker lags): it no longer matches.
        if (restore?.expiryMs !== undefined && restore.expiryMs !== null) {
          this.unqueue(ask.bucketId, ask.key, versionId, restore.expiryMs);
        }
        const changed: ObjectRecord = {
          ...record,
          restore: { expiryMs: null, tier: ask.tier, days: ask.days, requestedMs: ask.nowMs },
        };
        this.tables.versioned.rewrite(ask.bucketId, ask.key, located, changed);
        this.queue({
          ...this.rowOf(ask, versionId, ask.nowMs),
          dueMs: ask.readyAtMs,
          step: 'complete',
        });
        if (ask.notify !== undefined) {
          this.events.note(
            { context: ask.notify, event: 'ObjectRestore:Post' },
            createdFacts(ask.key, changed, eventVersionOf(changed)),
          );
        }
        return { started: true, record: changed };
      },
    );
    return unwrap(outcome);
  }

  /**
   * Inside the transaction: a restore of an INTELLIGENT_TIERING version in an archive access
   * tier. As AWS, it is no temporary copy: once complete the version is back in the frequent
   * tier for good (accessTier cleared, no expiry), so Days is not used.
   */
  private requestFromAccessTier(
    ask: RestoreAsk,
    located: Located,
  ): Outcome<{ started: boolean; record: ObjectRecord }> {
    const { record } = located;
    if (record.restore !== undefined && record.restore.expiryMs === null) {
      return failed('RestoreAlreadyInProgress', 'Object restore is already in progress');
    }
    const changed: ObjectRecord = {
      ...record,
      restore: { expiryMs: null, tier: ask.tier, days: ask.days, requestedMs: ask.nowMs },
    };
    this.tables.versioned.rewrite(ask.bucketId, ask.key, located, changed);
    this.queue({
      ...this.rowOf(ask, shownVersionId(record), ask.nowMs),
      dueMs: ask.readyAtMs,
      step: 'complete',
    });
    if (ask.notify !== undefined) {
      this.events.note(
        { context: ask.notify, event: 'ObjectRestore:Post' },
        createdFacts(ask.key, changed, eventVersionOf(changed)),
      );
    }
    return { started: true, record: changed };
  }

  /** The steps due at `nowMs`, oldest first. */
  due(nowMs: number, limit: number): RestoreRow[] {
    assert(limit > 0, 'a restore read asks for rows');
    const rows: RestoreRow[] = [];
    for (const { value } of this.rows.getRange({ end: dueKey(nowMs + 1), limit })) rows.push(value);
    return rows;
  }

  /**
   * Takes due steps, each in its own transaction with its record change and event: a restore
   * completes (readable until its expiry; ObjectRestore:Completed) or expires (the record
   * forgets it; ObjectRestore:Delete). Rows no longer due or no longer matching are dropped.
   */
  async settle(
    nowMs: number,
    rows: readonly RestoreRow[],
    notify: Readonly<Record<string, NotifyContext>>,
  ): Promise<{ completed: number; expired: number }> {
    const done = { completed: 0, expired: 0 };
    for (const row of rows) {
      if (row.dueMs > nowMs) continue;
      const step = await this.env.transaction(() => this.settleOne(row, notify[row.bucketId]));
      if (step === 'complete') done.completed++;
      else if (step === 'expire') done.expired++;
    }
    return done;
  }

  private settleOne(row: RestoreRow, notify: NotifyContext | undefined): RestoreRow['step'] | null {
    const encoded = rowKey(row);
    if (this.rows.get(encoded) === undefined) return null;
    this.rows.remove(encoded);
    const located = locateToChange(this.tables, row.bucketId, row.key, row.versionId);
    if ('failure' in located) return null;
    const { record } = located;
    const restore = record.restore;
    if (restore === undefined || restore.requestedMs !== row.requestedMs) return null;
    if (row.step === 'complete' && record.accessTier !== undefined) {
      // Intelligent tiering: back to the frequent tier, read "now" (its idle days restart).
      const { restore: _done, accessTier: _tier, ...rest } = record;
      const changed: ObjectRecord = { ...rest, accessedDay: Math.floor(row.dueMs / DAY_MS) };
      this.tables.versioned.rewrite(row.bucketId, row.key, located, changed);
      this.noteStep(notify, 'ObjectRestore:Completed', row.key, changed);
      return 'complete';
    }
    if (row.step === 'complete') {
      if (restore.expiryMs !== null) return null;
      const expiryMs = restoreExpiryMs(row.dueMs, restore.days);
      const changed = { ...record, restore: { ...restore, expiryMs } };
      this.tables.versioned.rewrite(row.bucketId, row.key, located, changed);
      this.queue({ ...row, dueMs: expiryMs, step: 'expire' });
      this.noteStep(notify, 'ObjectRestore:Completed', row.key, changed, {
        expiryMs,
        storageClass: record.storageClass ?? 'STANDARD',
      });
      return 'complete';
    }
    if (restore.expiryMs !== row.dueMs) return null;
    const { restore: _gone, ...rest } = record;
    this.tables.versioned.rewrite(row.bucketId, row.key, located, rest);
    this.noteStep(notify, 'ObjectRestore:Delete', row.key, rest);
    return 'expire';
  }

  private noteStep(
    notify: NotifyContext | undefined,
    event: 'ObjectRestore:Completed' | 'ObjectRestore:Delete',
    key: string,
    record: ObjectRecord,
    restored?: { expiryMs: number; storageClass: string },
  ): void {
    if (notify === undefined) return;
    const facts = createdFacts(key, record, eventVersionOf(record));
    this.events.note(
      { context: notify, event },
      restored === undefined ? facts : { ...facts, restored },
    );
  }

  private rowOf(
    ask: RestoreAsk,
    versionId: string,
    requestedMs: number,
  ): Omit<RestoreRow, 'dueMs' | 'step'> {
    return { bucketId: ask.bucketId, key: ask.key, versionId, requestedMs };
  }

  private queue(row: RestoreRow): void {
    this.rows.put(rowKey(row), row);
  }

  private unqueue(bucketId: string, key: string, versionId: string, dueMs: number): void {
    this.rows.remove(rowKey({ bucketId, key, versionId, dueMs }));
  }
}

/** The version id an event names (versioned buckets' records only). */
function eventVersionOf(record: ObjectRecord): string | undefined {
  return record.versionId !== undefined ? shownVersionId(record) : undefined;
}

/** A row's key: when it is due (so a range read finds the due ones), then what it names. */
function rowKey(row: Pick<RestoreRow, 'dueMs' | 'bucketId' | 'key' | 'versionId'>): Buffer {
  return Buffer.concat([
    dueKey(row.dueMs),
    objectKey(row.bucketId, row.key),
    Buffer.from([0]),
    Buffer.from(row.versionId, 'utf8'),
  ]);
}

function dueKey(dueMs: number): Buffer {
  assert(Number.isSafeInteger(dueMs) && dueMs >= 0, 'a due time is a whole ms count');
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(BigInt(dueMs));
  return key;
}
