import { gzipSync } from 'node:zlib';
import {
  PutObjectCommand,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { createKey } from '../helpers/keys.js';
import { type Selected, selectWith } from '../helpers/select.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

const suite = useServer(test);

const PEOPLE = [
  'name,age,city',
  'Alice,34,"Paris, France"',
  'Bob,27,Berlin',
  '"Carol ""C""",45,Oslo',
  '# a comment row',
  'Dave,19,Berlin',
].join('\n');

function select(input: Omit<SelectObjectContentCommandInput, 'ExpressionType'>): Promise<Selected> {
  return selectWith(suite.s3, input);
}

async function withObject(prefix: string, key: string, body: string | Buffer): Promise<string> {
  const bucket = await newBucket(suite.s3, prefix);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return bucket;
}

const CSV_USE = { CSV: { FileHeaderInfo: 'USE' as const } };
const CSV_OUT = { CSV: {} };
const JSON_OUT = { JSON: {} };

test('CSV with a header: columns by name, quoting, comments, WHERE and CSV output', async (t) => {
  const bucket = await withObject('select-csv', 'people.csv', PEOPLE);
  const got = await select({
    Bucket: bucket,
    Key: 'people.csv',
    Expression:
      "SELECT s.name, s.city FROM S3Object s WHERE CAST(s.age AS INT) > 20 AND s.city <> 'Oslo'",
    InputSerialization: CSV_USE,
    OutputSerialization: CSV_OUT,
  });
  t.is(got.records, 'Alice,"Paris, France"\nBob,Berlin\n');
  t.true(got.ended);
  t.deepEqual(got.stats, {
    scanned: PEOPLE.length,
    processed: PEOPLE.length,
    returned: got.records.length,
  });
});

test('SELECT * keeps quoted fields; positional _N; LIMIT; JSON output of CSV', async (t) => {
  const bucket = await withObject('select-star', 'p.csv', PEOPLE);
  const star = await select({
    Bucket: bucket,
    Key: 'p.csv',
    Expression: 'SELECT * FROM S3Object LIMIT 3',
    InputSerialization: { CSV: { FileHeaderInfo: 'IGNORE' } },
    OutputSerialization: CSV_OUT,
  });
  t.is(star.records, 'Alice,34,"Paris, France"\nBob,27,Berlin\n"Carol ""C""",45,Oslo\n');
  const json = await select({
    Bucket: bucket,
    Key: 'p.csv',
    Expression: "SELECT _1, UPPER(_3) AS town FROM S3Object WHERE _3 LIKE 'B%' OR _2 IN ('45')",
    InputSerialization: { CSV: { FileHeaderInfo: 'IGNORE' } },
    OutputSerialization: JSON_OUT,
  });
  t.is(
    json.records,
    '{"_1":"Bob","town":"BERLIN"}\n{"_1":"Carol \\"C\\"","town":"OSLO"}\n{"_1":"Dave","town":"BERLIN"}\n',
  );
});

test('aggregates: COUNT, SUM, AVG, MIN, MAX over the rows WHERE keeps', async (t) => {
  const bucket = await withObject('select-agg', 'p.csv', PEOPLE);
  const got = await select({
    Bucket: bucket,
    Key: 'p.csv',
    Expression:
      "SELECT COUNT(*), SUM(CAST(age AS INT)), AVG(CAST(age AS FLOAT)), MIN(age), MAX(name) FROM S3Object WHERE city = 'Berlin' OR age BETWEEN 30 AND 40",
    InputSerialization: CSV_USE,
    OutputSerialization: CSV_OUT,
  });
  t.is(got.records, '3,80,26.666666666666668,19,Dave\n');
});

test('string, date, CASE, COALESCE and NULLIF functions', async (t) => {
  const bucket = await withObject(
    'select-fn',
    'd.csv',
    'when,label\n2024-02-28T10:30:00Z,  Mixed Case  \n',
  );
  const got = await select({
    Bucket: bucket,
    Key: 'd.csv',
    Expression: [
      'SELECT LOWER(TRIM(label)), CHAR_LENGTH(TRIM(label)), SUBSTRING(TRIM(label) FROM 1 FOR 5),',
      'EXTRACT(YEAR FROM CAST("when" AS TIMESTAMP)), TO_STRING(DATE_ADD(day, 2, TO_TIMESTAMP("when")), \'yyyy-MM-dd\'),',
      "DATE_DIFF(hour, `2024-02-28T00:00Z`, TO_TIMESTAMP(\"when\")), COALESCE(NULL, 'x'), NULLIF('a', 'a'),",
      "CASE WHEN CAST(EXTRACT(MONTH FROM TO_TIMESTAMP(\"when\")) AS INT) = 2 THEN 'feb' ELSE 'other' END, 7 % 4 * 2 - -1",
      'FROM S3Object',
    ].join(' '),
    InputSerialization: CSV_USE,
    OutputSerialization: CSV_OUT,
  });
  t.is(got.records, 'mixed case,10,Mixed,2024,2024-03-01,10,x,,feb,7\n');
});

test('JSON LINES and DOCUMENT: paths into values, FROM S3Object[*] paths, JSON output', async (t) => {
  const lines = '{"a":{"b":[10,20]},"n":"x"}\n{"a":{"b":[30]},"n":"y"}\n\n{"n":"z"}\n';
  const bucket = await withObject('select-json', 'l.json', lines);
  const got = await select({
    Bucket: bucket,
    Key: 'l.json',
    Expression: 'SELECT s.n, s.a.b[0] AS first FROM S3Object[*] s WHERE s.a IS NOT MISSING',
    InputSerialization: { JSON: { Type: 'LINES' } },
    OutputSerialization: JSON_OUT,
  });
  t.is(got.records, '{"n":"x","first":10}\n{"n":"y","first":30}\n');
  const doc =
    '{\n  "rules": [\n    {"id": 1, "on": true},\n    {"id": 2, "on": false}\n  ]\n}\n{"rules": [{"id": 3, "on": true}]}';
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'd.json', Body: doc }));
  const rules = await select({
    Bucket: bucket,
    Key: 'd.json',
    Expression: 'SELECT r.id FROM S3Object[*].rules[*] r WHERE r."on" = true',
    InputSerialization: { JSON: { Type: 'DOCUMENT' } },
    OutputSerialization: CSV_OUT,
  });
  t.is(rules.records, '1\n3\n');
  const whole = await select({
    Bucket: bucket,
    Key: 'l.json',
    Expression: "SELECT * FROM S3Object s WHERE s.n = 'z'",
    InputSerialization: { JSON: { Type: 'LINES' } },
    OutputSerialization: JSON_OUT,
  });
  t.is(whole.records, '{"n":"z"}\n');
});

