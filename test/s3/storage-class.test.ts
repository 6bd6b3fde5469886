import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketInventoryConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  SelectObjectContentCommand,
  type StorageClass,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test from 'ava';
import { launchInventory, nextManifest, readReport } from '../helpers/inventory.js';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  useServer,
} from '../helpers/server.js';

const MIB = 1024 * 1024;

const suite = useServer(test);

async function put(
  bucket: string,
  key: string,
  storageClass?: string,
  body: string | Buffer = 'body',
) {
  return suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(storageClass !== undefined ? { StorageClass: storageClass as StorageClass } : {}),
    }),
  );
}

async function classOf(
  bucket: string,
  key: string,
  versionId?: string,
): Promise<string | undefined> {
  const head = await suite.s3.send(
    new HeadObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(versionId ? { VersionId: versionId } : {}),
    }),
  );
  return head.StorageClass;
}

test('PutObject stores the class; HEAD and GET show it unless STANDARD', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-put');
  await put(bucket, 'ia', 'STANDARD_IA');
  await put(bucket, 'std', 'STANDARD');
  await put(bucket, 'none');
  await put(bucket, 'ir', 'GLACIER_IR');
  t.is(await classOf(bucket, 'ia'), 'STANDARD_IA');
  t.is(await classOf(bucket, 'ir'), 'GLACIER_IR');
  t.is(await classOf(bucket, 'std'), undefined, 'AWS sends no header for STANDARD');
  t.is(await classOf(bucket, 'none'), undefined);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ia' }));
  t.is(got.StorageClass, 'STANDARD_IA');
  t.is(await got.Body?.transformToString(), 'body');
  // GLACIER_IR is read directly, no restore.
  t.is((await objectBytes(suite.s3, bucket, 'ir')).toString(), 'body');
});

test('an unknown class is 400 InvalidStorageClass on every write', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-bad');
  await put(bucket, 'src');
  const failures = [
    await s3Failure(put(bucket, 'k', 'COLD')),
    await s3Failure(
      suite.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'k',
          StorageClass: 'standard' as StorageClass,
        }),
      ),
    ),
    await s3Failure(
      suite.s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'k',
          CopySource: `${bucket}/src`,
          StorageClass: 'NOPE' as StorageClass,
        }),
      ),
    ),
  ];
  for (const failure of failures) {
    t.is(failure.status, 400);
    t.is(failure.name, 'InvalidStorageClass');
  }
  const head = await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(head.status, 404, 'nothing was written');
});

test('listings show each object and version class', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-list');
  await put(bucket, 'a', 'STANDARD_IA');
  await put(bucket, 'b');
  await put(bucket, 'c', 'DEEP_ARCHIVE', randomBytesSeeded(MIB));
  await put(bucket, 'd', 'ONEZONE_IA', randomBytesSeeded(300_000, 3));
  const expected = { a: 'STANDARD_IA', b: 'STANDARD', c: 'DEEP_ARCHIVE', d: 'ONEZONE_IA' };
  const v2 = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.deepEqual(
    Object.fromEntries((v2.Contents ?? []).map((o) => [o.Key, o.StorageClass])),
    expected,
  );
  const owners = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true }),
  );
  t.deepEqual(
    Object.fromEntries((owners.Contents ?? []).map((o) => [o.Key, o.StorageClass])),
    expected,
  );
  const v1 = await suite.s3.send(new ListObjectsCommand({ Bucket: bucket }));
  t.deepEqual(
    Object.fromEntries((v1.Contents ?? []).map((o) => [o.Key, o.StorageClass])),
    expected,
  );
  const versions = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  t.deepEqual(
    Object.fromEntries((versions.Versions ?? []).map((o) => [o.Key, o.StorageClass])),
    expected,
  );
});

