import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { assert } from '../../assert.js';
import { LIMITS } from '../../limits.js';
import { shardCounters } from '../../stats.js';
import type {
  AttemptSeeds,
  CommitEffects,
  KvKey,
  KvTable,
  KvTableOptions,
  RemoteKvEnv,
} from '../kv.js';
import { successor } from './fetched.js';
import {
  FixedPool,
  openPool,
  type PoolSource,
  PrimaryPool,
  type PrimaryTargets,
} from './primary.js';
import { FetchNeeded, type FetchRequest, Run, TxnCache } from './run.js';
import {
  BEGIN_READ,
  BEGIN_WRITE,
  createSql,
  fetchSql,
  pointsSql,
  schemaOf,
  writesSql,
} from './sql.js';
import { PgKvTable, type TableHost } from './table.js';

export interface PgKvOptions {
  /**
   * How to reach the shard's PostgreSQL: one server (node-postgres pool settings), or the
   * members of a Patroni cluster, whose primary is found and followed across failovers.
   */
  connection: pg.PoolConfig | { primaryOf: PrimaryTargets };
  /** The metadata shard: its tables live in schema `hangar_meta_<shard>`. */
  shard: string;
}

export type PgKvFailure =
  /** Serialization failures or deadlocks on every attempt. */
  | 'conflict'
  /** The work kept reading keys it had not read before (LIMITS.pgKvRunsMax). */
  | 'runs'
  /** The work read more rows than one transaction may hold (LIMITS.pgKvTxnRowsMax). */
  | 'rows'
  /** PostgreSQL failed or the connection broke before COMMIT: nothing was written. */
  | 'aborted'
  /** The connection broke while COMMIT was on its way: it may or may not have committed. */
  | 'unknown-outcome';

