import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { crc32c } from '@node-rs/crc32';
import test from 'ava';
import { newBucket, randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

const suite = useServer(test);
/** Sends no checksum of its own unless an operation requires one. */
let s3NoDefault: S3Client;
test.before(() => {
  s3NoDefault = suite.server.client(undefined, {
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

// ---------------------------------------------------------------------------------------------
// Expected values, computed here independently of the server

async function digest(algorithm: Algorithm, data: Uint8Array): Promise<Buffer> {
  switch (algorithm) {
    case 'CRC32':
      return uint32(crc32(data));
    case 'CRC32C':
      return uint32(crc32c(Buffer.from(data)));
    case 'CRC64NVME': {
      const crc = new Crc64Nvme();
      crc.update(data);
      return Buffer.from(await crc.digest());
    }
    case 'SHA1':
      return createHash('sha1').update(data).digest();
    case 'SHA256':
      return createHash('sha256').update(data).digest();
  }
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

async function b64(algorithm: Algorithm, data: Uint8Array): Promise<string> {
  return (await digest(algorithm, data)).toString('base64');
}

/** `Checksum<ALG>` of an SDK output. */
function checksumOf(output: object, algorithm: Algorithm): string | undefined {
  return (output as Record<string, unknown>)[`Checksum${algorithm}`] as string | undefined;
}

function checksumField(algorithm: Algorithm, value: string): Record<string, string> {
  return { [`Checksum${algorithm}`]: value };
}

function codeOf(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

async function bodyOf(bucket: string, key: string): Promise<Buffer> {
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
}

// ---------------------------------------------------------------------------------------------
// PutObject, GetObject, HeadObject

for (const algorithm of ALGORITHMS) {
  test(`PutObject with ChecksumAlgorithm ${algorithm} (aws-chunked trailer): stored, returned by GET and HEAD`, async (t) => {
    const bucket = await newBucket(suite.s3, `ck-trailer-${algorithm.toLowerCase()}`);
    const data = randomBytesSeeded(70 * KIB + 3, 11);
    const expected = await b64(algorithm, data);
    const client = suite.server.client();
    const sent: Array<Record<string, string>> = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        // A stream body makes the SDK send the checksum as a trailer of an aws-chunked body.
        Body: Readable.from([data.subarray(0, 30_000), data.subarray(30_000)]),
        ContentLength: data.length,
        ChecksumAlgorithm: algorithm,
      }),
    );
    t.is(sent[0]?.['x-amz-trailer'], `x-amz-checksum-${algorithm.toLowerCase()}`);
    t.regex(sent[0]?.['x-amz-content-sha256'] ?? '', /^STREAMING-/);
    t.is(checksumOf(put, algorithm), expected);
    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }),
    );
    t.is(checksumOf(got, algorithm), expected);
    t.is(got.ChecksumType, 'FULL_OBJECT');
    t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(data));
    const head = await suite.s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }),
    );
    t.is(checksumOf(head, algorithm), expected);
    t.is(head.ChecksumType, 'FULL_OBJECT');
    // Without checksum mode no checksum is sent.
    const plain = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
    t.is(checksumOf(plain, algorithm), undefined);
  });

  test(`PutObject with a precomputed x-amz-checksum-${algorithm.toLowerCase()} header`, async (t) => {
    const bucket = await newBucket(suite.s3, `ck-header-${algorithm.toLowerCase()}`);
    for (const [key, size] of [
      ['small', 1000],
      ['blocks', 1 * MIB + 17],
    ] as const) {
      const data = randomBytesSeeded(size, size);
      const expected = await b64(algorithm, data);
      const put = await suite.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: data,
          ...checksumField(algorithm, expected),
        }),
      );
      t.is(checksumOf(put, algorithm), expected, key);
      const head = await suite.s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      t.is(checksumOf(head, algorithm), expected, key);
      t.is(head.ChecksumType, 'FULL_OBJECT');
      t.true((await bodyOf(bucket, key)).equals(data), key);
    }
  });

  test(`a wrong ${algorithm} value is BadDigest 400 and stores nothing`, async (t) => {
    const bucket = await newBucket(suite.s3, `ck-bad-${algorithm.toLowerCase()}`);
    const data = randomBytesSeeded(40 * KIB, 5);
    const wrong = await b64(algorithm, Buffer.from('something else'));
    const err = await s3Failure(
      suite.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'new',
          Body: data,
          ...checksumField(algorithm, wrong),
        }),
      ),
    );
    t.is(err.name, 'BadDigest');
    t.is(err.status, 400);
    const missing = await s3Failure(
      suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'new' })),
    );
    t.is(missing.status, 404);
    // An overwrite with a wrong value leaves the old object.
    const old = Buffer.from('the old object');
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old', Body: old }));
    const again = await s3Failure(
      suite.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'old',
          Body: data,
          ...checksumField(algorithm, wrong),
        }),
      ),
    );
    t.is(again.name, 'BadDigest');
    t.true((await bodyOf(bucket, 'old')).equals(old));
    const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    t.deepEqual(
      (listed.Contents ?? []).map((o) => o.Key),
      ['old'],
    );
  });

  test(`a Range GET of a ${algorithm} object returns no checksum`, async (t) => {
    const bucket = await newBucket(suite.s3, `ck-range-${algorithm.toLowerCase()}`);
    const data = randomBytesSeeded(64 * KIB, 9);
    await suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: data,
        ...checksumField(algorithm, await b64(algorithm, data)),
      }),
    );
    const got = await s3NoDefault.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Range: 'bytes=100-2099',
        ChecksumMode: 'ENABLED',
      }),
    );
    t.is(got.ContentLength, 2000);
    t.is(checksumOf(got, algorithm), undefined);
    t.is(got.ChecksumType, undefined);
    t.true(
      Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(data.subarray(100, 2100)),
    );
  });
}