test('a JSON record nested too deeply is JSONParsingError, not a stack overflow', async (t) => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
  const bucket = await withObject('select-deep', 'deep.json', deep);
  const failure = await s3Failure(
    select({
      Bucket: bucket,
      Key: 'deep.json',
      Expression: 'SELECT * FROM S3Object',
      InputSerialization: { JSON: { Type: 'LINES' } },
      OutputSerialization: JSON_OUT,
    }),
  );
  t.is(failure.name, 'JSONParsingError');
  t.is(failure.status, 400);
});

test('GZIP input is decompressed; Stats count the stored and the processed bytes', async (t) => {
  const text = `id,v\n${Array.from({ length: 5000 }, (_, i) => `${i},${i % 7}`).join('\n')}\n`;
  const gz = gzipSync(text);
  const bucket = await withObject('select-gzip', 'v.csv.gz', gz);
  const got = await select({
    Bucket: bucket,
    Key: 'v.csv.gz',
    Expression: 'SELECT COUNT(*) FROM S3Object WHERE CAST(v AS INT) = 3',
    InputSerialization: { ...CSV_USE, CompressionType: 'GZIP' },
    OutputSerialization: CSV_OUT,
    RequestProgress: { Enabled: true },
  });
  t.is(got.records, '714\n');
  t.deepEqual(got.stats, { scanned: gz.length, processed: text.length, returned: 4 });
  t.true(got.progress >= 1);
});

test('ScanRange: only the records that start within the range, each read whole', async (t) => {
  // Rows of 4 bytes: "r0\n" is 3... use fixed 5-byte rows "rNN\n" = 4 bytes + 1.
  const body = ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee'].join('\n'); // records start at 0,5,10,15,20
  const bucket = await withObject('select-range', 'r.csv', body);
  const run = async (range: { Start?: number; End?: number }): Promise<string> =>
    (
      await select({
        Bucket: bucket,
        Key: 'r.csv',
        Expression: 'SELECT * FROM S3Object',
        InputSerialization: { CSV: {} },
        OutputSerialization: CSV_OUT,
        ScanRange: range,
      })
    ).records;
  t.is(await run({ Start: 0, End: 4 }), 'aaaa\n');
  t.is(await run({ Start: 1, End: 5 }), 'bbbb\n');
  t.is(await run({ Start: 5, End: 12 }), 'bbbb\ncccc\n');
  t.is(await run({ Start: 4, End: 4 }), '');
  t.is(await run({ Start: 16 }), 'eeee\n');
  t.is(await run({ End: 6 }), 'eeee\n');
  const gz = await s3Failure(
    select({
      Bucket: bucket,
      Key: 'r.csv',
      Expression: 'SELECT * FROM S3Object',
      InputSerialization: { CSV: {}, CompressionType: 'GZIP' },
      OutputSerialization: CSV_OUT,
      ScanRange: { Start: 0, End: 3 },
    }),
  );
  t.is(gz.name, 'UnsupportedScanRangeInput');
});

