import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { assert } from '../assert.js';
import type { ShardResult } from '../protocol/messages.js';
import type { ShardSettings } from '../shard/shard.js';
import { type ShardCall, ShardClient } from './shard-client.js';

export interface ShardPoolOptions {
  dataDir: string;
  shardCount: number;
  blockBytes: number;
  inlineBytesMax: number;
  durable: boolean;
}

/**
 * Hosts the shard actors: one single-thread piscina pool per shard, so each actor has its own
 * thread and mailbox (piscina has no task→worker affinity). Each pool runs exactly one long-lived
 * `attach` task, which receives the shard's MessagePort and resolves only at shutdown. Atomics
 * are disabled: piscina's default would park the thread between tasks, and an actor must keep
 * serving its port.
 */
export class ShardPool {
  private constructor(
    readonly clients: readonly ShardClient[],
    private readonly pools: readonly Piscina[],
    private readonly attached: readonly Promise<unknown>[],
  ) {}

  static async start(
    options: ShardPoolOptions,
    onCrash: (shardId: number, error: unknown) => void,
  ): Promise<ShardPool> {
    const filename = new URL('../shard/actor.js', import.meta.url).href;
    const clients: ShardClient[] = [];
    const pools: Piscina[] = [];
    const attached: Promise<unknown>[] = [];
    const ready: Promise<ShardResult>[] = [];
    for (let shardId = 0; shardId < options.shardCount; shardId++) {
      const pool = new Piscina({
        filename,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
        concurrentTasksPerWorker: 1,
        atomics: 'disabled',
      });
      const { port1, port2 } = new MessageChannel();
      const client = new ShardClient(shardId, port1);
      ready.push(client.awaitReady());
      const settings: ShardSettings = { ...options, shardId };
      const task = pool.run({ settings, port: port2 }, { transferList: [port2] });
      attached.push(task.catch((error: unknown) => onCrash(shardId, error)));
      clients.push(client);
      pools.push(pool);
    }
    const threads = await Promise.all(ready);
    const threadIds = new Set(threads.map((r) => (r.kind === 'Ready' ? r.threadId : -1)));
    assert(threadIds.size === options.shardCount, 'every shard actor runs on its own thread');
    return new ShardPool(clients, pools, attached);
  }

  client(shardId: number): ShardClient {
    const client = this.clients[shardId];
    assert(client !== undefined, `shard ${shardId} exists`);
    return client;
  }

  get size(): number {
    return this.clients.length;
  }

  /** The same single exchange with every shard; the answers in shard order. */
  callAll<K extends ShardResult['kind']>(
    call: ShardCall,
    expect: K,
  ): Promise<Array<Extract<ShardResult, { kind: K }>>> {
    return Promise.all(this.clients.map((client) => client.call(call, expect)));
  }

  /** Whether any shard holds an object of the bucket (O(1) counters: DeleteBucket's check). */
  async holdsObjects(bucketId: string): Promise<boolean> {
    const counters = await this.callAll({ kind: 'BucketCounters', bucketId }, 'Counters');
    return counters.some((c) => c.objects > 0);
  }

  /**
   * Has every shard delete the objects and uploads of buckets not in `liveBucketIds` (after a
   * bucket deletion, and at start-up for deletions a racing PUT outlived). A shard's failure is
   * reported to `onError`; the others go on.
   */
  purgeDeadBuckets(
    liveBucketIds: readonly string[],
    onError: (error: unknown) => void,
  ): Promise<void> {
    const ids = [...liveBucketIds];
    return Promise.all(
      this.clients.map((client) =>
        client
          .call({ kind: 'PurgeBuckets', liveBucketIds: ids }, 'Purged')
          .then(() => undefined, onError),
      ),
    ).then(() => undefined);
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    await Promise.all(this.attached);
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }
}
