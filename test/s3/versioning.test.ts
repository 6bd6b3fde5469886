import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

// Several shards: listings merge every shard's versions, deletes of many keys fan out.
const suite = useServer(test, { shards: 4 });

async function versionedBucket(prefix: string, status = 'Enabled'): Promise<string> {
  const bucket = await newBucket(suite.s3, prefix);
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: status as 'Enabled' },
    }),
  );
  return bucket;
}

async function put(bucket: string, key: string, body: string): Promise<string | undefined> {
  const out = await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return out.VersionId;
}

async function text(bucket: string, key: string, versionId?: string): Promise<string> {
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return (await got.Body?.transformToString()) ?? '';
}

/** The headers of a failed request's HTTP response. */
function headersOf(raw: unknown): Record<string, string> {
  return (raw as { $response?: { headers?: Record<string, string> } }).$response?.headers ?? {};
}

/** Every version and delete marker of a bucket, in listing order, from one request. */
async function allVersions(
  s3: S3Client,
  bucket: string,
): Promise<Array<{ key: string; id: string; latest: boolean; marker: boolean }>> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return inOrder(out);
}

/** Versions and markers of a page, merged back into listing order (the SDK splits them). */
function inOrder(
  out: ListObjectVersionsCommandOutput,
): Array<{ key: string; id: string; latest: boolean; marker: boolean }> {
  const all = [
    ...(out.Versions ?? []).map((v) => ({
      key: v.Key ?? '',
      id: v.VersionId ?? '',
      latest: v.IsLatest === true,
      marker: false,
      at: v.LastModified?.getTime() ?? 0,
    })),
    ...(out.DeleteMarkers ?? []).map((m) => ({
      key: m.Key ?? '',
      id: m.VersionId ?? '',
      latest: m.IsLatest === true,
      marker: true,
      at: m.LastModified?.getTime() ?? 0,
    })),
  ];
  // Keys ascending; within a key newest first, which the ids order (hangar's ids sort so).
  all.sort((a, b) =>
    a.key === b.key
      ? a.id === 'null' || b.id === 'null'
        ? b.at - a.at
        : a.id < b.id
          ? -1
          : 1
      : Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)),
  );
  return all.map(({ key, id, latest, marker }) => ({ key, id, latest, marker }));
}

// ---------------------------------------------------------------------------------------------
// Put/GetBucketVersioning

test('GetBucketVersioning: empty for a new bucket, then Enabled and Suspended', async (t) => {
  const bucket = await newBucket(suite.s3, 'ver-state');
  const fresh = await suite.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  t.is(fresh.Status, undefined);
  t.is(fresh.MFADelete, undefined);
  for (const status of ['Enabled', 'Suspended', 'Enabled'] as const) {
    await suite.s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: status },
      }),
    );
    const got = await suite.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    t.is(got.Status, status);
  }
});

test('PutBucketVersioning: MfaDelete Enabled is refused, a bad Status is MalformedXML', async (t) => {
  const bucket = await newBucket(suite.s3, 'ver-mfa');
  const mfa = await s3Failure(
    suite.s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' },
      }),
    ),
  );
  t.is(mfa.status, 400);
  t.is(mfa.name, 'InvalidRequest');
  const bad = await s3Failure(
    suite.s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Off' as 'Enabled' },
      }),
    ),
  );
  t.is(bad.status, 400);
  t.is(bad.name, 'MalformedXML');
  const state = await suite.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  t.is(state.Status, undefined, 'a refused configuration changes nothing');
});

// ---------------------------------------------------------------------------------------------
// Versions of a key

test('Enabled: each PUT is a new version; GET/HEAD by versionId; listings', async (t) => {
  const bucket = await versionedBucket('ver-put');
  const v1 = await put(bucket, 'k', 'one');
  const v2 = await put(bucket, 'k', 'two!');
  t.regex(v1 ?? '', /^[0-9a-f]{32}$/);
  t.regex(v2 ?? '', /^[0-9a-f]{32}$/);
  t.not(v1, v2);
  t.is(await text(bucket, 'k'), 'two!');
  t.is(await text(bucket, 'k', v1), 'one');
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(got.VersionId, v2);
  await got.Body?.transformToString();
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }),
  );
  t.is(head.VersionId, v1);
  t.is(head.ContentLength, 3);
  t.deepEqual(await allVersions(suite.s3, bucket), [
    { key: 'k', id: v2 ?? '', latest: true, marker: false },
    { key: 'k', id: v1 ?? '', latest: false, marker: false },
  ]);
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.deepEqual(
    listed.Contents?.map((c) => [c.Key, c.Size]),
    [['k', 4]],
  );
});

