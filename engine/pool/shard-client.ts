import type { MessagePort } from 'node:worker_threads';
import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import { FramePort } from '../protocol/codec.js';
import { LANE_REQ_IDS, laneBase } from '../protocol/lanes.js';
import type { EngineFailure, ShardReply, ShardRequest, ShardResult } from '../protocol/messages.js';

/** Receives every reply of one request until it ends (Done or Failed). */
export interface ReplyHandler {
  onReply(reply: ShardReply, body: ArrayBuffer | undefined): void;
}

/** Distributes `Omit` over a union so each request keeps its own fields. */
type WithoutReqId<T> = T extends unknown ? Omit<T, 'reqId'> : never;
export type ShardCall = WithoutReqId<ShardRequest>;

/** A failure reported by a shard, as data. */
export class ShardFailure extends Error {
  constructor(readonly failure: Extract<ShardReply, { kind: 'Failed' }>['failure']) {
    super(failure.message);
    this.name = 'ShardFailure';
  }
}

/**
 * GET bodies streaming from every shard together (LIMITS.readSessionsTotalMax) and from each
 * shard (readSessionsPerShardMax), counted in shared memory: the main thread's clients and every
 * edge thread's count in the same cells (Atomics), so the bounds hold for the whole process
 * whichever thread a connection lands on. Cell 0 is the total, cell 1 + shardId each shard's.
 */
export class ReadSessionBudget {
  readonly cells: Int32Array;

  constructor(
    shardCount: number,
    shared: SharedArrayBuffer = new SharedArrayBuffer(4 * (1 + shardCount)),
  ) {
    this.cells = new Int32Array(shared);
  }

  get shared(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  /** Counts one more session on the shard unless a bound is reached; false then. */
  tryOpen(shardId: number): boolean {
    const total = Atomics.add(this.cells, 0, 1);
    const perShard = Atomics.add(this.cells, 1 + shardId, 1);
    if (total < LIMITS.readSessionsTotalMax && perShard < LIMITS.readSessionsPerShardMax)
      return true;
    this.close(shardId);
    return false;
  }

  close(shardId: number): void {
    const total = Atomics.sub(this.cells, 0, 1);
    const perShard = Atomics.sub(this.cells, 1 + shardId, 1);
    assert(total > 0 && perShard > 0, 'read sessions are released once');
  }

  /** Sessions open now, on every shard. */
  get open(): number {
    return Atomics.load(this.cells, 0);
  }
}

/** The load bounds of one client (an edge thread's share of the process-wide ones). */
export interface ClientBounds {
  readonly inFlightMax: number;
}

export const WHOLE_BOUNDS: ClientBounds = { inFlightMax: LIMITS.shardInFlightMax };

/**
 * Whether the shard may open a read session for this request. Its slot is taken when the request
 * is sent (the HTTP thread cannot know yet whether the object is inline) and given back when the
 * Opened reply says no session was opened.
 */
function mayOpenSession(call: ShardCall): boolean {
  return call.kind === 'OpenObject' && call.purpose !== 'info';
}

const SLOW_DOWN: EngineFailure = { code: 'SlowDown', message: 'Please reduce your request rate.' };

/**
 * The HTTP thread's handle on one shard actor: allocates request ids, routes each reply to its
 * request's handler, and forgets the handler when the request ends. It sheds load: past
 * `shardInFlightMax` requests, or past the read-session bounds for a GET body, a new request is
 * refused with SlowDown instead of queueing. While the shard's thread is dead (see ShardPool),
 * its pending requests have failed and new ones are refused with ServiceUnavailable.
 */
export class ShardClient {
  private readonly firstReqId: number;
  private nextReqId: number;
  private readonly pending = new Map<number, ReplyHandler>();
  /** Requests holding a shard read session (an OpenObject that may open one), until they end. */
  private readonly readSessions = new Set<number>();
  private mailbox: FramePort;
  private serving = true;

  constructor(
    readonly shardId: number,
    port: MessagePort,
    private readonly readBudget: ReadSessionBudget = new ReadSessionBudget(shardId + 1),
    /** The shard mailbox lane this client's request ids belong to (engine/protocol/lanes.ts). */
    readonly lane = 0,
    private readonly bounds: ClientBounds = WHOLE_BOUNDS,
  ) {
    this.firstReqId = laneBase(lane) + 1;
    this.nextReqId = this.firstReqId;
    this.mailbox = this.attach(port);
  }

