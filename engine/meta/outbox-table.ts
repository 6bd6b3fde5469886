import { assert } from '../assert.js';
import { type EventName, eventRecord, matchingRules, type ObjectFacts } from '../notify/events.js';
import type { NotifyContext, OutboxEntry, OutboxMessage } from '../protocol/messages.js';
import { afterCommit, isRemoteKv, type KvEnv, type KvTable, type KvTableOptions } from './kv.js';
import { Sequencer } from './sequencer.js';

interface OutboxRecord {
  target: string;
  record: string;
  createdMs: number;
  /** The record is the whole message (s3:TestEvent), not one of Records[]. */
  whole?: true;
}

/**
 * The `outbox` table: S3 event notifications waiting for delivery, one row per (event, target),
 * keyed by a sequencer that only grows (creation time in ms, then a counter; fixed-width hex, so
 * LMDB's byte order is creation order). Rows are written inside the transaction of the change that
 * caused them, so an event exists exactly when its change committed; the delivery worker removes a
 * row once its target acknowledged it (at-least-once delivery, surviving kill -9).
 */
export class OutboxTable {
  private readonly rows: KvTable<OutboxRecord, string>;
  private readonly sequencer: Sequencer;
  /** The in-memory count of an embedded store; null on a cluster store (counted when asked). */
  private pendingRows: number | null;

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
    /** Ends every key (Sequencer): '' unless other processes write this table too. */
    writerTag = '',
  ) {
    this.rows = env.openDB<OutboxRecord, string>({ name: 'outbox', ...records });
    const [last] = [...this.rows.getKeys({ reverse: true, limit: 1 })];
    this.sequencer = new Sequencer(last, writerTag);
    // LMDB keeps each table's entry count: O(1), where getCount() walks a backlog at every open.
    // Other gateways write a cluster store's outbox too: no count kept here would be right.
    this.pendingRows = isRemoteKv(env)
      ? null
      : (this.rows.getStats() as { entryCount: number }).entryCount;
  }

  /**
   * Rows not yet acknowledged: kept in memory by an embedded store (counted once on open); on a
   * cluster store counted by PostgreSQL (inside read work), every gateway's rows included.
   */
  pending(): number {
    return this.pendingRows ?? this.rows.getCount();
  }

  /**
   * Inside a transaction: records the event for every target of every matching configuration.
   * Returns the rows written.
   */
  record(context: NotifyContext, event: EventName, object: ObjectFacts, nowMs: number): number {
    let written = 0;
    for (const rule of matchingRules(context.rules, event, object.key)) {
      for (const target of rule.targets) {
        const sequencer = this.sequencer.next(nowMs);
        const record = JSON.stringify(
          eventRecord(context, rule, event, object, nowMs, sequencer.toUpperCase()),
        );
        this.rows.put(sequencer, { target, record, createdMs: nowMs });
        written++;
      }
    }
    this.countRows(written);
    return written;
  }

  /**
   * Inside a transaction: records whole messages (s3:TestEvent) for their targets, after every
   * event recorded so far. Returns the rows written.
   */
  recordMessages(messages: readonly OutboxMessage[], nowMs: number): number {
    for (const { target, body } of messages) {
      this.rows.put(this.sequencer.next(nowMs), {
        target,
        record: body,
        createdMs: nowMs,
        whole: true,
      });
    }
    this.countRows(messages.length);
    return messages.length;
  }

  /** The oldest rows, at most `limit`. */
  oldest(limit: number): OutboxEntry[] {
    assert(limit > 0, 'an outbox read asks for rows');
    const entries: OutboxEntry[] = [];
    for (const { key, value } of this.rows.getRange({ limit })) {
      entries.push({ id: key, ...value });
    }
    return entries;
  }

  /** Inside a transaction: removes acknowledged rows; returns how many existed. */
  remove(ids: readonly string[]): number {
    let removed = 0;
    for (const id of ids) {
      if (this.rows.get(id) === undefined) continue;
      this.rows.remove(id);
      removed++;
    }
    this.countRows(-removed);
    return removed;
  }

  /** The in-memory size moves once, with the commit (a cluster store may run work again). */
  private countRows(change: number): void {
    afterCommit(this.env, () => {
      if (this.pendingRows !== null) this.pendingRows = Math.max(0, this.pendingRows + change);
    });
  }
}
