import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  useServer,
} from '../helpers/server.js';

const KIB = 1024;
const MIB = 1024 * KIB;

// Several shards: uploads of different keys live on different shards, and listings merge them.
const suite = useServer(test, { shards: 4 });

// Seeds differ per test so no two tests (or parts) share block contents.
let seedCounter = 1000;
function body(length: number): Buffer {
  return randomBytesSeeded(length, ++seedCounter);
}

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

/** The ETag S3 gives a multipart object: md5 of the concatenated binary part md5s, "-N". */
function multipartEtag(parts: Buffer[]): string {
  const digest = createHash('md5')
    .update(Buffer.concat(parts.map(md5)))
    .digest('hex');
  return `"${digest}-${parts.length}"`;
}

async function create(bucket: string, key: string): Promise<string> {
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  if (created.UploadId === undefined) throw new Error('no UploadId');
  return created.UploadId;
}

async function uploadPart(
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  bytes: Buffer,
): Promise<CompletedPart> {
  const out = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: bytes,
    }),
  );
  return { PartNumber: partNumber, ETag: out.ETag };
}

function complete(bucket: string, key: string, uploadId: string, parts: CompletedPart[]) {
  return suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

/** A syntactically valid upload id that no upload has. */
const UNKNOWN_UPLOAD_ID = '0000018f00000000deadbeefdeadbeef';

// ---------------------------------------------------------------------------------------------
// The whole flow

test('create, upload 3 parts, list, complete: bytes, ETag, size and GET by part number', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-flow');
  const key = 'dir/flow object.bin';
  const parts = [body(5 * MIB), body(5 * MIB), body(MIB + 7)];
  const whole = Buffer.concat(parts);

  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  t.is(created.Bucket, bucket);
  t.is(created.Key, key);
  t.truthy(created.UploadId);
  const uploadId = created.UploadId!;

  const completed: CompletedPart[] = [];
  for (const [index, bytes] of parts.entries()) {
    const part = await uploadPart(bucket, key, uploadId, index + 1, bytes);
    t.is(part.ETag, `"${md5(bytes).toString('hex')}"`, `part ${index + 1} ETag is its MD5`);
    completed.push(part);
  }

  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
  );
  t.is(listed.$metadata.httpStatusCode, 200);
  t.is(listed.Bucket, bucket);
  t.is(listed.Key, key);
  t.is(listed.UploadId, uploadId);
  t.false(listed.IsTruncated);
  t.deepEqual(
    listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
    parts.map((bytes, i) => [i + 1, completed[i]?.ETag, bytes.length]),
  );
  for (const part of listed.Parts ?? []) t.true(part.LastModified instanceof Date);

  const done = await complete(bucket, key, uploadId, completed);
  t.is(done.$metadata.httpStatusCode, 200);
  t.is(done.Bucket, bucket);
  t.is(done.Key, key);
  const expectedEtag = multipartEtag(parts);
  t.is(done.ETag, expectedEtag);

  t.true((await objectBytes(suite.s3, bucket, key)).equals(whole), 'GET is byte-identical');
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  t.is(head.ContentLength, whole.length);
  t.is(head.ETag, expectedEtag);

  let offset = 0;
  for (const [index, bytes] of parts.entries()) {
    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: index + 1 }),
    );
    t.is(got.$metadata.httpStatusCode, 206, `part ${index + 1} answers 206`);
    t.is(got.PartsCount, 3);
    t.is(got.ContentLength, bytes.length);
    t.is(got.ContentRange, `bytes ${offset}-${offset + bytes.length - 1}/${whole.length}`);
    t.is(got.ETag, expectedEtag);
    const received = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
    t.true(received.equals(bytes), `part ${index + 1} bytes`);
    offset += bytes.length;
  }
  const headPart = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 3 }),
  );
  t.is(headPart.PartsCount, 3);
  t.is(headPart.ContentLength, MIB + 7);

  const beyond = await s3Failure(
    suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 4 })),
  );
  t.is(beyond.name, 'InvalidPartNumber');
  t.is(beyond.status, 416);

  // The upload is gone once completed.
  const after = await s3Failure(
    suite.s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
  );
  t.is(after.name, 'NoSuchUpload');
  t.is(after.status, 404);
});

