import { assert } from '../../assert.js';
import type { KvEntry, KvKey, KvRange, KvRangeOptions, KvTable, KvTableOptions } from '../kv.js';
import { type TableCodec, tableCodec } from './codec.js';
import type { Row } from './fetched.js';
import type { Run } from './run.js';
import { boundsOf, rowsOf } from './run.js';

/** What a table needs of its environment: the run in progress, and a transaction. */
export interface TableHost {
  /** The run whose work is executing now, if any. */
  readonly activeRun: Run | undefined;
  transaction<T>(work: () => T): Promise<T>;
}

/** A lazy range, iterable while its run is the active one (as lmdb-js's within its txn). */
class LazyRange<T> implements KvRange<T> {
  constructor(private readonly source: () => Iterator<T>) {}

  [Symbol.iterator](): Iterator<T> {
    return this.source();
  }

  map<U>(callback: (entry: T) => U): KvRange<U> {
    return new LazyRange(() => {
      const inner = this.source();
      return {
        next: (): IteratorResult<U> => {
          const step = inner.next();
          return step.done === true
            ? { done: true, value: undefined }
            : { done: false, value: callback(step.value) };
        },
      };
    });
  }
}

/** Table names travel into SQL as literals: only these characters, so nothing needs quoting. */
const TABLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/** One named table of a PgKvEnv: rows of `kv` whose `tbl` is its name. */
export class PgKvTable<V, K extends KvKey> implements KvTable<V, K> {
  readonly name: string;
  private readonly codec: TableCodec<V, K>;

  constructor(
    private readonly host: TableHost,
    options: KvTableOptions & { name: string },
  ) {
    assert(TABLE_NAME.test(options.name), `pg-kv: table name ${options.name}`);
    this.name = options.name;
    this.codec = tableCodec<V, K>(options);
  }

  get(key: K): V | undefined {
    const bytes = this.run('get').get(this.name, this.codec.encodeKey(key));
    return bytes === undefined ? undefined : this.codec.decodeValue(bytes);
  }

  getBinary(key: K): Buffer | undefined {
    const bytes = this.run('getBinary').get(this.name, this.codec.encodeKey(key));
    return bytes === undefined ? undefined : Buffer.from(bytes);
  }

  getRange(options: KvRangeOptions<K> = {}): KvRange<KvEntry<K, V>> {
    return this.rows(options).map((row) => ({
      key: this.codec.decodeKey(row.key),
      value: this.codec.decodeValue(row.value),
    }));
  }

  getKeys(options: KvRangeOptions<K> = {}): Iterable<K> {
    return this.rows(options).map((row) => this.codec.decodeKey(row.key));
  }

  /** lmdb-js counts the whole range: it does not apply `limit` to a count. */
  getKeysCount(options: KvRangeOptions<K> = {}): number {
    const { limit: _ignored, ...range } = options;
    let count = 0;
    for (const _ of this.rows(range)) count++;
    return count;
  }

  /** Every entry of the table, as LMDB's entry count: counted by the server. */
  getCount(): number {
    return this.run('getCount').count(this.name);
  }

  /** What the tables read of lmdb-js's statistics: the entry count. */
  getStats(): { entryCount: number } {
    return { entryCount: this.getCount() };
  }

  /** lmdb-js's conditional write: `work` runs in a transaction only if `key` is not stored. */
  ifNoExists(key: K, work: () => void): Promise<boolean> {
    return this.host.transaction(() => {
      if (this.get(key) !== undefined) return false;
      work();
      return true;
    });
  }

  put(key: K, value: V): Promise<boolean> {
    const run = this.host.activeRun;
    if (run === undefined) return this.alone(() => this.put(key, value));
    run.write(this.name, this.codec.encodeKey(key), this.codec.encodeValue(value));
    return run.committed;
  }

  /** Resolves true like lmdb-js's remove outside a transaction (it does not read first). */
  remove(key: K): Promise<boolean> {
    const run = this.host.activeRun;
    if (run === undefined) return this.alone(() => this.remove(key));
    run.write(this.name, this.codec.encodeKey(key), null);
    return run.committed;
  }

  /** A write outside a transaction is a transaction of its own. */
  private alone(write: () => Promise<boolean>): Promise<boolean> {
    return this.host.transaction(() => void write()).then(() => true);
  }

  private rows(options: KvRangeOptions<K>): LazyRange<Row> {
    const run = this.run('getRange');
    const bounds = boundsOf(
      options.reverse === true,
      options.start === undefined ? undefined : this.codec.encodeBound(options.start),
      options.end === undefined ? undefined : this.codec.encodeBound(options.end),
      options.limit,
      this.codec.beginningKey,
    );
    return new LazyRange(() => {
      assert(this.host.activeRun === run, 'pg-kv: a range iterated outside its transaction');
      return rowsOf(run, this.name, bounds);
    });
  }

  private run(what: string): Run {
    const run = this.host.activeRun;
    assert(run !== undefined, `pg-kv: ${what} outside transaction() or read()`);
    return run;
  }
}
