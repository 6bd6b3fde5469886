import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runBoto3 } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(
  new URL('../../../test/clients/boto3_bucket_configs.py', import.meta.url),
);

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-configs-');

test('boto3: accelerate, request payment, analytics and metrics configurations round-trip', async (t) => {
  const bucket = `boto3-configs-${process.pid}`;
  const { output, json } = await runBoto3([SCRIPT, suite.server.endpoint, bucket], work);
  t.is(json['error'], undefined, output);
  t.like(json, {
    accelerateBefore: null,
    accelerate: 'Enabled',
    payerBefore: 'BucketOwner',
    payer: 'Requester',
    analyticsEqual: true,
    analyticsListed: ['boto-analytics'],
    analyticsTruncated: false,
    analyticsGone: 'NoSuchConfiguration',
    metricsEqual: true,
    metricsListed: ['boto-metrics'],
    metricsGone: 'NoSuchConfiguration',
  });
});