test('content type, content headers and metadata given at create appear on the object', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-meta');
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'meta',
      ContentType: 'application/x-multipart-test',
      ContentDisposition: 'attachment; filename="m.bin"',
      ContentLanguage: 'de',
      CacheControl: 'max-age=60',
      ContentEncoding: 'identity',
      Metadata: { colour: 'blue', 'two-words': 'hello world' },
    }),
  );
  const uploadId = created.UploadId!;
  // UploadPart headers are not the object's: a content type sent with a part must not win.
  const bytes = body(1000);
  const out = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'meta',
      UploadId: uploadId,
      PartNumber: 1,
      Body: bytes,
      ContentLength: bytes.length,
    }),
  );
  await complete(bucket, 'meta', uploadId, [{ PartNumber: 1, ETag: out.ETag }]);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta' }));
  t.is(head.ContentType, 'application/x-multipart-test');
  t.is(head.ContentDisposition, 'attachment; filename="m.bin"');
  t.is(head.ContentLanguage, 'de');
  t.is(head.CacheControl, 'max-age=60');
  t.is(head.ContentEncoding, 'identity');
  t.deepEqual(head.Metadata, { colour: 'blue', 'two-words': 'hello world' });
  t.is(head.ContentLength, 1000);
  t.is(head.ETag, multipartEtag([bytes]));

  // Without a content type, the object gets S3's default.
  const plainId = await create(bucket, 'plain');
  const part = await uploadPart(bucket, 'plain', plainId, 1, body(10));
  await complete(bucket, 'plain', plainId, [part]);
  const plain = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(plain.ContentType, 'binary/octet-stream');
  t.deepEqual(plain.Metadata, {});
});

test('re-uploading a part replaces it', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-replace');
  const uploadId = await create(bucket, 'k');
  const first = body(5 * MIB);
  const second = body(2 * MIB + 1);
  const replacement = body(5 * MIB + 3);
  const oldPart1 = await uploadPart(bucket, 'k', uploadId, 1, first);
  const part2 = await uploadPart(bucket, 'k', uploadId, 2, second);
  const part1 = await uploadPart(bucket, 'k', uploadId, 1, replacement);
  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }),
  );
  t.deepEqual(
    listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
    [
      [1, part1.ETag, replacement.length],
      [2, part2.ETag, second.length],
    ],
  );
  // The replaced part's ETag no longer completes the upload.
  const stale = await s3Failure(complete(bucket, 'k', uploadId, [oldPart1, part2]));
  t.is(stale.name, 'InvalidPart');
  t.is(stale.status, 400);
  const done = await complete(bucket, 'k', uploadId, [part1, part2]);
  t.is(done.ETag, multipartEtag([replacement, second]));
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(Buffer.concat([replacement, second])));
});

test('parts uploaded concurrently complete correctly', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-concurrent');
  const uploadId = await create(bucket, 'parallel');
  const parts = [0, 1, 2, 3, 4, 5].map((i) => body(i === 5 ? 777_777 : 5 * MIB + i * 1000));
  // In reverse order too, so the last part lands first.
  const uploaded = await Promise.all(
    parts.map((bytes, i) => uploadPart(bucket, 'parallel', uploadId, i + 1, bytes)).reverse(),
  );
  uploaded.reverse();
  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'parallel', UploadId: uploadId }),
  );
  t.deepEqual(
    listed.Parts?.map((p) => [p.PartNumber, p.Size]),
    parts.map((bytes, i) => [i + 1, bytes.length]),
  );
  const done = await complete(bucket, 'parallel', uploadId, uploaded);
  t.is(done.ETag, multipartEtag(parts));
  t.true((await objectBytes(suite.s3, bucket, 'parallel')).equals(Buffer.concat(parts)));
});

test('a completed object can be overwritten by another multipart upload of the same key', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-overwrite');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: body(3 * MIB) }));
  // Two uploads of one key in flight at once: each completes independently, the last one wins.
  const a = await create(bucket, 'o');
  const b = await create(bucket, 'o');
  t.not(a, b);
  const aBytes = body(MIB);
  const bBytes = body(2 * MIB + 9);
  const aPart = await uploadPart(bucket, 'o', a, 1, aBytes);
  const bPart = await uploadPart(bucket, 'o', b, 1, bBytes);
  await complete(bucket, 'o', a, [aPart]);
  t.true((await objectBytes(suite.s3, bucket, 'o')).equals(aBytes));
  await complete(bucket, 'o', b, [bPart]);
  t.true((await objectBytes(suite.s3, bucket, 'o')).equals(bBytes));
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'o' }));
  t.is(head.ETag, multipartEtag([bBytes]));
});

