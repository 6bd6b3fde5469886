import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { selectWith } from '../helpers/select.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

/** Row groups above 256 KiB (stored or decoded) are refused in this suite, to test the bound. */
const ROW_GROUP_MAX = 256 * 1024;
const suite = useServer(test, {
  env: {
    HANGAR_SELECT_PARQUET_ROW_GROUP_BYTES_MAX: String(ROW_GROUP_MAX),
    // No Cont keep-alive on a loaded machine: a failure found before any record is then always
    // a plain 400 answer, never an error event after a Cont began the stream.
    HANGAR_SELECT_KEEP_ALIVE_MS: '600000',
  },
});

const CSV_USE = { FileHeaderInfo: 'USE' as const };

function bzip2(text: string, level = 9): Buffer {
  return execFileSync('bzip2', [`-${level}`, '-c'], { input: text, maxBuffer: 64 << 20 });
}

async function withObjects(prefix: string, objects: Record<string, Uint8Array | string>) {
  const bucket = await newBucket(suite.s3, prefix);
  for (const [key, body] of Object.entries(objects))
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return bucket;
}

/** ~1.4 MB of CSV: several 100 kB bzip2 blocks (-1), over many 256 KiB read chunks. */
function bigCsv(rows: number): string {
  const lines = ['id,name,qty'];
  for (let i = 0; i < rows; i++) lines.push(`${i},item-${i}-${(i * 7919) % 1000},${i % 100}`);
  return `${lines.join('\n')}\n`;
}

test('BZIP2 CSV and JSON LINES: decompressed as they stream, many blocks, Stats', async (t) => {
  const csv = bigCsv(60_000);
  const packed = bzip2(csv, 1);
  const lines = '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n';
  const bucket = await withObjects('select-bzip2', {
    'big.csv.bz2': packed,
    'l.json.bz2': bzip2(lines),
  });
  const count = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'big.csv.bz2',
    Expression: "SELECT COUNT(*), SUM(CAST(s.qty AS INT)) FROM S3Object s WHERE s.qty = '7'",
    InputSerialization: { CSV: CSV_USE, CompressionType: 'BZIP2' },
    OutputSerialization: { CSV: {} },
  });
  t.is(count.records, '600,4200\n');
  t.deepEqual(count.stats, { scanned: packed.length, processed: csv.length, returned: 9 });
  const last = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'big.csv.bz2',
    Expression: "SELECT s.name FROM S3Object s WHERE s.id = '59999'",
    InputSerialization: { CSV: CSV_USE, CompressionType: 'BZIP2' },
    OutputSerialization: { CSV: {} },
  });
  t.is(last.records, `item-59999-${(59999 * 7919) % 1000}\n`);
  const json = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'l.json.bz2',
    Expression: 'SELECT s.* FROM S3Object s WHERE s.a >= 2',
    InputSerialization: { JSON: { Type: 'LINES' }, CompressionType: 'BZIP2' },
    OutputSerialization: { JSON: {} },
  });
  t.is(json.records, '{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n');
});

test('corrupt or truncated BZIP2 is TruncatedInput; not BZIP2 at all, InvalidCompressionFormat', async (t) => {
  const packed = bzip2(bigCsv(20_000), 1);
  const corrupt = Buffer.from(packed);
  for (let i = 2000; i < 2100; i++) corrupt[i] = (corrupt[i] ?? 0) ^ 0x5a;
  const bucket = await withObjects('select-bzip2-bad', {
    'corrupt.bz2': corrupt,
    'short.bz2': packed.subarray(0, Math.floor(packed.length / 2)),
    'plain.csv': 'a,b\n1,2\n',
  });
  const ask = (key: string) =>
    s3Failure(
      selectWith(suite.s3, {
        Bucket: bucket,
        Key: key,
        Expression: 'SELECT COUNT(*) FROM S3Object',
        InputSerialization: { CSV: CSV_USE, CompressionType: 'BZIP2' },
        OutputSerialization: { CSV: {} },
      }),
    );
  for (const key of ['corrupt.bz2', 'short.bz2']) {
    const failure = await ask(key);
    t.is(failure.name, 'TruncatedInput', key);
    t.is(failure.status, 400, key);
  }
  t.is((await ask('plain.csv')).name, 'InvalidCompressionFormat');
});