test('two different checksum headers are InvalidRequest', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-two');
  const body = Buffer.from('hello world');
  const res = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/k`,
    body,
    headers: {
      'x-amz-checksum-crc32': await b64('CRC32', body),
      'x-amz-checksum-sha256': await b64('SHA256', body),
    },
  });
  t.is(res.status, 400);
  t.is(codeOf(await res.text()), 'InvalidRequest');
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
});

test('a malformed checksum value is InvalidRequest', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-malformed');
  const body = Buffer.from('hello world');
  const values: Array<[string, string]> = [
    ['x-amz-checksum-crc32c', 'not base64!'],
    // Valid base64, wrong digest size (3 bytes for a 4-byte CRC).
    ['x-amz-checksum-crc32', 'AAAA'],
    ['x-amz-checksum-crc64nvme', await b64('CRC32', body)],
    ['x-amz-checksum-sha1', await b64('SHA256', body)],
    ['x-amz-checksum-sha256', ''],
  ];
  for (const [name, value] of values) {
    const res = await signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}/k`,
      body,
      headers: { [name]: value },
    });
    t.is(res.status, 400, `${name}: ${value}`);
    t.is(codeOf(await res.text()), 'InvalidRequest', `${name}: ${value}`);
  }
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
});

// ---------------------------------------------------------------------------------------------
// Multipart

interface Combo {
  algorithm: Algorithm;
  type: ChecksumType | undefined;
  /** What the object's checksum type ends up as. */
  effective: ChecksumType;
}

const ALLOWED: Combo[] = [
  { algorithm: 'CRC32', type: undefined, effective: 'COMPOSITE' },
  { algorithm: 'CRC32', type: 'COMPOSITE', effective: 'COMPOSITE' },
  { algorithm: 'CRC32', type: 'FULL_OBJECT', effective: 'FULL_OBJECT' },
  { algorithm: 'CRC32C', type: 'COMPOSITE', effective: 'COMPOSITE' },
  { algorithm: 'CRC32C', type: 'FULL_OBJECT', effective: 'FULL_OBJECT' },
  { algorithm: 'CRC64NVME', type: undefined, effective: 'FULL_OBJECT' },
  { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', effective: 'FULL_OBJECT' },
  { algorithm: 'SHA1', type: 'COMPOSITE', effective: 'COMPOSITE' },
  { algorithm: 'SHA256', type: undefined, effective: 'COMPOSITE' },
  { algorithm: 'SHA256', type: 'COMPOSITE', effective: 'COMPOSITE' },
];

/** Uploads `parts` with the SDK computing each part's checksum; returns the Complete list. */
async function uploadParts(
  bucket: string,
  key: string,
  uploadId: string,
  algorithm: Algorithm,
  parts: readonly Buffer[],
): Promise<CompletedPart[]> {
  const completed: CompletedPart[] = [];
  for (const [i, part] of parts.entries()) {
    const uploaded = await suite.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body: part,
        ChecksumAlgorithm: algorithm,
      }),
    );
    completed.push({
      PartNumber: i + 1,
      ETag: uploaded.ETag,
      ...checksumField(algorithm, checksumOf(uploaded, algorithm) ?? ''),
    });
  }
  return completed;
}