// ---------------------------------------------------------------------------------------------
// Errors

test('a part smaller than 5 MiB that is not the last fails with EntityTooSmall', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-small');
  const uploadId = await create(bucket, 'small');
  const small = body(5 * MIB - 1);
  const last = body(100);
  const p1 = await uploadPart(bucket, 'small', uploadId, 1, small);
  const p2 = await uploadPart(bucket, 'small', uploadId, 2, last);
  const failure = await s3Failure(complete(bucket, 'small', uploadId, [p1, p2]));
  t.is(failure.name, 'EntityTooSmall');
  t.is(failure.status, 400);
  // The upload survives a failed completion; one small part alone is a valid (last) part.
  const done = await complete(bucket, 'small', uploadId, [p2]);
  t.is(done.ETag, multipartEtag([last]));
  t.true((await objectBytes(suite.s3, bucket, 'small')).equals(last));
});

test('a wrong ETag or a part never uploaded fails with InvalidPart', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-invalid-part');
  const uploadId = await create(bucket, 'k');
  const bytes = [body(5 * MIB), body(10)];
  const p1 = await uploadPart(bucket, 'k', uploadId, 1, bytes[0]!);
  const p2 = await uploadPart(bucket, 'k', uploadId, 2, bytes[1]!);

  const wrongEtag = await s3Failure(
    complete(bucket, 'k', uploadId, [p1, { PartNumber: 2, ETag: `"${'0'.repeat(32)}"` }]),
  );
  t.is(wrongEtag.name, 'InvalidPart');
  t.is(wrongEtag.status, 400);

  // Part 1's ETag given for part 2.
  const swapped = await s3Failure(
    complete(bucket, 'k', uploadId, [p1, { PartNumber: 2, ETag: p1.ETag }]),
  );
  t.is(swapped.name, 'InvalidPart');

  const missing = await s3Failure(
    complete(bucket, 'k', uploadId, [p1, { PartNumber: 3, ETag: p2.ETag }]),
  );
  t.is(missing.name, 'InvalidPart');
  t.is(missing.status, 400);

  // ETags are accepted with or without quotes.
  const done = await complete(bucket, 'k', uploadId, [
    p1,
    { PartNumber: 2, ETag: p2.ETag?.replaceAll('"', '') },
  ]);
  t.is(done.ETag, multipartEtag(bytes));
});

test('parts out of order fail with InvalidPartOrder', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-order');
  const uploadId = await create(bucket, 'k');
  const p1 = await uploadPart(bucket, 'k', uploadId, 1, body(5 * MIB));
  const p2 = await uploadPart(bucket, 'k', uploadId, 2, body(5 * MIB));
  const descending = await s3Failure(complete(bucket, 'k', uploadId, [p2, p1]));
  t.is(descending.name, 'InvalidPartOrder');
  t.is(descending.status, 400);
  const repeated = await s3Failure(complete(bucket, 'k', uploadId, [p1, p1]));
  t.is(repeated.name, 'InvalidPartOrder');
  t.is(repeated.status, 400);
  // Still completable afterwards.
  const done = await complete(bucket, 'k', uploadId, [p1, p2]);
  t.is(done.$metadata.httpStatusCode, 200);
});

test('an unknown upload id is NoSuchUpload for UploadPart, ListParts, Complete and Abort', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-unknown');
  // A real upload of another key: its id must not work for this key either.
  const otherId = await create(bucket, 'other');
  for (const uploadId of [UNKNOWN_UPLOAD_ID, 'not-an-upload-id', otherId]) {
    const cases: Array<[string, Promise<unknown>]> = [
      [
        'UploadPart',
        suite.s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'k',
            UploadId: uploadId,
            PartNumber: 1,
            Body: body(100),
          }),
        ),
      ],
      [
        'ListParts',
        suite.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId })),
      ],
      [
        'CompleteMultipartUpload',
        complete(bucket, 'k', uploadId, [{ PartNumber: 1, ETag: `"${'1'.repeat(32)}"` }]),
      ],
      [
        'AbortMultipartUpload',
        suite.s3.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }),
        ),
      ],
    ];
    for (const [action, promise] of cases) {
      const failure = await s3Failure(promise);
      t.is(failure.name, 'NoSuchUpload', `${action} with ${uploadId}`);
      t.is(failure.status, 404, `${action} with ${uploadId}`);
    }
  }
  // The other key's upload is untouched by all that.
  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'other', UploadId: otherId }),
  );
  t.deepEqual(listed.Parts ?? [], []);
});