  private attach(port: MessagePort): FramePort {
    const mailbox = new FramePort(port);
    mailbox.onMessage<ShardReply>((message, body) => {
      // Replies of a thread that died after its successor attached are not this thread's.
      if (mailbox === this.mailbox) this.dispatch(message, body);
    });
    return mailbox;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** GET bodies streaming from this shard now. */
  get openReadSessions(): number {
    return this.readSessions.size;
  }

  /** Whether the shard's thread is serving (false from its death until its successor is ready). */
  get up(): boolean {
    return this.serving;
  }

  /**
   * The shard's thread died: every pending request fails now (a streamed GET is cut by its
   * handler) rather than waiting forever, and new requests are refused until `reattach`.
   */
  markDown(): void {
    this.serving = false;
    const failure = this.downFailure();
    const pending = [...this.pending.entries()];
    this.pending.clear();
    for (const reqId of [...this.readSessions]) this.releaseReadSession(reqId);
    // reqId 0 included: a successor that dies while starting fails its reattach.
    for (const [reqId, handler] of pending) {
      handler.onReply({ kind: 'Failed', reqId, failure }, undefined);
    }
  }

  /** Attaches the mailbox of the shard's new thread; serving resumes once it announces itself. */
  async reattach(port: MessagePort): Promise<void> {
    assert(!this.serving, 'only a dead shard is reattached');
    this.mailbox.close();
    this.mailbox = this.attach(port);
    await this.awaitReady();
    this.serving = true;
  }

  /** Messages sent to the shard since start (its Stats say how many it has handled). */
  get messagesPosted(): number {
    return this.mailbox.posted;
  }

  /**
   * Starts a (possibly streaming) request; returns its id for follow-up messages. Throws a
   * ShardFailure (SlowDown, ServiceUnavailable) when the shard cannot take it now.
   */
  open(call: ShardCall, handler: ReplyHandler, body?: ArrayBuffer): number {
    const refusal = this.refusalOf(call);
    if (refusal !== null) throw new ShardFailure(refusal);
    return this.post(call, handler, body);
  }

  /** Like open, past the load bounds: the health ping and the metrics scrape must get through
   *  an overloaded shard (a dead one still refuses them). */
  private openControl(call: ShardCall, handler: ReplyHandler): number {
    if (!this.up) throw new ShardFailure(this.downFailure());
    return this.post(call, handler);
  }

  private downFailure(): EngineFailure {
    return { code: 'ServiceUnavailable', message: `shard ${this.shardId} restarts` };
  }

  private post(call: ShardCall, handler: ReplyHandler, body?: ArrayBuffer): number {
    const reqId = this.nextReqId++;
    if (this.nextReqId === this.firstReqId - 1 + LANE_REQ_IDS) this.nextReqId = this.firstReqId;
    this.pending.set(reqId, handler);
    if (mayOpenSession(call)) this.readSessions.add(reqId);
    this.mailbox.post({ ...call, reqId }, body);
    return reqId;
  }

  /** Why a new request is refused now, or null. */
  private refusalOf(call: ShardCall): EngineFailure | null {
    if (!this.up) return this.downFailure();
    if (this.pending.size >= this.bounds.inFlightMax) return SLOW_DOWN;
    // Counted here, before `post` (which cannot fail): the shared cells are taken atomically.
    if (mayOpenSession(call) && !this.readBudget.tryOpen(this.shardId)) return SLOW_DOWN;
    return null;
  }

  private releaseReadSession(reqId: number): void {
    if (this.readSessions.delete(reqId)) this.readBudget.close(this.shardId);
  }

  /** Sends a follow-up message of an open request, with body bytes transferred beside it. */
  send(message: ShardRequest, body?: ArrayBuffer): void {
    if (this.up) this.mailbox.post(message, body);
  }

  /** Re-arms an open request (whose first reply ended it here) with a follow-up message. */
  resume(reqId: number, message: ShardRequest, handler: ReplyHandler): void {
    if (!this.up || !this.readSessions.has(reqId)) {
      // Died in between (and maybe restarted already, its sessions gone): the request fails as
      // its pending siblings did, rather than wait for a thread that never heard of it.
      const failure = this.downFailure();
      queueMicrotask(() => handler.onReply({ kind: 'Failed', reqId, failure }, undefined));
      return;
    }
    this.pending.set(reqId, handler);
    this.mailbox.post(message);
  }

  /** Abandons a request: the shard drops its session; late replies are ignored. */
  cancel(reqId: number): void {
    this.pending.delete(reqId);
    this.releaseReadSession(reqId);
    if (this.up) this.mailbox.post({ kind: 'Cancel', reqId });
  }

  /** A single request/reply exchange. */
  call<K extends ShardResult['kind']>(
    call: ShardCall,
    expect: K,
    control = false,
  ): Promise<Extract<ShardResult, { kind: K }>> {
    return new Promise((resolve, reject) => {
      (control ? this.openControl : this.open).call(this, call, {
        onReply: (reply) => {
          if (reply.kind === 'Failed') return reject(new ShardFailure(reply.failure));
          assert(reply.kind === 'Done' && reply.result.kind === expect, `expected ${expect}`);
          resolve(reply.result as Extract<ShardResult, { kind: K }>);
        },
      });
    });
  }

  /**
   * A single exchange that gives up after `timeoutMs`: null when the shard did not answer in
   * time or answered with a failure (health checks and metric scrapes must not hang on a shard).
   */
  async callWithin<K extends ShardResult['kind']>(
    call: ShardCall,
    expect: K,
    timeoutMs: number,
  ): Promise<Extract<ShardResult, { kind: K }> | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const answer = this.call(call, expect, true).catch(() => null);
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The shard announces itself with reqId 0 once its stores are open. */
  awaitReady(): Promise<ShardResult> {
    return new Promise((resolve, reject) => {
      this.pending.set(0, {
        onReply: (reply) => {
          if (reply.kind === 'Done') resolve(reply.result);
          else reject(new Error(`shard ${this.shardId} failed to start`));
        },
      });
    });
  }

  private dispatch(message: ShardReply, body: ArrayBuffer | undefined): void {
    const handler = this.pending.get(message.reqId);
    if (handler === undefined) return; // request cancelled; buffers are simply dropped
    if (message.kind === 'Done' || message.kind === 'Failed') {
      this.pending.delete(message.reqId);
      // A read session ends with its body (ReadDone) or a failure; an Opened reply says whether
      // the shard opened one at all (not for an inline body, nor for a 304/412).
      const sessionOver =
        message.kind === 'Failed' || message.result.kind !== 'Opened' || !message.result.session;
      if (sessionOver) this.releaseReadSession(message.reqId);
    }
    handler.onReply(message, body);
  }

  close(): void {
    this.mailbox.close();
  }
}
