import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { SqlType, SqlValue } from './ast.js';
import { SelectSqlError } from './sql-error.js';

/** Value helpers shared by the evaluator and the functions: coercion, comparison, CAST. */

const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A number, or a string that spells one (CSV fields are text); else null. */
export function asNumber(value: SqlValue): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  return null;
}

export function isAbsent(value: SqlValue): value is null | undefined {
  return value === null || value === undefined;
}

/**
 * Orders two values for comparisons (negative, 0, positive), or null when they do not compare:
 * numbers with numbers (a numeric string counts as its number), timestamps with timestamps (a
 * string as its timestamp), strings with strings, booleans with booleans.
 */
export function compareValues(left: SqlValue, right: SqlValue): number | null {
  if (isAbsent(left) || isAbsent(right)) return null;
  if (typeof left === 'number' || typeof right === 'number') {
    const a = asNumber(left);
    const b = asNumber(right);
    return a === null || b === null ? null : a - b;
  }
  if (left instanceof Date || right instanceof Date) {
    const a = left instanceof Date ? left : parseTimestamp(String(left));
    const b = right instanceof Date ? right : parseTimestamp(String(right));
    return a === null || b === null ? null : a.getTime() - b.getTime();
  }
  if (typeof left === 'string' && typeof right === 'string')
    return left < right ? -1 : left > right ? 1 : 0;
  if (typeof left === 'boolean' && typeof right === 'boolean') return Number(left) - Number(right);
  return JSON.stringify(toJson(left)) === JSON.stringify(toJson(right)) ? 0 : null;
}

const TIMESTAMP =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T(?:(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** AWS's timestamp literals: ISO 8601 from `2007T` to `2007-02-23T12:14:33.079-08:00`. */
export function parseTimestamp(text: string): Date | null {
  const m = TIMESTAMP.exec(text.trim());
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(
    Number(y),
    Number(mo ?? 1) - 1,
    Number(d ?? 1),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
    Math.floor(Number(`0.${frac ?? '0'}`) * 1000),
  );
  const offsetMinutes = zone === undefined || zone === 'Z' ? 0 : zoneMinutes(zone);
  const date = new Date(ms - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

function zoneMinutes(zone: string): number {
  const sign = zone.startsWith('-') ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
}

/** CAST(value AS type); a value that does not convert is CastFailed. */
export function castValue(value: SqlValue, type: SqlType): SqlValue {
  if (isAbsent(value)) return value;
  switch (type) {
    case 'INT': {
      const n = typeof value === 'boolean' ? Number(value) : asNumber(value);
      if (n === null || !Number.isFinite(n)) throw new SelectSqlError('CastFailed');
      return Math.trunc(n);
    }
    case 'FLOAT':
    case 'DECIMAL': {
      const n = typeof value === 'boolean' ? Number(value) : asNumber(value);
      if (n === null) throw new SelectSqlError('CastFailed');
      return n;
    }
    case 'STRING':
      return textOf(value);
    case 'BOOL':
      return castBool(value);
    case 'TIMESTAMP': {
      if (value instanceof Date) return value;
      const date = typeof value === 'string' ? parseTimestamp(value) : null;
      if (date === null) throw new SelectSqlError('CastFailed');
      return date;
    }
  }
}

function castBool(value: SqlValue): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
    return value.trim().toLowerCase() === 'true';
  }
  throw new SelectSqlError('CastFailed');
}

/** A value as text: CSV output fields, string functions, CAST AS STRING. */
export function textOf(value: SqlValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(toJson(value));
}

/**
 * A value as JSON (timestamps as ISO text, MISSING dropped from objects). Recursive, so a record
 * nested deeper than LIMITS.selectJsonDepthMax is refused rather than allowed to overflow the stack.
 */
export function toJson(value: SqlValue, depth = 0): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= LIMITS.selectJsonDepthMax) {
    throw new S3Error(
      'JSONParsingError',
      `A JSON record is nested deeper than ${LIMITS.selectJsonDepthMax} levels.`,
    );
  }
  if (Array.isArray(value)) return value.map((item: SqlValue) => toJson(item, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value as Record<string, SqlValue>)) {
    if (item !== undefined) out[name] = toJson(item, depth + 1);
  }
  return out;
}