async function expectedMultipart(
  algorithm: Algorithm,
  type: ChecksumType,
  parts: readonly Buffer[],
): Promise<string> {
  if (type === 'FULL_OBJECT') return b64(algorithm, Buffer.concat(parts));
  const digests = await Promise.all(parts.map((part) => digest(algorithm, part)));
  return `${await b64(algorithm, Buffer.concat(digests))}-${parts.length}`;
}

for (const combo of ALLOWED) {
  const label = `${combo.algorithm}${combo.type === undefined ? ' (default type)' : ` ${combo.type}`}`;
  test(`multipart ${label}: parts and object carry the expected checksums`, async (t) => {
    const bucket = await newBucket(suite.s3, `ck-mpu-${combo.algorithm.toLowerCase()}`);
    const parts = [randomBytesSeeded(5 * MIB, 21), randomBytesSeeded(300 * KIB + 7, 22)];
    const created = await suite.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mpu',
        ChecksumAlgorithm: combo.algorithm,
        ...(combo.type !== undefined ? { ChecksumType: combo.type } : {}),
      }),
    );
    t.is(created.ChecksumAlgorithm, combo.algorithm);
    t.is(created.ChecksumType, combo.effective);
    const uploadId = created.UploadId ?? '';
    const completedParts = await uploadParts(bucket, 'mpu', uploadId, combo.algorithm, parts);
    for (const [i, part] of parts.entries()) {
      t.is(checksumOf(completedParts[i] ?? {}, combo.algorithm), await b64(combo.algorithm, part));
    }
    const expected = await expectedMultipart(combo.algorithm, combo.effective, parts);
    const completed = await suite.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mpu',
        UploadId: uploadId,
        MultipartUpload: { Parts: completedParts },
      }),
    );
    t.is(checksumOf(completed, combo.algorithm), expected);
    t.is(completed.ChecksumType, combo.effective);
    const head = await suite.s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'mpu', ChecksumMode: 'ENABLED' }),
    );
    t.is(checksumOf(head, combo.algorithm), expected);
    t.is(head.ChecksumType, combo.effective);
    // GET with checksum mode: the SDK validates a full-object value against the body itself.
    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'mpu', ChecksumMode: 'ENABLED' }),
    );
    t.is(checksumOf(got, combo.algorithm), expected);
    t.true(
      Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(Buffer.concat(parts)),
    );
    // GET ?partNumber=1 with checksum mode answers the part's own checksum.
    const part1 = await s3NoDefault.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'mpu', PartNumber: 1, ChecksumMode: 'ENABLED' }),
    );
    t.is(part1.PartsCount, 2);
    t.is(
      checksumOf(part1, combo.algorithm),
      await b64(combo.algorithm, parts[0] ?? Buffer.alloc(0)),
    );

    const attributes = await suite.s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'mpu',
        ObjectAttributes: ['Checksum', 'ObjectParts', 'ObjectSize', 'ETag', 'StorageClass'],
      }),
    );
    // GetObjectAttributes shows a composite checksum without its "-<parts>" suffix.
    t.is(checksumOf(attributes.Checksum ?? {}, combo.algorithm), expected.replace(/-\d+$/, ''));
    t.is(attributes.Checksum?.ChecksumType, combo.effective);
    t.is(attributes.ObjectSize, Buffer.concat(parts).length);
    t.is(attributes.ETag, completed.ETag?.replaceAll('"', ''));
    t.is(attributes.StorageClass, 'STANDARD');
    t.is(attributes.ObjectParts?.TotalPartsCount, 2);
    if (combo.effective === 'COMPOSITE') {
      t.is(attributes.ObjectParts?.IsTruncated, false);
      t.deepEqual(
        attributes.ObjectParts?.Parts?.map((p) => [
          p.PartNumber,
          p.Size,
          checksumOf(p, combo.algorithm),
        ]),
        await Promise.all(
          parts.map(async (part, i) => [i + 1, part.length, await b64(combo.algorithm, part)]),
        ),
      );
    } else {
      t.is(attributes.ObjectParts?.Parts, undefined);
    }
  });
}