test('part numbers outside 1..10000 fail with InvalidArgument', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-part-number');
  const uploadId = await create(bucket, 'k');
  for (const partNumber of [0, 10001]) {
    const failure = await s3Failure(
      suite.s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'k',
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body(10),
        }),
      ),
    );
    t.is(failure.name, 'InvalidArgument', `part ${partNumber}`);
    t.is(failure.status, 400, `part ${partNumber}`);
  }
  const inComplete = await s3Failure(
    complete(bucket, 'k', uploadId, [{ PartNumber: 10001, ETag: `"${'1'.repeat(32)}"` }]),
  );
  t.is(inComplete.name, 'InvalidArgument');
  t.is(inComplete.status, 400);
  // The bounds themselves are valid part numbers.
  const low = await uploadPart(bucket, 'k', uploadId, 1, body(5 * MIB));
  const high = await uploadPart(bucket, 'k', uploadId, 10000, body(10));
  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }),
  );
  t.deepEqual(
    listed.Parts?.map((p) => p.PartNumber),
    [1, 10000],
  );
  const done = await complete(bucket, 'k', uploadId, [low, high]);
  t.is(done.$metadata.httpStatusCode, 200);
});

test('completing an upload twice fails with NoSuchUpload and leaves the object intact', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-twice');
  const uploadId = await create(bucket, 'k');
  const bytes = body(3 * MIB + 1);
  const part = await uploadPart(bucket, 'k', uploadId, 1, bytes);
  await complete(bucket, 'k', uploadId, [part]);
  const again = await s3Failure(complete(bucket, 'k', uploadId, [part]));
  t.is(again.name, 'NoSuchUpload');
  t.is(again.status, 404);
  const late = await s3Failure(
    suite.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        PartNumber: 2,
        Body: body(5),
      }),
    ),
  );
  t.is(late.name, 'NoSuchUpload');
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(bytes));
});

test('after Abort the upload is gone: ListParts, UploadPart and Complete fail with NoSuchUpload', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-abort');
  const uploadId = await create(bucket, 'k');
  const part = await uploadPart(bucket, 'k', uploadId, 1, body(2 * MIB));
  const aborted = await suite.s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }),
  );
  t.is(aborted.$metadata.httpStatusCode, 204);
  const list = await s3Failure(
    suite.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId })),
  );
  t.is(list.name, 'NoSuchUpload');
  t.is(list.status, 404);
  const put = await s3Failure(
    suite.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        PartNumber: 2,
        Body: body(5),
      }),
    ),
  );
  t.is(put.name, 'NoSuchUpload');
  const done = await s3Failure(complete(bucket, 'k', uploadId, [part]));
  t.is(done.name, 'NoSuchUpload');
  const again = await s3Failure(
    suite.s3.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }),
    ),
  );
  t.is(again.name, 'NoSuchUpload');
  t.is(again.status, 404);
  const head = await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(head.status, 404, 'no object was created');
});

// ---------------------------------------------------------------------------------------------
// ListMultipartUploads

interface Created {
  key: string;
  uploadId: string;
}

/** Uploads in S3's listing order: key in UTF-8 byte order, then initiation order. */
function listingOrder(uploads: Created[]): Created[] {
  return uploads
    .map((upload, index) => ({ upload, index }))
    .sort(
      (a, b) =>
        Buffer.compare(Buffer.from(a.upload.key), Buffer.from(b.upload.key)) || a.index - b.index,
    )
    .map(({ upload }) => upload);
}

async function createUploads(bucket: string, keys: string[]): Promise<Created[]> {
  const created: Created[] = [];
  // One after another: initiation order is creation order.
  for (const key of keys) created.push({ key, uploadId: await create(bucket, key) });
  return created;
}

