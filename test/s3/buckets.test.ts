import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { s3Failure, TestServer, useServer } from '../helpers/server.js';

const suite = useServer(test);

test('CreateBucket answers 200 with a Location header of /<bucket>', async (t) => {
  const created = await suite.s3.send(new CreateBucketCommand({ Bucket: 'create-ok' }));
  t.is(created.$metadata.httpStatusCode, 200);
  t.is(created.Location, '/create-ok');
  const head = await suite.s3.send(new HeadBucketCommand({ Bucket: 'create-ok' }));
  t.is(head.$metadata.httpStatusCode, 200);
});

// AWS answers 409 BucketAlreadyOwnedByYou in every region but us-east-1, where a legacy 200 is
// kept; hangar (like Garage and MinIO) always answers the 409.
test('CreateBucket on a bucket the caller already owns is BucketAlreadyOwnedByYou 409', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'create-twice' }));
  const failure = await s3Failure(
    suite.s3.send(new CreateBucketCommand({ Bucket: 'create-twice' })),
  );
  t.is(failure.name, 'BucketAlreadyOwnedByYou');
  t.is(failure.status, 409);
  t.is((failure.raw as { BucketName?: string }).BucketName, 'create-twice');
});

const invalidNames: Array<[string, string]> = [
  ['uppercase letters', 'Invalid-Upper'],
  ['two characters', 'ab'],
  ['64 characters', 'a'.repeat(64)],
  ['adjacent dots', 'a..b'],
  ['an IPv4 address', '192.168.5.4'],
  ['the xn-- prefix', 'xn--x'],
  ['an underscore', 'under_score'],
  ['a leading hyphen', '-leading'],
  ['a trailing dot', 'trailing.'],
  ['the -s3alias suffix', 'bucket-s3alias'],
];
for (const [what, name] of invalidNames) {
  test(`CreateBucket refuses a name with ${what} (InvalidBucketName 400)`, async (t) => {
    const failure = await s3Failure(suite.s3.send(new CreateBucketCommand({ Bucket: name })));
    t.is(failure.name, 'InvalidBucketName');
    t.is(failure.status, 400);
    // Nothing was created under that name.
    const listed = await suite.s3.send(new ListBucketsCommand({}));
    t.false((listed.Buckets ?? []).some((bucket) => bucket.Name === name));
  });
}

test('CreateBucket accepts names at the limits: 3 and 63 characters, dots and hyphens', async (t) => {
  for (const name of ['abc', `b${'x'.repeat(61)}z`, 'my.dotted-name.1']) {
    const created = await suite.s3.send(new CreateBucketCommand({ Bucket: name }));
    t.is(created.$metadata.httpStatusCode, 200, name);
    await suite.s3.send(new HeadBucketCommand({ Bucket: name }));
    await suite.s3.send(new DeleteBucketCommand({ Bucket: name }));
  }
});

// AWS itself answers InvalidLocationConstraint to an explicit 'us-east-1'; hangar, like Garage
// and MinIO, accepts a constraint naming its own region (clients such as Arrow always send one).
test('CreateBucket with a LocationConstraint of the server region is accepted; GetBucketLocation answers as for us-east-1', async (t) => {
  const created = await suite.s3.send(
    new CreateBucketCommand({
      Bucket: 'located-here',
      CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never },
    }),
  );
  t.is(created.$metadata.httpStatusCode, 200);
  const location = await suite.s3.send(new GetBucketLocationCommand({ Bucket: 'located-here' }));
  t.falsy(location.LocationConstraint);
  const head = await suite.s3.send(new HeadBucketCommand({ Bucket: 'located-here' }));
  t.is(head.BucketRegion, 'us-east-1');
});

