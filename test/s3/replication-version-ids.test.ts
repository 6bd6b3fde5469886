import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { createKey, grant } from '../helpers/keys.js';
import {
  addRemote,
  eventually,
  headOrNone,
  repairAndWait,
  replicateTo,
  ruleTo,
  setVersioning,
  statusBecomes,
  withHeaders,
} from '../helpers/replication.js';
import {
  newBucket,
  objectBytes,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  s3Failure,
  TestServer,
} from '../helpers/server.js';

// Version ids carried hangar → hangar: a replica is stored under its source's version id
// (x-hangar-source-version-id beside x-hangar-replica), ordered by that id whatever order the
// replicas arrive in; and the repair pass compares noncurrent versions by id.

const ROOT = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY };
const SOURCE_ENV = {
  HANGAR_REPLICATION_BACKOFF_BASE_MS: '50',
  HANGAR_REPLICATION_BACKOFF_MAX_MS: '250',
  HANGAR_REPLICATION_POLL_MS: '50',
};

let source: TestServer;
let destination: TestServer;
let src: S3Client;
let dst: S3Client;

test.before(async () => {
  destination = await TestServer.start({ shards: 2 });
  source = await TestServer.start({ shards: 2, env: SOURCE_ENV });
  src = source.client();
  dst = destination.client();
});

test.after.always(async () => {
  await source?.destroy();
  await destination?.destroy();
});

/** A client of the destination whose requests carry `headers`. */
function clientWith(
  headers: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string } = ROOT,
): S3Client {
  return withHeaders(destination.client(credentials), headers);
}

function replicaOf(versionId: string): S3Client {
  return clientWith({ 'x-hangar-replica': 'true', 'x-hangar-source-version-id': versionId });
}

/** `count` real hangar version ids, oldest first (made by writes to a scratch bucket). */
async function versionIds(count: number): Promise<string[]> {
  const scratch = await newBucket(src, 'ids');
  await setVersioning(src, scratch);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const put = await src.send(new PutObjectCommand({ Bucket: scratch, Key: 'k', Body: `${i}` }));
    ids.push(put.VersionId ?? '');
  }
  return ids;
}

async function versionsAt(s3: S3Client, bucket: string, key: string) {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  const all = [
    ...(listed.Versions ?? []).map((v) => ({ id: v.VersionId, latest: v.IsLatest, marker: false })),
    ...(listed.DeleteMarkers ?? []).map((v) => ({
      id: v.VersionId,
      latest: v.IsLatest,
      marker: true,
    })),
  ];
  // S3 lists a key's versions and markers newest first; ids sort newest first too.
  return all.sort((a, b) => ((a.id ?? '') < (b.id ?? '') ? -1 : 1));
}

