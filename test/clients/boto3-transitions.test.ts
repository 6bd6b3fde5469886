import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runBoto3 } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(
  new URL('../../../test/clients/boto3_transitions.py', import.meta.url),
);

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-transitions-');

test('boto3: lifecycle transitions and intelligent-tiering configurations round-trip', async (t) => {
  const bucket = `boto3-transitions-${process.pid}`;
  const { output, json } = await runBoto3([SCRIPT, suite.server.endpoint, bucket], work);
  t.is(json['error'], undefined, output);
  t.like(json, {
    putMinimumSize: 'varies_by_storage_class',
    minimumSize: 'varies_by_storage_class',
    tooSoon: 'InvalidArgument',
    tieringEqual: true,
    tieringListed: ['boto-tiering'],
    tieringGone: 'NoSuchConfiguration',
  });
  t.deepEqual(json['transitions'], [
    { Days: 30, StorageClass: 'STANDARD_IA' },
    { Days: 90, StorageClass: 'GLACIER' },
  ]);
  t.deepEqual(json['noncurrentTransitions'], [
    { NoncurrentDays: 7, StorageClass: 'GLACIER_IR', NewerNoncurrentVersions: 3 },
  ]);
});
