import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { Query, SqlValue } from './ast.js';
import { csvObject, type Evaluator, type InputRecord } from './evaluate.js';
import type { CsvOutput, JsonOutput } from './request.js';
import { textOf, toJson } from './values.js';

/** One output row: named values in SELECT-list order (MISSING values keep their place). */
export type Row = ReadonlyArray<readonly [string, SqlValue]>;

/** The output column names of a SELECT list: alias, else a path's last name, else `_N`. */
export function columnNames(query: Query): string[] {
  return (query.items ?? []).map((item, i) => {
    if (item.alias !== null) return item.alias;
    const last =
      item.expr.kind === 'path' ? item.expr.steps[item.expr.steps.length - 1] : undefined;
    return last?.kind === 'name' ? last.name : `_${i + 1}`;
  });
}

/** What one output record is made of: named columns, or a whole JSON record (`SELECT *`). */
export type OutRecord = { readonly row: Row } | { readonly value: SqlValue };

/** `SELECT *`: a CSV row's fields by name; a JSON record as it is. */
export function wholeRecord(record: InputRecord): OutRecord {
  if (record.kind === 'csv')
    return { row: Object.entries(csvObject(record) as Record<string, SqlValue>) };
  return { value: record.value };
}

export function projectRow(
  query: Query,
  names: readonly string[],
  evaluator: Evaluator,
  record: InputRecord,
): OutRecord {
  return {
    row: (query.items ?? []).map(
      (item, i) => [names[i] as string, evaluator.evaluate(item.expr, record)] as const,
    ),
  };
}

/** Serializes rows as the OutputSerialization says; whole JSON records pass as values. */
export function rowWriter(output: CsvOutput | JsonOutput): (record: OutRecord) => string {
  const write = output.kind === 'csv' ? csvLine(output) : jsonLine(output);
  return (record) => {
    const line = write(record);
    if (line.length > LIMITS.selectRecordBytesMax) throw new S3Error('OverMaxRecordSize');
    return line;
  };
}

function csvLine(output: CsvOutput): (record: OutRecord) => string {
  const special = [
    output.fieldDelimiter,
    output.quote,
    output.quoteEscape,
    output.recordDelimiter,
    '\n',
    '\r',
  ];
  const quoteField = (text: string): string => {
    if (output.quoteFields === 'ASNEEDED' && !special.some((c) => text.includes(c))) return text;
    const escaped = text.split(output.quote).join(output.quoteEscape + output.quote);
    return output.quote + escaped + output.quote;
  };
  return (record) => {
    const values = 'row' in record ? record.row.map(([, value]) => value) : valuesOf(record.value);
    return (
      values.map((value) => quoteField(textOf(value))).join(output.fieldDelimiter) +
      output.recordDelimiter
    );
  };
}

/** A whole JSON record as CSV: an object's values, an array's elements, or the one value. */
function valuesOf(value: SqlValue): SqlValue[] {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === 'object' && !(value instanceof Date))
    return Object.values(value);
  return [value];
}

function jsonLine(output: JsonOutput): (record: OutRecord) => string {
  return (record) => {
    if ('row' in record) {
      const out: Record<string, unknown> = {};
      for (const [name, value] of record.row) if (value !== undefined) out[name] = toJson(value);
      return JSON.stringify(out) + output.recordDelimiter;
    }
    return JSON.stringify(toJson(record.value) ?? null) + output.recordDelimiter;
  };
}