test('CreateBucket with a LocationConstraint of another region is IllegalLocationConstraintException 400', async (t) => {
  const failure = await s3Failure(
    suite.s3.send(
      new CreateBucketCommand({
        Bucket: 'located-elsewhere',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    ),
  );
  t.is(failure.name, 'IllegalLocationConstraintException');
  t.is(failure.status, 400);
  const missing = await s3Failure(
    suite.s3.send(new HeadBucketCommand({ Bucket: 'located-elsewhere' })),
  );
  t.is(missing.status, 404);
});

test('CreateBucket with a malformed CreateBucketConfiguration body is MalformedXML 400', async (t) => {
  const response = await fetchRaw(
    await getSignedUrl(suite.s3, new CreateBucketCommand({ Bucket: 'malformed-config' })),
    'PUT',
    '<CreateBucketConfiguration><Loc',
  );
  t.is(response.status, 400);
  t.regex(await response.text(), /<Code>MalformedXML<\/Code>/);
  const missing = await s3Failure(
    suite.s3.send(new HeadBucketCommand({ Bucket: 'malformed-config' })),
  );
  t.is(missing.status, 404);
});

test('HeadBucket is 200 with x-amz-bucket-region on a bucket, 404 NotFound on a missing one', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'head-me' }));
  const head = await suite.s3.send(new HeadBucketCommand({ Bucket: 'head-me' }));
  t.is(head.$metadata.httpStatusCode, 200);
  t.is(head.BucketRegion, 'us-east-1');
  const failure = await s3Failure(suite.s3.send(new HeadBucketCommand({ Bucket: 'head-nobody' })));
  t.is(failure.name, 'NotFound');
  t.is(failure.status, 404);
});

test('GetBucketLocation answers an empty LocationConstraint for us-east-1, NoSuchBucket when missing', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'where-am-i' }));
  const location = await suite.s3.send(new GetBucketLocationCommand({ Bucket: 'where-am-i' }));
  t.is(location.$metadata.httpStatusCode, 200);
  t.falsy(location.LocationConstraint);
  const raw = await fetchRaw(
    await getSignedUrl(suite.s3, new GetBucketLocationCommand({ Bucket: 'where-am-i' })),
    'GET',
  );
  t.is(raw.status, 200);
  t.regex(await raw.text(), /<LocationConstraint[^>]*(\/>|><\/LocationConstraint>)/);
  const failure = await s3Failure(
    suite.s3.send(new GetBucketLocationCommand({ Bucket: 'nowhere-bucket' })),
  );
  t.is(failure.name, 'NoSuchBucket');
  t.is(failure.status, 404);
});

test('ListBuckets shows every created bucket once, sorted by name, with its CreationDate', async (t) => {
  // A separate server, so that other tests' buckets do not come and go under this one.
  const own = await TestServer.start();
  try {
    const client = own.client();
    const empty = await client.send(new ListBucketsCommand({}));
    t.deepEqual(empty.Buckets ?? [], []);
    // The root key is the account: its canonical id, named by the root key's name.
    t.is(empty.Owner?.ID, ROOT_CANONICAL_ID);
    t.is(empty.Owner?.DisplayName, 'root');
    const names = ['zulu-list', 'alpha-list', 'mike-list', 'alpha-list-2', 'alpha.list', '0-list'];
    const before = Date.now() - 2000;
    for (const name of names) await client.send(new CreateBucketCommand({ Bucket: name }));
    const after = Date.now() + 2000;
    const listed = await client.send(new ListBucketsCommand({}));
    t.is(listed.$metadata.httpStatusCode, 200);
    const listedNames = (listed.Buckets ?? []).map((bucket) => bucket.Name);
    t.deepEqual(listedNames, [...names].sort());
    for (const bucket of listed.Buckets ?? []) {
      t.true(bucket.CreationDate instanceof Date, `${bucket.Name} has a CreationDate`);
      const ms = bucket.CreationDate?.getTime() ?? 0;
      t.true(
        ms >= before && ms <= after,
        `${bucket.Name} created ${bucket.CreationDate?.toISOString()}`,
      );
    }
    await client.send(new DeleteBucketCommand({ Bucket: 'mike-list' }));
    const again = await client.send(new ListBucketsCommand({}));
    t.deepEqual(
      (again.Buckets ?? []).map((bucket) => bucket.Name),
      [...names].filter((name) => name !== 'mike-list').sort(),
    );
  } finally {
    await own.destroy();
  }
});