const REFUSED: Array<[Algorithm, ChecksumType]> = [
  ['CRC64NVME', 'COMPOSITE'],
  ['SHA1', 'FULL_OBJECT'],
  ['SHA256', 'FULL_OBJECT'],
];
for (const [algorithm, type] of REFUSED) {
  test(`CreateMultipartUpload with ${algorithm} ${type} is InvalidRequest`, async (t) => {
    const bucket = await newBucket(suite.s3, 'ck-mpu-refused');
    const err = await s3Failure(
      suite.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'k',
          ChecksumAlgorithm: algorithm as ChecksumAlgorithm,
          ChecksumType: type,
        }),
      ),
    );
    t.is(err.name, 'InvalidRequest');
    t.is(err.status, 400);
  });
}

test('a wrong part checksum in CompleteMultipartUpload is InvalidPart', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-mpu-wrongpart');
  const parts = [randomBytesSeeded(5 * MIB, 31), randomBytesSeeded(10 * KIB, 32)];
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ChecksumAlgorithm: 'SHA256' }),
  );
  const uploadId = created.UploadId ?? '';
  const completedParts = await uploadParts(bucket, 'k', uploadId, 'SHA256', parts);
  const wrong = completedParts.map((part, i) =>
    i === 1 ? { ...part, ChecksumSHA256: createHash('sha256').update('x').digest('base64') } : part,
  );
  const err = await s3Failure(
    suite.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        MultipartUpload: { Parts: wrong },
      }),
    ),
  );
  t.is(err.name, 'InvalidPart');
  t.is(err.status, 400);
  const missing = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
  );
  t.is(missing.status, 404);
  // The upload survives; the right list completes it.
  const completed = await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'k',
      UploadId: uploadId,
      MultipartUpload: { Parts: completedParts },
    }),
  );
  t.is(completed.ChecksumSHA256, await expectedMultipart('SHA256', 'COMPOSITE', parts));
});

test('an UploadPart without the checksum its upload was created with is InvalidRequest', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-mpu-nopart');
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ChecksumAlgorithm: 'SHA256' }),
  );
  const uploadId = created.UploadId ?? '';
  const none = await s3Failure(
    s3NoDefault.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        PartNumber: 1,
        Body: Buffer.from('part without checksum'),
      }),
    ),
  );
  t.is(none.name, 'InvalidRequest');
  t.is(none.status, 400);
  // Another algorithm than the upload's is refused too.
  const other = await s3Failure(
    suite.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        PartNumber: 1,
        Body: Buffer.from('part with crc32'),
        ChecksumAlgorithm: 'CRC32',
      }),
    ),
  );
  t.is(other.name, 'InvalidRequest');
});

test('GetObjectAttributes pages the parts of a composite upload with MaxParts and PartNumberMarker', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-attr-pages');
  const parts = [
    randomBytesSeeded(5 * MIB, 41),
    randomBytesSeeded(5 * MIB, 42),
    randomBytesSeeded(5 * MIB, 43),
    randomBytesSeeded(123, 44),
  ];
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ChecksumAlgorithm: 'CRC32C' }),
  );
  const uploadId = created.UploadId ?? '';
  const completedParts = await uploadParts(bucket, 'k', uploadId, 'CRC32C', parts);
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'k',
      UploadId: uploadId,
      MultipartUpload: { Parts: completedParts },
    }),
  );
  const expectedParts = await Promise.all(
    parts.map(async (part, i) => [i + 1, part.length, await b64('CRC32C', part)]),
  );
  const seen: unknown[] = [];
  let marker: string | undefined;
  const pages: Array<{ truncated: boolean | undefined; next: string | undefined }> = [];
  for (let page = 0; page < 5; page++) {
    const got = await suite.s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'k',
        ObjectAttributes: ['ObjectParts'],
        MaxParts: 3,
        ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
      }),
    );
    const op = got.ObjectParts;
    t.is(op?.TotalPartsCount, 4);
    t.is(op?.MaxParts, 3);
    t.is(String(op?.PartNumberMarker ?? '0'), marker ?? '0');
    seen.push(...(op?.Parts ?? []).map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32C]));
    pages.push({ truncated: op?.IsTruncated, next: op?.NextPartNumberMarker });
    // Only the requested attributes are returned.
    t.is(got.ETag, undefined);
    t.is(got.Checksum, undefined);
    t.is(got.ObjectSize, undefined);
    t.truthy(got.LastModified);
    if (op?.IsTruncated !== true) break;
    marker = String(op.NextPartNumberMarker);
  }
  t.deepEqual(pages, [
    { truncated: true, next: '3' },
    { truncated: false, next: '4' },
  ]);
  t.deepEqual(seen, expectedParts);
});

