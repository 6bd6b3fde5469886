import type { MessagePort } from 'node:worker_threads';
import { assert } from '../assert.js';
import { FramePort } from '../protocol/codec.js';
import type { ShardReply, ShardRequest, ShardResult } from '../protocol/messages.js';

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
 * The HTTP thread's handle on one shard actor: allocates request ids, routes each reply to its
 * request's handler, and forgets the handler when the request ends.
 */
export class ShardClient {
  private nextReqId = 1;
  private readonly pending = new Map<number, ReplyHandler>();
  private readonly mailbox: FramePort;

  constructor(
    readonly shardId: number,
    port: MessagePort,
  ) {
    this.mailbox = new FramePort(port);
    this.mailbox.onMessage<ShardReply>((message, body) => this.dispatch(message, body));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Messages sent to the shard since start (its Stats say how many it has handled). */
  get messagesPosted(): number {
    return this.mailbox.posted;
  }

  /** Starts a (possibly streaming) request; returns its id for follow-up messages. */
  open(call: ShardCall, handler: ReplyHandler): number {
    const reqId = this.nextReqId++;
    this.pending.set(reqId, handler);
    this.mailbox.post({ ...call, reqId });
    return reqId;
  }

  /** Sends a follow-up message of an open request, with body bytes transferred beside it. */
  send(message: ShardRequest, body?: ArrayBuffer): void {
    this.mailbox.post(message, body);
  }

  /** Re-arms an open request (whose first reply ended it here) with a follow-up message. */
  resume(reqId: number, message: ShardRequest, handler: ReplyHandler): void {
    this.pending.set(reqId, handler);
    this.mailbox.post(message);
  }

  /** Abandons a request: the shard drops its session; late replies are ignored. */
  cancel(reqId: number): void {
    this.pending.delete(reqId);
    this.mailbox.post({ kind: 'Cancel', reqId });
  }

  /** A single request/reply exchange. */
  call<K extends ShardResult['kind']>(
    call: ShardCall,
    expect: K,
  ): Promise<Extract<ShardResult, { kind: K }>> {
    return new Promise((resolve, reject) => {
      this.open(call, {
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
    const answer = this.call(call, expect).catch(() => null);
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
    if (message.kind === 'Done' || message.kind === 'Failed') this.pending.delete(message.reqId);
    handler.onReply(message, body);
  }

  close(): void {
    this.mailbox.close();
  }
}
