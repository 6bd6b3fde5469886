import type { SqlValue } from './ast.js';
import { SelectSqlError } from './sql-error.js';
import { asNumber, isAbsent, parseTimestamp, textOf } from './values.js';

/**
 * The scalar functions of AWS's Select SQL. Each takes evaluated arguments; NULL or MISSING in
 * gives NULL out (COALESCE and NULLIF excepted); the wrong type is IncorrectSqlFunctionArgumentType.
 */
type Scalar = (args: readonly SqlValue[]) => SqlValue;

/** Name → [min args, max args, function]. */
export const SCALARS: ReadonlyMap<string, readonly [number, number, Scalar]> = new Map<
  string,
  readonly [number, number, Scalar]
>([
  ['LOWER', [1, 1, strict((s) => text(s[0]).toLowerCase())]],
  ['UPPER', [1, 1, strict((s) => text(s[0]).toUpperCase())]],
  ['CHAR_LENGTH', [1, 1, strict((s) => [...text(s[0])].length)]],
  ['CHARACTER_LENGTH', [1, 1, strict((s) => [...text(s[0])].length)]],
  ['TRIM', [1, 3, strict(trim)]],
  ['SUBSTRING', [2, 3, strict(substring)]],
  ['COALESCE', [1, 64, (args) => args.find((value) => !isAbsent(value)) ?? null]],
  ['NULLIF', [2, 2, ([a, b]) => (textOf(a) === textOf(b) && typeof a === typeof b ? null : a)]],
  ['UTCNOW', [0, 0, () => new Date()]],
  ['TO_TIMESTAMP', [1, 1, strict(([value]) => toTimestamp(value))]],
  [
    'TO_STRING',
    [2, 2, strict(([value, pattern]) => formatTimestamp(toTimestamp(value), text(pattern)))],
  ],
  ['EXTRACT', [2, 2, strict(([part, value]) => extract(text(part), toTimestamp(value)))]],
  [
    'DATE_ADD',
    [3, 3, strict(([part, n, value]) => dateAdd(text(part), number(n), toTimestamp(value)))],
  ],
  [
    'DATE_DIFF',
    [3, 3, strict(([part, a, b]) => dateDiff(text(part), toTimestamp(a), toTimestamp(b)))],
  ],
]);

/** NULL or MISSING in any argument is NULL out. */
function strict(body: Scalar): Scalar {
  return (args) => (args.some(isAbsent) ? null : body(args));
}

function text(value: SqlValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
}

function number(value: SqlValue): number {
  const n = asNumber(value);
  if (n === null) throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  return n;
}

function toTimestamp(value: SqlValue): Date {
  if (value instanceof Date) return value;
  const date = typeof value === 'string' ? parseTimestamp(value) : null;
  if (date === null) throw new SelectSqlError('CastFailed');
  return date;
}

/** TRIM(value, side, chars) as the parser lays it out. */
function trim([value, side, chars]: readonly SqlValue[]): string {
  const set = new Set(text(chars ?? ' '));
  const chars_ = [...text(value)];
  let start = 0;
  let end = chars_.length;
  const which = text(side ?? 'BOTH');
  if (which !== 'TRAILING') while (start < end && set.has(chars_[start] as string)) start++;
  if (which !== 'LEADING') while (end > start && set.has(chars_[end - 1] as string)) end--;
  return chars_.slice(start, end).join('');
}

/** SQL-92 SUBSTRING: 1-based; a start before 1 eats into the length. */
function substring([value, start, length]: readonly SqlValue[]): string {
  const chars = [...text(value)];
  const from = Math.trunc(number(start));
  const to = length === undefined ? Number.POSITIVE_INFINITY : from + Math.trunc(number(length));
  if (to < from) throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  return chars.slice(Math.max(from, 1) - 1, Math.max(to - 1, 0)).join('');
}

const MS: Readonly<Record<string, number>> = {
  SECOND: 1000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
};

function extract(part: string, date: Date): number {
  switch (part) {
    case 'YEAR':
      return date.getUTCFullYear();
    case 'MONTH':
      return date.getUTCMonth() + 1;
    case 'DAY':
      return date.getUTCDate();
    case 'HOUR':
      return date.getUTCHours();
    case 'MINUTE':
      return date.getUTCMinutes();
    case 'SECOND':
      return date.getUTCSeconds();
    case 'TIMEZONE_HOUR':
    case 'TIMEZONE_MINUTE':
      return 0;
    default:
      throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  }
}

function dateAdd(part: string, n: number, date: Date): Date {
  const out = new Date(date.getTime());
  if (part === 'YEAR') out.setUTCFullYear(out.getUTCFullYear() + n);
  else if (part === 'MONTH') out.setUTCMonth(out.getUTCMonth() + n);
  else if (MS[part] !== undefined) out.setTime(out.getTime() + n * (MS[part] as number));
  else throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  return out;
}

function dateDiff(part: string, a: Date, b: Date): number {
  if (part === 'YEAR') return b.getUTCFullYear() - a.getUTCFullYear();
  if (part === 'MONTH') {
    return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  }
  const unit = MS[part];
  if (unit === undefined) throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  return Math.trunc((b.getTime() - a.getTime()) / unit);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** TO_STRING's pattern: runs of y M d H h m s S a, X (offset), 'quoted' literal text. */
function formatTimestamp(date: Date, pattern: string): string {
  return pattern.replace(/'([^']*)'|y+|M+|d+|H+|h+|m+|s+|S+|a|X+|x+/g, (run, quoted?: string) => {
    if (quoted !== undefined) return quoted;
    const width = run.length;
    const pad = (n: number): string => String(n).padStart(width, '0');
    switch (run.charAt(0)) {
      case 'y':
        return width === 2 ? pad(date.getUTCFullYear() % 100) : pad(date.getUTCFullYear());
      case 'M':
        if (width >= 4) return MONTHS[date.getUTCMonth()] as string;
        if (width === 3) return (MONTHS[date.getUTCMonth()] as string).slice(0, 3);
        return pad(date.getUTCMonth() + 1);
      case 'd':
        return pad(date.getUTCDate());
      case 'H':
        return pad(date.getUTCHours());
      case 'h':
        return pad(date.getUTCHours() % 12 || 12);
      case 'm':
        return pad(date.getUTCMinutes());
      case 's':
        return pad(date.getUTCSeconds());
      case 'S':
        return String(date.getUTCMilliseconds())
          .padStart(3, '0')
          .padEnd(width, '0')
          .slice(0, width);
      case 'a':
        return date.getUTCHours() < 12 ? 'AM' : 'PM';
      default:
        return run.charAt(0) === 'X' ? 'Z' : '+00:00'.slice(0, width === 1 ? 3 : 6);
    }
  });
}