test('bad SQL answers AWS Parse and Lexer error codes before any event', async (t) => {
  const bucket = await withObject('select-bad', 'p.csv', PEOPLE);
  const fail = (Expression: string) =>
    s3Failure(
      select({
        Bucket: bucket,
        Key: 'p.csv',
        Expression,
        InputSerialization: CSV_USE,
        OutputSerialization: CSV_OUT,
      }),
    );
  const cases: Array<[string, string]> = [
    ['SELECT name', 'ParseSelectMissingFrom'],
    ['SELECT FROM S3Object', 'ParseExpectedExpression'],
    ['SELECT name FROM S3Object WHERE', 'ParseExpectedExpression'],
    ['SELECT name FROM S3Object LIMIT x', 'ParseUnexpectedToken'],
    ['SELECT CAST(name AS BLOB) FROM S3Object', 'ParseExpectedTypeName'],
    ["SELECT 'open FROM S3Object", 'LexerInvalidLiteral'],
    ['SELECT name ^ 2 FROM S3Object', 'LexerInvalidChar'],
    ['SELECT NOPE(name) FROM S3Object', 'UnsupportedFunction'],
    ['SELECT name FROM S3Object WHERE COUNT(*) > 1', 'ParseUnsupportedSyntax'],
  ];
  for (const [sql, code] of cases) {
    const failure = await fail(sql);
    t.is(failure.name, code, sql);
    t.is(failure.status, 400, sql);
  }
});

test('request errors: ExpressionType, missing key, not Parquet, not BZIP2, access denied', async (t) => {
  const bucket = await withObject('select-errors', 'p.csv', PEOPLE);
  const base = {
    Bucket: bucket,
    Key: 'p.csv',
    Expression: 'SELECT * FROM S3Object',
    InputSerialization: CSV_USE,
    OutputSerialization: CSV_OUT,
  };
  const missing = await s3Failure(select({ ...base, Key: 'nope.csv' }));
  t.is(missing.name, 'NoSuchKey');
  t.is(missing.status, 404);
  const notParquet = await s3Failure(select({ ...base, InputSerialization: { Parquet: {} } }));
  t.is(notParquet.name, 'ParquetParsingError');
  t.is(notParquet.status, 400);
  const wholeCompressed = await s3Failure(
    select({ ...base, InputSerialization: { Parquet: {}, CompressionType: 'GZIP' } }),
  );
  t.is(wholeCompressed.name, 'InvalidRequestParameter');
  const ranged = await s3Failure(
    select({ ...base, InputSerialization: { Parquet: {} }, ScanRange: { Start: 0, End: 10 } }),
  );
  t.is(ranged.name, 'UnsupportedScanRangeInput');
  const notBzip = await s3Failure(
    select({ ...base, InputSerialization: { ...CSV_USE, CompressionType: 'BZIP2' } }),
  );
  t.is(notBzip.name, 'InvalidCompressionFormat');
  const typeless = await s3Failure(
    suite.s3.send(new SelectObjectContentCommand({ ...base, ExpressionType: 'XPATH' as 'SQL' })),
  );
  t.is(typeless.name, 'InvalidExpressionType');
  const stranger = await createKey(suite.server, 'select-stranger');
  const denied = await s3Failure(
    suite.server
      .client(stranger)
      .send(new SelectObjectContentCommand({ ...base, ExpressionType: 'SQL' })),
  );
  t.is(denied.name, 'AccessDenied');
  t.is(denied.status, 403);
});

test('a cast that fails mid-scan arrives as an error event after the records before it', async (t) => {
  // ~2 MB: the object streams in chunks, the first rows' Records go out before the bad row.
  const rows = `n\n${Array.from({ length: 300_000 }, (_, i) => String(i)).join('\n')}\nnot-a-number\n`;
  const bucket = await withObject('select-midfail', 'n.csv', rows);
  const out = await suite.s3.send(
    new SelectObjectContentCommand({
      Bucket: bucket,
      Key: 'n.csv',
      ExpressionType: 'SQL',
      Expression: 'SELECT CAST(n AS INT) FROM S3Object',
      InputSerialization: CSV_USE,
      OutputSerialization: CSV_OUT,
    }),
  );
  t.is(out.$metadata.httpStatusCode, 200);
  let received = '';
  const error = await t.throwsAsync(async () => {
    for await (const event of out.Payload ?? []) {
      if (event.Records?.Payload !== undefined)
        received += Buffer.from(event.Records.Payload).toString();
      t.is(event.End, undefined, 'no End after an error');
    }
  });
  t.is(error?.name, 'CastFailed');
  t.true(received.startsWith('0\n1\n2\n'));
  t.true(received.length > 100_000, `${received.length} bytes of records before the error`);
});
