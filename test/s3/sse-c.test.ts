import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { plaintextPattern, storedContaining } from '../helpers/plaintext.js';
import {
  newBucket,
  randomBytesSeeded,
  s3Failure,
  TestServer,
  useServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** These tests speak plain HTTP: the operator's opt-in for SSE-C behind a TLS-terminating proxy. */
const SSE_C_OVER_HTTP = { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' };

const suite = useServer(test, { env: SSE_C_OVER_HTTP });

/** A customer key: 32 seeded bytes, base64 as the SDK takes it, and its MD5 as S3 echoes it. */
function customerKey(seed: number): { key: string; md5: string; bytes: Buffer } {
  const bytes = randomBytesSeeded(32, seed);
  return {
    key: bytes.toString('base64'),
    md5: createHash('md5').update(bytes).digest('base64'),
    bytes,
  };
}

const KEY_A = customerKey(101);
const KEY_B = customerKey(202);

/** The SDK's SSE-C request parameters for `key` (the SDK adds the key's MD5 itself). */
function sse(key: { key: string }): { SSECustomerAlgorithm: string; SSECustomerKey: string } {
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.key };
}

/** The copy-source SSE-C parameters for `key`. */
function sourceSse(key: { key: string }): {
  CopySourceSSECustomerAlgorithm: string;
  CopySourceSSECustomerKey: string;
} {
  return { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key.key };
}

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

async function getBytes(
  bucket: string,
  key: string,
  extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {},
  client: S3Client = suite.s3,
): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
}

/** The `<Code>` of an S3 XML error body. */
function errorCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

/** Raw SSE-C headers (key and MD5 given explicitly, for the cases the SDK would not send). */
function rawSseHeaders(algorithm: string, keyBytes: Buffer, md5Of = keyBytes) {
  return {
    'x-amz-server-side-encryption-customer-algorithm': algorithm,
    'x-amz-server-side-encryption-customer-key': keyBytes.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5')
      .update(md5Of)
      .digest('base64'),
  };
}

// --- PutObject / GetObject / HeadObject ------------------------------------------------------

const sizes: Array<[string, number]> = [
  ['empty', 0],
  ['100 B (inline)', 100],
  ['16 KiB + 1 (one block)', 16 * KIB + 1],
  ['3 MiB + 17 (four blocks)', 3 * MIB + 17],
];
for (const [label, size] of sizes) {
  test(`SSE-C PutObject of ${label} reads back with the key, with S3's headers and ETag`, async (t) => {
    const bucket = await newBucket(suite.s3, 'ssec-put');
    const body = randomBytesSeeded(size, size + 7);
    const put = await suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: body, ...sse(KEY_A) }),
    );
    t.is(put.SSECustomerAlgorithm, 'AES256');
    t.is(put.SSECustomerKeyMD5, KEY_A.md5);
    t.regex(put.ETag ?? '', /^"[0-9a-f]{32}"$/);
    // The ETag of an SSE-C object must not be the MD5 of its data (that would leak it). For the
    // empty object there is nothing to leak, and AES-CTR of nothing is nothing.
    if (size > 0) t.not(put.ETag, `"${md5Hex(body)}"`, 'the ETag is not the MD5 of the data');

    const head = await suite.s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'obj', ...sse(KEY_A) }),
    );
    t.is(head.ContentLength, size);
    t.is(head.ETag, put.ETag);
    t.is(head.SSECustomerAlgorithm, 'AES256');
    t.is(head.SSECustomerKeyMD5, KEY_A.md5);

    const got = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'obj', ...sse(KEY_A) }),
    );
    t.is(got.SSECustomerAlgorithm, 'AES256');
    t.is(got.SSECustomerKeyMD5, KEY_A.md5);
    t.is(got.ETag, put.ETag);
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
    t.is(bytes.length, size);
    t.true(bytes.equals(body), 'GET with the key returns the bytes');

    if (size === 0) return;
    const ranges: Array<[string, string, number, number]> = [
      // [label, Range header, start, end exclusive]
      ['suffix', 'bytes=-33', Math.max(0, size - 33), size],
      ['first bytes', 'bytes=0-9', 0, Math.min(10, size)],
    ];
    if (size > 100) ranges.push(['inside a block, unaligned', 'bytes=17-50', 17, 51]);
    if (size > 16 * KIB) ranges.push(['mid block, unaligned', 'bytes=5003-16384', 5003, 16385]);
    if (size > 2 * MIB) {
      ranges.push([
        'across the 1 MiB block boundary',
        `bytes=${MIB - 7}-${MIB + 8}`,
        MIB - 7,
        MIB + 9,
      ]);
      ranges.push([
        'across two block boundaries',
        `bytes=${MIB - 1}-${2 * MIB}`,
        MIB - 1,
        2 * MIB + 1,
      ]);
      ranges.push(['open-ended tail', `bytes=${3 * MIB - 5}-`, 3 * MIB - 5, size]);
    }
    for (const [what, range, start, end] of ranges) {
      const part = await suite.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'obj', Range: range, ...sse(KEY_A) }),
      );
      t.is(part.$metadata.httpStatusCode, 206, what);
      t.is(part.ContentRange, `bytes ${start}-${end - 1}/${size}`, what);
      const partBytes = Buffer.from((await part.Body?.transformToByteArray()) ?? new Uint8Array());
      t.true(partBytes.equals(body.subarray(start, end)), `range ${what} (${range}) decrypts`);
    }
  });
}