test('GetObjectAttributes of a single-part object and of a multipart object without checksum', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-attr-plain');
  const data = Buffer.from('hello world');
  const put = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: data, ChecksumAlgorithm: 'SHA1' }),
  );
  const single = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'single',
      ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'],
    }),
  );
  t.is(single.ETag, put.ETag?.replaceAll('"', ''));
  t.is(single.Checksum?.ChecksumSHA1, await b64('SHA1', data));
  t.is(single.Checksum?.ChecksumType, 'FULL_OBJECT');
  t.is(single.ObjectParts, undefined);
  t.is(single.ObjectSize, data.length);
  t.is(single.StorageClass, 'STANDARD');

  const created = await s3NoDefault.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }),
  );
  const parts = [randomBytesSeeded(5 * MIB, 51), randomBytesSeeded(10, 52)];
  const completedParts: CompletedPart[] = [];
  for (const [i, part] of parts.entries()) {
    const uploaded = await s3NoDefault.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'mpu',
        UploadId: created.UploadId,
        PartNumber: i + 1,
        Body: part,
      }),
    );
    completedParts.push({ PartNumber: i + 1, ETag: uploaded.ETag });
  }
  await s3NoDefault.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mpu',
      UploadId: created.UploadId,
      MultipartUpload: { Parts: completedParts },
    }),
  );
  const mpu = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'mpu',
      ObjectAttributes: ['Checksum', 'ObjectParts', 'ObjectSize'],
    }),
  );
  t.is(mpu.Checksum, undefined);
  t.is(mpu.ObjectParts?.TotalPartsCount, 2);
  t.is(mpu.ObjectParts?.Parts, undefined);
  t.is(mpu.ObjectSize, 5 * MIB + 10);
});

test('GetObjectAttributes errors: no attributes, an unknown attribute, a missing key, a version', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-attr-errors');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  for (const header of [undefined, '', 'ETag,Colour']) {
    const res = await signedFetch(suite.server.endpoint, {
      method: 'GET',
      path: `/${bucket}/k?attributes`,
      headers: header === undefined ? {} : { 'x-amz-object-attributes': header },
    });
    t.is(res.status, 400, String(header));
    t.is(codeOf(await res.text()), 'InvalidArgument', String(header));
  }
  const missing = await s3Failure(
    suite.s3.send(
      new GetObjectAttributesCommand({ Bucket: bucket, Key: 'nope', ObjectAttributes: ['ETag'] }),
    ),
  );
  t.is(missing.name, 'NoSuchKey');
  t.is(missing.status, 404);
  const versioned = await s3Failure(
    suite.s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: 'abc',
        ObjectAttributes: ['ETag'],
      }),
    ),
  );
  t.is(versioned.status, 400);
  t.is(versioned.name, 'InvalidArgument');
  t.is(versioned.message, 'Invalid version id specified');
  const nullVersion = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'k',
      VersionId: 'null',
      ObjectAttributes: ['ObjectSize'],
    }),
  );
  t.is(nullVersion.ObjectSize, 1);
});

// ---------------------------------------------------------------------------------------------
// DeleteObjects (a body checksum is required)

test('DeleteObjects with the SDK default checksum works; a wrong Content-MD5 is BadDigest', async (t) => {
  const bucket = await newBucket(suite.s3, 'ck-delete');
  for (const key of ['a', 'b', 'c']) {
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  }
  const deleted = await suite.s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] },
    }),
  );
  t.deepEqual((deleted.Deleted ?? []).map((d) => d.Key).sort(), ['a', 'b']);
  const body = Buffer.from(
    `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>c</Key></Object></Delete>`,
  );
  const res = await signedFetch(suite.server.endpoint, {
    method: 'POST',
    path: `/${bucket}?delete`,
    body,
    headers: {
      'content-md5': createHash('md5').update('something else').digest('base64'),
      'content-type': 'application/xml',
    },
  });
  t.is(res.status, 400);
  t.is(codeOf(await res.text()), 'BadDigest');
  const wrongCrc = await signedFetch(suite.server.endpoint, {
    method: 'POST',
    path: `/${bucket}?delete`,
    body,
    headers: { 'x-amz-checksum-crc32': await b64('CRC32', Buffer.from('other')) },
  });
  t.is(wrongCrc.status, 400);
  t.is(codeOf(await wrongCrc.text()), 'BadDigest');
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.deepEqual(
    (listed.Contents ?? []).map((o) => o.Key),
    ['c'],
  );
});