test('DeleteObject without versionId leaves a delete marker: 404 + x-amz-delete-marker', async (t) => {
  const bucket = await versionedBucket('ver-marker');
  const v1 = await put(bucket, 'k', 'one');
  const deleted = await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.true(deleted.DeleteMarker);
  const markerId = deleted.VersionId ?? '';
  t.regex(markerId, /^[0-9a-f]{32}$/);
  t.not(markerId, v1);

  const gone = await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(gone.status, 404);
  t.is(gone.name, 'NoSuchKey');
  t.is(headersOf(gone.raw)['x-amz-delete-marker'], 'true');
  t.is(headersOf(gone.raw)['x-amz-version-id'], markerId);

  const byId = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: markerId })),
  );
  t.is(byId.status, 405);
  t.is(byId.name, 'MethodNotAllowed');
  t.is(headersOf(byId.raw)['x-amz-delete-marker'], 'true');
  const headById = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: markerId })),
  );
  t.is(headById.status, 405);
  t.is(headersOf(headById.raw)['x-amz-delete-marker'], 'true');

  t.is(await text(bucket, 'k', v1), 'one', 'the old version is still there');
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.is(listed.KeyCount, 0, 'ListObjectsV2 hides a key whose latest version is a marker');
  t.deepEqual(await allVersions(suite.s3, bucket), [
    { key: 'k', id: markerId, latest: true, marker: true },
    { key: 'k', id: v1 ?? '', latest: false, marker: false },
  ]);

  // Removing the marker by id brings the object back.
  const unmarked = await suite.s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: markerId }),
  );
  t.true(unmarked.DeleteMarker);
  t.is(unmarked.VersionId, markerId);
  t.is(await text(bucket, 'k'), 'one');
});

test('DeleteObject with versionId removes that version for good; the next one is current', async (t) => {
  const bucket = await versionedBucket('ver-delete-id');
  const v1 = await put(bucket, 'k', 'one');
  const v2 = await put(bucket, 'k', 'two');
  const out = await suite.s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2 }),
  );
  t.is(out.VersionId, v2);
  t.not(out.DeleteMarker, true);
  t.is(await text(bucket, 'k'), 'one');
  const gone = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2 })),
  );
  t.is(gone.status, 404);
  t.is(gone.name, 'NoSuchVersion');
  t.deepEqual(await allVersions(suite.s3, bucket), [
    { key: 'k', id: v1 ?? '', latest: true, marker: false },
  ]);
  // Deleting a version that is not there (any more) still answers 204.
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2 }));
});

test('a malformed versionId is 400 InvalidArgument "Invalid version id specified"', async (t) => {
  const bucket = await versionedBucket('ver-bad-id');
  await put(bucket, 'k', 'x');
  for (const send of [
    () => suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'nope' })),
    () => suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'nope' })),
    () => suite.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k', VersionId: 'x' })),
  ]) {
    const failure = await s3Failure(send());
    t.is(failure.status, 400);
    t.is(failure.name, 'InvalidArgument');
    t.is(failure.message, 'Invalid version id specified');
  }
});

test('Suspended: PUT writes the null version, replacing it; Enabled versions stay', async (t) => {
  const bucket = await versionedBucket('ver-suspend');
  const v1 = await put(bucket, 'k', 'enabled');
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Suspended' },
    }),
  );
  t.is(await put(bucket, 'k', 'null one'), 'null');
  t.is(await put(bucket, 'k', 'null two'), 'null');
  t.is(await text(bucket, 'k'), 'null two');
  t.is(await text(bucket, 'k', 'null'), 'null two');
  t.is(await text(bucket, 'k', v1), 'enabled');
  t.deepEqual(
    (await allVersions(suite.s3, bucket)).map((v) => [v.id, v.latest]),
    [
      ['null', true],
      [v1, false],
    ],
  );
  // A delete under Suspended: a null delete marker replaces the null version.
  const deleted = await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.true(deleted.DeleteMarker);
  t.is(deleted.VersionId, 'null');
  t.deepEqual(await allVersions(suite.s3, bucket), [
    { key: 'k', id: 'null', latest: true, marker: true },
    { key: 'k', id: v1 ?? '', latest: false, marker: false },
  ]);
});

