import { assert } from '../assert.js';
import type {
  KvEnv,
  KvKey,
  KvRange,
  KvRangeOptions,
  KvTable,
  KvTableOptions,
  RemoteKvEnv,
} from './kv.js';

/**
 * The embedded store with the cluster store's discipline checked: every read happens inside the
 * work of `read` or `transaction` (kv.ts), where the PostgreSQL store can fetch it; a read
 * anywhere else fails an assertion, which fails the test suite that made it. Test servers run
 * with it (HANGAR_KV_STRICT=1), so the whole S3 suite proves that the shard's code would find
 * every read it makes on a cluster store. It costs a wrapper per call: never on in production.
 */
export class StrictKvEnv implements RemoteKvEnv {
  /** Work of `read`/`transaction` running now (they may nest: a read inside a write's work). */
  private depth = 0;

  constructor(private readonly inner: KvEnv) {}

  get flushed(): Promise<unknown> {
    return this.inner.flushed;
  }

  openDB<V, K extends KvKey>(options: KvTableOptions & { name: string }): KvTable<V, K> {
    return new StrictKvTable<V, K>(this.inner.openDB<V, K>(options), this);
  }

  /** Throws unless a read may happen now. */
  checkRead(what: string): void {
    assert(this.depth > 0, `metadata read outside read() or transaction(): ${what}`);
  }

  /**
   * Runs `work` where reads are allowed, synchronously: for what the embedded store does at open
   * (the tables' constructors, upgrades), which a cluster store runs through `read`.
   */
  within<T>(work: () => T): T {
    this.depth++;
    try {
      return work();
    } finally {
      this.depth--;
    }
  }

  read<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(this.within(work));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  transaction<T>(work: () => T): Promise<T> {
    return this.inner.transaction(() => this.within(work));
  }

  transactionSync<T>(work: () => T): T {
    return this.inner.transactionSync(() => this.within(work));
  }

  resetReadTxn(): void {
    this.inner.resetReadTxn();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

class StrictKvTable<V, K extends KvKey> implements KvTable<V, K> {
  constructor(
    private readonly inner: KvTable<V, K>,
    private readonly env: StrictKvEnv,
  ) {}

  get(key: K): V | undefined {
    this.env.checkRead('get');
    return this.inner.get(key);
  }

  getBinary(key: K): Buffer | undefined {
    this.env.checkRead('getBinary');
    return this.inner.getBinary(key);
  }

  getRange(options?: KvRangeOptions<K>): KvRange<{ key: K; value: V }> {
    this.env.checkRead('getRange');
    return checkedRange(this.inner.getRange(options), this.env);
  }

  getKeys(options?: KvRangeOptions<K>): Iterable<K> {
    this.env.checkRead('getKeys');
    return checkedRange(this.inner.getRange(options), this.env).map(({ key }) => key);
  }

  getKeysCount(options?: KvRangeOptions<K>): number {
    this.env.checkRead('getKeysCount');
    return this.inner.getKeysCount(options);
  }

  getCount(): number {
    this.env.checkRead('getCount');
    return this.inner.getCount();
  }

  getStats(): unknown {
    this.env.checkRead('getStats');
    return this.inner.getStats();
  }

  put(key: K, value: V): Promise<boolean> {
    return this.inner.put(key, value);
  }

  remove(key: K): Promise<boolean> {
    return this.inner.remove(key);
  }

  ifNoExists(key: K, work: () => void): Promise<boolean> {
    return this.inner.ifNoExists(key, work);
  }
}

/** A range whose iteration is a read too: lmdb-js ranges are lazy, read as they are walked. */
function checkedRange<T>(inner: KvRange<T>, env: StrictKvEnv): KvRange<T> {
  return {
    [Symbol.iterator](): Iterator<T> {
      env.checkRead('range iteration');
      return inner[Symbol.iterator]();
    },
    map<U>(callback: (entry: T) => U): KvRange<U> {
      return checkedRange(inner.map(callback), env);
    },
  };
}
