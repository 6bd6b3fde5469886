import { createHmac } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Counter, Gauge } from 'prom-client';
import { assert } from '../engine/assert.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { NotifyTarget } from '../engine/notify/targets.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import type { OutboxEntry } from '../engine/protocol/messages.js';
import type { WorkerStatus } from '../engine/workers/worker.js';
import { registry } from './admin/metrics.js';
import { Backoffs, ShardQueueLoop } from './shard-queue-loop.js';

/**
 * Delivers S3 event notifications from the shards' outboxes (engine/meta/outbox-table.ts) to the
 * operator's targets, at least once: an event leaves its outbox only after its target
 * acknowledged it (a 2xx answer to the webhook POST; a flushed NATS publish), so a crash between
 * delivery and acknowledgement delivers it again. A failed target is retried with exponential
 * backoff (LIMITS.notifyBackoff*) while the other targets go on; an event undelivered after
 * LIMITS.notifyEventAgeMaxMs is dropped and counted failed. Runs on the main thread only when the
 * operator configured targets: without them no bucket can name one, and the worker costs nothing.
 */

const delivered = new Counter({
  name: 'hangar_notify_events_delivered_total',
  help: 'Event notifications acknowledged by their target',
  labelNames: ['target'] as const,
  registers: [registry],
});
const failedAttempts = new Counter({
  name: 'hangar_notify_delivery_failures_total',
  help: 'Failed delivery attempts of event notifications (each is retried)',
  labelNames: ['target'] as const,
  registers: [registry],
});
const dropped = new Counter({
  name: 'hangar_notify_events_failed_total',
  help: 'Event notifications given up (too old, or their target is no longer configured)',
  labelNames: ['target'] as const,
  registers: [registry],
});
let pendingNow = 0;
new Gauge({
  name: 'hangar_notify_events_pending',
  help: "Event notifications in the shards' outboxes, waiting for delivery",
  registers: [registry],
  collect() {
    this.set(pendingNow);
  },
});

/** Sends one event message to a target; resolves when the target acknowledged it. */
export type Sender = (target: NotifyTarget, body: string, stopping: AbortSignal) => Promise<void>;

export class NotifyDelivery {
  readonly name = 'Event notification delivery';
  private readonly backoff = new Backoffs(LIMITS.notifyBackoffBaseMs, LIMITS.notifyBackoffMaxMs);
  /** Aborted by stop(): a webhook POST under way ends at once instead of at its timeout. */
  private readonly stopping = new AbortController();
  private readonly targets: ReadonlyMap<string, NotifyTarget>;
  private readonly pendingByShard: number[];
  private readonly loop: ShardQueueLoop;
  private deliveredTotal = 0;
  private droppedTotal = 0;

  constructor(
    targets: readonly NotifyTarget[],
    shards: readonly ShardClient[],
    private readonly senders: { readonly send: Sender; close(): Promise<void> },
    private readonly logger: Logger,
  ) {
    this.targets = new Map(targets.map((target) => [target.name, target]));
    this.pendingByShard = shards.map(() => 0);
    this.loop = new ShardQueueLoop({
      shards,
      pass: (shard) => this.passOver(shard),
      idleWaitMs: () => this.backoff.idleWaitMs(LIMITS.notifyPollMs),
      afterRound: () => {
        pendingNow = this.pendingByShard.reduce((sum, n) => sum + n, 0);
      },
      logger,
      failure: 'event notification delivery pass failed',
    });
  }

  start(): void {
    if (this.targets.size === 0) return;
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
    await this.senders.close();
  }

  /** One batch of one shard's outbox; true when an event left it. */
  private async passOver(shard: ShardClient): Promise<boolean> {
    const read = await shard.call(
      { kind: 'ReadOutbox', limit: LIMITS.notifyBatchMax },
      'OutboxRead',
    );
    this.pendingByShard[shard.shardId] = read.pending;
    if (read.entries.length === 0) return false;
    const done: string[] = [];
    // Per target in outbox order: a failure stops that target's events for this pass.
    const blocked = new Set<string>();
    for (const entry of read.entries) {
      if (this.loop.stopped) break;
      if (blocked.has(entry.target)) continue;
      const outcome = await this.deliver(entry);
      if (outcome === 'retry') blocked.add(entry.target);
      else done.push(entry.id);
    }
    if (done.length === 0) return false;
    await shard.call({ kind: 'AckOutbox', ids: done }, 'OutboxAcked');
    this.pendingByShard[shard.shardId] = Math.max(0, read.pending - done.length);
    return true;
  }

