import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import {
  addRemote,
  headOrNone,
  replicateTo,
  ruleTo,
  setVersioning,
  statusBecomes,
} from '../helpers/replication.js';
import {
  newBucket,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  s3Failure,
  TestServer,
} from '../helpers/server.js';

// Replication and storage classes (hangar → hangar): a replica takes its rule's
// Destination/StorageClass, else its source version's class; an archived source that is not
// restored fails for good (its GET answers InvalidObjectState until restored).

const ROOT = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY };
const SOURCE_ENV = {
  HANGAR_REPLICATION_BACKOFF_BASE_MS: '50',
  HANGAR_REPLICATION_BACKOFF_MAX_MS: '250',
  HANGAR_REPLICATION_POLL_MS: '50',
  // Retrying every failure this often would take minutes: FAILED within the test's wait means
  // the failure was final at once.
  HANGAR_REPLICATION_ATTEMPTS_MAX: '1000',
};

let source: TestServer;
let destination: TestServer;
let src: S3Client;
let dst: S3Client;

test.before(async () => {
  destination = await TestServer.start();
  source = await TestServer.start({
    env: SOURCE_ENV,
    expectedLogErrors: [/replication attempt failed/],
  });
  src = source.client();
  dst = destination.client();
});

test.after.always(async () => {
  await source?.destroy();
  await destination?.destroy();
});

async function pair(prefix: string, storageClass?: string): Promise<{ from: string; to: string }> {
  const from = await newBucket(src, `${prefix}-src`);
  const to = await newBucket(dst, `${prefix}-dst`);
  await setVersioning(src, from);
  await setVersioning(dst, to);
  await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
  const rule = ruleTo(to);
  if (storageClass !== undefined) {
    rule.Destination = { ...rule.Destination, StorageClass: storageClass as never } as never;
  }
  await replicateTo(src, from, [rule]);
  return { from, to };
}

async function classOnDestination(to: string, key: string): Promise<string | undefined> {
  const head = await dst.send(new HeadObjectCommand({ Bucket: to, Key: key }));
  return head.StorageClass;
}

test('a replica keeps its source class, unless the rule names one', async (t) => {
  const kept = await pair('cls-keep');
  await src.send(
    new PutObjectCommand({ Bucket: kept.from, Key: 'ia', Body: 'x', StorageClass: 'STANDARD_IA' }),
  );
  await statusBecomes(src, kept.from, 'ia', 'COMPLETED');
  t.is(await classOnDestination(kept.to, 'ia'), 'STANDARD_IA');
  const named = await pair('cls-rule', 'ONEZONE_IA');
  await src.send(
    new PutObjectCommand({ Bucket: named.from, Key: 'k', Body: 'x', StorageClass: 'STANDARD_IA' }),
  );
  await statusBecomes(src, named.from, 'k', 'COMPLETED');
  t.is(await classOnDestination(named.to, 'k'), 'ONEZONE_IA');
});

test('an unrestored archived source fails at once, not after every retry', async (t) => {
  const { from, to } = await pair('cls-archived');
  await src.send(
    new PutObjectCommand({ Bucket: from, Key: 'cold', Body: 'x', StorageClass: 'GLACIER' }),
  );
  await statusBecomes(src, from, 'cold', 'FAILED');
  t.is(await headOrNone(dst, to, 'cold'), undefined);
  t.is((await s3Failure(dst.send(new HeadObjectCommand({ Bucket: to, Key: 'cold' })))).status, 404);
});
