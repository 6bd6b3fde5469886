import type { Database, RootDatabase } from 'lmdb';
import { recordEncoder } from '../codec.js';
import { LIMITS } from '../limits.js';
import type { KvTable } from '../meta/kv.js';
import { tableCodec } from '../meta/pg-kv/codec.js';
import type { PgKvEnv } from '../meta/pg-kv/env.js';
import type { Write } from '../meta/pg-kv/run.js';

/**
 * A gateway's local LMDB catalog as the synchronous read replica of the cluster's catalog in
 * PostgreSQL (DECISIONS.md, "Cluster mode: the catalog in PostgreSQL, an LMDB replica per
 * gateway"). Both hold the same tables with the same key and value bytes (pg-kv's codec is
 * lmdb-js's), so replicating is copying bytes: no record is decoded here.
 *
 * The version row (`catalog-version`/`version`) is replicated like any row: every catalog
 * transaction that writes bumps it in PostgreSQL, so it orders the catalog's commits, and the
 * replica's copy says which commit the replica reflects. A replica at version v-1 becomes v by
 * applying the writes of commit v (what the writer does after its own commit); any other gap is
 * closed by a re-sync: one snapshot of every catalog row, applied as a diff.
 */

/** The table holding the catalog's version (one row). */
export const VERSION_TABLE = 'catalog-version';
const VERSION_KEY = 'version';

/** Every table of the catalog (engine/catalog/*.ts open them): what a re-sync copies. */
export const REPLICATED_TABLES: readonly string[] = [
  'buckets',
  'keys',
  'grants',
  'configs',
  'kms-keys',
  'kms-aliases',
  'remotes',
  'notify-targets',
  VERSION_TABLE,
];

/**
 * PostgreSQL's rows as bytes: binary keys and values. The local tables take raw values but keep
 * lmdb-js's default key encoding: LMDB keeps one key comparator per table, set by the key
 * encoding of the last openDB, so opening the catalog's (string-keyed) tables binary-keyed too
 * would corrupt their order. lmdb-js writes a Buffer key as its bytes and reads keys back as
 * the strings they encode, which `KEYS.encodeKey` turns into the same bytes again.
 */
const REMOTE_RAW = { encoding: 'binary', keyEncoding: 'binary' } as const;
const LOCAL_RAW = { encoding: 'binary' } as const;
const KEYS = tableCodec<Buffer, string>(LOCAL_RAW);
/** The first binary key; catalog keys (strings) all sort above it. */
const FIRST_KEY = Buffer.from([0]);

interface Snapshot {
  readonly version: number;
  /** Per table, every row, ascending. */
  readonly tables: ReadonlyMap<string, ReadonlyArray<{ key: Buffer; value: Buffer }>>;
}

/** A local row's key: written as encoded bytes, read back as the string they encode. */
type LocalKey = string | Buffer;

/** What a re-sync or an apply did to the replica. */
export type ReplicaChange = 'current' | 'applied' | 'resynced';

export class CatalogReplica {
  private readonly localRaw = new Map<string, Database<Buffer, LocalKey>>();
  private readonly remoteRaw = new Map<string, KvTable<Buffer, Buffer>>();
  private readonly localVersion: Database<number, string>;
  private readonly remoteVersion: KvTable<number, string>;
  /** The catch-up running now, and the one queued behind it (catchUp). */
  private running: Promise<boolean> | undefined;
  private queued: Promise<boolean> | undefined;
  /** Counts since open (tests and metrics). */
  readonly stats = { resyncs: 0, applied: 0, checks: 0 };

  constructor(
    private readonly local: RootDatabase,
    private readonly remote: PgKvEnv,
  ) {
    for (const name of REPLICATED_TABLES) {
      this.localRaw.set(name, local.openDB<Buffer, LocalKey>({ name, ...LOCAL_RAW }));
      this.remoteRaw.set(name, remote.openDB<Buffer, Buffer>({ name, ...REMOTE_RAW }));
    }
    const records = { name: VERSION_TABLE, encoder: recordEncoder() };
    this.localVersion = local.openDB<number, string>(records);
    this.remoteVersion = remote.openDB<number, string>(records);
  }

  /** The commit the replica reflects; undefined: it never was a replica (never synced). */
  replicaVersion(): number | undefined {
    return this.localVersion.get(VERSION_KEY);
  }

  /** Whether the local catalog holds rows although it never was a replica (an embedded one). */
  holdsUnreplicatedRows(): boolean {
    if (this.replicaVersion() !== undefined) return false;
    return REPLICATED_TABLES.some((name) => this.localTable(name).getKeysCount() > 0);
  }

  /**
   * Inside a PostgreSQL transaction's work: the next catalog version, written. Every writing
   * transaction reads and writes this row, so under pg-kv's snapshot isolation any two
   * concurrent catalog writes conflict here (one runs again): the catalog's transactions are
   * serializable, whatever else they read, and the version is a total order of commits.
   */
  bumpVersionInRun(): number {
    const next = (this.remoteVersion.get(VERSION_KEY) ?? 0) + 1;
    void this.remoteVersion.put(VERSION_KEY, next);
    return next;
  }