test('a class survives tag and ACL rewrites of the record, and versions keep their own', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-versions');
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const first = await put(bucket, 'k', 'STANDARD_IA');
  const second = await put(bucket, 'k', 'GLACIER');
  await put(bucket, 'k');
  const listed = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const byId = Object.fromEntries(
    (listed.Versions ?? []).map((v) => [v.VersionId, v.StorageClass]),
  );
  t.is(byId[first.VersionId ?? ''], 'STANDARD_IA');
  t.is(byId[second.VersionId ?? ''], 'GLACIER');
  t.is(await classOf(bucket, 'k', first.VersionId), 'STANDARD_IA');
  t.is(await classOf(bucket, 'k'), undefined);
  // A tagging rewrites the current record: its class stays first and listed.
  await put(bucket, 'tagged', 'ONEZONE_IA');
  await suite.s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'tagged',
      Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
    }),
  );
  const v2 = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tagged' }));
  t.is(v2.Contents?.[0]?.StorageClass, 'ONEZONE_IA');
});

test('multipart: CreateMultipartUpload class in ListParts, ListMultipartUploads, the object', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-mpu');
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big', StorageClass: 'STANDARD_IA' }),
  );
  const plain = await suite.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'p' }));
  const uploadId = created.UploadId ?? '';
  const part = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'big',
      UploadId: uploadId,
      PartNumber: 1,
      Body: 'x',
    }),
  );
  const parts = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'big', UploadId: uploadId }),
  );
  t.is(parts.StorageClass, 'STANDARD_IA');
  const uploads = await suite.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  t.deepEqual(
    Object.fromEntries((uploads.Uploads ?? []).map((u) => [u.UploadId, u.StorageClass])),
    { [uploadId]: 'STANDARD_IA', [plain.UploadId ?? '']: 'STANDARD' },
  );
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'big',
      UploadId: uploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag ?? '' }] },
    }),
  );
  t.is(await classOf(bucket, 'big'), 'STANDARD_IA');
  const attributes = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'big',
      ObjectAttributes: ['StorageClass'],
    }),
  );
  t.is(attributes.StorageClass, 'STANDARD_IA');
});

test('CopyObject takes the request class, never the source one; in place may change only the class', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-copy');
  await put(bucket, 'ia', 'STANDARD_IA', randomBytesSeeded(200_000, 5));
  await suite.s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'plain', CopySource: `${bucket}/ia` }),
  );
  t.is(await classOf(bucket, 'plain'), undefined, 'a copy without the header is STANDARD');
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'oz',
      CopySource: `${bucket}/ia`,
      StorageClass: 'ONEZONE_IA',
    }),
  );
  t.is(await classOf(bucket, 'oz'), 'ONEZONE_IA');
  // In place, only the class changes: allowed.
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'ia',
      CopySource: `${bucket}/ia`,
      StorageClass: 'GLACIER_IR',
    }),
  );
  t.is(await classOf(bucket, 'ia'), 'GLACIER_IR');
  t.true((await objectBytes(suite.s3, bucket, 'ia')).equals(randomBytesSeeded(200_000, 5)));
  // In place with the same class changes nothing: AWS's 400.
  const same = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'ia',
        CopySource: `${bucket}/ia`,
        StorageClass: 'GLACIER_IR',
      }),
    ),
  );
  t.is(same.status, 400);
  t.is(same.name, 'InvalidRequest');
  // Back to STANDARD in place: the header counts as a change.
  await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'ia',
      CopySource: `${bucket}/ia`,
      StorageClass: 'STANDARD',
    }),
  );
  t.is(await classOf(bucket, 'ia'), undefined);
});

test('PostObject takes the x-amz-storage-class field', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-post');
  const post = async (storageClass: string) => {
    const { url, fields } = await createPresignedPost(
      suite.s3 as unknown as Parameters<typeof createPresignedPost>[0],
      {
        Bucket: bucket,
        Key: 'posted',
        Fields: { 'x-amz-storage-class': storageClass },
        Expires: 60,
      },
    );
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob(['posted body']), 'f.txt');
    return fetch(url, { method: 'POST', body: form });
  };
  const response = await post('REDUCED_REDUNDANCY');
  t.is(response.status, 204, await response.text());
  t.is(await classOf(bucket, 'posted'), 'REDUCED_REDUNDANCY');
  const bad = await post('FROZEN');
  t.is(bad.status, 400);
  t.regex(await bad.text(), /<Code>InvalidStorageClass<\/Code>/);
});

