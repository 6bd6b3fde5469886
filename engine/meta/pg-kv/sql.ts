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

export const BEGIN_WRITE = 'BEGIN ISOLATION LEVEL SERIALIZABLE;';
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

/** The final state of each written key: one upsert and one delete statement at most. */
export function writesSql(schema: string, writes: readonly Write[]): string {
  const puts = writes.filter((w) => w.value !== null);
  const removes = writes.filter((w) => w.value === null);
  let sql = '';
  if (puts.length > 0) {
    const rows = puts.map((w) => `(${text(w.table)},${bytea(w.key)},${bytea(w.value as Buffer)})`);
    sql += `INSERT INTO ${schema}.kv (tbl, key, value) VALUES ${rows.join(',')}`;
    sql += ' ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value;';
  }
  if (removes.length > 0) {
    const keys = removes.map((w) => `(${text(w.table)},${bytea(w.key)})`);
    sql += `DELETE FROM ${schema}.kv WHERE (tbl, key) IN (${keys.join(',')});`;
  }
  return sql;
}