  /** The version PostgreSQL holds now (one read transaction). */
  async authoritativeVersion(): Promise<number> {
    return this.remote.read(() => this.remoteVersion.get(VERSION_KEY) ?? 0);
  }

  /**
   * After commit `version` of writes `writes` (encoded, the version row among them): makes the
   * replica reflect it. A replica just below applies them; one further behind re-syncs.
   */
  async applyCommitted(writes: readonly Write[], version: number): Promise<ReplicaChange> {
    const outcome = await this.local.transaction(() => {
      const at = this.localVersion.get(VERSION_KEY) ?? 0;
      if (at >= version) return 'current' as const;
      if (at !== version - 1) return 'gap' as const;
      for (const write of writes) {
        const table = this.localTable(write.table);
        if (write.value === null) void table.remove(write.key);
        else void table.put(write.key, write.value);
      }
      return 'applied' as const;
    });
    if (outcome === 'gap') return this.resync();
    if (outcome === 'applied') this.stats.applied++;
    this.local.resetReadTxn();
    return outcome;
  }

  /**
   * Copies PostgreSQL's catalog into the replica, if newer (`force`: even if not, as at open,
   * where the replica may hold rows of no commit): one consistent snapshot, applied as a diff.
   */
  async resync(force = false): Promise<ReplicaChange> {
    const snapshot = await this.snapshot();
    const changed = await this.local.transaction(() => {
      const at = this.localVersion.get(VERSION_KEY);
      if (!force && at !== undefined && at >= snapshot.version) return false;
      for (const [name, rows] of snapshot.tables) this.replaceRows(name, rows);
      // A catalog never written has no version row: the replica records version 0.
      if (snapshot.version === 0) void this.localVersion.put(VERSION_KEY, 0);
      return true;
    });
    this.local.resetReadTxn();
    if (!changed) return 'current';
    this.stats.resyncs++;
    return 'resynced';
  }

  /**
   * Makes sure the replica reflects every commit made before this call: reads PostgreSQL's
   * version and re-syncs if it is newer. Resolves whether the replica changed. Callers that
   * arrive while a check runs share the next one (which starts after them): at most one check
   * in flight and one waiting, whatever the rate of calls (a flood of unknown bucket names
   * costs PostgreSQL one small read per round trip, not one per request).
   */
  catchUp(): Promise<boolean> {
    if (this.queued !== undefined) return this.queued;
    if (this.running === undefined) return this.startCheck();
    const after = this.running.then(
      () => undefined,
      () => undefined,
    );
    this.queued = after.then(() => {
      this.queued = undefined;
      return this.startCheck();
    });
    return this.queued;
  }

  private startCheck(): Promise<boolean> {
    const check = this.check().finally(() => {
      if (this.running === check) this.running = undefined;
    });
    this.running = check;
    return check;
  }

  private async check(): Promise<boolean> {
    this.stats.checks++;
    const version = await this.authoritativeVersion();
    const at = this.localVersion.get(VERSION_KEY);
    if (at !== undefined && at >= version) return false;
    return (await this.resync()) !== 'current';
  }

  /** Every catalog row and the version, in one PostgreSQL snapshot (REPEATABLE READ). */
  private snapshot(): Promise<Snapshot> {
    return this.remote.read(() => {
      const tables = new Map<string, Array<{ key: Buffer; value: Buffer }>>();
      let rows = 0;
      for (const [name, table] of this.remoteRaw) {
        const entries: Array<{ key: Buffer; value: Buffer }> = [];
        for (const entry of table.getRange({ start: FIRST_KEY })) {
          if (++rows > LIMITS.catalogReplicaRowsMax) {
            throw new Error(
              `the cluster catalog holds over ${LIMITS.catalogReplicaRowsMax} rows (LIMITS.catalogReplicaRowsMax): the replica is not re-synced`,
            );
          }
          entries.push(entry);
        }
        tables.set(name, entries);
      }
      return { version: this.remoteVersion.get(VERSION_KEY) ?? 0, tables };
    });
  }

  /** Inside an LMDB transaction: makes the table hold exactly `rows`, writing only the diff. */
  private replaceRows(name: string, rows: ReadonlyArray<{ key: Buffer; value: Buffer }>): void {
    const table = this.localTable(name);
    const wanted = new Map<string, Buffer>();
    for (const row of rows) wanted.set(row.key.toString('hex'), row.value);
    for (const { key, value } of table.getRange()) {
      const hex = KEYS.encodeKey(key as string).toString('hex');
      const next = wanted.get(hex);
      if (next === undefined) void table.remove(key);
      else if (next.equals(value)) wanted.delete(hex);
    }
    for (const [hex, value] of wanted) void table.put(Buffer.from(hex, 'hex'), value);
  }

  private localTable(name: string): Database<Buffer, LocalKey> {
    const table = this.localRaw.get(name);
    if (table === undefined) throw new Error(`catalog replica: no table ${name}`);
    return table;
  }
}
