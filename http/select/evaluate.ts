import { assert } from '../../engine/assert.js';
import { AGGREGATES, type Expr, type PathStep, type Query, type SqlValue } from './ast.js';
import { SCALARS } from './functions.js';
import { SelectSqlError } from './sql-error.js';
import { asNumber, castValue, compareValues, isAbsent, textOf } from './values.js';

/**
 * One input record as the SQL sees it. A CSV row answers `_N` by position and header names
 * (FileHeaderInfo USE); a JSON record is its value.
 */
export type InputRecord =
  | {
      readonly kind: 'csv';
      readonly fields: readonly string[];
      readonly header: readonly string[] | null;
    }
  | { readonly kind: 'json'; readonly value: SqlValue };

/** Evaluates the expressions of one query, with the FROM alias bound. */
export class Evaluator {
  private readonly likeCache = new Map<string, RegExp>();
  /** Each path of the query, compiled on its first record (keyed by the AST's steps). */
  private readonly paths = new WeakMap<readonly PathStep[], CompiledPath>();

  constructor(private readonly alias: string | null) {}

  evaluate(
    expr: Expr,
    record: InputRecord,
    aggregates: ReadonlyMap<Expr, SqlValue> | null = null,
  ): SqlValue {
    switch (expr.kind) {
      case 'literal':
        return expr.value;
      case 'path':
        return this.resolve(expr.steps, record);
      case 'unary':
        return unary(expr.op, this.evaluate(expr.operand, record, aggregates));
      case 'binary':
        return this.binary(expr, record, aggregates);
      case 'like':
        return this.like(expr, record, aggregates);
      case 'in': {
        const value = this.evaluate(expr.value, record, aggregates);
        if (isAbsent(value)) return null;
        const found = expr.list.some(
          (item) => compareValues(value, this.evaluate(item, record, aggregates)) === 0,
        );
        return found !== expr.negated;
      }
      case 'between': {
        const value = this.evaluate(expr.value, record, aggregates);
        const low = compareValues(value, this.evaluate(expr.low, record, aggregates));
        const high = compareValues(value, this.evaluate(expr.high, record, aggregates));
        if (low === null || high === null) return null;
        return (low >= 0 && high <= 0) !== expr.negated;
      }
      case 'is': {
        const value = this.evaluate(expr.value, record, aggregates);
        const hit = expr.test === 'MISSING' ? value === undefined : isAbsent(value);
        return hit !== expr.negated;
      }
      case 'cast':
        return castValue(this.evaluate(expr.value, record, aggregates), expr.type);
      case 'case':
        return this.caseOf(expr, record, aggregates);
      case 'call':
        return this.call(expr, record, aggregates);
    }
  }

  /** `alias.x.y`, `x.y`, `_3`, `alias`: the record, a column, or a path into a JSON value. */
  resolve(steps: readonly PathStep[], record: InputRecord): SqlValue {
    let path = this.paths.get(steps);
    if (path === undefined) {
      path = compilePath(steps, this.alias);
      this.paths.set(steps, path);
    }
    if (path.head === null) return record.kind === 'csv' ? csvObject(record) : record.value;
    let value = record.kind === 'csv' ? csvColumn(record, path) : step(record.value, path.head);
    for (const next of path.tail) value = step(value, next);
    return value;
  }

  private binary(
    expr: Extract<Expr, { kind: 'binary' }>,
    record: InputRecord,
    aggregates: ReadonlyMap<Expr, SqlValue> | null,
  ): SqlValue {
    const left = this.evaluate(expr.left, record, aggregates);
    if (expr.op === 'AND' && left === false) return false;
    if (expr.op === 'OR' && left === true) return true;
    const right = this.evaluate(expr.right, record, aggregates);
    switch (expr.op) {
      case 'AND':
        return right === false
          ? false
          : isAbsent(left) || isAbsent(right)
            ? null
            : Boolean(left && right);
      case 'OR':
        return right === true
          ? true
          : isAbsent(left) || isAbsent(right)
            ? null
            : Boolean(left || right);
      case '||':
        return isAbsent(left) || isAbsent(right) ? null : textOf(left) + textOf(right);
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        return arithmetic(expr.op, left, right);
      default:
        return comparison(expr.op, compareValues(left, right));
    }
  }

  private like(
    expr: Extract<Expr, { kind: 'like' }>,
    record: InputRecord,
    aggregates: ReadonlyMap<Expr, SqlValue> | null,
  ): SqlValue {
    const value = this.evaluate(expr.value, record, aggregates);
    const pattern = this.evaluate(expr.pattern, record, aggregates);
    const escapeChar = expr.escape === null ? null : this.evaluate(expr.escape, record, aggregates);
    if (isAbsent(value) || isAbsent(pattern) || (expr.escape !== null && isAbsent(escapeChar)))
      return null;
    const regex = this.likeRegex(textOf(pattern), escapeChar === null ? null : textOf(escapeChar));
    return regex.test(textOf(value)) !== expr.negated;
  }