test('an unrestored GLACIER or DEEP_ARCHIVE object: HEAD works, reads are 403 InvalidObjectState', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-archive');
  await put(bucket, 'small', 'GLACIER');
  await put(bucket, 'large', 'DEEP_ARCHIVE', randomBytesSeeded(MIB));
  for (const [key, storageClass] of [
    ['small', 'GLACIER'],
    ['large', 'DEEP_ARCHIVE'],
  ] as const) {
    const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    t.is(head.StorageClass, storageClass);
    t.is(head.Restore, undefined);
    const get = await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    t.is(get.status, 403, key);
    t.is(get.name, 'InvalidObjectState');
    t.is((get.raw as { StorageClass?: string }).StorageClass, storageClass);
    const ranged = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-1' })),
    );
    t.is(ranged.name, 'InvalidObjectState');
    const copy = await s3Failure(
      suite.s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: `${key}-copy`,
          CopySource: `${bucket}/${key}`,
        }),
      ),
    );
    t.is(copy.status, 403);
    t.is(copy.name, 'InvalidObjectState');
  }
  const upload = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }),
  );
  const partCopy = await s3Failure(
    suite.s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: upload.UploadId ?? '',
        PartNumber: 1,
        CopySource: `${bucket}/large`,
      }),
    ),
  );
  t.is(partCopy.status, 403);
  t.is(partCopy.name, 'InvalidObjectState');
  // Changing the class in place copies from the source: refused too until restored (AWS).
  const inPlace = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'small',
        CopySource: `${bucket}/small`,
        StorageClass: 'STANDARD',
      }),
    ),
  );
  t.is(inPlace.name, 'InvalidObjectState');
  const attributes = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'large',
      ObjectAttributes: ['StorageClass', 'ObjectSize'],
    }),
  );
  t.is(attributes.StorageClass, 'DEEP_ARCHIVE');
  t.is(attributes.ObjectSize, MIB);
});

test('SelectObjectContent of an unrestored archived object is 403 InvalidObjectState', async (t) => {
  const bucket = await newBucket(suite.s3, 'sc-select');
  await put(bucket, 'rows.csv', 'GLACIER', 'a,b\n1,2\n');
  const failure = await s3Failure(
    suite.s3.send(
      new SelectObjectContentCommand({
        Bucket: bucket,
        Key: 'rows.csv',
        ExpressionType: 'SQL',
        Expression: 'SELECT * FROM S3Object',
        InputSerialization: { CSV: {} },
        OutputSerialization: { CSV: {} },
      }),
    ),
  );
  t.is(failure.status, 403);
  t.is(failure.name, 'InvalidObjectState');
});

test('inventory reports each version class', async (t) => {
  t.timeout(60_000);
  const source = await newBucket(suite.s3, 'sc-inv-src');
  const dest = await newBucket(suite.s3, 'sc-inv-dst');
  await put(source, 'ia', 'STANDARD_IA');
  await put(source, 'deep', 'DEEP_ARCHIVE');
  await put(source, 'plain');
  await suite.s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: source,
      Id: 'classes',
      InventoryConfiguration: {
        Id: 'classes',
        IsEnabled: true,
        Destination: {
          S3BucketDestination: { Bucket: `arn:aws:s3:::${dest}`, Format: 'CSV', Prefix: 'inv' },
        },
        Schedule: { Frequency: 'Daily' },
        IncludedObjectVersions: 'Current',
        OptionalFields: ['StorageClass'],
      },
    }),
  );
  await launchInventory(suite.server);
  const key = await nextManifest(suite.s3, dest, `inv/${source}/classes/`);
  const { manifest, rows } = await readReport(suite.s3, dest, key);
  t.is(manifest.fileSchema, 'Bucket, Key, StorageClass');
  t.deepEqual(Object.fromEntries(rows.map((row) => [row[1], row[2]])), {
    deep: 'DEEP_ARCHIVE',
    ia: 'STANDARD_IA',
    plain: 'STANDARD',
  });
});