const LISTED_KEYS = ['c', 'b/2', 'a', 'Z', 'b/1', 'c', 'd/e/f', 'é', 'z', 'ü/x', 'a b', 'c'];

test('ListMultipartUploads lists every upload in key order, then initiation order', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-list-all');
  const created = await createUploads(bucket, LISTED_KEYS);
  const expected = listingOrder(created);
  const listed = await suite.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  t.is(listed.Bucket, bucket);
  t.false(listed.IsTruncated);
  t.is(listed.MaxUploads, 1000);
  t.deepEqual(
    listed.Uploads?.map((u) => ({ key: u.Key, uploadId: u.UploadId })),
    expected,
  );
  for (const upload of listed.Uploads ?? []) {
    t.true(upload.Initiated instanceof Date);
    t.is(upload.StorageClass, 'STANDARD');
  }
  t.deepEqual(listed.CommonPrefixes ?? [], []);
});

for (const pageSize of [1, 2]) {
  test(`ListMultipartUploads pages of ${pageSize} via NextKeyMarker/NextUploadIdMarker cover every upload once`, async (t) => {
    const bucket = await newBucket(suite.s3, `mpu-list-page${pageSize}`);
    const expected = listingOrder(await createUploads(bucket, LISTED_KEYS));
    const seen: Created[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const out = await suite.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          MaxUploads: pageSize,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      t.is(out.MaxUploads, pageSize);
      t.is(out.KeyMarker ?? '', keyMarker ?? '');
      t.is(out.UploadIdMarker ?? '', uploadIdMarker ?? '');
      const uploads = out.Uploads ?? [];
      t.true(uploads.length <= pageSize);
      seen.push(...uploads.map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' })));
      if (!out.IsTruncated) break;
      t.is(uploads.length, pageSize, 'a truncated page is full');
      const last = uploads[uploads.length - 1];
      t.is(out.NextKeyMarker, last?.Key);
      t.is(out.NextUploadIdMarker, last?.UploadId);
      keyMarker = out.NextKeyMarker;
      uploadIdMarker = out.NextUploadIdMarker;
    }
    t.deepEqual(seen, expected);
  });
}

test('ListMultipartUploads with a key marker alone starts after every upload of that key', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-list-keymarker');
  const created = await createUploads(bucket, LISTED_KEYS);
  const expected = listingOrder(created);
  const afterC = expected.filter((u) => Buffer.compare(Buffer.from(u.key), Buffer.from('c')) > 0);
  const out = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: 'c' }),
  );
  t.deepEqual(
    out.Uploads?.map((u) => ({ key: u.Key, uploadId: u.UploadId })),
    afterC,
    'uploads of key "c" itself are not listed without an upload id marker',
  );
  // With an upload id marker, the key's later uploads are listed.
  const cUploads = expected.filter((u) => u.key === 'c');
  const out2 = await suite.s3.send(
    new ListMultipartUploadsCommand({
      Bucket: bucket,
      KeyMarker: 'c',
      UploadIdMarker: cUploads[0]?.uploadId,
    }),
  );
  t.deepEqual(
    out2.Uploads?.map((u) => ({ key: u.Key, uploadId: u.UploadId })),
    [...cUploads.slice(1), ...afterC],
  );
});