export class PgKvError extends Error {
  override name = 'PgKvError';
  constructor(
    readonly failure: PgKvFailure,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

type Mode = 'write' | 'read';

/** Counts since open, for metrics and for measuring what a transaction costs. */
export interface PgKvStats {
  /** Messages sent to PostgreSQL and answered (each a network round trip). */
  roundTrips: number;
  /** Runs of transaction work (the first run and every re-run). */
  runs: number;
  /** Attempts run again after a serialization failure or deadlock. */
  retries: number;
  /** Attempts run again because the primary was lost before COMMIT (failover). */
  failovers: number;
}

/**
 * SQLSTATEs after which the same transaction, run again, may succeed: a serialization failure
 * (a row it read was changed meanwhile), a deadlock, and a unique violation (a key it read as
 * absent was inserted meanwhile: writesSql inserts such keys plainly).
 */
const RETRYABLE = new Set(['40001', '40P01', '23505']);

/**
 * The cluster metadata store of one shard (engine/meta/kv.ts): the tables' rows in PostgreSQL,
 * transactions SERIALIZABLE, work re-run until every read it makes has been fetched.
 */
export class PgKvEnv implements RemoteKvEnv, CommitEffects, AttemptSeeds, TableHost {
  private current: Run | undefined;
  readonly stats: PgKvStats = { roundTrips: 0, runs: 0, retries: 0, failovers: 0 };
  readonly flushed: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly source: PoolSource,
    private readonly schema: string,
  ) {}

  /** Connects, checks the server, and creates the shard's schema and table if missing. */
  static async open(options: PgKvOptions): Promise<PgKvEnv> {
    const schema = schemaOf(options.shard);
    const source = sourceOf(options.connection);
    try {
      const client = await (await source.pool()).connect();
      try {
        const { rows } = await client.query('SHOW standard_conforming_strings');
        assert(
          rows[0]?.standard_conforming_strings === 'on',
          'pg-kv: needs standard_conforming_strings',
        );
        await client.query(createSql(schema));
      } finally {
        client.release();
      }
    } catch (error) {
      await source.end();
      throw error;
    }
    return new PgKvEnv(source, schema);
  }

  get activeRun(): Run | undefined {
    return this.current;
  }

  openDB<V, K extends KvKey>(options: KvTableOptions & { name: string }): KvTable<V, K> {
    return new PgKvTable<V, K>(this, options);
  }

  transaction<T>(work: () => T): Promise<T> {
    // Inside another transaction's work (lmdb-js nests it the same way): part of that run.
    if (this.current !== undefined) return Promise.resolve(work());
    return shardCounters.timeEngine('pg_transaction', () => this.withRetries('write', work));
  }

  /** kv.ts attemptSeed: the same for every run of this attempt. */
  attemptSeed(): number {
    assert(this.current !== undefined, 'pg-kv: attemptSeed outside transaction work');
    return this.current.cache.seed;
  }

  /** kv.ts afterCommit: kept with the run, done once that run's transaction committed. */
  afterCommit(effect: () => void): void {
    assert(this.current !== undefined, 'pg-kv: afterCommit outside transaction work');
    this.current.effects.push(effect);
  }

  /** Reads over the network cannot answer synchronously: callers use `transaction`. */
  transactionSync<T>(_work: () => T): T {
    assert(false, 'pg-kv: transactionSync needs a store with local reads (the embedded one)');
  }

  read<T>(work: () => T): Promise<T> {
    if (this.current !== undefined) return Promise.resolve(work());
    return shardCounters.timeEngine('pg_transaction', () => this.withRetries('read', work));
  }

  /** Every read is its own PostgreSQL transaction: there is no snapshot to renew. */
  resetReadTxn(): void {}

  async close(): Promise<void> {
    await this.source.end();
  }

  private async withRetries<T>(mode: Mode, work: () => T): Promise<T> {
    let settle: (committed: boolean) => void = () => {};
    const committed = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    let failoverUntilMs: number | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await this.attempt(mode, work, committed);
        settle(true);
        return value;
      } catch (error) {
        if (this.source.canFailOver && wroteNothingOnLostServer(error)) {
          // The primary went away before COMMIT: nothing was written, so the same work runs
          // again on the new primary once Patroni has promoted one (pool() waits for it).
          const until: number = failoverUntilMs ?? Date.now() + LIMITS.pgPrimaryWaitMs;
          failoverUntilMs = until;
          if (Date.now() < until) {
            this.stats.failovers++;
            attempt--;
            await sleep(LIMITS.pgPrimaryProbeGapMs);
            continue;
          }
        }
        if (!isRetryable(error) || attempt >= LIMITS.pgKvAttemptsMax) {
          settle(false);
          throw isRetryable(error)
            ? new PgKvError('conflict', `pg-kv: ${attempt} attempts aborted by conflicts`, {
                cause: error,
              })
            : error;
        }
        this.stats.retries++;
        // Two gateways retrying in step would collide again: a random wait parts them.
        await sleep(Math.random() * LIMITS.pgKvRetryBackoffMs * attempt);
      }
    }
  }

  /** One PostgreSQL transaction: run, fetch what is missing, run again… then commit. */
  private async attempt<T>(mode: Mode, work: () => T, committed: Promise<boolean>): Promise<T> {
    const cache = new TxnCache();
    let session: Session | undefined;
    const pool = await this.source.pool();
    try {
      for (let runs = 1; ; runs++) {
        if (runs > LIMITS.pgKvRunsMax) {
          throw new PgKvError('runs', `pg-kv: the work read new keys on ${runs - 1} runs`);
        }
        const run = new Run(cache, mode === 'write', committed);
        this.stats.runs++;
        const outcome = this.runOnce(run, work);
        if (outcome.done) {
          const writes = writesSql(
            this.schema,
            run.writes().map((w) => ({ ...w, was: cache.wasRead(w.table, w.key) })),
          );
          if (session !== undefined || writes !== '') {
            session ??= await Session.open(pool, mode, this.stats);
            await session.commit(writes);
          }
          // Only this run's effects: earlier runs of the work were answered from less.
          for (const effect of run.effects) effect();
          return outcome.value;
        }
        session ??= await Session.open(pool, mode, this.stats);
        await this.fetch(session, cache, outcome.request, run);
      }
    } catch (error) {
      await session?.abandon(error);
      const described = describe(error, session);
      if (isServerGone(error) || isServerGone(causeOf(described))) this.source.lost(pool);
      throw described;
    } finally {
      session?.release();
    }
  }

  /** Runs the work once, synchronously; a read it could not answer ends the run. */
  private runOnce<T>(
    run: Run,
    work: () => T,
  ): { done: true; value: T } | { done: false; request: FetchRequest } {
    this.current = run;
    let value: T;
    try {
      value = work();
    } catch (error) {
      if (run.missed !== undefined) return { done: false, request: run.missed };
      if (error instanceof FetchNeeded) return { done: false, request: error.request };
      throw error;
    } finally {
      this.current = undefined;
    }
    if (isThenable(value)) {
      // Its awaits would run outside the transaction: refused, and its rejection handled.
      Promise.resolve(value).catch(() => {});
      assert(false, 'pg-kv: transaction work must be synchronous');
    }
    // A work that caught the signal itself went on from a wrong answer: its result is void.
    if (run.missed !== undefined) return { done: false, request: run.missed };
    return { done: true, value };
  }

  /**
   * Fetches what a run missed, in one round trip: every point it guessed (one statement), and
   * the range read that ended it, if one did.
   */
  private async fetch(
    session: Session,
    cache: TxnCache,
    request: FetchRequest,
    run: Run,
  ): Promise<void> {
    const points = uniquePoints(run.guessed);
    const range = run.rangeMissed ?? (points.length === 0 ? request : undefined);
    const statements: string[] = [];
    if (points.length > 0) statements.push(pointsSql(this.schema, points));
    if (range !== undefined) statements.push(fetchSql(this.schema, range));
    const results = await session.queryAll(statements.join(''));
    if (points.length > 0) {
      const found = new Map<string, Buffer>();
      for (const row of results[0] ?? []) {
        found.set(`${row.tbl}\0${row.key.toString('hex')}`, row.value);
      }
      for (const { table, key } of points) {
        const value = found.get(`${table}\0${key.toString('hex')}`);
        cache.learn(
          table,
          { lo: key, hi: successor(key) },
          value === undefined ? [] : [{ key, value }],
        );
      }
    }
    if (range?.kind === 'count') {
      const counted = Number((results[results.length - 1]?.[0] as { n?: string } | undefined)?.n);
      assert(Number.isSafeInteger(counted) && counted >= 0, 'pg-kv: a count is a number of rows');
      cache.counts.set(range.table, counted);
    } else if (range !== undefined) {
      const rows = results[results.length - 1] ?? [];
      cache.learn(range.table, spanOf(range, rows), rows);
    }
    if (cache.rows > LIMITS.pgKvTxnRowsMax) {
      throw new PgKvError('rows', `pg-kv: a transaction read over ${LIMITS.pgKvTxnRowsMax} rows`);
    }
  }
}

