import { assert } from '../../engine/assert.js';
import { LIMITS } from '../../engine/limits.js';
import { Aggregates } from './aggregate.js';
import type { PathStep, Query, SqlValue } from './ast.js';
import { CsvReader } from './csv-input.js';
import { decompressed } from './decompress.js';
import { checkQuery, Evaluator, type InputRecord } from './evaluate.js';
import { contEvent, countsEvent, endEvent, recordsEvent, type ScanCounts } from './event-stream.js';
import { JsonReader } from './json-input.js';
import { columnNames, type OutRecord, projectRow, rowWriter, wholeRecord } from './output.js';
import { parquetBatches, type RangeReader } from './parquet-input.js';
import type { SelectRequest } from './request.js';

/** Where the events go: `send` resolves once the bytes were taken (backpressure). */
export interface EventSink {
  send(event: Buffer): Promise<void>;
  /** False once the client is gone: the scan stops. */
  readonly open: boolean;
}

/** What the scan reads: a byte stream (CSV, JSON), or ranged reads of the object (Parquet). */
export type ScanInput =
  | { readonly kind: 'bytes'; readonly source: AsyncIterable<Uint8Array> }
  | { readonly kind: 'ranges'; readonly reader: RangeReader };

/** A parsed, checked query ready to scan. */
export interface ScanPlan {
  readonly request: SelectRequest;
  readonly query: Query;
}

/**
 * Runs a query over the object's bytes, sending Records (gathered up to
 * LIMITS.selectRecordsEventBytes), Cont when nothing was sent for a while, Progress (when asked),
 * then Stats and End. Pulls one input chunk at a time and awaits each send: memory stays at a
 * chunk, a record and an event, whatever the object's size. Stops reading at LIMIT.
 */
export async function runScan(plan: ScanPlan, input: ScanInput, sink: EventSink): Promise<void> {
  const { request, query } = plan;
  const evaluator = new Evaluator(query.alias);
  const calls = checkQuery(query);
  const aggregates = calls.length > 0 ? new Aggregates(calls, evaluator) : null;
  const names = columnNames(query);
  const write = rowWriter(request.output);
  const counts: ScanCounts = { scanned: 0, processed: 0, returned: 0 };
  let pending: string[] = [];
  let pendingChars = 0;
  let rows = 0;
  const limit = query.limit ?? Number.POSITIVE_INFINITY;

  const emit = (out: OutRecord): boolean => {
    const line = write(out);
    pending.push(line);
    pendingChars += line.length;
    rows++;
    return rows < limit;
  };
  const onRecord = (record: InputRecord): boolean => {
    for (const each of expandFrom(record, query.from)) {
      if (query.where !== null && evaluator.evaluate(query.where, each) !== true) continue;
      if (aggregates !== null) aggregates.add(each);
      else if (
        !emit(query.items === null ? wholeRecord(each) : projectRow(query, names, evaluator, each))
      )
        return false;
    }
    return true;
  };

  const timers = { event: Date.now(), progress: Date.now() };
  const send = async (event: Buffer): Promise<void> => {
    timers.event = Date.now();
    await sink.send(event);
  };
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join(''));
    pending = [];
    pendingChars = 0;
    counts.returned += bytes.length;
    await send(recordsEvent(bytes));
  };

  /** After each piece of input: flush a full event, keep alive; false: stop reading. */
  const afterInput = async (more: boolean): Promise<boolean> => {
    if (pendingChars >= LIMITS.selectRecordsEventBytes || !more) await flush();
    if (!more || !sink.open) return false;
    await keepAlive(request, counts, timers, send);
    return true;
  };
  if (limit > 0 && input.kind === 'ranges') {
    for await (const batch of parquetBatches(input.reader)) {
      counts.scanned += batch.scanned;
      counts.processed += batch.processed;
      const full = (): boolean => pendingChars >= LIMITS.selectRecordsEventBytes;
      if (!(await feedBatch(batch.records, onRecord, full, afterInput))) break;
    }
  } else if (limit > 0 && input.kind === 'bytes') {
    const feed = recordFeed(request, onRecord);
    const decoder = new TextDecoder('utf-8');
    const bytes = decompressed(request.compression, countScanned(input.source, counts));
    for await (const chunk of bytes) {
      counts.processed += chunk.byteLength;
      if (!(await afterInput(feed.push(decoder.decode(chunk, { stream: true }))))) break;
    }
    if (rows < limit && sink.open) feed.end(decoder.decode());
  }
  if (aggregates !== null && limit > 0) {
    const results = aggregates.results();
    const none: InputRecord = { kind: 'json', value: undefined };
    emit({
      row: (query.items ?? []).map(
        (item, i) => [names[i] as string, evaluator.evaluate(item.expr, none, results)] as const,
      ),
    });
  }
  await flush();
  if (request.progress) await send(countsEvent('Progress', counts));
  await send(countsEvent('Stats', counts));
  await send(endEvent());
}

