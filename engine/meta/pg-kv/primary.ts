import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { LIMITS } from '../../limits.js';

/** Where a PgKvEnv sends its transactions: one server, or the primary among Patroni members. */
export interface PoolSource {
  /** The pool of the server to use now (found first if none is known). */
  pool(): Promise<pg.Pool>;
  /**
   * The pool's server failed in a way a new primary would explain (connection lost, read-only,
   * shutting down): the next pool() looks for the primary again.
   */
  lost(pool: pg.Pool): void;
  /** Whether lost() may lead anywhere else (false for a single fixed server). */
  readonly canFailOver: boolean;
  end(): Promise<void>;
}

/** A PgKvEnv's connection when there is one server (tests, a single PostgreSQL). */
export class FixedPool implements PoolSource {
  readonly canFailOver = false;
  constructor(private readonly only: pg.Pool) {}
  async pool(): Promise<pg.Pool> {
    return this.only;
  }
  lost(): void {}
  end(): Promise<void> {
    return this.only.end();
  }
}

/** A Patroni cluster's members, as the gateway reaches them. */
export interface PrimaryTargets {
  /** host:port of every member. */
  readonly targets: readonly string[];
  /** Everything else node-postgres needs (database, user, password…), the same for each. */
  readonly base: pg.PoolConfig;
}

/**
 * The pool of a Patroni cluster's current primary. node-postgres, unlike libpq, has no
 * `target_session_attrs=read-write`: the primary is found by asking every member
 * `pg_is_in_recovery()` and taking the one that answers false. Patroni lets only the holder of
 * its leader key run as primary (a primary cut off from etcd demotes itself), and with
 * synchronous_mode a deposed primary cannot acknowledge a commit alone, so a gateway that
 * briefly still talks to an old primary may fail or stall a write, never lose one.
 *
 * After lost(), the next pool() searches again, retrying every LIMITS.pgPrimaryProbeGapMs for
 * at most LIMITS.pgPrimaryWaitMs (Patroni promotes a standby about one ttl after the primary
 * died); every caller waiting meanwhile shares the one search.
 */
export class PrimaryPool implements PoolSource {
  readonly canFailOver = true;
  private current: pg.Pool | null = null;
  private search: Promise<pg.Pool> | null = null;
  private ended = false;

  constructor(
    private readonly members: PrimaryTargets,
    private readonly poolOf: (target: string) => pg.Pool = (target) =>
      newPool(members.base, target),
  ) {}

  pool(): Promise<pg.Pool> {
    if (this.current !== null) return Promise.resolve(this.current);
    this.search ??= this.find().finally(() => {
      this.search = null;
    });
    return this.search;
  }

  lost(pool: pg.Pool): void {
    if (this.current !== pool) return;
    this.current = null;
    // Its idle connections point at a server that is gone or no longer the primary.
    pool.end().catch(() => {});
  }

  async end(): Promise<void> {
    this.ended = true;
    const current = this.current;
    this.current = null;
    await current?.end();
  }

  private async find(): Promise<pg.Pool> {
    const deadline = Date.now() + LIMITS.pgPrimaryWaitMs;
    let last = 'no member answered';
    for (;;) {
      if (this.ended) throw new Error('pg-kv: closed');
      const found = await firstPrimary(this.members.targets, this.members.base);
      if (found.target !== null) {
        const pool = this.poolOf(found.target);
        this.current = pool;
        return pool;
      }
      last = found.why;
      if (Date.now() >= deadline) break;
      await sleep(LIMITS.pgPrimaryProbeGapMs);
    }
    throw new NoPrimaryError(
      `pg-kv: no primary among ${this.members.targets.join(', ')} within ${LIMITS.pgPrimaryWaitMs} ms (${last})`,
    );
  }
}

/** No member of the Patroni cluster is a primary (failover in progress, or all down). */
export class NoPrimaryError extends Error {
  override name = 'NoPrimaryError';
}

function newPool(base: pg.PoolConfig, target: string): pg.Pool {
  return openPool({ max: LIMITS.pgKvPoolConnectionsMax, ...base, ...hostPortOf(target) });
}

/** A node-postgres pool with the store's timeouts (settings in `config` win). */
export function openPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionTimeoutMillis: LIMITS.pgKvConnectTimeoutMs,
    query_timeout: LIMITS.pgKvQueryTimeoutMs,
    ...config,
  });
  // An idle connection that breaks (failover, restart) is dropped by the pool; without a
  // listener its 'error' would end the process.
  pool.on('error', () => {});
  return pool;
}

export function hostPortOf(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`pg-kv: '${target}' is not host:port`);
  }
  return { host, port };
}

/** Asks every member at once; the first that is not in recovery is the primary. */
async function firstPrimary(
  targets: readonly string[],
  base: pg.PoolConfig,
): Promise<{ target: string | null; why: string }> {
  const answers = await Promise.all(targets.map((target) => probe(target, base)));
  const index = answers.indexOf('primary');
  const target = index < 0 ? null : (targets[index] ?? null);
  return { target, why: answers.map((a, i) => `${targets[i]}: ${a}`).join('; ') };
}

async function probe(target: string, base: pg.PoolConfig): Promise<string> {
  const client = new pg.Client({
    ...base,
    ...hostPortOf(target),
    connectionTimeoutMillis: LIMITS.pgPrimaryProbeTimeoutMs,
    query_timeout: LIMITS.pgPrimaryProbeTimeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query('SELECT pg_is_in_recovery() AS standby');
    return rows[0]?.standby === false ? 'primary' : 'standby';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.end().catch(() => {});
  }
}