test('ListMultipartUploads with Prefix and Delimiter', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-list-prefix');
  const expected = listingOrder(await createUploads(bucket, LISTED_KEYS));
  const pairs = (
    uploads: Array<{ Key?: string | undefined; UploadId?: string | undefined }> | undefined,
  ) => (uploads ?? []).map((u) => ({ key: u.Key, uploadId: u.UploadId }));

  const prefixed = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'b/' }),
  );
  t.is(prefixed.Prefix, 'b/');
  t.deepEqual(
    pairs(prefixed.Uploads),
    expected.filter((u) => u.key.startsWith('b/')),
  );

  const rolled = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: '/' }),
  );
  t.is(rolled.Delimiter, '/');
  t.deepEqual(
    pairs(rolled.Uploads),
    expected.filter((u) => !u.key.includes('/')),
  );
  t.deepEqual(
    rolled.CommonPrefixes?.map((p) => p.Prefix),
    ['b/', 'd/', 'ü/'],
  );

  const nested = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'd/', Delimiter: '/' }),
  );
  t.deepEqual(pairs(nested.Uploads), []);
  t.deepEqual(
    nested.CommonPrefixes?.map((p) => p.Prefix),
    ['d/e/'],
  );

  const inside = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'b/', Delimiter: '/' }),
  );
  t.deepEqual(
    pairs(inside.Uploads),
    expected.filter((u) => u.key.startsWith('b/')),
  );
  t.deepEqual(inside.CommonPrefixes ?? [], []);

  const none = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'nope' }),
  );
  t.deepEqual(none.Uploads ?? [], []);
  t.false(none.IsTruncated);

  // Paging one entry at a time with a delimiter: each upload and each common prefix once.
  const uploads: Array<{ key: string | undefined; uploadId: string | undefined }> = [];
  const prefixes: Array<string | undefined> = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await suite.s3.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Delimiter: '/',
        MaxUploads: 1,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    const entries = (out.Uploads?.length ?? 0) + (out.CommonPrefixes?.length ?? 0);
    t.true(entries <= 1);
    uploads.push(...pairs(out.Uploads));
    prefixes.push(...(out.CommonPrefixes ?? []).map((p) => p.Prefix));
    if (!out.IsTruncated) break;
    t.truthy(out.NextKeyMarker);
    keyMarker = out.NextKeyMarker;
    uploadIdMarker = out.NextUploadIdMarker;
  }
  t.deepEqual(uploads, pairs(rolled.Uploads));
  t.deepEqual(prefixes, ['b/', 'd/', 'ü/']);
});

test('completed and aborted uploads disappear from ListMultipartUploads', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-list-gone');
  const created = await createUploads(bucket, ['x', 'x', 'y/1', 'z']);
  const [x1, x2, y1, z] = created as [Created, Created, Created, Created];
  const part = await uploadPart(bucket, 'x', x1.uploadId, 1, body(100));
  await complete(bucket, 'x', x1.uploadId, [part]);
  await suite.s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'y/1', UploadId: y1.uploadId }),
  );
  const listed = await suite.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  t.deepEqual(
    listed.Uploads?.map((u) => ({ key: u.Key, uploadId: u.UploadId })),
    [x2, z],
  );
  const rolled = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: '/' }),
  );
  t.deepEqual(rolled.CommonPrefixes ?? [], [], 'no prefix is left for the aborted y/1');
  await suite.s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'x', UploadId: x2.uploadId }),
  );
  await suite.s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'z', UploadId: z.uploadId }),
  );
  const empty = await suite.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  t.deepEqual(empty.Uploads ?? [], []);
  t.false(empty.IsTruncated);
});

// ---------------------------------------------------------------------------------------------
// ListParts pagination

test('ListParts pages with MaxParts and PartNumberMarker / NextPartNumberMarker', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-list-parts');
  const uploadId = await create(bucket, 'k');
  const numbers = [1, 2, 3, 5, 8, 13, 9999];
  const etags = new Map<number, string | undefined>();
  // Uploaded out of order: the listing is by part number regardless.
  for (const n of [...numbers].reverse())
    etags.set(n, (await uploadPart(bucket, 'k', uploadId, n, body(50 + n))).ETag);

  const seen: number[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await suite.s3.send(
      new ListPartsCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        MaxParts: 2,
        PartNumberMarker: marker,
      }),
    );
    t.is(out.MaxParts, 2);
    t.is(out.PartNumberMarker ?? '0', marker ?? '0');
    const parts = out.Parts ?? [];
    t.true(parts.length <= 2);
    for (const part of parts) {
      t.is(part.ETag, etags.get(part.PartNumber ?? 0));
      t.is(part.Size, 50 + (part.PartNumber ?? 0));
      seen.push(part.PartNumber ?? 0);
    }
    if (!out.IsTruncated) break;
    t.is(parts.length, 2, 'a truncated page is full');
    t.is(out.NextPartNumberMarker, String(parts[parts.length - 1]?.PartNumber));
    marker = out.NextPartNumberMarker;
  }
  t.deepEqual(seen, numbers);

  // A marker between part numbers starts at the next one.
  const fromFour = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId, PartNumberMarker: '4' }),
  );
  t.deepEqual(
    fromFour.Parts?.map((p) => p.PartNumber),
    [5, 8, 13, 9999],
  );
  t.false(fromFour.IsTruncated);
});