test('GET and HEAD of an SSE-C object: no key is 400 InvalidRequest, a wrong key 403 AccessDenied', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-refuse');
  for (const [key, size] of [
    ['inline', 100],
    ['blocks', MIB + 5],
  ] as const) {
    await suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: randomBytesSeeded(size, 3),
        ...sse(KEY_A),
      }),
    );
    const noKey = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    t.is(noKey.status, 400, `${key}: GET without the key`);
    t.is(noKey.name, 'InvalidRequest');
    const headNoKey = await s3Failure(
      suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    );
    t.is(headNoKey.status, 400, `${key}: HEAD without the key`);

    const wrong = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sse(KEY_B) })),
    );
    t.is(wrong.status, 403, `${key}: GET with another key`);
    t.is(wrong.name, 'AccessDenied');
    const headWrong = await s3Failure(
      suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...sse(KEY_B) })),
    );
    t.is(headWrong.status, 403, `${key}: HEAD with another key`);

    const ranged = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-9' })),
    );
    t.is(ranged.status, 400, `${key}: a Range GET without the key`);
  }
});

test('SSE-C key headers on an unencrypted object are 400 InvalidRequest', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-plain');
  const body = randomBytesSeeded(2 * MIB, 9);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body }));
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'tiny' }));
  for (const key of ['plain', 'small']) {
    const get = await s3Failure(
      suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sse(KEY_A) })),
    );
    t.is(get.status, 400, key);
    t.is(get.name, 'InvalidRequest');
    const head = await s3Failure(
      suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...sse(KEY_A) })),
    );
    t.is(head.status, 400, key);
  }
  // And without headers the plain object is served, without SSE-C response headers.
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(got.SSECustomerAlgorithm, undefined);
  t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));
});

