import { join } from 'node:path';
import { shardDir } from '../layout.js';
import type { KvTable } from './kv.js';
import { openShardEnvironment } from './store.js';

/**
 * A read-only look at one shard's `restores` table from the main thread: when its earliest
 * restore step is due. The restore worker reads it every tick and sends the shard a message only
 * when a step is due, so an idle server exchanges no restore messages with its shards (as
 * ObjectReader answers HEADs on edge threads: lmdb-js shares the shard's environment and serves
 * readers beside its writer).
 */
export class RestoreQueueView {
  private readonly env;
  private readonly rows: KvTable<unknown, Buffer>;

  constructor(dataDir: string, shardId: number, durable: boolean) {
    this.env = openShardEnvironment(join(shardDir(dataDir, shardId), 'meta'), durable);
    // The shard created the table when it started (MetaStore), before this view is opened.
    this.rows = this.env.openDB<unknown, Buffer>({ name: 'restores', keyEncoding: 'binary' });
  }

  /** The earliest step's due time (ms, server clock), or null when no restore is pending. */
  firstDueMs(): number | null {
    this.env.resetReadTxn();
    for (const key of this.rows.getKeys({ limit: 1 })) {
      return Number(Buffer.from(key).readBigUInt64BE(0));
    }
    return null;
  }
}
