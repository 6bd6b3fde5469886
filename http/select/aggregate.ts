import type { Expr, SqlValue } from './ast.js';
import type { Evaluator, InputRecord } from './evaluate.js';
import { SelectSqlError } from './sql-error.js';
import { asNumber, compareValues, isAbsent } from './values.js';

type AggregateCall = Extract<Expr, { kind: 'call' }>;

interface Accumulator {
  count: number;
  sum: number;
  best: SqlValue;
}

/**
 * The running state of a query's aggregates (COUNT, SUM, AVG, MIN, MAX), one accumulator per
 * call in the SELECT list: constant memory whatever the object's size.
 */
export class Aggregates {
  private readonly state = new Map<AggregateCall, Accumulator>();

  constructor(
    private readonly calls: readonly AggregateCall[],
    private readonly evaluator: Evaluator,
  ) {
    for (const call of calls) this.state.set(call, { count: 0, sum: 0, best: null });
  }

  add(record: InputRecord): void {
    for (const call of this.calls) {
      const acc = this.state.get(call) as Accumulator;
      if (call.star) {
        acc.count++;
        continue;
      }
      const value = this.evaluator.evaluate(call.args[0] as Expr, record);
      if (isAbsent(value)) continue;
      acc.count++;
      if (call.name === 'SUM' || call.name === 'AVG') {
        const n = asNumber(value);
        if (n === null) throw new SelectSqlError('IncorrectSqlFunctionArgumentType');
        acc.sum += n;
      } else if (call.name === 'MIN' || call.name === 'MAX') {
        acc.best = better(call.name, acc.best, value);
      }
    }
  }

  /** Each call's result, for evaluating the SELECT list once at the end. */
  results(): Map<Expr, SqlValue> {
    const out = new Map<Expr, SqlValue>();
    for (const call of this.calls) {
      const acc = this.state.get(call) as Accumulator;
      out.set(call, resultOf(call.name, acc));
    }
    return out;
  }
}

function better(name: string, best: SqlValue, value: SqlValue): SqlValue {
  if (isAbsent(best))
    return typeof value === 'string' && asNumber(value) !== null ? asNumber(value) : value;
  const candidate = typeof value === 'string' && asNumber(value) !== null ? asNumber(value) : value;
  const order = compareValues(candidate, best);
  if (order === null) return best;
  return (name === 'MIN' ? order < 0 : order > 0) ? candidate : best;
}

function resultOf(name: string, acc: Accumulator): SqlValue {
  switch (name) {
    case 'COUNT':
      return acc.count;
    case 'SUM':
      return acc.count === 0 ? null : acc.sum;
    case 'AVG':
      return acc.count === 0 ? null : acc.sum / acc.count;
    default:
      return acc.best;
  }
}
