// boto3 against inventory: configuration round trip and errors, then a report triggered through
// the admin API that boto3 reads back (manifest checksum, gzip CSV rows).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { launchInventory, nextManifest } from '../helpers/inventory.js';
import { runBoto3 } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_inventory.py', import.meta.url));

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-inventory-');

test('boto3: inventory configurations round-trip, and a triggered report reads back', async (t) => {
  t.timeout(120_000);
  const configured = await runBoto3(
    [SCRIPT, suite.server.endpoint, 'boto3-inv', 'configure'],
    work,
  );
  t.is(configured.json['error'], undefined, configured.output);
  t.true(configured.json['roundTrip'], configured.output);
  t.deepEqual(configured.json['listed'], ['b3']);
  t.is(configured.json['missing'], 'NoSuchConfiguration');
  t.is(configured.json['orc'], 'NotImplemented');
  t.is(configured.json['deleted'], 'NoSuchConfiguration');
  await launchInventory(suite.server);
  await nextManifest(suite.s3, 'boto3-inv-dst', 'boto/boto3-inv/b3/');
  const read = await runBoto3([SCRIPT, suite.server.endpoint, 'boto3-inv', 'read'], work);
  t.is(read.json['error'], undefined, read.output);
  t.true(read.json['checksumOk'], read.output);
  t.is(read.json['fileSchema'], 'Bucket, Key, Size, ETag');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  t.deepEqual(read.json['rows'], [
    ['boto3-inv', 'data/one', '8', md5('data/one')],
    ['boto3-inv', 'data/two%20words', '14', md5('data/two words')],
  ]);
});