  /** LIKE's pattern as a regex (% any run, _ one char), cached: patterns are mostly literals. */
  private likeRegex(pattern: string, escapeChar: string | null): RegExp {
    const cacheKey = `${escapeChar ?? ''}\u0000${pattern}`;
    const cached = this.likeCache.get(cacheKey);
    if (cached !== undefined) return cached;
    if (escapeChar !== null && [...escapeChar].length !== 1)
      throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
    let source = '';
    const chars = [...pattern];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (c === escapeChar) {
        i++;
        source += escapeRegex(chars[i] ?? '');
      } else if (c === '%') source += '[\\s\\S]*';
      else if (c === '_') source += '[\\s\\S]';
      else source += escapeRegex(c);
    }
    const regex = new RegExp(`^${source}$`, 'u');
    if (this.likeCache.size < 64) this.likeCache.set(cacheKey, regex);
    return regex;
  }

  private caseOf(
    expr: Extract<Expr, { kind: 'case' }>,
    record: InputRecord,
    aggregates: ReadonlyMap<Expr, SqlValue> | null,
  ): SqlValue {
    const subject = expr.subject === null ? null : this.evaluate(expr.subject, record, aggregates);
    for (const { when, result } of expr.whens) {
      const test = this.evaluate(when, record, aggregates);
      const hit = expr.subject === null ? test === true : compareValues(subject, test) === 0;
      if (hit) return this.evaluate(result, record, aggregates);
    }
    return expr.otherwise === null ? null : this.evaluate(expr.otherwise, record, aggregates);
  }

  private call(
    expr: Extract<Expr, { kind: 'call' }>,
    record: InputRecord,
    aggregates: ReadonlyMap<Expr, SqlValue> | null,
  ): SqlValue {
    if (AGGREGATES.has(expr.name)) {
      if (aggregates === null || !aggregates.has(expr))
        throw new SelectSqlError('ParseUnsupportedSyntax');
      return aggregates.get(expr);
    }
    const scalar = SCALARS.get(expr.name);
    assert(scalar !== undefined, 'checkQuery refused unknown functions');
    return scalar[2](expr.args.map((arg) => this.evaluate(arg, record, aggregates)));
  }
}

function sameName(name: string, wanted: string, quoted: boolean): boolean {
  return quoted ? name === wanted : name.toLowerCase() === wanted.toLowerCase();
}

/**
 * A path as the evaluator walks it, worked out once per query rather than per record: the
 * alias taken off, a CSV position (`_3`) parsed, and a CSV column's index in the header found
 * once for the header it was looked up in (the same array for every record of a scan).
 */
interface CompiledPath {
  /** The first step after the alias; null: the whole record. */
  readonly head: PathStep | null;
  readonly tail: readonly PathStep[];
  /** `_N` as a 0-based index; null: not positional. */
  readonly position: number | null;
  header: readonly string[] | null;
  headerIndex: number;
}

function compilePath(steps: readonly PathStep[], alias: string | null): CompiledPath {
  const first = steps[0];
  const aliased =
    first?.kind === 'name' && alias !== null && sameName(first.name, alias, first.quoted);
  const [head = null, ...tail] = aliased ? steps.slice(1) : steps;
  const positional = head?.kind === 'name' ? /^_(\d+)$/.exec(head.name) : null;
  const position = positional === null ? null : Number(positional[1]) - 1;
  return { head, tail, position, header: null, headerIndex: -1 };
}

function csvColumn(record: Extract<InputRecord, { kind: 'csv' }>, path: CompiledPath): SqlValue {
  const head = path.head;
  if (head?.kind !== 'name') return undefined;
  if (path.position !== null) {
    if (path.position < 0) throw new SelectSqlError('InvalidColumnIndex');
    return record.fields[path.position];
  }
  if (record.header === null) return undefined;
  if (path.header !== record.header) {
    path.header = record.header;
    path.headerIndex = headerIndexOf(record.header, head);
  }
  return path.headerIndex < 0 ? undefined : record.fields[path.headerIndex];
}

function headerIndexOf(
  header: readonly string[],
  head: Extract<PathStep, { kind: 'name' }>,
): number {
  const index = header.indexOf(head.name);
  if (index >= 0 || head.quoted) return index;
  const lower = head.name.toLowerCase();
  return header.findIndex((name) => name.toLowerCase() === lower);
}

