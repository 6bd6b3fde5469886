/**
 * The Select throughput case of bench/run.ts (`--only select-64m`): a 64 MiB CSV object in a
 * fresh hangar, read whole with GetObject, then scanned by SelectObjectContent with a WHERE
 * filter that keeps ~2.5% of the rows, in alternating rounds. The figure is the Select's scan rate
 * (object MiB per second) as a ratio to the raw GetObject rate of the same object in the same
 * run: what parsing and evaluating cost over moving the bytes. Not wrk-driven: one request at a
 * time through the SDK, which decodes the event stream (CRCs checked).
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, SelectObjectContentCommand } from '@aws-sdk/client-s3';
import { cpuSeconds } from './proc.js';
import { BUCKET, client, createBucket } from './s3.js';
import { startTarget } from './targets.js';

export const SELECT_CASE = 'select-64m';
const MIB = 1024 * 1024;
const OBJECT_BYTES = 64 * MIB;
const KEY = 'select/64m.csv';
/** One row: 64 bytes; `cat` cycles c0..c19, `amount` 0..999. */
const ROW_BYTES = 64;
const HEADER = 'id,cat,amount,text\n';
const WHERE =
  "SELECT s.id, s.amount FROM S3Object s WHERE s.cat = 'c7' AND CAST(s.amount AS INT) < 500";

export interface SelectFigures {
  objectBytes: number;
  rounds: number;
  /** Median rates over the rounds, MiB of object per second. */
  getMiBs: number;
  selectMiBs: number;
  /** Rows the Select returned (each round must agree with the expected count). */
  rows: number;
  /** Server CPU seconds over the Select rounds only. */
  selectCpuS: number;
  invalid?: string;
}

function row(i: number): string {
  const head = `${i},c${i % 20},${(i * 7) % 1000},`;
  return `${head}${'x'.repeat(ROW_BYTES - head.length - 1)}\n`;
}

const ROWS = Math.floor((OBJECT_BYTES - HEADER.length) / ROW_BYTES);

function expectedRows(): number {
  let n = 0;
  for (let i = 0; i < ROWS; i++) if (i % 20 === 7 && (i * 7) % 1000 < 500) n++;
  return n;
}

/** The object generated 1 MiB at a time; padded with spaces to exactly OBJECT_BYTES. */
function csvBody(): Readable {
  let next = 0;
  let sent = 0;
  return Readable.from(
    (function* () {
      yield Buffer.from(HEADER);
      sent += HEADER.length;
      while (next < ROWS) {
        let text = '';
        for (let i = 0; i < 16_384 && next < ROWS; i++) text += row(next++);
        sent += text.length;
        yield Buffer.from(text);
      }
      if (sent < OBJECT_BYTES) yield Buffer.alloc(OBJECT_BYTES - sent, 0x0a);
    })(),
  );
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

export async function runSelectCase(quick: boolean): Promise<SelectFigures> {
  const rounds = quick ? 2 : 5;
  const target = await startTarget('hangar');
  const s3 = client(target.endpoint, target.spec.credentials, 2);
  const figures: SelectFigures = {
    objectBytes: OBJECT_BYTES,
    rounds,
    getMiBs: 0,
    selectMiBs: 0,
    rows: 0,
    selectCpuS: 0,
  };
  try {
    await createBucket(target.endpoint, target.spec.credentials);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: KEY,
        Body: csvBody(),
        ContentLength: OBJECT_BYTES,
      }),
    );
    const want = expectedRows();
    const gets: number[] = [];
    const selects: number[] = [];
    for (let round = 0; round < rounds; round++) {
      gets.push(await timed(() => readWhole(s3)));
      const cpu0 = cpuSeconds(target.pids());
      let rows = 0;
      selects.push(await timed(async () => (rows = await selectRows(s3))));
      figures.selectCpuS += cpuSeconds(target.pids()) - cpu0;
      figures.rows = rows;
      if (rows !== want) figures.invalid = `Select returned ${rows} rows, not ${want}`;
    }
    figures.getMiBs = OBJECT_BYTES / MIB / median(gets);
    figures.selectMiBs = OBJECT_BYTES / MIB / median(selects);
    const crashed = target.exited();
    if (crashed !== undefined) figures.invalid = `server died (${crashed})`;
    return figures;
  } catch (error) {
    figures.invalid = `runner error: ${error instanceof Error ? error.message : String(error)}`;
    return figures;
  } finally {
    s3.destroy();
    await target.stop();
  }
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

async function readWhole(s3: ReturnType<typeof client>): Promise<void> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
  let bytes = 0;
  for await (const chunk of out.Body as Readable) bytes += (chunk as Buffer).byteLength;
  if (bytes !== OBJECT_BYTES) throw new Error(`GetObject read ${bytes} bytes`);
}

async function selectRows(s3: ReturnType<typeof client>): Promise<number> {
  const out = await s3.send(
    new SelectObjectContentCommand({
      Bucket: BUCKET,
      Key: KEY,
      ExpressionType: 'SQL',
      Expression: WHERE,
      InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
      OutputSerialization: { CSV: {} },
    }),
  );
  let rows = 0;
  for await (const event of out.Payload ?? []) {
    const payload = event.Records?.Payload;
    if (payload !== undefined) for (const byte of payload) if (byte === 0x0a) rows++;
  }
  return rows;
}

/** The report's section: the figures and what they mean. */
export function selectSection(figures: SelectFigures): string[] {
  const ratio = figures.getMiBs > 0 ? figures.selectMiBs / figures.getMiBs : 0;
  return [
    '## Select throughput',
    '',
    `\`bench/load/select.ts\` (\`--only ${SELECT_CASE}\`): a ${figures.objectBytes / MIB} MiB CSV (64-byte rows, a header), read whole by GetObject and scanned by SelectObjectContent (\`${WHERE}\`, ~2.5% of rows returned), alternating, ${figures.rounds} rounds, one request at a time; medians.`,
    '',
    '| GetObject MiB/s | Select MiB/s scanned | Select × GetObject | rows returned | server CPU s per Select |',
    '|---:|---:|---:|---:|---:|',
    `| ${figures.getMiBs.toFixed(0)} | ${figures.selectMiBs.toFixed(1)} | ${ratio.toFixed(3)} | ${figures.rows.toLocaleString('en-US')} | ${(figures.selectCpuS / figures.rounds).toFixed(2)} |`,
    ...(figures.invalid === undefined ? [] : ['', `INVALID: ${figures.invalid}`]),
    '',
  ];
}