test('malformed SSE-C headers are 400 InvalidArgument on PUT and GET', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-bad');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'enc', Body: 'secret', ...sse(KEY_A) }),
  );
  const short = randomBytesSeeded(16, 5);
  const cases: Array<[string, Record<string, string>]> = [
    ['a 16-byte key', rawSseHeaders('AES256', short)],
    ['an MD5 of another key', rawSseHeaders('AES256', KEY_A.bytes, KEY_B.bytes)],
    ['algorithm AES128', rawSseHeaders('AES128', KEY_A.bytes)],
    [
      'no MD5',
      {
        'x-amz-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-server-side-encryption-customer-key': KEY_A.key,
      },
    ],
    [
      'no key',
      {
        'x-amz-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-server-side-encryption-customer-key-md5': KEY_A.md5,
      },
    ],
  ];
  for (const [what, headers] of cases) {
    const put = await signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}/bad-put`,
      body: Buffer.from('payload that must not be stored'),
      headers,
    });
    const putText = await put.text();
    t.is(put.status, 400, `PUT with ${what}`);
    t.is(errorCode(putText), 'InvalidArgument', `PUT with ${what}: ${putText}`);

    const get = await signedFetch(suite.server.endpoint, {
      method: 'GET',
      path: `/${bucket}/enc`,
      headers,
    });
    const getText = await get.text();
    t.is(get.status, 400, `GET with ${what}`);
    t.is(errorCode(getText), 'InvalidArgument', `GET with ${what}: ${getText}`);
  }
  const absent = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-put' })),
  );
  t.is(absent.status, 404, 'no refused PUT stored anything');
  // The same raw request with a good key works, so the refusals above are the headers' doing.
  const good = await signedFetch(suite.server.endpoint, {
    method: 'GET',
    path: `/${bucket}/enc`,
    headers: rawSseHeaders('AES256', KEY_A.bytes),
  });
  t.is(good.status, 200);
  t.is(await good.text(), 'secret');
});

// --- At rest --------------------------------------------------------------------------------

test('SSE-C bytes are encrypted on disk (blocks and inline records); plain ones are not', async (t) => {
  const own = await TestServer.start({ shards: 2, env: SSE_C_OVER_HTTP });
  try {
    const client = own.client();
    const bucket = await newBucket(client, 'ssec-disk');
    const big = plaintextPattern(3 * MIB, 'SSEC-BIG');
    const small = plaintextPattern(1000, 'SSEC-SMALL');
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big, ...sse(KEY_A) }),
    );
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small, ...sse(KEY_A) }),
    );
    // Each slice lies inside one 1 MiB block (a slice across a boundary is in no single file).
    const bigSlices = [0, 12_345, MIB + 20, 2 * MIB + 777, 3 * MIB - 64].map((at) =>
      big.subarray(at, at + 64),
    );
    const smallSlice = small.subarray(400, 464);
    for (const slice of bigSlices)
      t.deepEqual(await storedContaining(own, slice), [], `${slice.toString()} is not on disk`);
    t.deepEqual(await storedContaining(own, smallSlice), [], 'the inline body is not on disk');
    t.true((await getBytes(bucket, 'big', sse(KEY_A), client)).equals(big));
    t.true((await getBytes(bucket, 'small', sse(KEY_A), client)).equals(small));

    // The same bytes stored without SSE-C are found by the same scan: the scan can see them.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'big-plain', Body: big }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'small-plain', Body: small }));
    for (const slice of bigSlices) {
      const hits = await storedContaining(own, slice);
      t.true(
        hits.some((path) => !path.endsWith('.mdb')),
        `a plain object's slice is in a block file (found in ${JSON.stringify(hits)})`,
      );
    }
    t.true((await storedContaining(own, smallSlice)).length > 0, 'a plain inline body is on disk');
  } finally {
    await own.destroy();
  }
});

// --- CopyObject -----------------------------------------------------------------------------