test('an object written before versioning is the null version once versioning is on', async (t) => {
  const bucket = await newBucket(suite.s3, 'ver-legacy');
  t.is(await put(bucket, 'old', 'from before'), undefined, 'no x-amz-version-id unversioned');
  const before = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  t.deepEqual(
    before.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size]),
    [['old', 'null', true, 11]],
  );
  const unversionedHead = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'old' }),
  );
  t.is(unversionedHead.VersionId, undefined, 'no x-amz-version-id in a never-versioned bucket');
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  // Still current, and now named: AWS answers x-amz-version-id: null for it.
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'old' }));
  t.is(head.VersionId, 'null');
  const get = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'old' }));
  t.is(get.VersionId, 'null');
  await get.Body?.transformToString();
  const v2 = await put(bucket, 'old', 'after');
  t.is(await text(bucket, 'old', 'null'), 'from before');
  t.deepEqual(
    (await allVersions(suite.s3, bucket)).map((v) => [v.id, v.latest]),
    [
      [v2, true],
      ['null', false],
    ],
  );
});

// ---------------------------------------------------------------------------------------------
// Other writes that make versions

test('CompleteMultipartUpload and CopyObject create versions; copy from a source version', async (t) => {
  const bucket = await versionedBucket('ver-writes');
  const v1 = await put(bucket, 'src', 'first source');
  await put(bucket, 'src', 'second source');
  const copied = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'dst',
      CopySource: `${bucket}/src?versionId=${v1}`,
    }),
  );
  t.regex(copied.VersionId ?? '', /^[0-9a-f]{32}$/);
  t.is(copied.CopySourceVersionId, v1);
  t.is(await text(bucket, 'dst'), 'first source');

  const upload = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dst' }),
  );
  const part = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'dst',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: 'multipart body',
    }),
  );
  const done = await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'dst',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  t.regex(done.VersionId ?? '', /^[0-9a-f]{32}$/);
  t.not(done.VersionId, copied.VersionId);
  t.is(await text(bucket, 'dst'), 'multipart body');
  t.is(await text(bucket, 'dst', copied.VersionId), 'first source');

  // Copying an older version onto its own key restores it as the newest version.
  const restored = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'src',
      CopySource: `${bucket}/src?versionId=${v1}`,
    }),
  );
  t.regex(restored.VersionId ?? '', /^[0-9a-f]{32}$/);
  t.is(await text(bucket, 'src'), 'first source');

  const badSource = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src?versionId=zz` }),
    ),
  );
  t.is(badSource.status, 400);
  t.is(badSource.name, 'InvalidArgument');
});

test('tagging and GetObjectAttributes of a version by versionId', async (t) => {
  const bucket = await versionedBucket('ver-tags');
  const v1 = await put(bucket, 'k', 'one');
  const v2 = await put(bucket, 'k', 'two22');
  const tagged = await suite.s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'k',
      VersionId: v1,
      Tagging: { TagSet: [{ Key: 'old', Value: 'yes' }] },
    }),
  );
  t.is(tagged.VersionId, v1);
  const old = await suite.s3.send(
    new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }),
  );
  t.deepEqual(old.TagSet, [{ Key: 'old', Value: 'yes' }]);
  t.is(old.VersionId, v1);
  const current = await suite.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(current.TagSet, []);
  t.is(current.VersionId, v2);
  const attributes = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'k',
      VersionId: v1,
      ObjectAttributes: ['ObjectSize'],
    }),
  );
  t.is(attributes.ObjectSize, 3);
  t.is(attributes.VersionId, v1);
});

// ---------------------------------------------------------------------------------------------
// Emptying a versioned bucket

test('DeleteBucket refuses while versions or markers remain; ListObjectVersions + DeleteObjects empties it', async (t) => {
  const bucket = await versionedBucket('ver-empty');
  for (let i = 0; i < 12; i++) await put(bucket, `key-${i % 4}`, `body ${i}`);
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'key-0' }));
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone-never-existed' }));
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.is(listed.KeyCount, 3);

  const refused = await s3Failure(suite.s3.send(new DeleteBucketCommand({ Bucket: bucket })));
  t.is(refused.status, 409);
  t.is(refused.name, 'BucketNotEmpty');

  // The boto3 `bucket.object_versions.delete()` sequence.
  const versions = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const entries = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].map((v) => ({
    Key: v.Key ?? '',
    VersionId: v.VersionId ?? '',
  }));
  t.is(entries.length, 14);
  const deleted = await suite.s3.send(
    new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: entries } }),
  );
  t.is(deleted.Deleted?.length, 14);
  t.is(deleted.Errors, undefined);
  const markers = deleted.Deleted?.filter((d) => d.DeleteMarker === true) ?? [];
  t.is(markers.length, 2);
  for (const marker of markers) t.is(marker.DeleteMarkerVersionId, marker.VersionId);
  t.deepEqual(await allVersions(suite.s3, bucket), []);
  await suite.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
});

test('DeleteObjects without VersionId in a versioned bucket creates markers', async (t) => {
  const bucket = await versionedBucket('ver-multi-marker');
  await put(bucket, 'a', 'a');
  await put(bucket, 'b', 'b');
  const out = await suite.s3.send(
    new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }),
  );
  const byKey = new Map(out.Deleted?.map((d) => [d.Key, d]));
  for (const key of ['a', 'b']) {
    const entry = byKey.get(key);
    t.true(entry?.DeleteMarker, key);
    t.regex(entry?.DeleteMarkerVersionId ?? '', /^[0-9a-f]{32}$/);
    t.is(entry?.VersionId, undefined);
  }
  t.is((await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 0);
});

// ---------------------------------------------------------------------------------------------
// Listing across shards

test('ListObjectVersions pages a few hundred versions across shards by every marker', async (t) => {
  const bucket = await versionedBucket('ver-list');
  const keys = Array.from(
    { length: 60 },
    (_, i) => `dir${i % 3}/key-${String(i).padStart(3, '0')}`,
  );
  for (let round = 0; round < 5; round++) {
    await Promise.all(keys.map((key) => put(bucket, key, `${key} round ${round}`)));
  }
  await Promise.all(
    keys
      .filter((_, i) => i % 7 === 0)
      .map((key) => suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
  );
  const whole = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const expected = inOrder(whole);
  t.is(expected.length, 300 + 9);
  t.false(whole.IsTruncated);
  // Keys ascending, each key's versions newest first with exactly one latest.
  for (let i = 1; i < expected.length; i++) {
    const [a, b] = [expected[i - 1], expected[i]];
    if (a === undefined || b === undefined) continue;
    t.true(a.key < b.key || (a.key === b.key && a.id < b.id && !b.latest), `order at ${i}`);
  }

  for (const maxKeys of [1, 7, 50]) {
    const paged: typeof expected = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await suite.s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          MaxKeys: maxKeys,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      const entries = inOrder(page);
      t.true(entries.length <= maxKeys);
      paged.push(...entries);
      if (page.IsTruncated !== true) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
      t.is(keyMarker, entries[entries.length - 1]?.key);
      t.is(versionIdMarker, entries[entries.length - 1]?.id);
    }
    t.deepEqual(paged, expected, `max-keys ${maxKeys}`);
  }

  // key-marker alone: after every version of that key.
  const after = await suite.s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: 'dir1/key-001' }),
  );
  t.deepEqual(
    inOrder(after),
    expected.filter((v) => v.key > 'dir1/key-001'),
  );

  // Prefix and delimiter: common prefixes once each, across shards.
  const rolled = await suite.s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/' }),
  );
  t.deepEqual(
    rolled.CommonPrefixes?.map((p) => p.Prefix),
    ['dir0/', 'dir1/', 'dir2/'],
  );
  t.is(rolled.Versions, undefined);
  const prefixed = await suite.s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'dir2/', MaxKeys: 1000 }),
  );
  t.deepEqual(
    inOrder(prefixed),
    expected.filter((v) => v.key.startsWith('dir2/')),
  );
  const paged = await suite.s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 2 }),
  );
  t.true(paged.IsTruncated);
  t.is(paged.NextKeyMarker, 'dir1/');
  const rest = await suite.s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/', KeyMarker: 'dir1/' }),
  );
  t.deepEqual(
    rest.CommonPrefixes?.map((p) => p.Prefix),
    ['dir2/'],
  );

  const noKeyMarker = await s3Failure(
    suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, VersionIdMarker: 'null' })),
  );
  t.is(noKeyMarker.status, 400);
  t.is(noKeyMarker.name, 'InvalidArgument');
});

test('ListObjectVersions with encoding-type url encodes keys', async (t) => {
  const bucket = await versionedBucket('ver-encode');
  await put(bucket, 'a b+c', 'x');
  const out = await suite.s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, EncodingType: 'url' }),
  );
  t.is(out.EncodingType, 'url');
  // The SDK hands url-encoded keys over as they came.
  t.is(out.Versions?.[0]?.Key, 'a%20b%2Bc');
});

test('3,000 versions across shards: pages of every size and every marker combination', async (t) => {
  t.timeout(240_000);
  const bucket = await newBucket(suite.s3, 'ver-3000');
  const keys = Array.from(
    { length: 500 },
    (_, i) => `k/${String((i * 7919) % 1000).padStart(4, '0')}`,
  );
  const inBatches = async (work: Array<() => Promise<unknown>>): Promise<void> => {
    for (let i = 0; i < work.length; i += 100)
      await Promise.all(work.slice(i, i + 100).map((w) => w()));
  };
  // Every 10th key has a null version from before versioning.
  await inBatches(keys.filter((_, i) => i % 10 === 0).map((key) => () => put(bucket, key, 'null')));
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  for (let round = 0; round < 6; round++) {
    await inBatches(
      keys
        .filter((_, i) => !(i % 10 === 0 && round === 5))
        .map((key) => () => put(bucket, key, `${key} ${round}`)),
    );
  }
  await inBatches(
    keys
      .filter((_, i) => i % 25 === 3)
      .map((key) => () => suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
  );

  const walk = async (
    maxKeys: number,
    start: { KeyMarker?: string | undefined; VersionIdMarker?: string | undefined } = {},
    pagesMax = Number.POSITIVE_INFINITY,
  ) => {
    const out: Array<{ key: string; id: string; latest: boolean; marker: boolean }> = [];
    let markers = start;
    for (let pages = 0; pages < pagesMax; pages++) {
      const page = await suite.s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: maxKeys, ...markers }),
      );
      const entries = inOrder(page);
      t.true(entries.length <= maxKeys);
      out.push(...entries);
      if (page.IsTruncated !== true) break;
      markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
    }
    return out;
  };
  const all = await walk(1000);
  t.is(all.length, 3000 + 20);
  t.is(new Set(all.map((v) => `${v.key} ${v.id}`)).size, all.length, 'no version twice');
  const latest = all.filter((v) => v.latest);
  t.is(latest.length, 500, 'one latest version per key');
  t.is(all.filter((v) => v.id === 'null').length, 50);
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1], all[i]];
    if (a !== undefined && b !== undefined) t.true(a.key <= b.key, `keys ascending at ${i}`);
  }
  for (const maxKeys of [333, 97]) t.deepEqual(await walk(maxKeys), all, `max-keys ${maxKeys}`);

  // Resuming after any version (the null ones included), and after any key.
  const positions = [0, 1, 5, 6, 7, 599, 1000, 1234, 2999, 3018, 3019];
  positions.push(all.findIndex((v) => v.id === 'null'));
  for (const i of positions) {
    const at = all[i];
    if (at === undefined) continue;
    t.deepEqual(
      await walk(50, { KeyMarker: at.key, VersionIdMarker: at.id }, 1),
      all.slice(i + 1, i + 51),
      `after ${at.key} ${at.id}`,
    );
    t.deepEqual(
      await walk(50, { KeyMarker: at.key }, 1),
      all.filter((v) => v.key > at.key).slice(0, 50),
      `after key ${at.key}`,
    );
  }
  // A key-marker between keys, and past the last key.
  t.deepEqual(
    await walk(40, { KeyMarker: 'k/0500x' }, 1),
    all.filter((v) => v.key > 'k/0500x').slice(0, 40),
  );
  t.deepEqual(await walk(40, { KeyMarker: 'k/9999' }, 1), []);
  // ListObjectsV2 sees the 500 keys less the 20 behind a delete marker.
  let listed = 0;
  let token: string | undefined;
  do {
    const page = await suite.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    listed += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token !== undefined);
  t.is(listed, 480);
});

test('HEAD of a current marker, ListObjects v1, UploadPartCopy and GET ?versionId=null', async (t) => {
  const bucket = await versionedBucket('ver-misc');
  const v1 = await put(bucket, 'src', 'part source v1');
  await put(bucket, 'src', 'part source v2');
  await put(bucket, 'gone', 'x');
  const marker = await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
  const head = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'gone' })),
  );
  t.is(head.status, 404);
  t.is(headersOf(head.raw)['x-amz-delete-marker'], 'true');
  t.is(headersOf(head.raw)['x-amz-version-id'], marker.VersionId);
  const v1List = await suite.s3.send(new ListObjectsCommand({ Bucket: bucket }));
  t.deepEqual(
    v1List.Contents?.map((c) => c.Key),
    ['src'],
  );

  const upload = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }),
  );
  const copied = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'mp',
      UploadId: upload.UploadId,
      PartNumber: 1,
      CopySource: `${bucket}/src?versionId=${v1}`,
    }),
  );
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mp',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult?.ETag }] },
    }),
  );
  t.is(await text(bucket, 'mp'), 'part source v1');

  const plain = await newBucket(suite.s3, 'ver-plain');
  await put(plain, 'k', 'plain');
  t.is(await text(plain, 'k', 'null'), 'plain');
  const missing = await s3Failure(
    suite.s3.send(
      new GetObjectCommand({
        Bucket: plain,
        Key: 'k',
        VersionId: 'ffffffffffffffff0000000000000000',
      }),
    ),
  );
  t.is(missing.status, 404);
  t.is(missing.name, 'NoSuchVersion');
  // DeleteObject ?versionId=null removes the object of a never-versioned bucket.
  await suite.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'k', VersionId: 'null' }));
  t.is((await suite.s3.send(new ListObjectsV2Command({ Bucket: plain }))).KeyCount, 0);
});

test('conditional writes in a versioned bucket judge the current object, not older versions', async (t) => {
  const bucket = await versionedBucket('ver-conditions');
  const first = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one', IfNoneMatch: '*' }),
  );
  t.regex(first.VersionId ?? '', /^[0-9a-f]{32}$/);
  const taken = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two', IfNoneMatch: '*' }),
    ),
  );
  t.is(taken.status, 412);
  t.is(taken.name, 'PreconditionFailed');
  const wrongEtag = await s3Failure(
    suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '"0000"' })),
  );
  t.is(wrongEtag.status, 412);
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: first.ETag }));
  // Behind a delete marker the key has no current object: If-None-Match: * succeeds again.
  const again = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'three', IfNoneMatch: '*' }),
  );
  t.not(again.VersionId, first.VersionId);
  t.is(await text(bucket, 'k'), 'three');
  t.is(await text(bucket, 'k', first.VersionId), 'one');
  t.is((await allVersions(suite.s3, bucket)).length, 3);

  // DeleteObject with a versionId and If-Match judges that version, not the current object.
  const notThatVersion = await s3Failure(
    suite.s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: first.VersionId,
        IfMatch: again.ETag,
      }),
    ),
  );
  t.is(notThatVersion.status, 412);
  t.is(notThatVersion.name, 'PreconditionFailed');
  t.is(await text(bucket, 'k', first.VersionId), 'one', 'a refused delete removes nothing');
  const gone = await s3Failure(
    suite.s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: '0'.repeat(32),
        IfMatch: '*',
      }),
    ),
  );
  t.is(gone.status, 404);
  t.is(gone.name, 'NoSuchKey');
  await suite.s3.send(
    new DeleteObjectCommand({
      Bucket: bucket,
      Key: 'k',
      VersionId: first.VersionId,
      IfMatch: first.ETag,
    }),
  );
  t.is((await allVersions(suite.s3, bucket)).length, 2);
});
