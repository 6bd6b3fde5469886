import { assert } from '../assert.js';
import type { ShardResult } from '../protocol/messages.js';
import type { ShardCall, ShardClient } from './shard-client.js';

/**
 * One thread's handles on every shard actor, in shard order: the main thread's (ShardPool, which
 * also supervises the actors) or an edge thread's (its own lane to each shard).
 */
export class ShardClients {
  constructor(readonly clients: readonly ShardClient[]) {}

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
}