  private async deliver(entry: OutboxEntry): Promise<'done' | 'retry'> {
    const target = this.targets.get(entry.target);
    if (target === undefined || Date.now() - entry.createdMs > LIMITS.notifyEventAgeMaxMs) {
      this.droppedTotal++;
      dropped.inc({ target: entry.target });
      this.logger.warn(
        { target: entry.target, id: entry.id },
        target === undefined
          ? 'event notification dropped: its target is no longer configured'
          : 'event notification dropped: undelivered for too long',
      );
      return 'done';
    }
    if (this.backoff.waiting(target.name)) return 'retry';
    try {
      await this.senders.send(target, `{"Records":[${entry.record}]}`, this.stopping.signal);
    } catch (error) {
      const delay = this.backoff.failed(target.name);
      failedAttempts.inc({ target: target.name });
      this.loop.errors.failed(error);
      this.logger.warn(
        { err: error, target: target.name, retryInMs: delay },
        'event notification delivery failed',
      );
      return 'retry';
    }
    this.backoff.succeeded(target.name);
    this.deliveredTotal++;
    delivered.inc({ target: target.name });
    return 'done';
  }

  status(): WorkerStatus {
    const pending = this.pendingByShard.reduce((sum, n) => sum + n, 0);
    const backingOff = this.backoff.names();
    const errors = this.loop.errors;
    return {
      state: this.targets.size === 0 ? 'done' : pending > 0 ? 'busy' : 'idle',
      errors: errors.errors,
      consecutiveErrors: errors.consecutiveErrors,
      lastError: errors.lastError,
      tranquility: null,
      progress: null,
      queueLength: pending,
      freeform: [
        `Targets: ${[...this.targets.keys()].join(', ') || 'none configured'}`,
        `Delivered: ${this.deliveredTotal}, given up: ${this.droppedTotal}`,
        ...(backingOff.length > 0 ? [`Retrying with backoff: ${backingOff.join(', ')}`] : []),
      ],
    };
  }
}

/** POSTs the event JSON; any 2xx acknowledges it. Signed with HMAC-SHA256 when a secret is set. */
export async function postWebhook(
  target: NotifyTarget,
  body: string,
  stopping: AbortSignal,
): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.secret !== null) {
    const digest = createHmac('sha256', target.secret).update(body).digest('hex');
    headers['x-hangar-signature'] = `sha256=${digest}`;
  }
  const answer = await fetch(target.url, {
    method: 'POST',
    headers,
    body,
    // A redirect is not an acknowledgement: the 3xx counts as a failed attempt.
    redirect: 'manual',
    signal: AbortSignal.any([stopping, AbortSignal.timeout(LIMITS.notifyDeliveryTimeoutMs)]),
  });
  // The answer's body is never read: a hostile endpoint cannot make us buffer it.
  await answer.body?.cancel();
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`webhook ${target.name} answered ${answer.status}`);
  }
}

/**
 * Sends to targets of either kind. NATS connections are opened on first use and kept (the
 * client reconnects by itself); a publish counts as delivered once a flush (a PING answered by
 * the server after the PUB) came back within the delivery timeout.
 */
export class TargetSenders {
  private readonly nats = new Map<string, Promise<NatsConnection>>();

  readonly send: Sender = (target, body, stopping) =>
    target.kind === 'webhook' ? postWebhook(target, body, stopping) : this.publish(target, body);

  private async publish(target: NotifyTarget, body: string): Promise<void> {
    assert(target.subject !== null, 'a NATS target has a subject');
    const connection = await this.connectionTo(target);
    connection.publish(target.subject, Buffer.from(body, 'utf8'));
    await withTimeout(connection.flush(), LIMITS.notifyDeliveryTimeoutMs, `NATS ${target.name}`);
  }

  private async connectionTo(target: NotifyTarget): Promise<NatsConnection> {
    let pending = this.nats.get(target.name);
    if (pending === undefined) {
      pending = connect({
        servers: target.url.slice('nats://'.length),
        name: 'hangar',
        timeout: LIMITS.notifyDeliveryTimeoutMs,
        maxReconnectAttempts: -1,
      });
      this.nats.set(target.name, pending);
    }
    try {
      const connection = await pending;
      if (!connection.isClosed()) return connection;
    } catch (error) {
      this.nats.delete(target.name);
      throw error;
    }
    this.nats.delete(target.name);
    return this.connectionTo(target);
  }

  async close(): Promise<void> {
    const connections = [...this.nats.values()];
    this.nats.clear();
    await Promise.all(
      connections.map(async (pending) => {
        try {
          await (await pending).close();
        } catch {
          // Never connected: nothing to close.
        }
      }),
    );
  }
}

/** `work`, or a rejection after `ms` (the work goes on; its result is ignored). */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no acknowledgement in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
