import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { boto3Env } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_logging.py', import.meta.url));

const suite = useServer(test, {
  env: {
    HANGAR_ACCESS_LOG_FLUSH_INTERVAL_MS: '20',
    HANGAR_ACCESS_LOG_DELIVERY_INTERVAL_MS: '200',
  },
});
const work = useTempDir(test, 'hangar-boto3-logging-');

test('boto3: Put/GetBucketLogging, a PartitionedPrefix log object with the PUT record', async (t) => {
  t.timeout(120_000);
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      'python3',
      [SCRIPT, suite.server.endpoint, 'boto3-logging'],
      { env: boto3Env(work), maxBuffer: 1024 * 1024, timeout: 100_000 },
      (_error, out, err) => resolve(`${out}\n${err}`),
    );
  });
  const line =
    stdout
      .trim()
      .split('\n')
      .find((l) => l.startsWith('{')) ?? '{}';
  const o = JSON.parse(line) as Record<string, unknown>;
  t.is(o['error'], undefined, `${String(o['error'])}\n${stdout}`);
  t.is(o['missingTarget'], 'InvalidTargetBucketForLogging');
  t.deepEqual(o['got'], {
    target: 'boto3-logging-logs',
    prefix: 'b3/',
    dateSource: 'DeliveryTime',
  });
  const keys = o['keys'] as string[];
  t.true(keys.length >= 1);
  for (const key of keys) {
    t.regex(
      key,
      /^b3\/000000000000\/us-east-1\/boto3-logging\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/,
    );
  }
  const record = String(o['record']);
  t.regex(
    record,
    new RegExp(
      ` boto3-logging \\[[^\\]]+\\] \\S+ [0-9a-f]{64} ${String(o['requestId'])} REST\\.PUT\\.OBJECT k "PUT /boto3-logging/k HTTP/1\\.1" 200 - - 5 `,
    ),
  );
  t.regex(record, / SigV4 - AuthHeader /);
  t.false(o['afterOff']);
});