/** A CSV row as one object: header names (or `_N`) to fields. */
export function csvObject(record: Extract<InputRecord, { kind: 'csv' }>): SqlValue {
  const out: Record<string, SqlValue> = {};
  record.fields.forEach((field, i) => {
    out[record.header?.[i] ?? `_${i + 1}`] = field;
  });
  return out;
}

function step(value: SqlValue, next: PathStep): SqlValue {
  if (next.kind === 'index') return Array.isArray(value) ? value[next.index] : undefined;
  if (next.kind === 'wildcard') return value;
  if (
    value === null ||
    value === undefined ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Date
  ) {
    return undefined;
  }
  const object = value as Readonly<Record<string, SqlValue>>;
  if (Object.hasOwn(object, next.name)) return object[next.name];
  if (next.quoted) return undefined;
  const lower = next.name.toLowerCase();
  const found = Object.keys(object).find((name) => name.toLowerCase() === lower);
  return found === undefined ? undefined : object[found];
}

function unary(op: 'NOT' | '-' | '+', value: SqlValue): SqlValue {
  if (isAbsent(value)) return null;
  if (op === 'NOT') return typeof value === 'boolean' ? !value : null;
  const n = asNumber(value);
  if (n === null) throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  return op === '-' ? -n : n;
}

function arithmetic(op: '+' | '-' | '*' | '/' | '%', left: SqlValue, right: SqlValue): SqlValue {
  if (isAbsent(left) || isAbsent(right)) return null;
  const a = asNumber(left);
  const b = asNumber(right);
  if (a === null || b === null) throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
  if ((op === '/' || op === '%') && b === 0) return null;
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  if (op === '/') return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
  return a % b;
}

function comparison(op: string, order: number | null): SqlValue {
  if (order === null) return null;
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    default:
      return order >= 0;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * Refuses, before any byte is read, what the evaluator cannot run: unknown functions, wrong
 * argument counts, aggregates in WHERE or inside aggregates, a query mixing aggregates with
 * plain columns. Returns the aggregate calls of the SELECT list (empty: a row-by-row query).
 */
export function checkQuery(query: Query): Array<Extract<Expr, { kind: 'call' }>> {
  if (query.where !== null) checkExpr(query.where, false);
  const aggregates: Array<Extract<Expr, { kind: 'call' }>> = [];
  for (const item of query.items ?? []) checkExpr(item.expr, true, aggregates);
  if (aggregates.length > 0 && query.items?.some((item) => !usesOnlyAggregates(item.expr))) {
    throw new SelectSqlError(
      'ParseUnsupportedSyntax',
      null,
      'columns beside aggregates need GROUP BY',
    );
  }
  return aggregates;
}

function checkExpr(
  expr: Expr,
  aggregatesAllowed: boolean,
  found: Array<Extract<Expr, { kind: 'call' }>> = [],
): void {
  if (expr.kind === 'call') {
    if (AGGREGATES.has(expr.name)) {
      if (!aggregatesAllowed)
        throw new SelectSqlError('ParseUnsupportedSyntax', null, 'aggregate not allowed here');
      if (!expr.star && expr.args.length !== 1)
        throw new SelectSqlError('EvaluatorInvalidArguments');
      found.push(expr);
      for (const arg of expr.args) checkExpr(arg, false);
      return;
    }
    const scalar = SCALARS.get(expr.name);
    if (scalar === undefined)
      throw new SelectSqlError('UnsupportedFunction', null, `unknown function ${expr.name}`);
    if (expr.star || expr.args.length < scalar[0] || expr.args.length > scalar[1]) {
      throw new SelectSqlError('EvaluatorInvalidArguments');
    }
  }
  for (const child of childrenOf(expr)) checkExpr(child, aggregatesAllowed, found);
}

function usesOnlyAggregates(expr: Expr): boolean {
  if (expr.kind === 'path') return false;
  if (expr.kind === 'call' && AGGREGATES.has(expr.name)) return true;
  return childrenOf(expr).every(usesOnlyAggregates);
}

function childrenOf(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'literal':
    case 'path':
      return [];
    case 'unary':
      return [expr.operand];
    case 'binary':
      return [expr.left, expr.right];
    case 'like':
      return [expr.value, expr.pattern, ...(expr.escape === null ? [] : [expr.escape])];
    case 'in':
      return [expr.value, ...expr.list];
    case 'between':
      return [expr.value, expr.low, expr.high];
    case 'is':
    case 'cast':
      return [expr.value];
    case 'call':
      return [...expr.args];
    case 'case':
      return [
        ...(expr.subject === null ? [] : [expr.subject]),
        ...expr.whens.flatMap(({ when, result }) => [when, result]),
        ...(expr.otherwise === null ? [] : [expr.otherwise]),
      ];
  }
}