/**
 * One row group's records into the query, an event sent each time the output fills one (a row
 * group may give far more output than an event holds). False: stop reading (LIMIT, client gone).
 */
async function feedBatch(
  records: readonly InputRecord[],
  onRecord: (record: InputRecord) => boolean,
  full: () => boolean,
  afterInput: (more: boolean) => Promise<boolean>,
): Promise<boolean> {
  for (const record of records) {
    const more = onRecord(record);
    // Awaited only when there is something to send or to stop for: most records add no event.
    if ((!more || full()) && !(await afterInput(more))) return false;
  }
  return afterInput(true);
}

/** Cont after LIMITS.selectKeepAliveMs of silence; Progress every selectProgressIntervalMs. */
async function keepAlive(
  request: SelectRequest,
  counts: ScanCounts,
  timers: { event: number; progress: number },
  send: (event: Buffer) => Promise<void>,
): Promise<void> {
  const now = Date.now();
  if (request.progress && now - timers.progress >= LIMITS.selectProgressIntervalMs) {
    timers.progress = now;
    await send(countsEvent('Progress', counts));
  } else if (now - timers.event >= LIMITS.selectKeepAliveMs) {
    await send(contEvent());
  }
}

interface RecordFeed {
  push(text: string): boolean;
  end(text: string): void;
}

/** The input format's reader, turning text into InputRecords (the CSV header row taken out). */
function recordFeed(
  request: SelectRequest,
  onRecord: (record: InputRecord) => boolean,
): RecordFeed {
  const input = request.input;
  if (input.kind === 'json') {
    const reader = new JsonReader(input.type);
    const onValue = (value: SqlValue): boolean => onRecord({ kind: 'json', value });
    return {
      push: (text) => reader.push(text, onValue),
      end: (text) => {
        if (reader.push(text, onValue)) reader.end(onValue);
      },
    };
  }
  assert(input.kind === 'csv', 'Parquet input is read by row groups, not as text');
  const reader = new CsvReader(input);
  let header: string[] | null = null;
  let first = input.header !== 'NONE';
  const onFields = (fields: string[]): boolean => {
    if (first) {
      first = false;
      if (input.header === 'USE') header = fields;
      return true;
    }
    return onRecord({ kind: 'csv', fields, header });
  };
  return {
    push: (text) => reader.push(text, onFields),
    end: (text) => {
      if (reader.push(text, onFields)) reader.end(onFields);
    },
  };
}

/** The records FROM names: `S3Object[*].a[*]` walks into each record's `a` array. */
function expandFrom(record: InputRecord, steps: readonly PathStep[]): InputRecord[] {
  if (record.kind === 'csv' || steps.length === 0) return [record];
  return walk(record.value, steps).map((value) => ({ kind: 'json', value }));
}

function walk(value: SqlValue, steps: readonly PathStep[]): SqlValue[] {
  const [step, ...rest] = steps;
  if (step === undefined) return value === undefined ? [] : [value];
  if (step.kind === 'wildcard') {
    return Array.isArray(value)
      ? value.flatMap((item: SqlValue) => walk(item, rest))
      : walk(value, rest);
  }
  if (step.kind === 'index') return Array.isArray(value) ? walk(value[step.index], rest) : [];
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date)
    return [];
  const object = value as Readonly<Record<string, SqlValue>>;
  const name = Object.hasOwn(object, step.name)
    ? step.name
    : step.quoted
      ? undefined
      : Object.keys(object).find((key) => key.toLowerCase() === step.name.toLowerCase());
  return name === undefined ? [] : walk(object[name], rest);
}

async function* countScanned(
  source: AsyncIterable<Uint8Array>,
  counts: ScanCounts,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    counts.scanned += chunk.byteLength;
    yield chunk;
  }
}