test('CopyObject decrypts, encrypts and re-encrypts with the right keys only', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-copy');
  const body = randomBytesSeeded(2 * MIB + 333, 21);
  const small = randomBytesSeeded(500, 22);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'enc', Body: body, ...sse(KEY_A) }),
  );
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'enc-small', Body: small, ...sse(KEY_A) }),
  );
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body }));

  // Encrypted -> plain.
  const toPlain = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'dec',
      CopySource: `${bucket}/enc`,
      ...sourceSse(KEY_A),
    }),
  );
  t.is(toPlain.SSECustomerAlgorithm, undefined, 'a plain copy has no SSE-C headers');
  t.true((await getBytes(bucket, 'dec')).equals(body), 'encrypted -> plain reads back plain');
  t.is(
    (await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dec' }))).ETag,
    `"${md5Hex(body)}"`,
    'the decrypted copy has the MD5 of its data as ETag',
  );
  t.is(
    (
      await s3Failure(
        suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dec', ...sse(KEY_A) })),
      )
    ).name,
    'InvalidRequest',
    'the plain copy refuses key headers',
  );

  // Plain -> encrypted.
  const toEnc = await suite.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'enc-from-plain',
      CopySource: `${bucket}/plain`,
      ...sse(KEY_B),
    }),
  );
  t.is(toEnc.SSECustomerAlgorithm, 'AES256');
  t.is(toEnc.SSECustomerKeyMD5, KEY_B.md5);
  t.not(toEnc.CopyObjectResult?.ETag, `"${md5Hex(body)}"`);
  t.true((await getBytes(bucket, 'enc-from-plain', sse(KEY_B))).equals(body));
  t.is(
    (
      await s3Failure(
        suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc-from-plain' })),
      )
    ).name,
    'InvalidRequest',
  );
  t.is(
    (
      await s3Failure(
        suite.s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'enc-from-plain', ...sse(KEY_A) }),
        ),
      )
    ).name,
    'AccessDenied',
  );
  t.true((await getBytes(bucket, 'plain')).equals(body), 'the plain source is untouched');

  // Encrypted -> encrypted with another key (block and inline sizes).
  for (const [source, data] of [
    ['enc', body],
    ['enc-small', small],
  ] as const) {
    const target = `${source}-rekeyed`;
    const rekeyed = await suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: target,
        CopySource: `${bucket}/${source}`,
        ...sourceSse(KEY_A),
        ...sse(KEY_B),
      }),
    );
    t.is(rekeyed.SSECustomerKeyMD5, KEY_B.md5);
    t.true((await getBytes(bucket, target, sse(KEY_B))).equals(data), `${target} with key B`);
    t.is(
      (
        await s3Failure(
          suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: target, ...sse(KEY_A) })),
        )
      ).status,
      403,
      `${target} refuses key A`,
    );
    t.true((await getBytes(bucket, source, sse(KEY_A))).equals(data), `${source} still with key A`);
  }

  // A missing source key is refused, and nothing is written.
  const missing = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'nope', CopySource: `${bucket}/enc` }),
    ),
  );
  t.is(missing.status, 400);
  t.is(missing.name, 'InvalidRequest');
  const wrongSource = await s3Failure(
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'nope',
        CopySource: `${bucket}/enc`,
        ...sourceSse(KEY_B),
      }),
    ),
  );
  t.is(wrongSource.status, 403, 'a wrong source key is AccessDenied');
  t.is(
    (await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nope' })))).status,
    404,
  );
});

