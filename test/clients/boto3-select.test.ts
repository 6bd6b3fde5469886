import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { runBoto3 } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_select.py', import.meta.url));

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-select-');

test('boto3 select_object_content: CSV, GZIP, BZIP2, JSON LINES, Parquet, Progress/Stats/End, errors', async (t) => {
  t.timeout(90_000);
  const ids = Array.from({ length: 10 }, (_, i) => i);
  const parquet = join(work, 'rows.parquet');
  writeFileSync(
    parquet,
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: Int32Array.from(ids), type: 'INT32' },
          { name: 'name', data: ids.map((i) => `n${i}`), type: 'STRING' },
        ],
      }),
    ),
  );
  const { output, json } = await runBoto3(
    [SCRIPT, suite.server.endpoint, 'boto3-select', parquet],
    work,
  );
  t.is(json['error'], undefined, output);
  const csv = json['csv'] as { records: string; events: string[]; stats: Record<string, number> };
  t.is(csv.records, 'bolt\nnut\n', output);
  t.deepEqual(csv.events.slice(-4), ['Records', 'Progress', 'Stats', 'End']);
  t.deepEqual(csv.stats, { BytesScanned: 33, BytesProcessed: 33, BytesReturned: 9 });
  t.is(json['gzipSum'], '{"total":38}\n');
  t.is(json['json'], '{"id":1,"second":"b"};{"id":2};');
  t.is(json['badSql'], 'ParseExpectedExpression');
  t.is(json['bzip2Csv'], 'bolt\nwasher\n');
  t.is(json['bzip2Json'], '{"n":1}\n');
  t.is(json['bzip2Broken'], 'TruncatedInput');
  t.is(json['parquet'], '{"name":"n7"}\n{"name":"n8"}\n{"name":"n9"}\n');
  t.is(json['parquetRange'], 'UnsupportedScanRangeInput');
});
