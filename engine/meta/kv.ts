/**
 * The metadata seam: the ordered, transactional key-value store the metadata tables are written
 * over (engine/meta/*-table.ts, engine/catalog). S3 semantics live above it, once; two stores
 * live below it:
 *
 * - embedded (the default): an lmdb-js environment, used as it is. lmdb-js's RootDatabase and
 *   Database satisfy these interfaces structurally, so the embedded path pays nothing for the seam.
 * - cluster mode: PostgreSQL (engine/meta/pg-kv/), one `kv` table per metadata shard, keys as
 *   bytea in the same memcmp order as LMDB's. Its reads are network round trips, so the work a
 *   caller hands to `transaction` or `read` may be run more than once: a read the store has not
 *   fetched yet stops the run, the store fetches it, and runs the work again from the start
 *   against everything fetched so far (DECISIONS.md, "Cluster mode: the metadata seam is an
 *   ordered KV"). The work must therefore be a pure function of what it reads: no effects outside
 *   the store (no metrics, no in-memory caches, no I/O) until the returned promise resolves.
 *
 * Only what the tables use is here; adding a member means implementing it in both stores.
 */

/** Keys as the tables use them: strings (catalog, hashes) or binary (object keys, encoded). */
export type KvKey = string | Buffer;

export interface KvRangeOptions<K extends KvKey> {
  /** First key (inclusive, also when reverse: lmdb-js includes it). */
  start?: K;
  /** Key to stop at (exclusive). */
  end?: K;
  reverse?: boolean;
  limit?: number;
}

export interface KvEntry<K extends KvKey, V> {
  key: K;
  value: V;
}

/** What getRange returns: lmdb-js's RangeIterable is one (lazy, with `map`). */
export interface KvRange<T> extends Iterable<T> {
  map<U>(callback: (entry: T) => U): KvRange<U>;
}

/** Options of openDB the tables use (beside the name). `encoder` is cbor-x's, in both stores. */
export interface KvTableOptions {
  encoding?: 'binary' | 'msgpack' | 'json' | 'string' | 'ordered-binary';
  keyEncoding?: 'binary' | 'ordered-binary' | 'uint32';
  encoder?: unknown;
  dupSort?: boolean;
}

/** One named table of an environment. Writes join the transaction they are called in. */
export interface KvTable<V, K extends KvKey> {
  get(key: K): V | undefined;
  /** The stored bytes of a binary-encoded table. */
  getBinary(key: K): Buffer | undefined;
  getRange(options?: KvRangeOptions<K>): KvRange<KvEntry<K, V>>;
  getKeys(options?: KvRangeOptions<K>): Iterable<K>;
  getKeysCount(options?: KvRangeOptions<K>): number;
  /** Entries in the table (all of them: tables here are never dupSort). */
  getCount(): number;
  /** The table's statistics; `entryCount` is the one the tables read (O(1) in LMDB). */
  getStats(): unknown;
  put(key: K, value: V): Promise<boolean>;
  remove(key: K): Promise<boolean>;
  /** Runs `work` in a transaction only if `key` has no value; resolves whether it ran. */
  ifNoExists(key: K, work: () => void): Promise<boolean>;
}

/** An environment: one metadata shard's tables, changed together in transactions. */
export interface KvEnv {
  openDB<V, K extends KvKey>(options: KvTableOptions & { name: string }): KvTable<V, K>;
  /**
   * Runs `work` in one write transaction: all its writes commit together or none does. With
   * lmdb-js, writes of one event turn commit together (group commit) and `flushed` resolves once
   * they are on disk; the PostgreSQL store commits before the promise resolves.
   */
  transaction<T>(work: () => T): Promise<T>;
  /**
   * Runs `work` in a write transaction and returns when it committed. Only a store with local
   * reads can: the embedded store. Its callers are open-time rebuilds of in-memory state
   * (counters, the null-version index) and the catalog, which cluster mode replaces.
   */
  transactionSync<T>(work: () => T): T;
  /** Resolves once every write committed so far is durable. */
  readonly flushed: Promise<unknown>;
  /** Lets the next read see every committed write (lmdb-js caches a read snapshot per turn). */
  resetReadTxn(): void;
  close(): Promise<void>;
}

/**
 * A store whose reads are not all local: `read` runs `work` until every read it makes has been
 * fetched (the cluster store). The embedded store has no `read`: its reads are synchronous.
 */
export interface RemoteKvEnv extends KvEnv {
  read<T>(work: () => T): Promise<T>;
}

function isRemote(env: KvEnv): env is RemoteKvEnv {
  return typeof (env as Partial<RemoteKvEnv>).read === 'function';
}

/**
 * Runs a read-only piece of work against the store: directly on the embedded store (no promise,
 * no cost), through `read` on a remote one. Callers that can answer synchronously on the embedded
 * store check `isRemote` themselves.
 */
export function readKv<T>(env: KvEnv, work: () => T): T | Promise<T> {
  return isRemote(env) ? env.read(work) : work();
}

export { isRemote as isRemoteKv };

/**
 * A store that may run a transaction's work more than once (the cluster store): what the work
 * does outside the store waits for the commit of the run that counted.
 */
export interface CommitEffects {
  afterCommit(effect: () => void): void;
}

/**
 * Inside transaction work: `effect` (a change to memory outside the store, such as a queue's
 * size) happens once, for the run that commits. The embedded store runs its work once, as part
 * of its commit, so the effect happens at once, as it always has; the cluster store keeps it
 * until COMMIT and drops it with a run it runs again or a transaction that fails.
 */
export function afterCommit(env: KvEnv, effect: () => void): void {
  const deferring = env as Partial<CommitEffects>;
  if (typeof deferring.afterCommit === 'function') deferring.afterCommit(effect);
  else effect();
}

/** A store that tells transaction work a number fixed for the attempt (all its runs). */
export interface AttemptSeeds {
  attemptSeed(): number;
}

/**
 * Inside transaction work: a number in [0, 1) that stays the same over every run of one attempt
 * (a cluster store runs the work again after each fetch) and changes between attempts; 0 on a
 * store that runs its work once. Work that spreads its writes at random (slotted counters) takes
 * its randomness from here, so a re-run does not read new keys each time.
 */
export function attemptSeed(env: KvEnv): number {
  const seeds = env as Partial<AttemptSeeds>;
  return typeof seeds.attemptSeed === 'function' ? seeds.attemptSeed() : 0;
}
