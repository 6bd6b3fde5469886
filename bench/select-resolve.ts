/**
 * Micro-benchmark of Select's per-record work (not part of bench/run.ts): a WHERE and a
 * projection over 10,000 CSV records with a header, by column name and by position, and over
 * JSON records. Run: `npx tsc -b && node dist/bench/select-resolve.js`. It measured the change
 * that resolves column lookups once per query instead of once per record (DECISIONS.md).
 */
import { Bench } from 'tinybench';
import { Evaluator, type InputRecord } from '../http/select/evaluate.js';
import { parseQuery } from '../http/select/parser.js';

const ROWS = 10_000;
const HEADER = ['id', 'name', 'city', 'qty', 'price', 'note', 'Stamp', 'flag'];
const FIELDS = Array.from({ length: ROWS }, (_, i) => [
  String(i),
  `n${i}`,
  i % 3 === 0 ? 'Oslo' : 'Paris',
  String(i % 50),
  '1.5',
  '',
  'x',
  'y',
]);
const CSV: InputRecord[] = FIELDS.map((fields) => ({ kind: 'csv', header: HEADER, fields }));
const JSON_RECORDS: InputRecord[] = FIELDS.map((fields) => ({
  kind: 'json',
  value: Object.fromEntries(HEADER.map((name, i) => [name, fields[i]])),
}));

function scanOf(sql: string, records: readonly InputRecord[]): () => number {
  const query = parseQuery(sql);
  return () => {
    const evaluator = new Evaluator(query.alias);
    let kept = 0;
    for (const record of records) {
      if (query.where !== null && evaluator.evaluate(query.where, record) !== true) continue;
      for (const item of query.items ?? []) evaluator.evaluate(item.expr, record);
      kept++;
    }
    return kept;
  };
}

const bench = new Bench({ time: 1000, warmupTime: 200 });
bench
  .add(
    'csv by name',
    scanOf("SELECT s.name, s.qty FROM S3Object s WHERE s.city = 'Oslo' AND s.flag = 'y'", CSV),
  )
  .add(
    'csv by name, case-folded',
    scanOf("SELECT NAME, QTY FROM S3Object WHERE CITY = 'Oslo' AND FLAG = 'y'", CSV),
  )
  .add('csv by position', scanOf("SELECT _2, _4 FROM S3Object WHERE _3 = 'Oslo' AND _8 = 'y'", CSV))
  .add(
    'json by name',
    scanOf(
      "SELECT s.name, s.qty FROM S3Object s WHERE s.city = 'Oslo' AND s.flag = 'y'",
      JSON_RECORDS,
    ),
  );
await bench.run();
for (const task of bench.tasks) {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
  const mean = result.latency.mean;
  console.log(
    `${task.name.padEnd(26)} ${(((ROWS / mean) * 1000) / 1e6).toFixed(2)} M records/s  (${(mean * 1000).toFixed(0)} µs / 10k)`,
  );
}
