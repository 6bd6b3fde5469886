import { createHmac } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Counter, Gauge } from 'prom-client';
import { assert } from '../engine/assert.js';
import { LIMITS } from '../engine/limits.js';
import type { Logger } from '../engine/log.js';
import type { NotifyTarget } from '../engine/notify/targets.js';
import type { ShardClient } from '../engine/pool/shard-client.js';
import type { OutboxEntry } from '../engine/protocol/messages.js';
import {
  ErrorRecord,
  type SingletonWorker,
  Sleeper,
  type WorkerStatus,
} from '../engine/workers/worker.js';
import { registry } from './admin/metrics.js';

/**
 * Delivers S3 event notifications from the shards' outboxes (engine/meta/outbox-table.ts) to the
 * operator's targets, at least once: an event leaves its outbox only after its target
 * acknowledged it (a 2xx answer to the webhook POST; a flushed NATS publish), so a crash between
 * delivery and acknowledgement delivers it again. A failed target is retried with exponential
 * backoff (LIMITS.notifyBackoff*) while the other targets go on; an event undelivered after
 * LIMITS.notifyEventAgeMaxMs is dropped and counted failed. Runs on the main thread; the targets
 * (config file and admin API, engine/catalog/notify-targets.ts) are read at every pass, so one the
 * operator adds or removes counts from the next pass. Without any target no bucket can name one:
 * once the outboxes are empty the worker only reads the target table at each poll.
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

interface Backoff {
  attempts: number;
  untilMs: number;
}

export class NotifyDelivery implements SingletonWorker {
  readonly name = 'Event notification delivery';
  private readonly sleeper = new Sleeper();
  private readonly errors = new ErrorRecord();
  private readonly backoff = new Map<string, Backoff>();
  /** Aborted by stop(): a webhook POST under way ends at once instead of at its timeout. */
  private readonly stopping = new AbortController();
  private targets: ReadonlyMap<string, NotifyTarget> = new Map();
  private readonly pendingByShard: number[];
  private loop: Promise<void> | null = null;
  private polledOnce = false;
  private stopped = false;
  /** Cluster mode: passes run only while this holds (the 'notifications' leadership). */
  private mayRun: () => boolean = () => true;
  private deliveredTotal = 0;
  private droppedTotal = 0;

  constructor(
    private readonly targetsNow: () => readonly NotifyTarget[],
    private readonly shards: readonly ShardClient[],
    private readonly senders: { readonly send: Sender; close(): Promise<void> },
    private readonly logger: Logger,
  ) {
    this.pendingByShard = shards.map(() => 0);
  }

  start(): void {
    this.loop = this.run();
  }

  gate(mayRun: () => boolean): void {
    this.mayRun = mayRun;
  }

  wake(): void {
    this.sleeper.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.sleeper.close();
    await this.loop;
    await this.senders.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let progressed = false;
      try {
        this.targets = new Map(this.targetsNow().map((target) => [target.name, target]));
        // Cluster mode: another gateway delivers while it leads 'notifications'; this one's
        // first pass (events left behind) waits until it leads.
        const leading = this.mayRun();
        const passes =
          leading && this.mayHaveWork()
            ? await Promise.all(this.shards.map((shard) => this.passOver(shard)))
            : [];
        if (leading) this.polledOnce = true;
        progressed = passes.some((moved) => moved);
        this.errors.succeeded();
      } catch (error) {
        // A shard restarting: its outbox waits in LMDB; try again after the idle wait.
        this.errors.failed(error);
        this.logger.warn({ err: error }, 'event notification delivery pass failed');
      }
      pendingNow = this.pendingByShard.reduce((sum, n) => sum + n, 0);
      if (!progressed) await this.sleeper.sleep(this.idleWaitMs());
    }
  }

  /**
   * Whether a pass can move anything: with a target, or with events left over (their targets
   * were removed: the pass gives them up). The first pass always looks, for events an earlier
   * run left behind.
   */
  private mayHaveWork(): boolean {
    return this.targets.size > 0 || !this.polledOnce || this.pendingByShard.some((n) => n > 0);
  }

  /** Until the next pass: the poll interval, or sooner when a target's backoff ends. */
  private idleWaitMs(): number {
    const now = Date.now();
    let wait: number = LIMITS.notifyPollMs;
    for (const { untilMs } of this.backoff.values()) wait = Math.min(wait, untilMs - now);
    return Math.max(10, wait);
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
      if (this.stopped) break;
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
    const backoff = this.backoff.get(target.name);
    if (backoff !== undefined && backoff.untilMs > Date.now()) return 'retry';
    try {
      const body = entry.whole === true ? entry.record : `{"Records":[${entry.record}]}`;
      await this.senders.send(target, body, this.stopping.signal);
    } catch (error) {
      const attempts = (backoff?.attempts ?? 0) + 1;
      const delay = Math.min(
        LIMITS.notifyBackoffMaxMs,
        LIMITS.notifyBackoffBaseMs * 2 ** Math.min(attempts - 1, 20),
      );
      this.backoff.set(target.name, { attempts, untilMs: Date.now() + delay });
      failedAttempts.inc({ target: target.name });
      this.errors.failed(error);
      this.logger.warn(
        { err: error, target: target.name, retryInMs: delay },
        'event notification delivery failed',
      );
      return 'retry';
    }
    this.backoff.delete(target.name);
    this.deliveredTotal++;
    delivered.inc({ target: target.name });
    return 'done';
  }

  status(): WorkerStatus {
    const pending = this.pendingByShard.reduce((sum, n) => sum + n, 0);
    const backingOff = [...this.backoff.keys()];
    return {
      state: pending > 0 ? 'busy' : 'idle',
      errors: this.errors.errors,
      consecutiveErrors: this.errors.consecutiveErrors,
      lastError: this.errors.lastError,
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
    // One connection per server AND credentials: two targets on one server as different users
    // must not share a connection (nor its permissions).
    const key = connectionKeyOf(target);
    let pending = this.nats.get(key);
    if (pending === undefined) {
      pending = connect({
        servers: target.url.slice('nats://'.length),
        name: 'hangar',
        timeout: LIMITS.notifyDeliveryTimeoutMs,
        maxReconnectAttempts: -1,
        ...target.natsAuth,
      });
      this.nats.set(key, pending);
    }
    try {
      const connection = await pending;
      if (!connection.isClosed()) return connection;
    } catch (error) {
      this.nats.delete(key);
      throw error;
    }
    this.nats.delete(key);
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

/** The connection map's key of a NATS target: its server and credentials (never shown). */
function connectionKeyOf(target: NotifyTarget): string {
  return `${target.url}\0${JSON.stringify(target.natsAuth ?? null)}`;
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