test('CopyObject onto itself changing the SSE-C key needs no REPLACE', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-self');
  for (const [key, size] of [
    ['self-blocks', 3 * MIB + 1],
    ['self-inline', 300],
  ] as const) {
    const body = randomBytesSeeded(size, 31);
    await suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...sse(KEY_A) }),
    );
    // Same key, no REPLACE: nothing changes, so S3 refuses it.
    const same = await s3Failure(
      suite.s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${key}`,
          ...sourceSse(KEY_A),
          ...sse(KEY_A),
        }),
      ),
    );
    t.is(same.name, 'InvalidRequest', `${key}: same key onto itself`);
    const copied = await suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: `${bucket}/${key}`,
        ...sourceSse(KEY_A),
        ...sse(KEY_B),
      }),
    );
    t.is(copied.SSECustomerKeyMD5, KEY_B.md5);
    t.true((await getBytes(bucket, key, sse(KEY_B))).equals(body), `${key}: reads with key B`);
    t.is(
      (
        await s3Failure(
          suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sse(KEY_A) })),
        )
      ).name,
      'AccessDenied',
      `${key}: key A no longer opens it`,
    );
    // And decrypting it in place (encrypted -> plain onto itself) is a change too.
    await suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: `${bucket}/${key}`,
        ...sourceSse(KEY_B),
      }),
    );
    t.true((await getBytes(bucket, key)).equals(body), `${key}: decrypted in place`);
  }
});

// --- Multipart ------------------------------------------------------------------------------

test('multipart upload with SSE-C: parts need the upload key; whole, ranged and part GETs decrypt', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-mpu');
  const part1 = randomBytesSeeded(5 * MIB, 41);
  const part2 = randomBytesSeeded(MIB + 3, 42);
  const whole = Buffer.concat([part1, part2]);
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ...sse(KEY_A) }),
  );
  t.is(created.SSECustomerAlgorithm, 'AES256');
  t.is(created.SSECustomerKeyMD5, KEY_A.md5);
  const UploadId = created.UploadId;
  const base = { Bucket: bucket, Key: 'mpu', UploadId };

  const noKey = await s3Failure(
    suite.s3.send(new UploadPartCommand({ ...base, PartNumber: 1, Body: part1 })),
  );
  t.is(noKey.status, 400, 'UploadPart without the key');
  t.is(noKey.name, 'InvalidRequest');
  const otherKey = await s3Failure(
    suite.s3.send(new UploadPartCommand({ ...base, PartNumber: 1, Body: part1, ...sse(KEY_B) })),
  );
  t.is(otherKey.status, 400, 'UploadPart with another key');
  t.is(otherKey.name, 'InvalidRequest');

  const p1 = await suite.s3.send(
    new UploadPartCommand({ ...base, PartNumber: 1, Body: part1, ...sse(KEY_A) }),
  );
  t.is(p1.SSECustomerKeyMD5, KEY_A.md5);
  t.not(p1.ETag, `"${md5Hex(part1)}"`, "a part's ETag is not the MD5 of its data");
  const p2 = await suite.s3.send(
    new UploadPartCommand({ ...base, PartNumber: 2, Body: part2, ...sse(KEY_A) }),
  );
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      ...base,
      ...sse(KEY_A),
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: p1.ETag },
          { PartNumber: 2, ETag: p2.ETag },
        ],
      },
    }),
  );

  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'mpu', ...sse(KEY_A) }),
  );
  t.is(head.ContentLength, whole.length);
  t.is(head.SSECustomerKeyMD5, KEY_A.md5);
  t.regex(head.ETag ?? '', /-2"$/);
  t.true((await getBytes(bucket, 'mpu', sse(KEY_A))).equals(whole), 'the whole object decrypts');

  for (const [start, end] of [
    [5 * MIB - 10, 5 * MIB + 10],
    [5 * MIB - 1, 5 * MIB + 1],
    [MIB - 3, 5 * MIB + MIB + 2],
    [5 * MIB, 5 * MIB + 16],
    [5 * MIB + 5, 5 * MIB + 37],
  ] as const) {
    const got = await getBytes(bucket, 'mpu', {
      Range: `bytes=${start}-${end - 1}`,
      ...sse(KEY_A),
    });
    t.true(got.equals(whole.subarray(start, end)), `range ${start}-${end - 1}`);
  }
  const second = await suite.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'mpu', PartNumber: 2, ...sse(KEY_A) }),
  );
  t.is(second.PartsCount, 2);
  t.is(second.SSECustomerKeyMD5, KEY_A.md5);
  t.true(
    Buffer.from((await second.Body?.transformToByteArray()) ?? []).equals(part2),
    '?partNumber=2 decrypts',
  );
  t.is(
    (await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mpu' })))).name,
    'InvalidRequest',
  );
  t.is(
    (
      await s3Failure(
        suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mpu', ...sse(KEY_B) })),
      )
    ).name,
    'AccessDenied',
  );
});

test('UploadPartCopy from an SSE-C source into an SSE-C upload', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-upc');
  const source = randomBytesSeeded(6 * MIB + 11, 51);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: source, ...sse(KEY_A) }),
  );
  const tail = randomBytesSeeded(1000, 52);
  const { UploadId } = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dst', ...sse(KEY_B) }),
  );
  const base = { Bucket: bucket, Key: 'dst', UploadId };

  const noSourceKey = await s3Failure(
    suite.s3.send(
      new UploadPartCopyCommand({
        ...base,
        PartNumber: 1,
        CopySource: `${bucket}/src`,
        ...sse(KEY_B),
      }),
    ),
  );
  t.is(noSourceKey.name, 'InvalidRequest', 'UploadPartCopy without the source key');
  const noTargetKey = await s3Failure(
    suite.s3.send(
      new UploadPartCopyCommand({
        ...base,
        PartNumber: 1,
        CopySource: `${bucket}/src`,
        ...sourceSse(KEY_A),
      }),
    ),
  );
  t.is(noTargetKey.name, 'InvalidRequest', 'UploadPartCopy without the upload key');

  const first = 5 * MIB + 7;
  const c1 = await suite.s3.send(
    new UploadPartCopyCommand({
      ...base,
      PartNumber: 1,
      CopySource: `${bucket}/src`,
      CopySourceRange: `bytes=3-${first + 2}`,
      ...sourceSse(KEY_A),
      ...sse(KEY_B),
    }),
  );
  const c2 = await suite.s3.send(
    new UploadPartCommand({ ...base, PartNumber: 2, Body: tail, ...sse(KEY_B) }),
  );
  await suite.s3.send(
    new CompleteMultipartUploadCommand({
      ...base,
      ...sse(KEY_B),
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: c1.CopyPartResult?.ETag },
          { PartNumber: 2, ETag: c2.ETag },
        ],
      },
    }),
  );
  const expected = Buffer.concat([source.subarray(3, first + 3), tail]);
  t.true((await getBytes(bucket, 'dst', sse(KEY_B))).equals(expected), 'the copy decrypts');
  const across = await getBytes(bucket, 'dst', {
    Range: `bytes=${first - 100}-${first + 99}`,
    ...sse(KEY_B),
  });
  t.true(across.equals(expected.subarray(first - 100, first + 100)), 'across the part boundary');
  t.is(
    (
      await s3Failure(
        suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst', ...sse(KEY_A) })),
      )
    ).name,
    'AccessDenied',
    'the source key does not open the copy',
  );
  // S3 answers UploadPartCopy into an SSE-C upload with the algorithm and the key's MD5, as it
  // answers UploadPart (checked last, so that the data path above is checked regardless).
  t.is(c1.SSECustomerAlgorithm, 'AES256', 'UploadPartCopy answers the SSE-C algorithm');
  t.is(c1.SSECustomerKeyMD5, KEY_B.md5, 'UploadPartCopy answers the key MD5');
});

// --- GetObjectAttributes --------------------------------------------------------------------

test('GetObjectAttributes of an SSE-C object needs the key', async (t) => {
  const bucket = await newBucket(suite.s3, 'ssec-attrs');
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'enc',
      Body: randomBytesSeeded(MIB + 9, 61),
      ...sse(KEY_A),
    }),
  );
  const attrs = await suite.s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'enc',
      ObjectAttributes: ['ObjectSize', 'ETag'],
      ...sse(KEY_A),
    }),
  );
  t.is(attrs.ObjectSize, MIB + 9);
  const without = await s3Failure(
    suite.s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'enc',
        ObjectAttributes: ['ObjectSize'],
      }),
    ),
  );
  t.is(without.status, 400);
  t.is(without.name, 'InvalidRequest');
  const wrong = await s3Failure(
    suite.s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'enc',
        ObjectAttributes: ['ObjectSize'],
        ...sse(KEY_B),
      }),
    ),
  );
  t.is(wrong.status, 403);
});

// --- Block accounting -----------------------------------------------------------------------

test('after SSE-C puts, copies and multipart uploads are deleted, fsck finds no stray block', async (t) => {
  const own = await TestServer.start({ shards: 2, env: SSE_C_OVER_HTTP });
  try {
    const client = own.client();
    const bucket = await newBucket(client, 'ssec-fsck');
    const body = randomBytesSeeded(3 * MIB + 17, 71);
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: body, ...sse(KEY_A) }),
    );
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body }));
    // The same plaintext under the same key twice: two IVs, two ciphertexts.
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'a2', Body: body, ...sse(KEY_A) }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'b',
        CopySource: `${bucket}/a`,
        ...sourceSse(KEY_A),
        ...sse(KEY_B),
      }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'c',
        CopySource: `${bucket}/a`,
        ...sourceSse(KEY_A),
      }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'd',
        CopySource: `${bucket}/plain`,
        ...sse(KEY_B),
      }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'a',
        CopySource: `${bucket}/a`,
        ...sourceSse(KEY_A),
        ...sse(KEY_B),
      }),
    );
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm', ...sse(KEY_A) }),
    );
    const base = { Bucket: bucket, Key: 'm', UploadId };
    const p1 = await client.send(
      new UploadPartCommand({
        ...base,
        PartNumber: 1,
        Body: randomBytesSeeded(5 * MIB, 72),
        ...sse(KEY_A),
      }),
    );
    const p2 = await client.send(
      new UploadPartCopyCommand({
        ...base,
        PartNumber: 2,
        CopySource: `${bucket}/b`,
        ...sourceSse(KEY_B),
        ...sse(KEY_A),
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        ...base,
        ...sse(KEY_A),
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.CopyPartResult?.ETag },
          ],
        },
      }),
    );
    const aborted = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'gone', ...sse(KEY_B) }),
    );
    await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'gone',
        UploadId: aborted.UploadId,
        PartNumber: 1,
        Body: randomBytesSeeded(2 * MIB, 73),
        ...sse(KEY_B),
      }),
    );
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'gone', UploadId: aborted.UploadId }),
    );

    const during = await fsckReport(own.dataDir);
    t.deepEqual(during.missingBlocks, []);
    t.deepEqual(during.refcountMismatches, []);
    t.true(during.blockFiles > 0);

    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    t.deepEqual(keys.sort(), ['a', 'a2', 'b', 'c', 'd', 'm', 'plain']);
    for (const key of keys)
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    t.true(
      await eventually(async () => (await fsckReport(own.dataDir)).blockFiles === 0),
      'every block file is gone',
    );
    const after = await fsckReport(own.dataDir);
    t.is(after.objects, 0);
    t.is(after.storedBytes, 0);
    t.deepEqual(after.unreferencedBlocks, []);
    t.deepEqual(after.missingBlocks, []);
    t.deepEqual(after.refcountMismatches, []);
    t.is(after.tempFiles, 0);
  } finally {
    await own.destroy();
  }
});

test('CopyObject of an SSE-C object with lock headers locks the encrypted copy', async (t) => {
  const s3 = suite.s3;
  const bucket = `ssec-lock-${process.pid}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'locked secret', ...sse(KEY_A) }),
  );
  const until = new Date(Date.now() + 3 * 24 * 60 * 60 * 1000);
  const copied = await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'dst',
      CopySource: `${bucket}/src`,
      ...sourceSse(KEY_A),
      ...sse(KEY_B),
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
    }),
  );
  t.is(copied.SSECustomerKeyMD5, KEY_B.md5);
  const retention = await s3.send(
    new GetObjectRetentionCommand({ Bucket: bucket, Key: 'dst', VersionId: copied.VersionId }),
  );
  t.is(retention.Retention?.Mode, 'GOVERNANCE');
  t.is(
    Math.floor((retention.Retention?.RetainUntilDate?.getTime() ?? 0) / 1000),
    Math.floor(until.getTime() / 1000),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst', ...sse(KEY_B) }));
  t.is(head.ObjectLockMode, 'GOVERNANCE');
  t.is((await getBytes(bucket, 'dst', sse(KEY_B))).toString(), 'locked secret');
  const refused = await s3Failure(
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'dst', VersionId: copied.VersionId })),
  );
  t.is(refused.name, 'AccessDenied');
});
