import type { Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import type { Logger } from '../../engine/log.js';
import {
  eventRecord,
  matchingRules,
  type ReplicationEventName,
} from '../../engine/notify/events.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { OutboxMessage, ReplicationEntry } from '../../engine/protocol/messages.js';
import { lifecycleNotifyContext } from '../s3/notifications.js';
import type { StoredReplicationRule } from '../s3/replication-config.js';
import { rtcThresholdMs } from '../s3/replication-options.js';
import { ruleOfEntry } from './destination.js';
import { hasMetrics } from './rule-metrics.js';

/**
 * The replication events of S3 Replication Time Control and replication metrics, sent through
 * the bucket's own event notifications (a target subscribes with `s3:Replication:*` or one name):
 * - OperationMissedThreshold: a change of an RTC rule still pending past the threshold;
 * - OperationReplicatedAfterThreshold: such a change once it arrived;
 * - OperationNotTracked: a change of an RTC rule still pending past the tracking window
 *   (LIMITS.replicationTrackingWindowMs): RTC no longer tracks it, no later threshold event;
 * - OperationFailedReplication: a change of a rule with Metrics Enabled settled FAILED.
 * The worker records each as a whole message in the outbox of the row's shard (RecordOutbox), so
 * delivery is the notification worker's (retries, at-least-once). Which rows already sent their
 * missed-threshold or not-tracked event is remembered in memory: after a restart a row still
 * pending may send it once more, which at-least-once delivery allows anyway.
 */

/** AWS's s3Operation for the change a row carries. */
const OPERATIONS: Record<Exclude<ReplicationEntry['op'], 'meta'>, string> = {
  put: 'OBJECT_PUT',
  delete: 'OBJECT_DELETE',
  tags: 'OBJECT_TAGGING_PUT',
};

/** A metadata row that changes tags only is a tagging operation; other metadata rows (ACL,
 *  object lock) name no operation of AWS's own, so they report the object's (OBJECT_PUT). */
function operationOf(entry: Pick<ReplicationEntry, 'op' | 'facets'>): string {
  if (entry.op !== 'meta') return OPERATIONS[entry.op];
  const tagsOnly = entry.facets?.every((facet) => facet === 'tags') ?? false;
  return tagsOnly ? OPERATIONS.tags : OPERATIONS.put;
}

export class ReplicationEvents {
  /** Row ids that sent OperationMissedThreshold, then those that sent OperationNotTracked. */
  private readonly missed = new Set<string>();
  private readonly untracked = new Set<string>();
  private sequence = 0;

  constructor(
    private readonly catalog: Catalog,
    private readonly region: string,
    private readonly logger: Logger,
  ) {}

  /** A pass read these rows from `shard`: those of RTC rules pending too long say so, once. */
  async pending(
    shard: ShardClient,
    entries: readonly ReplicationEntry[],
    nowMs: number,
  ): Promise<void> {
    for (const entry of entries) {
      const rule = ruleOfEntry(this.catalog, entry);
      if (!hasTimeControl(rule)) continue;
      const age = nowMs - entry.createdMs;
      if (age > LIMITS.replicationTrackingWindowMs && !this.untracked.has(entry.id)) {
        remember(this.untracked, entry.id);
        await this.send(shard, entry, 'Replication:OperationNotTracked', {});
      } else if (age > rtcThresholdMs() && !this.missed.has(entry.id)) {
        remember(this.missed, entry.id);
        await this.send(shard, entry, 'Replication:OperationMissedThreshold', thresholdOf());
      }
    }
  }

  /** A row arrived at its destination. */
  async replicated(shard: ShardClient, entry: ReplicationEntry, nowMs: number): Promise<void> {
    const untracked = this.forget(entry.id);
    if (untracked || !hasTimeControl(ruleOfEntry(this.catalog, entry))) return;
    const tookMs = nowMs - entry.createdMs;
    if (tookMs <= rtcThresholdMs()) return;
    await this.send(shard, entry, 'Replication:OperationReplicatedAfterThreshold', {
      ...thresholdOf(),
      replicationTime: String(Math.round(tookMs / 1000)),
    });
  }

  /** A row was settled FAILED. */
  async failed(shard: ShardClient, entry: ReplicationEntry, reason: string): Promise<void> {
    this.forget(entry.id);
    if (!hasMetrics(ruleOfEntry(this.catalog, entry))) return;
    await this.send(shard, entry, 'Replication:OperationFailedReplication', {
      failureReason: reason,
    });
  }

  /** Forgets a settled row; true when it had left RTC's tracking. */
  private forget(id: string): boolean {
    this.missed.delete(id);
    return this.untracked.delete(id);
  }

  /**
   * Records the event for every notification target subscribed to it. A shard that cannot take
   * it costs the event, never the replication: logged, not thrown.
   */
  private async send(
    shard: ShardClient,
    entry: ReplicationEntry,
    event: ReplicationEventName,
    data: Record<string, string>,
  ): Promise<void> {
    const messages = this.messagesOf(entry, event, data);
    if (messages.length === 0) return;
    try {
      await shard.call({ kind: 'RecordOutbox', messages }, 'OutboxRecorded');
    } catch (error) {
      this.logger.warn({ err: error, event, key: entry.key }, 'replication event not recorded');
    }
  }

  private messagesOf(
    entry: ReplicationEntry,
    event: ReplicationEventName,
    data: Record<string, string>,
  ): OutboxMessage[] {
    const bucket = this.catalog.getBucket(entry.bucketName);
    if (bucket === undefined || bucket.id !== entry.bucketId) return [];
    const context = lifecycleNotifyContext(this.catalog, bucket, this.region);
    if (context === undefined) return [];
    const nowMs = Date.now();
    const messages: OutboxMessage[] = [];
    for (const rule of matchingRules(context.rules, event, entry.key)) {
      const record = {
        ...eventRecord(
          context,
          rule,
          event,
          { key: entry.key, versionId: entry.versionId },
          nowMs,
          this.sequencer(nowMs),
        ),
        replicationEventData: {
          replicationRuleId: entry.ruleId,
          destinationBucket: `arn:aws:s3:::${entry.destination}`,
          s3Operation: operationOf(entry),
          requestTime: new Date(entry.createdMs).toISOString(),
          ...data,
        },
      };
      const body = JSON.stringify({ Records: [record] });
      for (const target of rule.targets) messages.push({ target, body });
    }
    return messages;
  }

  /** AWS's sequencer: hex that grows with time (events of one key sort by it). */
  private sequencer(nowMs: number): string {
    this.sequence = (this.sequence + 1) % 0x10000;
    return `${nowMs.toString(16)}${this.sequence.toString(16).padStart(4, '0')}`.toUpperCase();
  }
}

function hasTimeControl(rule: StoredReplicationRule | undefined): boolean {
  return rule?.destination.replicationTime?.status === 'Enabled';
}

function thresholdOf(): Record<string, string> {
  return { threshold: String(Math.round(rtcThresholdMs() / 1000)) };
}

/** Adds to a bounded set: past the bound the oldest id is forgotten (an event may repeat). */
function remember(set: Set<string>, id: string): void {
  if (set.size >= LIMITS.replicationThresholdMissesMax) {
    const [oldest] = set;
    if (oldest !== undefined) set.delete(oldest);
  }
  set.add(id);
}