/** One checked-out connection with a transaction open on it. */
class Session {
  /** The BEGIN still to send with the first statement (it travels with it). */
  private begin: string;
  private broken: Error | undefined;
  private committing = false;
  private readonly onError = (error: Error): void => {
    this.broken = error;
  };

  private constructor(
    private readonly client: pg.PoolClient,
    mode: Mode,
    private readonly stats: PgKvStats,
  ) {
    this.begin = mode === 'write' ? BEGIN_WRITE : BEGIN_READ;
    client.on('error', this.onError);
  }

  static async open(pool: pg.Pool, mode: Mode, stats: PgKvStats): Promise<Session> {
    try {
      return new Session(await pool.connect(), mode, stats);
    } catch (error) {
      throw new PgKvError('aborted', `pg-kv: cannot connect: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  get commitSent(): boolean {
    return this.committing;
  }

  /** Several statements in one message: each one's rows, in order. */
  async queryAll(sql: string): Promise<Array<Array<{ tbl?: string; key: Buffer; value: Buffer }>>> {
    const results = await this.send(sql);
    return results.map(
      (result) => result.rows as Array<{ tbl?: string; key: Buffer; value: Buffer }>,
    );
  }

  async commit(writes: string): Promise<void> {
    this.committing = true;
    await this.send(`${writes}COMMIT;`);
    this.committing = false;
  }

  /** After a failure: roll back if the connection still works, else mark it to be dropped. */
  async abandon(error: unknown): Promise<void> {
    if (this.broken !== undefined || this.begin !== '') return;
    if (!hasSqlState(error) && isPgFailure(error)) {
      this.broken = error as Error;
      return;
    }
    try {
      this.stats.roundTrips++;
      await this.client.query('ROLLBACK');
    } catch (rollbackError) {
      this.broken = rollbackError as Error;
    }
  }

  release(): void {
    this.client.off('error', this.onError);
    this.client.release(this.broken ?? false);
  }

  /** Sends statements, BEGIN first if not yet sent: each statement's result, in order. */
  private async send(sql: string): Promise<pg.QueryResult[]> {
    const beginSent = this.begin !== '';
    const text = this.begin + sql;
    // Sent once: even a failing message opened the transaction block (ROLLBACK closes it).
    this.begin = '';
    this.stats.roundTrips++;
    const results = (await this.client.query(text)) as pg.QueryResult | pg.QueryResult[];
    const all = Array.isArray(results) ? results : [results];
    // BEGIN's own result is not one of the statements asked for.
    const answers = beginSent ? all.slice(1) : all;
    assert(answers.length > 0, 'pg-kv: a statement answers');
    return answers;
  }
}

/** The span a fetch covers: every stored key in it is among its rows. */
function spanOf(
  request: Exclude<FetchRequest, { kind: 'count' }>,
  rows: ReadonlyArray<{ key: Buffer }>,
): { lo: Buffer; hi: Buffer | null } {
  switch (request.kind) {
    case 'point':
      return { lo: request.key, hi: successor(request.key) };
    case 'forward': {
      const last = rows[rows.length - 1];
      const full = rows.length >= request.rows && last !== undefined;
      return { lo: request.from, hi: full ? successor(last.key) : request.end };
    }
    case 'reverse': {
      const last = rows[rows.length - 1];
      const full = rows.length >= request.rows && last !== undefined;
      return { lo: full ? last.key : request.floor, hi: request.below };
    }
  }
}

function sourceOf(connection: PgKvOptions['connection']): PoolSource {
  if ('primaryOf' in connection) return new PrimaryPool(connection.primaryOf);
  return new FixedPool(openPool(connection));
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}

/**
 * SQLSTATEs of a server that is no longer (or not) the primary: read_only_sql_transaction (a
 * demoted primary), admin/crash shutdown, cannot_connect_now (starting or recovering), and
 * connection exceptions (class 08).
 */
const SERVER_GONE = new Set(['25006', '57P01', '57P02', '57P03']);

/** A failure that a switch to another server (a new primary) could cure. */
function isServerGone(error: unknown): boolean {
  if (hasSqlState(error)) return SERVER_GONE.has(error.code) || error.code.startsWith('08');
  return error !== undefined && isPgFailure(error);
}

/** An attempt that failed on a lost server before COMMIT was sent: safe to run again. */
function wroteNothingOnLostServer(error: unknown): boolean {
  return error instanceof PgKvError && error.failure === 'aborted' && isServerGone(error.cause);
}

/** A run's guessed points, each once (a work may read one key several times). */
function uniquePoints(
  points: ReadonlyArray<{ table: string; key: Buffer }>,
): Array<{ table: string; key: Buffer }> {
  const seen = new Map<string, { table: string; key: Buffer }>();
  for (const point of points) seen.set(`${point.table}\0${point.key.toString('hex')}`, point);
  return [...seen.values()];
}

function hasSqlState(error: unknown): error is { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function isRetryable(error: unknown): boolean {
  return hasSqlState(error) && RETRYABLE.has(error.code);
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The error a failed attempt reports: the work's own errors and the store's as they are; a
 * PostgreSQL or connection failure says whether anything can have been written.
 */
function describe(error: unknown, session: Session | undefined): unknown {
  if (error instanceof PgKvError || session === undefined || isRetryable(error)) return error;
  if (!isPgFailure(error)) return error;
  if (session.commitSent && !hasSqlState(error)) {
    return new PgKvError(
      'unknown-outcome',
      `pg-kv: the connection broke during COMMIT; the transaction may have committed: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return new PgKvError(
    'aborted',
    `pg-kv: transaction aborted, nothing written: ${messageOf(error)}`,
    {
      cause: error,
    },
  );
}

/** An error from node-postgres (a server error or a broken connection), not from the work. */
function isPgFailure(error: unknown): boolean {
  if (hasSqlState(error)) return true;
  const message = messageOf(error);
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|Query read timeout|timeout expired|Client has encountered a connection error/.test(
    message,
  );
}