test('DeleteBucket answers 204 and the bucket is gone', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'delete-me' }));
  const deleted = await suite.s3.send(new DeleteBucketCommand({ Bucket: 'delete-me' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  const head = await s3Failure(suite.s3.send(new HeadBucketCommand({ Bucket: 'delete-me' })));
  t.is(head.status, 404);
  const list = await s3Failure(suite.s3.send(new ListObjectsV2Command({ Bucket: 'delete-me' })));
  t.is(list.name, 'NoSuchBucket');
  const put = await s3Failure(
    suite.s3.send(new PutObjectCommand({ Bucket: 'delete-me', Key: 'k', Body: 'v' })),
  );
  t.is(put.name, 'NoSuchBucket');
  t.is(put.status, 404);
  const listed = await suite.s3.send(new ListBucketsCommand({}));
  t.false((listed.Buckets ?? []).some((bucket) => bucket.Name === 'delete-me'));
});

test('DeleteBucket on a non-empty bucket is BucketNotEmpty 409, and deleting the objects lets it go', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'not-empty' }));
  const keys = ['one', 'two/three', 'four/five/six'];
  for (const key of keys) {
    await suite.s3.send(new PutObjectCommand({ Bucket: 'not-empty', Key: key, Body: key }));
  }
  const failure = await s3Failure(suite.s3.send(new DeleteBucketCommand({ Bucket: 'not-empty' })));
  t.is(failure.name, 'BucketNotEmpty');
  t.is(failure.status, 409);
  // Still there, objects intact.
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: 'not-empty', Key: 'two/three' }));
  t.is(await got.Body?.transformToString(), 'two/three');
  for (const key of keys.slice(0, 2)) {
    await suite.s3.send(new DeleteObjectCommand({ Bucket: 'not-empty', Key: key }));
  }
  const stillOne = await s3Failure(suite.s3.send(new DeleteBucketCommand({ Bucket: 'not-empty' })));
  t.is(stillOne.name, 'BucketNotEmpty');
  await suite.s3.send(new DeleteObjectCommand({ Bucket: 'not-empty', Key: 'four/five/six' }));
  const deleted = await suite.s3.send(new DeleteBucketCommand({ Bucket: 'not-empty' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
});

test('DeleteBucket on a missing bucket is NoSuchBucket 404', async (t) => {
  const failure = await s3Failure(
    suite.s3.send(new DeleteBucketCommand({ Bucket: 'never-existed' })),
  );
  t.is(failure.name, 'NoSuchBucket');
  t.is(failure.status, 404);
  t.is((failure.raw as { BucketName?: string }).BucketName, 'never-existed');
});

test('a deleted bucket can be re-created, empty: objects from before do not reappear', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'phoenix' }));
  const keys = Array.from({ length: 40 }, (_, i) => `old/${String(i).padStart(2, '0')}`);
  await Promise.all(
    keys.map((key) =>
      suite.s3.send(new PutObjectCommand({ Bucket: 'phoenix', Key: key, Body: key })),
    ),
  );
  await Promise.all(
    keys.map((key) => suite.s3.send(new DeleteObjectCommand({ Bucket: 'phoenix', Key: key }))),
  );
  await suite.s3.send(new DeleteBucketCommand({ Bucket: 'phoenix' }));

  const created = await suite.s3.send(new CreateBucketCommand({ Bucket: 'phoenix' }));
  t.is(created.$metadata.httpStatusCode, 200);
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'phoenix' }));
  t.is(listed.KeyCount, 0);
  t.deepEqual(listed.Contents ?? [], []);
  const gone = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: 'phoenix', Key: 'old/00' })),
  );
  t.is(gone.name, 'NoSuchKey');
  t.is(gone.status, 404);
  // And the new bucket works normally.
  await suite.s3.send(new PutObjectCommand({ Bucket: 'phoenix', Key: 'new', Body: 'fresh' }));
  const again = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'phoenix' }));
  t.deepEqual(
    (again.Contents ?? []).map((object) => object.Key),
    ['new'],
  );
  t.is(again.Contents?.[0]?.Size, 5);
});

test('CreationDate of a re-created bucket is the new creation time', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'reborn' }));
  const first = (await suite.s3.send(new ListBucketsCommand({}))).Buckets?.find(
    (b) => b.Name === 'reborn',
  );
  await suite.s3.send(new DeleteBucketCommand({ Bucket: 'reborn' }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'reborn' }));
  const second = (await suite.s3.send(new ListBucketsCommand({}))).Buckets?.find(
    (b) => b.Name === 'reborn',
  );
  t.truthy(first?.CreationDate);
  t.truthy(second?.CreationDate);
  t.true((second?.CreationDate?.getTime() ?? 0) > (first?.CreationDate?.getTime() ?? 0));
});

/** Fetches a presigned URL, to see the raw response; its body is unsigned, so it may be anything. */
function fetchRaw(url: string, method: string, body?: string): Promise<Response> {
  return fetch(url, { method, ...(body !== undefined ? { body } : {}) });
}
