import type { RootDatabase } from 'lmdb';
import { assert } from '../assert.js';
import {
  afterCommit,
  type KvEntry,
  type KvEnv,
  type KvKey,
  type KvRange,
  type KvRangeOptions,
  type KvTable,
  type KvTableOptions,
} from '../meta/kv.js';
import { type PgKvEnv, PgKvError } from '../meta/pg-kv/env.js';
import type { Write } from '../meta/pg-kv/run.js';
import { type CatalogReplica, REPLICATED_TABLES } from './replica.js';

/**
 * The catalog's KvEnv in cluster mode: reads from the local LMDB replica (synchronous, as
 * embedded), transactions on PostgreSQL. Inside a transaction's work every table reads and
 * writes PostgreSQL's rows (the work runs over PgKvEnv, re-run until its reads are fetched);
 * outside, the replica's. After the commit the replica is brought to it before `transaction`
 * resolves: what a caller wrote, it reads next on this gateway.
 */
export class ReplicatedKvEnv implements KvEnv {
  constructor(
    private readonly local: RootDatabase,
    private readonly remote: PgKvEnv,
    private readonly replica: CatalogReplica,
    /** Told each committed version, after the replica reflects it (announces it to others). */
    private readonly onCommitted: (version: number) => Promise<void>,
    /** Closes what the env owns beside the replica (the PostgreSQL pool, unless shared). */
    private readonly closeRemote: () => Promise<void>,
  ) {}

  /** Whether work is running inside a PostgreSQL transaction now (tables route on it). */
  get inRemoteRun(): boolean {
    return this.remote.activeRun !== undefined;
  }

  get flushed(): Promise<unknown> {
    return this.local.flushed;
  }

  openDB<V, K extends KvKey>(options: KvTableOptions & { name: string }): KvTable<V, K> {
    // A table the replica does not copy would be written to PostgreSQL and never read back.
    assert(REPLICATED_TABLES.includes(options.name), `catalog table ${options.name} replicated`);
    return new RoutedTable<V, K>(this, this.local.openDB(options), this.remote.openDB(options));
  }

  async transaction<T>(work: () => T): Promise<T> {
    // Inside another transaction's work (ifNoExists, a nested helper): part of that run.
    if (this.inRemoteRun) return work();
    let committed: { writes: readonly Write[]; version: number } | undefined;
    let value: T;
    try {
      value = await this.remote.transaction(() => {
        const result = work();
        const run = this.remote.activeRun;
        assert(run !== undefined, 'catalog work runs inside its PostgreSQL run');
        // A transaction that wrote nothing changes no version: nothing to replicate.
        if (run.writes().length === 0) return result;
        const version = this.replica.bumpVersionInRun();
        const writes = run.writes();
        afterCommit(this.remote, () => {
          committed = { writes, version };
        });
        return result;
      });
    } catch (error) {
      // It may have committed: the replica learns PostgreSQL's state either way.
      if (error instanceof PgKvError && error.failure === 'unknown-outcome') {
        void this.replica.catchUp().catch(() => undefined);
      }
      throw error;
    }
    if (committed !== undefined) {
      await this.replica.applyCommitted(committed.writes, committed.version);
      await this.onCommitted(committed.version);
    }
    return value;
  }

  transactionSync<T>(_work: () => T): T {
    throw new Error(
      'the catalog in cluster mode commits to PostgreSQL: a synchronous transaction is not possible (use transaction)',
    );
  }

  resetReadTxn(): void {
    this.local.resetReadTxn();
  }

  /** Stops what keeps the replica current first (a re-sync must not meet a closed replica). */
  async close(): Promise<void> {
    await this.closeRemote();
    await this.local.flushed;
    await this.local.close();
  }
}

/** One catalog table: the replica's rows outside transaction work, PostgreSQL's inside. */
class RoutedTable<V, K extends KvKey> implements KvTable<V, K> {
  constructor(
    private readonly env: ReplicatedKvEnv,
    private readonly local: KvTable<V, K>,
    private readonly remote: KvTable<V, K>,
  ) {}

  private get reading(): KvTable<V, K> {
    return this.env.inRemoteRun ? this.remote : this.local;
  }

  get(key: K): V | undefined {
    return this.reading.get(key);
  }

  getBinary(key: K): Buffer | undefined {
    return this.reading.getBinary(key);
  }

  getRange(options?: KvRangeOptions<K>): KvRange<KvEntry<K, V>> {
    return this.reading.getRange(options);
  }

  getKeys(options?: KvRangeOptions<K>): Iterable<K> {
    return this.reading.getKeys(options);
  }

  getKeysCount(options?: KvRangeOptions<K>): number {
    return this.reading.getKeysCount(options);
  }

  getCount(): number {
    return this.reading.getCount();
  }

  getStats(): unknown {
    return this.reading.getStats();
  }

  /** Inside transaction work: a write of the run. Outside: a transaction of its own. */
  put(key: K, value: V): Promise<boolean> {
    if (this.env.inRemoteRun) return this.remote.put(key, value);
    return this.env.transaction(() => void this.remote.put(key, value)).then(() => true);
  }

  remove(key: K): Promise<boolean> {
    if (this.env.inRemoteRun) return this.remote.remove(key);
    return this.env.transaction(() => void this.remote.remove(key)).then(() => true);
  }

  ifNoExists(key: K, work: () => void): Promise<boolean> {
    return this.env.transaction(() => {
      if (this.remote.get(key) !== undefined) return false;
      work();
      return true;
    });
  }
}