async function putReplica(bucket: string, key: string, versionId: string, body: string) {
  const client = replicaOf(versionId);
  try {
    return await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

async function deleteReplica(bucket: string, key: string, versionId: string) {
  const client = replicaOf(versionId);
  try {
    return await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } finally {
    client.destroy();
  }
}

test.serial('a replica keeps its id; one arriving late stays behind the newer ones', async (t) => {
  const [oldest, older, middle, newer, newest] = (await versionIds(5)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const bucket = await newBucket(dst, 'ids-order');
  await setVersioning(dst, bucket);

  t.is((await putReplica(bucket, 'k', newer, 'newer')).VersionId, newer);
  t.is((await putReplica(bucket, 'k', older, 'older')).VersionId, older);
  const current = await headOrNone(dst, bucket, 'k');
  t.is(current?.VersionId, newer, 'the late, older replica did not become current');
  t.is(current?.ReplicationStatus, 'REPLICA');
  t.is((await objectBytes(dst, bucket, 'k')).toString(), 'newer');

  // A marker older than the current version stays behind it; the newest one hides the key.
  const marker = await deleteReplica(bucket, 'k', middle);
  t.is(marker.VersionId, middle);
  t.is((await headOrNone(dst, bucket, 'k'))?.VersionId, newer);
  t.is((await putReplica(bucket, 'k', oldest, 'oldest')).VersionId, oldest);
  t.deepEqual(await versionsAt(dst, bucket, 'k'), [
    { id: newer, latest: true, marker: false },
    { id: middle, latest: false, marker: true },
    { id: older, latest: false, marker: false },
    { id: oldest, latest: false, marker: false },
  ]);
  await deleteReplica(bucket, 'k', newest);
  t.is(await headOrNone(dst, bucket, 'k'), undefined, 'the newest marker hides the key');
  t.is((await objectBytes(dst, bucket, 'k').catch(() => Buffer.from('none'))).toString(), 'none');
  t.is((await versionsAt(dst, bucket, 'k'))[0]?.id, newest);
});

test.serial('a second write of an id: same bytes succeed, other bytes are refused', async (t) => {
  const [first, second] = (await versionIds(2)) as [string, string];
  const bucket = await newBucket(dst, 'ids-again');
  await setVersioning(dst, bucket);
  await putReplica(bucket, 'k', first, 'the bytes');
  t.is((await putReplica(bucket, 'k', first, 'the bytes')).VersionId, first, 'idempotent');
  const other = await s3Failure(putReplica(bucket, 'k', first, 'THE BYTES'));
  t.is(other.status, 400);
  t.is(other.name, 'InvalidRequest');
  t.is((await versionsAt(dst, bucket, 'k')).length, 1);
  t.is((await objectBytes(dst, bucket, 'k')).toString(), 'the bytes');
  // A marker under the id of a version, or a version under a marker's id: refused too.
  t.is((await s3Failure(deleteReplica(bucket, 'k', first))).name, 'InvalidRequest');
  await deleteReplica(bucket, 'k', second);
  t.is((await deleteReplica(bucket, 'k', second)).VersionId, second, 'a marker again: fine');
  t.is((await s3Failure(putReplica(bucket, 'k', second, 'x'))).name, 'InvalidRequest');
});

test.serial('the id is honoured only on a permitted replica with a hangar id', async (t) => {
  const [id] = (await versionIds(1)) as [string];
  const bucket = await newBucket(dst, 'ids-refused');
  await setVersioning(dst, bucket);
  const put = (client: S3Client, key: string) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));

  const alone = clientWith({ 'x-hangar-source-version-id': id });
  const withoutReplica = await s3Failure(put(alone, 'alone'));
  t.is(withoutReplica.status, 400);
  t.is(withoutReplica.name, 'InvalidArgument');
  alone.destroy();

  const malformed = replicaOf('not-a-version-id');
  t.is((await s3Failure(put(malformed, 'malformed'))).name, 'InvalidArgument');
  malformed.destroy();

  const reader = await createKey(destination, `ids-reader-${process.pid}`);
  await grant(destination, bucket, reader, 'read');
  const readerClient = clientWith(
    { 'x-hangar-replica': 'true', 'x-hangar-source-version-id': id },
    reader,
  );
  t.is((await s3Failure(put(readerClient, 'denied'))).name, 'AccessDenied');
  readerClient.destroy();
  t.is(await headOrNone(dst, bucket, 'denied'), undefined);

  // A bucket without versioning Enabled gives its own id (null here), as before.
  const plain = await newBucket(dst, 'ids-plain');
  const replica = replicaOf(id);
  await replica.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x' }));
  replica.destroy();
  t.is((await headOrNone(dst, plain, 'k'))?.VersionId, undefined);
});

test.serial(
  'hangar → hangar: same ids and order; the repair pass restores a lost old version',
  async (t) => {
    const from = await newBucket(src, 'ids-src');
    const to = await newBucket(dst, 'ids-dst');
    await setVersioning(src, from);
    await setVersioning(dst, to);
    await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
    await replicateTo(src, from, [ruleTo(to)]);
    for (const body of ['one', 'two', 'three']) {
      await src.send(new PutObjectCommand({ Bucket: from, Key: 'k', Body: body }));
      await statusBecomes(src, from, 'k', 'COMPLETED');
    }
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'gone', Body: 'x' }));
    await statusBecomes(src, from, 'gone', 'COMPLETED');
    await src.send(new DeleteObjectCommand({ Bucket: from, Key: 'gone' }));
    await eventually('the marker at the destination', async () =>
      (await headOrNone(dst, to, 'gone')) === undefined ? true : undefined,
    );
    const sourceVersions = await versionsAt(src, from, 'k');
    t.is(sourceVersions.length, 3);
    t.deepEqual(await versionsAt(dst, to, 'k'), sourceVersions);
    t.deepEqual(await versionsAt(dst, to, 'gone'), await versionsAt(src, from, 'gone'));

    // The oldest version lost at the destination: the repair pass sends it again, and it takes
    // its place behind the newer ones.
    const oldest = sourceVersions[2]?.id ?? '';
    await dst.send(new DeleteObjectCommand({ Bucket: to, Key: 'k', VersionId: oldest }));
    t.is((await versionsAt(dst, to, 'k')).length, 2);
    await repairAndWait(source);
    await eventually('the old version back', async () =>
      (await versionsAt(dst, to, 'k')).length === 3 ? true : undefined,
    );
    t.deepEqual(await versionsAt(dst, to, 'k'), sourceVersions);
    t.is((await objectBytes(dst, to, 'k')).toString(), 'three');
    const head = await headOrNone(src, from, 'k', oldest);
    t.is(head?.ReplicationStatus, 'COMPLETED');
  },
);
