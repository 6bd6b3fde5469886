import { assert } from '../../assert.js';
import type { FetchRequest, Write } from './run.js';

/**
 * The statements of the store, as text with inline literals: a fetch travels with BEGIN, and
 * the writes with COMMIT, in one simple-protocol message each (one round trip), which bound
 * parameters cannot do. Every literal is safe by construction: keys and values as bytea hex,
 * table names checked against a pattern of plain characters (table.ts), numbers as integers.
 * The connection must have standard_conforming_strings on (checked at open).
 */

const SHARD_NAME = /^[a-z0-9_]{1,48}$/;

export function schemaOf(shard: string): string {
  assert(SHARD_NAME.test(shard), `pg-kv: shard name ${shard} (a-z, 0-9, _)`);
  return `hangar_meta_${shard}`;
}

export function createSql(schema: string): string {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema};`,
    // bytea compares by memcmp: the primary key's order is LMDB's key order.
    `CREATE TABLE IF NOT EXISTS ${schema}.kv (tbl text COLLATE "C" NOT NULL, key bytea NOT NULL,`,
    ' value bytea NOT NULL, PRIMARY KEY (tbl, key));',
  ].join('');
}

/**
 * Snapshot isolation, with every written row's conflicts made explicit (writesSql): PostgreSQL's
 * SERIALIZABLE takes page-level predicate locks on the index for keys read as absent, so
 * concurrent writes of distinct new keys on one leaf page (every PUT into a young bucket, every
 * run of sequential keys) aborted each other: 5 retries per PUT with 20 in flight.
 */
export const BEGIN_WRITE = 'BEGIN ISOLATION LEVEL REPEATABLE READ;';
/** A read sees one snapshot and never aborts for a conflict. */
export const BEGIN_READ = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;';

export function bytea(bytes: Buffer): string {
  return `'\\x${bytes.toString('hex')}'::bytea`;
}

function text(value: string): string {
  assert(!value.includes("'") && !value.includes('\\'), 'pg-kv: a plain literal');
  return `'${value}'`;
}

export function fetchSql(schema: string, request: FetchRequest): string {
  const head = `SELECT key, value FROM ${schema}.kv WHERE tbl = ${text(request.table)}`;
  switch (request.kind) {
    case 'count':
      return `SELECT count(*)::int8 AS n FROM ${schema}.kv WHERE tbl = ${text(request.table)};`;
    case 'point':
      return `${head} AND key = ${bytea(request.key)};`;
    case 'forward': {
      const end = request.end === null ? '' : ` AND key < ${bytea(request.end)}`;
      return `${head} AND key >= ${bytea(request.from)}${end} ORDER BY key LIMIT ${request.rows};`;
    }
    case 'reverse': {
      const below = request.below === null ? '' : ` AND key < ${bytea(request.below)}`;
      const floor = ` AND key >= ${bytea(request.floor)}`;
      return `${head}${below}${floor} ORDER BY key DESC LIMIT ${request.rows};`;
    }
  }
}

/** Several point reads in one statement: the rows found, with their table. */
export function pointsSql(
  schema: string,
  points: ReadonlyArray<{ table: string; key: Buffer }>,
): string {
  const keys = points.map((p) => `(${text(p.table)},${bytea(p.key)})`).join(',');
  return `SELECT tbl, key, value FROM ${schema}.kv WHERE (tbl, key) IN (${keys});`;
}

/** What the transaction's snapshot said of a written key before it wrote it. */
export type WasRead = 'present' | 'absent' | 'unread';

/**
 * The final state of each written key, in statements that make PostgreSQL refuse the commit
 * (SQLSTATE 40001 or 23505, and the work runs again) when another transaction changed a row
 * this one decided from, after its snapshot:
 * - a row read as present is UPDATEd or DELETEd: under REPEATABLE READ a row updated or deleted
 *   concurrently fails with 40001 (an upsert would recreate a row deleted meanwhile);
 * - a row read as absent is INSERTed plainly: one inserted concurrently fails with 23505;
 * - a row written blind (never read) is upserted, or deleted;
 * - a row read as absent and removed needs nothing.
 * Rows only read are not protected: a decision taken from a row another transaction changes
 * without it being written here (write skew) is not detected (DECISIONS.md lists where).
 */
export function writesSql(schema: string, writes: readonly (Write & { was: WasRead })[]): string {
  const row = (w: Write) => `(${text(w.table)},${bytea(w.key)},${bytea(w.value as Buffer)})`;
  const keyOf = (w: Write) => `(${text(w.table)},${bytea(w.key)})`;
  const puts = writes.filter((w) => w.value !== null);
  const updates = puts.filter((w) => w.was === 'present');
  const inserts = puts.filter((w) => w.was === 'absent');
  const upserts = puts.filter((w) => w.was === 'unread');
  const removes = writes.filter((w) => w.value === null && w.was !== 'absent');
  let sql = '';
  if (updates.length > 0) {
    sql += `UPDATE ${schema}.kv AS kv SET value = v.value FROM (VALUES ${updates.map(row).join(',')})`;
    sql += ' AS v (tbl, key, value) WHERE kv.tbl = v.tbl AND kv.key = v.key;';
  }
  if (inserts.length > 0) {
    sql += `INSERT INTO ${schema}.kv (tbl, key, value) VALUES ${inserts.map(row).join(',')};`;
  }
  if (upserts.length > 0) {
    sql += `INSERT INTO ${schema}.kv (tbl, key, value) VALUES ${upserts.map(row).join(',')}`;
    sql += ' ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value;';
  }
  if (removes.length > 0) {
    sql += `DELETE FROM ${schema}.kv WHERE (tbl, key) IN (${removes.map(keyOf).join(',')});`;
  }
  return sql;
}
