import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runBoto3 } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_restore.py', import.meta.url));

const suite = useServer(test, { env: { HANGAR_RESTORE_DELAY_MS: '300' } });
const work = useTempDir(test, 'hangar-boto3-restore-');

test('boto3: storage classes, restore_object, head_object Restore', async (t) => {
  t.timeout(90_000);
  const { output, json } = await runBoto3([SCRIPT, suite.server.endpoint, 'boto3-restore'], work);
  t.is(json['error'], undefined, output);
  t.is(json['headClass'], 'GLACIER');
  t.is(json['headRestoreBefore'], null);
  t.deepEqual(json['listed'], { cold: 'GLACIER', warm: 'STANDARD_IA' });
  t.is(json['getBefore'], 'InvalidObjectState');
  t.is(json['badClass'], 'InvalidStorageClass');
  t.is(json['restoreStatus'], 202);
  t.is(json['ongoing'], 'ongoing-request="true"');
  t.is(json['notArchived'], 'InvalidObjectState');
  t.regex(
    String(json['done']),
    /^ongoing-request="false", expiry-date="\w{3}, \d\d \w{3} \d{4} 00:00:00 GMT"$/,
  );
  t.is(json['body'], 'frozen');
  t.is(json['againStatus'], 200);
});
