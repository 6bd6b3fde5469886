import { assert } from '../assert.js';
import type {
  MetadataFacet,
  NotifyContext,
  PendingByRule,
  ReplicationEntry,
  ReplicationRule,
  ReplicationSettlement,
  Tag,
} from '../protocol/messages.js';
import { afterCommit, isRemoteKv, type KvEnv, type KvTable, type KvTableOptions } from './kv.js';
import type { ObjectRecord } from './object-table.js';
import { scanTable } from './scan.js';
import { Sequencer } from './sequencer.js';
import type { VersionedObjects } from './versioned.js';

type QueueRow = Omit<ReplicationEntry, 'id'>;

/** What a write queues: the rules (one per destination) that its object matched. */
export type ReplicationTargets = readonly ReplicationRule[];

/** An object's server-side encryption as rule matching sees it (engine/sse/managed.ts kinds;
 *  'c' for SSE-C; undefined: none). */
export type EncryptionKind = 's3' | 'kms' | 'dsse' | 'c' | undefined;

/** The encryption kind of a stored record. */
export function encryptionKindOf(record: Pick<ObjectRecord, 'sse'>): EncryptionKind {
  if (record.sse === undefined) return undefined;
  return record.sse.kind ?? 'c';
}

/**
 * The `replq` table: bucket replication's durable queue, one row per (version, destination),
 * keyed like the outbox by a sequencer that only grows. Rows are written inside the transaction
 * of the write (or delete marker) that causes them, so a version is queued exactly when it
 * committed, and survive kill -9; the replication worker (http/replication/worker.ts) removes a
 * row once it settled it (SettleReplication), recording the version's status in the same
 * transaction. Invariant: a version's `replicationRows` counts its rows in this table, and
 * its status is PENDING (or FAILED, once a destination failed) exactly while that count is
 * positive; 'meta' rows (a replicated version's or a replica's metadata change) leave its status
 * alone and are not counted.
 * Kept apart from the outbox: its rows have their own reader, retries and settle step, and the
 * notification worker (which drops rows of unknown targets) never sees them.
 */