// ---------------------------------------------------------------------------------------------
// UploadPartCopy

function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key)}`;
}

test('UploadPartCopy copies byte ranges of a multi-block object and a whole inline object', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-copy');
  const big = body(7 * MIB + 5);
  const small = body(KIB);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/big', Body: big }));
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/small', Body: small }));
  const uploadId = await create(bucket, 'assembled');

  // Part 1: an unaligned range crossing block boundaries, 5 MiB + 10 bytes.
  const start = 100_000;
  const range1 = big.subarray(start, start + 5 * MIB + 10);
  const copy1 = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: uploadId,
      PartNumber: 1,
      CopySource: copySource(bucket, 'src/big'),
      CopySourceRange: `bytes=${start}-${start + range1.length - 1}`,
    }),
  );
  t.is(copy1.$metadata.httpStatusCode, 200);
  t.is(copy1.CopyPartResult?.ETag, `"${md5(range1).toString('hex')}"`);
  t.true(copy1.CopyPartResult?.LastModified instanceof Date);

  // Part 2: the whole big object (no range), so ≥ 5 MiB.
  const copy2 = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: uploadId,
      PartNumber: 2,
      CopySource: copySource(bucket, 'src/big'),
    }),
  );
  t.is(copy2.CopyPartResult?.ETag, `"${md5(big).toString('hex')}"`);

  // Part 3: the last 3 bytes plus more of the big object, via a range ending on its last byte.
  const range3 = big.subarray(big.length - MIB - 3);
  const copy3 = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: uploadId,
      PartNumber: 3,
      CopySource: copySource(bucket, 'src/big'),
      CopySourceRange: `bytes=${big.length - range3.length}-${big.length - 1}`,
    }),
  );
  t.is(copy3.CopyPartResult?.ETag, `"${md5(range3).toString('hex')}"`);

  // Part 3 replaced: copy-uploaded parts can be replaced like any part. Then part 4: inline source.
  const copy3b = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: uploadId,
      PartNumber: 3,
      CopySource: copySource(bucket, 'src/big'),
      CopySourceRange: 'bytes=5-5242884',
    }),
  );
  const range3b = big.subarray(5, 5242885);
  t.is(copy3b.CopyPartResult?.ETag, `"${md5(range3b).toString('hex')}"`);
  const copy4 = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: uploadId,
      PartNumber: 4,
      CopySource: copySource(bucket, 'src/small'),
    }),
  );
  t.is(copy4.CopyPartResult?.ETag, `"${md5(small).toString('hex')}"`);

  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'assembled', UploadId: uploadId }),
  );
  t.deepEqual(
    listed.Parts?.map((p) => p.Size),
    [range1.length, big.length, range3b.length, small.length],
  );

  const parts = [range1, big, range3b, small];
  const done = await complete(
    bucket,
    'assembled',
    uploadId,
    [copy1, copy2, copy3b, copy4].map((c, i) => ({
      PartNumber: i + 1,
      ETag: c.CopyPartResult?.ETag,
    })),
  );
  t.is(done.ETag, multipartEtag(parts));
  t.true((await objectBytes(suite.s3, bucket, 'assembled')).equals(Buffer.concat(parts)));
  // The sources are untouched.
  t.true((await objectBytes(suite.s3, bucket, 'src/big')).equals(big));
  t.true((await objectBytes(suite.s3, bucket, 'src/small')).equals(small));
});

test('UploadPartCopy from another bucket, and from a multipart object', async (t) => {
  const sourceBucket = await newBucket(suite.s3, 'mpu-copy-src');
  const bucket = await newBucket(suite.s3, 'mpu-copy-dst');
  // A multipart source: the copy reads across its parts.
  const srcId = await create(sourceBucket, 'mp');
  const srcParts = [body(5 * MIB), body(MIB + 1)];
  const sp1 = await uploadPart(sourceBucket, 'mp', srcId, 1, srcParts[0]!);
  const sp2 = await uploadPart(sourceBucket, 'mp', srcId, 2, srcParts[1]!);
  await complete(sourceBucket, 'mp', srcId, [sp1, sp2]);
  const source = Buffer.concat(srcParts);

  const uploadId = await create(bucket, 'copied');
  const range = source.subarray(5 * MIB - 1000, 5 * MIB + 1000);
  const copied = await suite.s3.send(
    new UploadPartCopyCommand({
      Bucket: bucket,
      Key: 'copied',
      UploadId: uploadId,
      PartNumber: 1,
      CopySource: copySource(sourceBucket, 'mp'),
      CopySourceRange: `bytes=${5 * MIB - 1000}-${5 * MIB + 999}`,
    }),
  );
  t.is(copied.CopyPartResult?.ETag, `"${md5(range).toString('hex')}"`);
  await complete(bucket, 'copied', uploadId, [
    { PartNumber: 1, ETag: copied.CopyPartResult?.ETag },
  ]);
  t.true((await objectBytes(suite.s3, bucket, 'copied')).equals(range));
});

test('UploadPartCopy errors: conditions, bad ranges, missing source, unknown upload', async (t) => {
  const bucket = await newBucket(suite.s3, 'mpu-copy-errors');
  const src = body(3 * MIB + 5);
  const put = await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: src }));
  const uploadId = await create(bucket, 'dst');
  const copy = (extra: Partial<ConstructorParameters<typeof UploadPartCopyCommand>[0]>) =>
    suite.s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'dst',
        UploadId: uploadId,
        PartNumber: 1,
        CopySource: copySource(bucket, 'src'),
        ...extra,
      }),
    );
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
  const lastModified = head.LastModified ?? new Date();
  const past = new Date(lastModified.getTime() - 60_000);
  const future = new Date(lastModified.getTime() + 60_000);

  const conditions: Array<
    [string, Partial<ConstructorParameters<typeof UploadPartCopyCommand>[0]>]
  > = [
    ['if-match other', { CopySourceIfMatch: `"${'a'.repeat(32)}"` }],
    ['if-none-match same', { CopySourceIfNoneMatch: put.ETag }],
    ['if-unmodified-since past', { CopySourceIfUnmodifiedSince: past }],
    ['if-modified-since last-modified', { CopySourceIfModifiedSince: lastModified }],
  ];
  for (const [what, extra] of conditions) {
    const failure = await s3Failure(copy(extra));
    t.is(failure.name, 'PreconditionFailed', what);
    t.is(failure.status, 412, what);
  }

  for (const range of ['bytes=5-', 'bytes=-5', 'bytes 0-5', 'bytes=0-5,7-9', 'lines=0-5']) {
    const failure = await s3Failure(copy({ CopySourceRange: range }));
    t.is(failure.name, 'InvalidArgument', range);
    t.is(failure.status, 400, range);
  }

  for (const range of [`bytes=0-${src.length}`, `bytes=${src.length}-${src.length + 10}`]) {
    const failure = await s3Failure(copy({ CopySourceRange: range }));
    t.is(failure.name, 'InvalidRange', range);
    t.is(failure.status, 416, range);
  }

  const missing = await s3Failure(copy({ CopySource: copySource(bucket, 'no-such-key') }));
  t.is(missing.name, 'NoSuchKey');
  t.is(missing.status, 404);

  const missingBucket = await s3Failure(copy({ CopySource: 'no-such-bucket-mpu/src' }));
  t.is(missingBucket.name, 'NoSuchBucket');
  t.is(missingBucket.status, 404);

  const unknownUpload = await s3Failure(copy({ UploadId: UNKNOWN_UPLOAD_ID }));
  t.is(unknownUpload.name, 'NoSuchUpload');
  t.is(unknownUpload.status, 404);

  const badPart = await s3Failure(copy({ PartNumber: 10001 }));
  t.is(badPart.name, 'InvalidArgument');

  // None of the failures stored a part; matching conditions copy.
  const listed = await suite.s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'dst', UploadId: uploadId }),
  );
  t.deepEqual(listed.Parts ?? [], []);
  const ok = await copy({
    CopySourceIfMatch: put.ETag,
    CopySourceIfNoneMatch: `"${'b'.repeat(32)}"`,
    CopySourceIfModifiedSince: past,
    CopySourceIfUnmodifiedSince: future,
    CopySourceRange: 'bytes=0-0',
  });
  t.is(ok.CopyPartResult?.ETag, `"${md5(src.subarray(0, 1)).toString('hex')}"`);
});