test('SELECT s.* is the whole record; beside other items it is refused', async (t) => {
  const bucket = await withObjects('select-star-alias', { 'p.csv': 'name,age\nAl,3\nBo,4\n' });
  const got = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'p.csv',
    Expression: "SELECT s.* FROM S3Object AS s WHERE s.name = 'Bo'",
    InputSerialization: { CSV: CSV_USE },
    OutputSerialization: { JSON: {} },
  });
  t.is(got.records, '{"name":"Bo","age":"4"}\n');
  const mixed = await s3Failure(
    selectWith(suite.s3, {
      Bucket: bucket,
      Key: 'p.csv',
      Expression: 'SELECT s.*, s.name FROM S3Object s',
      InputSerialization: { CSV: CSV_USE },
      OutputSerialization: { CSV: {} },
    }),
  );
  t.is(mixed.name, 'ParseUnsupportedSyntax');
});

/** A Parquet file of `rows` rows written by hyparquet-writer, in row groups of `groupRows`. */
function parquetOf(rows: number, groupRows: number, codec: 'SNAPPY' | 'GZIP' = 'SNAPPY') {
  const ids = Array.from({ length: rows }, (_, i) => i);
  const buffer = parquetWriteBuffer({
    codec,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
    rowGroupSize: groupRows,
    columnData: [
      { name: 'id', data: Int32Array.from(ids), type: 'INT32' },
      { name: 'big', data: ids.map((i) => BigInt(i) * 1_000_000_000n), type: 'INT64' },
      { name: 'name', data: ids.map((i) => `n${i}`), type: 'STRING' },
      { name: 'even', data: ids.map((i) => i % 2 === 0), type: 'BOOLEAN' },
      { name: 'price', data: Float64Array.from(ids, (i) => i / 4), type: 'DOUBLE' },
      { name: 'note', data: ids.map((i) => (i % 3 === 0 ? null : `x${i % 5}`)), type: 'STRING' },
      {
        name: 'at',
        data: ids.map((i) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_000)),
        type: 'TIMESTAMP',
      },
    ],
  });
  return new Uint8Array(buffer);
}

test('Parquet: row groups read by ranged reads, typed columns in WHERE, SELECT list and *', async (t) => {
  const file = parquetOf(30_000, 4_000);
  const bucket = await withObjects('select-parquet', {
    'rows.parquet': file,
    'gz.parquet': parquetOf(50, 20, 'GZIP'),
  });
  const picked = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'rows.parquet',
    Expression:
      'SELECT s.id, s.name, s.big, s.price FROM S3Object s WHERE s.id BETWEEN 11998 AND 12001 AND s.even = true',
    InputSerialization: { Parquet: {} },
    OutputSerialization: { CSV: {} },
  });
  t.is(picked.records, '11998,n11998,11998000000000,2999.5\n12000,n12000,12000000000000,3000\n');
  t.true(picked.ended);
  t.is(
    picked.stats?.scanned,
    file.byteLength - 4,
    'every row group and the footer, not the head magic',
  );
  const counted = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'rows.parquet',
    Expression:
      "SELECT COUNT(*), MAX(s.id), COUNT(s.note) FROM S3Object s WHERE s.note LIKE 'x%' AND s.at >= CAST('2025-01-01T' AS TIMESTAMP)",
    InputSerialization: { Parquet: {} },
    OutputSerialization: { CSV: {} },
  });
  // Rows from day 366 (2025-01-01) on: 29,634 of them; a third have no note.
  const fromDay = 366;
  const kept = Array.from({ length: 30_000 - fromDay }, (_, i) => i + fromDay).filter(
    (i) => i % 3 !== 0,
  );
  t.is(counted.records, `${kept.length},29999,${kept.length}\n`);
  const whole = await selectWith(suite.s3, {
    Bucket: bucket,
    Key: 'gz.parquet',
    Expression: 'SELECT * FROM S3Object s WHERE s.id = 4 LIMIT 1',
    InputSerialization: { Parquet: {} },
    OutputSerialization: { JSON: {} },
  });
  t.is(
    whole.records,
    '{"id":4,"big":4000000000,"name":"n4","even":true,"price":1,"note":"x4","at":"2024-01-05T00:00:00.000Z"}\n',
  );
});

test('Parquet: a row group over the bound is OverMaxParquetBlockSize; garbage is ParquetParsingError', async (t) => {
  const huge = parquetOf(40_000, 40_000);
  const bad = Buffer.from(parquetOf(100, 50));
  bad.fill(0xee, 4, 200);
  const bucket = await withObjects('select-parquet-bad', {
    'huge.parquet': huge,
    'bad.parquet': bad,
  });
  const ask = (key: string) =>
    s3Failure(
      selectWith(suite.s3, {
        Bucket: bucket,
        Key: key,
        Expression: 'SELECT * FROM S3Object',
        InputSerialization: { Parquet: {} },
        OutputSerialization: { CSV: {} },
      }),
    );
  t.is((await ask('huge.parquet')).name, 'OverMaxParquetBlockSize');
  t.is((await ask('bad.parquet')).name, 'ParquetParsingError');
});