export class ReplicationQueue {
  private readonly rows: KvTable<QueueRow, string>;
  private readonly sequencer: Sequencer;
  /** The in-memory count of an embedded store; null on a cluster store (counted when asked). */
  private pendingRows: number | null;
  /**
   * Rows and bytes queued per bucket and rule (replication metrics), counted once on open and
   * kept with this process's commits (on a cluster store, the rows other gateways queue after
   * the open are not in it: the per-rule figures are this gateway's view).
   */
  private readonly byRule = new Map<string, PendingByRule>();

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
    private readonly versioned: VersionedObjects,
    /** Ends every key (Sequencer): '' unless other processes write this table too. */
    writerTag = '',
  ) {
    this.rows = env.openDB<QueueRow, string>({ name: 'replq', ...records });
    const [last] = [...this.rows.getKeys({ reverse: true, limit: 1 })];
    this.sequencer = new Sequencer(last, writerTag);
    if (isRemoteKv(env)) {
      // Counted by countQueued after the open, a page per read: a whole backlog in one read
      // would exceed the cluster store's bound on rows per transaction.
      this.pendingRows = null;
      return;
    }
    this.pendingRows = (this.rows.getStats() as { entryCount: number }).entryCount;
    for (const { value } of this.rows.getRange()) this.count(value, 1);
  }

  /** A cluster store's open: counts the queued rows per rule, a page per read (scan.ts). */
  async countQueued(): Promise<void> {
    for await (const { value } of scanTable(this.env, this.rows)) this.count(value, 1);
  }

  /** Every rule with rows queued, with their count and bytes. */
  pendingByRule(): PendingByRule[] {
    return [...this.byRule.values()].map((pending) => ({ ...pending }));
  }

  private count(row: QueueRow, sign: 1 | -1): void {
    const name = `${row.bucketId}\0${row.ruleId}`;
    const held = this.byRule.get(name) ?? {
      bucketId: row.bucketId,
      bucketName: row.bucketName,
      ruleId: row.ruleId,
      operations: 0,
      bytes: 0,
    };
    held.operations += sign;
    held.bytes += sign * (row.bytes ?? 0);
    if (held.operations <= 0) this.byRule.delete(name);
    else this.byRule.set(name, held);
  }

  /** Inside transaction work: counts a row in or out once the work commits (kv.ts afterCommit). */
  private countAfterCommit(row: QueueRow, sign: 1 | -1): void {
    afterCommit(this.env, () => this.count(row, sign));
  }

  private movePending(change: number): void {
    afterCommit(this.env, () => {
      if (this.pendingRows !== null) this.pendingRows = Math.max(0, this.pendingRows + change);
    });
  }

  /**
   * Rows not yet settled: kept in memory by an embedded store (counted once on open); on a
   * cluster store counted by PostgreSQL (inside read work), every gateway's rows included.
   */
  pending(): number {
    return this.pendingRows ?? this.rows.getCount();
  }

  /**
   * The rules a new version replicates by: among the enabled rules whose filter matches, the
   * highest priority for each destination (AWS's multi-destination semantics).
   */
  static targetsOf(
    rules: readonly ReplicationRule[] | undefined,
    key: string,
    tags: readonly Tag[],
    encryption: EncryptionKind = undefined,
  ): ReplicationTargets {
    if (rules === undefined || rules.length === 0) return [];
    // AWS replicates SSE-KMS (and dual-layer) objects only by rules that select them
    // (SourceSelectionCriteria/SseKmsEncryptedObjects); the others leave them unmarked.
    const kms = encryption === 'kms' || encryption === 'dsse';
    const chosen = new Map<string, ReplicationRule>();
    for (const rule of rules) {
      if (!key.startsWith(rule.prefix) || !hasTags(tags, rule.tags)) continue;
      if (kms && rule.sseKms !== true) continue;
      const held = chosen.get(rule.destination);
      if (held === undefined || rule.priority > held.priority) chosen.set(rule.destination, rule);
    }
    return [...chosen.values()];
  }

  /** Delete markers replicate by the highest-priority matching rule of each destination. */
  static markerTargetsOf(context: NotifyContext | undefined, key: string): ReplicationTargets {
    return ReplicationQueue.targetsOf(context?.replication, key, []).filter(
      (rule) => rule.deleteMarkers,
    );
  }

  /**
   * A metadata change's rows and record (its tags, ACL or object lock, already in `record`).
   * A replicated version (COMPLETED) sends the changed facet to its destinations as a 'meta'
   * row, which leaves its status alone; one still queued sends nothing more (its row reads the
   * metadata when it is sent); one that FAILED replicates again whole (its bytes may never have
   * arrived). A version with no status (written before the rule, or not matching it) is not
   * replicated because its metadata changed, even into matching a rule: AWS replicates such
   * objects only by Batch Replication (hangar: the repair operation). A replica's change goes
   * back to its source by the rules with ReplicaModifications Enabled, as a 'meta' row that
   * leaves its REPLICA status alone (AWS's replica modification sync).
   */
  static metadataChange(
    record: ObjectRecord,
    rules: readonly ReplicationRule[] | undefined,
    key: string,
  ): { targets: ReplicationTargets; record: ObjectRecord; op: 'put' | 'meta' } {
    const matching = () =>
      ReplicationQueue.targetsOf(rules, key, record.tags ?? [], encryptionKindOf(record));
    switch (record.replication) {
      case 'REPLICA':
        return {
          targets: matching().filter((rule) => rule.replicaModifications === true),
          record,
          op: 'meta',
        };
      case 'COMPLETED':
        return { targets: matching(), record, op: 'meta' };
      case 'FAILED': {
        if ((record.replicationRows ?? 0) > 0) return { targets: [], record, op: 'put' };
        const targets = matching();
        return { targets, record: ReplicationQueue.pendingRecord(record, targets), op: 'put' };
      }
      default:
        return { targets: [], record, op: 'meta' };
    }
  }

  /** The record as written when `targets` queue it: PENDING, counting its rows. */
  static pendingRecord(record: ObjectRecord, targets: ReplicationTargets): ObjectRecord {
    if (targets.length === 0) return record;
    return { ...record, replication: 'PENDING', replicationRows: targets.length };
  }

  /** Inside a transaction: one row per target for the committed version. */
  queue(
    context: NotifyContext,
    targets: ReplicationTargets,
    op: QueueRow['op'],
    bucketId: string,
    key: string,
    versionId: string | undefined,
    facets: readonly MetadataFacet[] = [],
  ): void {
    if (targets.length === 0) return;
    assert(op !== 'meta' || facets.length > 0, 'a metadata row names what changed');
    // Replication needs a versioned source (PutBucketReplication checks it); a version written
    // while versioning was suspended is the null version.
    const shown = versionId ?? 'null';
    const nowMs = Date.now();
    const bytes = op === 'put' ? this.bytesOf(bucketId, key, shown) : 0;
    for (const rule of targets) {
      const row: QueueRow = {
        op,
        bucketId,
        bucketName: context.bucketName,
        key,
        versionId: shown,
        ruleId: rule.id,
        destination: rule.destination,
        ...(op === 'meta' ? { facets: [...facets] } : {}),
        ...(rule.storageClass !== undefined ? { storageClass: rule.storageClass } : {}),
        createdMs: nowMs,
        ...(bytes > 0 ? { bytes } : {}),
      };
      this.rows.put(this.sequencer.next(nowMs), row);
      this.countAfterCommit(row, 1);
    }
    this.movePending(targets.length);
  }

  /** Inside a transaction: the size of the version just written (0 when it cannot be found). */
  private bytesOf(bucketId: string, key: string, versionId: string): number {
    return this.versioned.locate(bucketId, key, versionId)?.record.bytes ?? 0;
  }

  /** The oldest rows, at most `limit`. */
  oldest(limit: number): ReplicationEntry[] {
    assert(limit > 0, 'a replication read asks for rows');
    const entries: ReplicationEntry[] = [];
    for (const { key, value } of this.rows.getRange({ limit })) entries.push({ id: key, ...value });
    return entries;
  }

  /** Inside a transaction: removes settled rows, recording their versions' status. */
  settle(settled: readonly ReplicationSettlement[]): number {
    let removed = 0;
    for (const { id, status } of settled) {
      const row = this.rows.get(id);
      if (row === undefined) continue;
      this.rows.remove(id);
      this.countAfterCommit(row, -1);
      removed++;
      if (row.op === 'put') this.recordStatus(row, status);
    }
    this.movePending(-removed);
    return removed;
  }

  /**
   * Inside a transaction: records a row's failed attempts so far, so that the attempt bound
   * holds across restarts (a row that fails each time would otherwise be tried for ever by a
   * server that restarts more often than the bound). False when the row was settled meanwhile.
   */
  noteAttempts(id: string, attempts: number): boolean {
    assert(attempts > 0, 'a noted attempt count counts a failure');
    const row = this.rows.get(id);
    if (row === undefined) return false;
    this.rows.put(id, { ...row, attempts });
    return true;
  }

  /**
   * Inside a transaction: records the remote multipart upload an attempt began, so that a later
   * attempt (after a restart too) resumes it. False when the row was settled meanwhile.
   */
  noteUpload(id: string, uploadId: string): boolean {
    assert(uploadId.length > 0, 'an upload id is not empty');
    const row = this.rows.get(id);
    if (row === undefined) return false;
    this.rows.put(id, { ...row, uploadId });
    return true;
  }

  /** One row of the version left the queue: its count drops, its status follows. */
  private recordStatus(row: QueueRow, status: ReplicationSettlement['status']): void {
    const located = this.versioned.locate(row.bucketId, row.key, row.versionId);
    if (located === undefined || located.record.replicationRows === undefined) return;
    const { replicationRows: rows, ...rest } = located.record;
    const failed = status === 'FAILED' || rest.replication === 'FAILED';
    const left = rows - 1;
    const record: ObjectRecord =
      left > 0
        ? { ...rest, replicationRows: left, replication: failed ? 'FAILED' : 'PENDING' }
        : { ...rest, replication: failed ? 'FAILED' : 'COMPLETED' };
    this.versioned.rewrite(row.bucketId, row.key, located, record);
  }

  /**
   * Inside a transaction (the repair pass): queues each version again unless it has rows queued
   * already, or is gone, a delete marker, or a replica. Returns the rows added.
   */
  requeue(entries: ReadonlyArray<Omit<QueueRow, 'createdMs'>>): number {
    let added = 0;
    const nowMs = Date.now();
    // Versions queued by this call: a second destination of one adds to its count.
    const touched = new Set<string>();
    for (const entry of entries) {
      const located = this.versioned.locate(entry.bucketId, entry.key, entry.versionId);
      if (located === undefined) continue;
      const { record } = located;
      if (record.deleteMarker === true || record.replication === 'REPLICA') continue;
      const version = `${entry.bucketId}/${entry.versionId}/${entry.key}`;
      const rows = record.replicationRows ?? 0;
      if (rows > 0 && !touched.has(version)) continue;
      touched.add(version);
      this.versioned.rewrite(entry.bucketId, entry.key, located, {
        ...record,
        replication: 'PENDING',
        replicationRows: rows + 1,
      });
      const row: QueueRow = {
        ...entry,
        op: 'put',
        createdMs: nowMs,
        ...(record.bytes > 0 ? { bytes: record.bytes } : {}),
      };
      this.rows.put(this.sequencer.next(nowMs), row);
      this.countAfterCommit(row, 1);
      added++;
    }
    this.movePending(added);
    return added;
  }
}

function hasTags(tags: readonly Tag[], wanted: readonly Tag[]): boolean {
  return wanted.every((want) =>
    tags.some((tag) => tag.key === want.key && tag.value === want.value),
  );
}
