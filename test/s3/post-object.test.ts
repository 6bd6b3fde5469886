import { createHash, createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test from 'ava';
import {
  assertNoObject,
  newBucket,
  objectBytes,
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  randomBytesSeeded,
  useServer,
} from '../helpers/server.js';
import { errorOf } from '../helpers/xml-error.js';

const KIB = 1024;
const MIB = 1024 * KIB;

const suite = useServer(test);

function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

// ---- signing a POST policy, as sigv4-post-example describes it ----

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const ROOT: Credentials = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY };

type Condition = Record<string, string> | [string, string, string] | [string, number, number];

interface PolicyOptions {
  bucket: string;
  conditions: Condition[];
  /** Fields sent before the signature fields (key, Content-Type, …), in order. */
  fields: Array<[string, string]>;
  credentials?: Credentials;
  region?: string;
  expiresInMs?: number;
  now?: Date;
  /** Leave the standard x-amz-* conditions out (to test what the policy must cover). */
  bareConditions?: boolean;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The form fields of a policy signed with SigV4: fields, x-amz-*, policy, x-amz-signature. */
function signedFields(options: PolicyOptions): Array<[string, string]> {
  const credentials = options.credentials ?? ROOT;
  const region = options.region ?? REGION;
  const now = options.now ?? new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const day = amzDate.slice(0, 8);
  const credential = `${credentials.accessKeyId}/${day}/${region}/s3/aws4_request`;
  const signatureFields: Array<[string, string]> = [
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'],
    ['x-amz-credential', credential],
    ['x-amz-date', amzDate],
  ];
  const conditions: Condition[] = [
    { bucket: options.bucket },
    ...options.conditions,
    ...(options.bareConditions ? [] : signatureFields.map(([name, value]) => ({ [name]: value }))),
  ];
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(now.getTime() + (options.expiresInMs ?? 3_600_000)).toISOString(),
      conditions,
    }),
  ).toString('base64');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 's3'),
    'aws4_request',
  );
  const signature = createHmac('sha256', signingKey).update(policy).digest('hex');
  return [
    ...options.fields,
    ...signatureFields,
    ['policy', policy],
    ['x-amz-signature', signature],
  ];
}

interface FileSpec {
  bytes: Buffer;
  name?: string;
  type?: string;
}

async function postForm(
  bucket: string,
  fields: Array<[string, string]>,
  file: FileSpec,
  after: Array<[string, string]> = [],
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  const blob = new Blob([file.bytes], file.type === undefined ? {} : { type: file.type });
  form.append('file', blob, file.name ?? 'upload.bin');
  for (const [name, value] of after) form.append(name, value);
  return fetch(`${suite.server.endpoint}/${bucket}`, {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
}

/** A policy for exactly `key` in `bucket`, with the given extra conditions and fields. */
function simpleForm(
  bucket: string,
  key: string,
  extra: {
    conditions?: Condition[];
    fields?: Array<[string, string]>;
  } & Partial<PolicyOptions> = {},
): Array<[string, string]> {
  return signedFields({
    ...extra,
    bucket,
    conditions: [{ key }, ...(extra.conditions ?? [])],
    fields: [['key', key], ...(extra.fields ?? [])],
  });
}

// ---- success ----

test('an upload answers 204 with the ETag, and the object reads back with its headers', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-basic');
  const body = Buffer.from('hello from a browser form');
  const fields = simpleForm(bucket, 'docs/hello.txt', {
    conditions: [
      ['starts-with', '$Content-Type', 'text/'],
      { 'Cache-Control': 'max-age=60' },
      ['starts-with', '$Content-Disposition', ''],
      { 'x-amz-meta-color': 'blue' },
    ],
    fields: [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Cache-Control', 'max-age=60'],
      ['Content-Disposition', 'attachment; filename="hello.txt"'],
      ['x-amz-meta-color', 'blue'],
    ],
  });
  const response = await postForm(bucket, fields, { bytes: body, type: 'application/x-ignored' });
  t.is(response.status, 204, await response.text());
  t.is(response.headers.get('etag'), `"${md5Hex(body)}"`);
  t.regex(response.headers.get('location') ?? '', new RegExp(`/${bucket}/docs/hello\\.txt$`));
  const head = await suite.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'docs/hello.txt' }),
  );
  t.is(head.ContentType, 'text/plain; charset=utf-8');
  t.is(head.CacheControl, 'max-age=60');
  t.is(head.ContentDisposition, 'attachment; filename="hello.txt"');
  t.deepEqual(head.Metadata, { color: 'blue' });
  t.is(head.ETag, `"${md5Hex(body)}"`);
  t.true((await objectBytes(suite.s3, bucket, 'docs/hello.txt')).equals(body));
});

test('in a versioned bucket each upload is a new version (x-amz-version-id)', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-versions');
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const ids: string[] = [];
  for (const text of ['first', 'second']) {
    const response = await postForm(bucket, simpleForm(bucket, 'k'), { bytes: Buffer.from(text) });
    t.is(response.status, 204, await response.text());
    ids.push(response.headers.get('x-amz-version-id') ?? '');
  }
  t.regex(ids[0] ?? '', /^[0-9a-f]{32}$/);
  t.not(ids[0], ids[1]);
  const versions = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  t.deepEqual(
    versions.Versions?.map((v) => [v.VersionId, v.IsLatest]),
    [
      [ids[1], true],
      [ids[0], false],
    ],
  );
});

test('without a Content-Type field the object is binary/octet-stream (the part type is ignored)', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-type');
  const response = await postForm(bucket, simpleForm(bucket, 'k'), {
    bytes: Buffer.from('x'),
    type: 'image/png',
  });
  t.is(response.status, 204);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ContentType, 'binary/octet-stream');
});

test('success_action_status 201 answers the PostResponse document', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-201');
  const body = Buffer.from('created');
  const fields = simpleForm(bucket, 'a b/c+d.txt', {
    conditions: [{ success_action_status: '201' }],
    fields: [['success_action_status', '201']],
  });
  const response = await postForm(bucket, fields, { bytes: body });
  t.is(response.status, 201);
  t.is(response.headers.get('content-type'), 'application/xml');
  const xml = await response.text();
  t.regex(xml, /^<\?xml/);
  t.regex(xml, /<PostResponse>/);
  t.regex(xml, new RegExp(`<Bucket>${bucket}</Bucket>`));
  t.regex(xml, /<Key>a b\/c\+d\.txt<\/Key>/);
  t.regex(xml, new RegExp(`<ETag>(&quot;|")${md5Hex(body)}(&quot;|")</ETag>`));
  t.regex(xml, /<Location>http:\/\/[^<]*\/a%20b\/c%2Bd\.txt<\/Location>/);
  t.true((await objectBytes(suite.s3, bucket, 'a b/c+d.txt')).equals(body));
});

test('success_action_status 200 answers an empty 200; other values answer 204', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-200');
  for (const [status, expected] of [
    ['200', 200],
    ['204', 204],
    ['404', 204],
  ] as const) {
    const fields = simpleForm(bucket, `k${status}`, {
      conditions: [{ success_action_status: status }],
      fields: [['success_action_status', status]],
    });
    const response = await postForm(bucket, fields, { bytes: Buffer.from(status) });
    t.is(response.status, expected, status);
    t.is(await response.text(), '');
    t.is(response.headers.get('etag'), `"${md5Hex(status)}"`);
  }
});

test('success_action_redirect answers 303 to the URL with bucket, key and etag', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-redirect');
  const target = 'https://example.com/done?from=form';
  const fields = simpleForm(bucket, 'photos/cat.jpg', {
    conditions: [['starts-with', '$success_action_redirect', 'https://example.com/']],
    fields: [['success_action_redirect', target]],
  });
  const body = Buffer.from('meow');
  const response = await postForm(bucket, fields, { bytes: body });
  t.is(response.status, 303);
  const location = new URL(response.headers.get('location') ?? '');
  t.is(location.origin + location.pathname, 'https://example.com/done');
  t.is(location.searchParams.get('from'), 'form');
  t.is(location.searchParams.get('bucket'), bucket);
  t.is(location.searchParams.get('key'), 'photos/cat.jpg');
  t.is(location.searchParams.get('etag'), `"${md5Hex(body)}"`);
  t.is(response.headers.get('etag'), `"${md5Hex(body)}"`);
});

test('${filename} in the key becomes the uploaded file name', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-filename');
  const fields = signedFields({
    bucket,
    conditions: [['starts-with', '$key', 'uploads/']],
    fields: [['key', 'uploads/${filename}']],
  });
  const response = await postForm(bucket, fields, { bytes: Buffer.from('pic'), name: 'cat.png' });
  t.is(response.status, 204, await response.text());
  t.is((await objectBytes(suite.s3, bucket, 'uploads/cat.png')).toString(), 'pic');
});

test('fields after the file are ignored, and x-ignore-* fields need no condition', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-after');
  const fields = simpleForm(bucket, 'k', { fields: [['x-ignore-tracking', 'anything']] });
  const response = await postForm(bucket, fields, { bytes: Buffer.from('v') }, [
    ['submit', 'Upload to Amazon S3'],
    ['x-amz-meta-late', 'not stored'],
  ]);
  t.is(response.status, 204, await response.text());
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(head.Metadata, {});
});

const sizes: Array<[string, number]> = [
  ['empty', 0],
  ['inline threshold - 1', 16 * KIB - 1],
  ['inline threshold', 16 * KIB],
  ['inline threshold + 1', 16 * KIB + 1],
  ['one block', MIB],
  ['6 MiB + 3', 6 * MIB + 3],
];
for (const [label, size] of sizes) {
  test(`a file of ${label} (${size} bytes) streams in and reads back byte-identical`, async (t) => {
    const bucket = await newBucket(suite.s3, 'post-size');
    const body = randomBytesSeeded(size, size + 11);
    const response = await postForm(bucket, simpleForm(bucket, 'obj'), { bytes: body });
    t.is(response.status, 204, await response.text());
    t.is(response.headers.get('etag'), `"${md5Hex(body)}"`);
    const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }));
    t.is(head.ContentLength, size);
    const got = await objectBytes(suite.s3, bucket, 'obj');
    t.is(got.length, size);
    t.true(got.equals(body));
  });
}

test('Content-MD5 and x-amz-checksum-crc32 fields are checked against the file', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-digest');
  const body = Buffer.from('check me');
  const md5 = createHash('md5').update(body).digest('base64');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  const good = simpleForm(bucket, 'k', {
    conditions: [{ 'Content-MD5': md5 }, { 'x-amz-checksum-crc32': crc.toString('base64') }],
    fields: [
      ['Content-MD5', md5],
      ['x-amz-checksum-crc32', crc.toString('base64')],
    ],
  });
  const response = await postForm(bucket, good, { bytes: body });
  t.is(response.status, 204, await response.text());
  t.is(response.headers.get('x-amz-checksum-crc32'), crc.toString('base64'));
  const wrongMd5 = createHash('md5').update('other').digest('base64');
  const badMd5 = simpleForm(bucket, 'k2', {
    conditions: [{ 'Content-MD5': wrongMd5 }],
    fields: [['Content-MD5', wrongMd5]],
  });
  t.is((await errorOf(await postForm(bucket, badMd5, { bytes: body }))).code, 'BadDigest');
  const badCrc = simpleForm(bucket, 'k3', {
    conditions: [{ 'x-amz-checksum-crc32': 'AAAAAA==' }],
    fields: [['x-amz-checksum-crc32', 'AAAAAA==']],
  });
  t.is((await errorOf(await postForm(bucket, badCrc, { bytes: body }))).code, 'BadDigest');
  await assertNoObject(t, suite.s3, bucket, 'k2');
});

test('object lock fields lock the new version; without Content-MD5 they are refused', async (t) => {
  const bucket = `post-lock-${process.pid}`;
  await suite.s3.send(
    new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }),
  );
  const body = Buffer.from('locked by a form');
  const md5 = createHash('md5').update(body).digest('base64');
  const until = new Date(Date.now() + 24 * 3600 * 1000);
  until.setUTCMilliseconds(0);
  const lockFields: Array<[string, string]> = [
    ['x-amz-object-lock-mode', 'COMPLIANCE'],
    ['x-amz-object-lock-retain-until-date', until.toISOString()],
    ['x-amz-object-lock-legal-hold', 'ON'],
  ];
  const lockConditions = lockFields.map(([name, value]) => ({ [name]: value }));
  const unsigned = simpleForm(bucket, 'no-md5', { conditions: lockConditions, fields: lockFields });
  const refused = await errorOf(await postForm(bucket, unsigned, { bytes: body }));
  t.is(refused.status, 400);
  t.is(refused.code, 'InvalidRequest');
  await assertNoObject(t, suite.s3, bucket, 'no-md5');
  const form = simpleForm(bucket, 'k', {
    conditions: [...lockConditions, { 'Content-MD5': md5 }],
    fields: [...lockFields, ['Content-MD5', md5]],
  });
  const response = await postForm(bucket, form, { bytes: body });
  t.is(response.status, 204, await response.text());
  const versionId = response.headers.get('x-amz-version-id') ?? '';
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ObjectLockMode, 'COMPLIANCE');
  t.is(head.ObjectLockRetainUntilDate?.getTime(), until.getTime());
  t.is(head.ObjectLockLegalHoldStatus, 'ON');
  const denied = await suite.s3
    .send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: versionId }))
    .then(
      () => 'deleted',
      (error: { name: string }) => error.name,
    );
  t.is(denied, 'AccessDenied');
});

// ---- the AWS SDK's own POST signer as an independent reference ----

test('a form from @aws-sdk/s3-presigned-post uploads (with ${filename} and a length range)', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-sdk');
  const { url, fields } = await createPresignedPost(
    suite.s3 as unknown as Parameters<typeof createPresignedPost>[0],
    {
      Bucket: bucket,
      Key: 'sdk/${filename}',
      Conditions: [['content-length-range', 1, 1000]],
      Fields: { 'Content-Type': 'text/csv', 'x-amz-meta-origin': 'sdk' },
      Expires: 60,
    },
  );
  t.is(url, `${suite.server.endpoint}/${bucket}`);
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob(['a,b\n1,2\n']), 'table.csv');
  const response = await fetch(url, { method: 'POST', body: form });
  t.is(response.status, 204, await response.text());
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sdk/table.csv' }));
  t.is(head.ContentType, 'text/csv');
  t.deepEqual(head.Metadata, { origin: 'sdk' });

  const big = new FormData();
  for (const [name, value] of Object.entries(fields)) big.append(name, value);
  big.append('file', new Blob([Buffer.alloc(1001)]), 'big.csv');
  const refused = await errorOf(await fetch(url, { method: 'POST', body: big }));
  t.is(refused.code, 'EntityTooLarge');
});

// ---- the policy's conditions ----

test('a key outside the starts-with prefix is AccessDenied', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-prefix');
  const fields = signedFields({
    bucket,
    conditions: [['starts-with', '$key', 'user/eric/']],
    fields: [['key', 'user/other/file']],
  });
  const error = await errorOf(await postForm(bucket, fields, { bytes: Buffer.from('x') }));
  t.is(error.status, 403);
  t.is(error.code, 'AccessDenied');
  t.is(
    error.message,
    'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/eric/"]',
  );
  await assertNoObject(t, suite.s3, bucket, 'user/other/file');
});

test('an exact-match condition that fails, or names a missing field, is AccessDenied', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-eq');
  const wrong = simpleForm(bucket, 'k', {
    conditions: [['eq', '$Content-Type', 'image/png']],
    fields: [['Content-Type', 'image/jpeg']],
  });
  const error = await errorOf(await postForm(bucket, wrong, { bytes: Buffer.from('x') }));
  t.is(error.code, 'AccessDenied');
  t.regex(error.message, /Policy Condition failed: \["eq", "\$Content-Type", "image\/png"\]/);
  const missing = simpleForm(bucket, 'k', { conditions: [{ 'x-amz-meta-tag': 't' }] });
  t.is(
    (await errorOf(await postForm(bucket, missing, { bytes: Buffer.from('x') }))).code,
    'AccessDenied',
  );
  const otherBucket = signedFields({
    bucket: 'some-other-bucket',
    conditions: [{ key: 'k' }],
    fields: [['key', 'k']],
  });
  t.is(
    (await errorOf(await postForm(bucket, otherBucket, { bytes: Buffer.from('x') }))).code,
    'AccessDenied',
  );
});

test('a field the policy does not mention is AccessDenied (Extra input fields)', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-extra');
  const fields = simpleForm(bucket, 'k', { fields: [['x-amz-meta-sneaky', '1']] });
  const error = await errorOf(await postForm(bucket, fields, { bytes: Buffer.from('x') }));
  t.is(error.status, 403);
  t.is(error.code, 'AccessDenied');
  t.is(error.message, 'Invalid according to Policy: Extra input fields: x-amz-meta-sneaky');
  const bare = simpleForm(bucket, 'k', { bareConditions: true });
  const bareError = await errorOf(await postForm(bucket, bare, { bytes: Buffer.from('x') }));
  t.is(bareError.code, 'AccessDenied');
  t.regex(bareError.message, /Extra input fields: x-amz-algorithm, x-amz-credential, x-amz-date/);
});

test('content-length-range: too large is EntityTooLarge, too small is EntityTooSmall', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-range');
  const fields = simpleForm(bucket, 'k', { conditions: [['content-length-range', 10, 100 * KIB]] });
  const large = await errorOf(
    await postForm(bucket, fields, { bytes: Buffer.alloc(100 * KIB + 1) }),
  );
  t.is(large.status, 400);
  t.is(large.code, 'EntityTooLarge');
  // Refused as soon as the bytes pass the maximum (the rest, under 1 MiB, is read and dropped).
  const huge = await errorOf(await postForm(bucket, fields, { bytes: Buffer.alloc(MIB) }));
  t.is(huge.code, 'EntityTooLarge');
  const small = await errorOf(await postForm(bucket, fields, { bytes: Buffer.alloc(9) }));
  t.is(small.status, 400);
  t.is(small.code, 'EntityTooSmall');
  await assertNoObject(t, suite.s3, bucket, 'k');
  const fits = await postForm(bucket, fields, { bytes: Buffer.alloc(100 * KIB) });
  t.is(fits.status, 204);
});

test('a file far over the range is refused early: an error or a dropped connection, nothing stored', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-range-early');
  const fields = simpleForm(bucket, 'k', { conditions: [['content-length-range', 0, 1000]] });
  const started = Date.now();
  try {
    const error = await errorOf(await postForm(bucket, fields, { bytes: Buffer.alloc(64 * MIB) }));
    t.is(error.code, 'EntityTooLarge');
  } catch (error) {
    t.is((error as Error).message, 'fetch failed'); // the server closed the connection mid-body
  }
  t.true(Date.now() - started < 20_000);
  await assertNoObject(t, suite.s3, bucket, 'k');
});

test('an expired policy is AccessDenied', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-expired');
  const fields = simpleForm(bucket, 'k', { expiresInMs: -1000 });
  const error = await errorOf(await postForm(bucket, fields, { bytes: Buffer.from('x') }));
  t.is(error.status, 403);
  t.is(error.code, 'AccessDenied');
  t.is(error.message, 'Invalid according to Policy: Policy expired.');
});

// ---- authentication and authorization ----

test('a wrong signature is SignatureDoesNotMatch', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-sig');
  const fields = simpleForm(bucket, 'k', {
    credentials: { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: 'not-the-secret' },
  });
  const error = await errorOf(await postForm(bucket, fields, { bytes: Buffer.from('x') }));
  t.is(error.status, 403);
  t.is(error.code, 'SignatureDoesNotMatch');
  // A policy changed after signing fails the same way.
  const tampered = simpleForm(bucket, 'k').map(([name, value]): [string, string] =>
    name === 'policy'
      ? [
          name,
          Buffer.from('{"expiration":"2999-01-01T00:00:00Z","conditions":[]}').toString('base64'),
        ]
      : [name, value],
  );
  t.is(
    (await errorOf(await postForm(bucket, tampered, { bytes: Buffer.from('x') }))).code,
    'SignatureDoesNotMatch',
  );
});

test('an unknown access key is InvalidAccessKeyId; a wrong region is refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-akid');
  const unknown = simpleForm(bucket, 'k', {
    credentials: { accessKeyId: 'HKNOSUCHKEY000000001', secretAccessKey: 'whatever-secret' },
  });
  const error = await errorOf(await postForm(bucket, unknown, { bytes: Buffer.from('x') }));
  t.is(error.status, 403);
  t.is(error.code, 'InvalidAccessKeyId');
  const region = await errorOf(
    await postForm(bucket, simpleForm(bucket, 'k', { region: 'eu-west-3' }), {
      bytes: Buffer.from('x'),
    }),
  );
  t.is(region.status, 400);
  t.regex(region.message, /eu-west-3/);
});

test('a form without policy is anonymous and refused; a missing key field is InvalidArgument', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-missing');
  const anonymous = await errorOf(
    await postForm(bucket, [['key', 'k']], { bytes: Buffer.from('x') }),
  );
  t.is(anonymous.code, 'AccessDenied');
  const noKey = signedFields({ bucket, conditions: [], fields: [] });
  const error = await errorOf(await postForm(bucket, noKey, { bytes: Buffer.from('x') }));
  t.is(error.status, 400);
  t.is(error.code, 'InvalidArgument');
});

test('an anonymous form is allowed by a policy letting anyone write under a prefix', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-public');
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await suite.s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${bucket}/drop/*`,
          },
        ],
      }),
    }),
  );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal variable, not a template.
  const posted = await postForm(bucket, [['key', 'drop/${filename}']], {
    bytes: Buffer.from('dropped anonymously'),
    name: 'note.txt',
  });
  t.is(posted.status, 204, await posted.clone().text());
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'drop/note.txt' }));
  t.is(head.ContentLength, 'dropped anonymously'.length);
  // Outside the prefix the policy says nothing: AccessDenied, nothing stored.
  const outside = await errorOf(
    await postForm(bucket, [['key', 'elsewhere.txt']], { bytes: Buffer.from('x') }),
  );
  t.is(outside.code, 'AccessDenied');
});

test('a key without the write grant is AccessDenied; with it the upload succeeds', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-grant');
  const created = (await cli('key', 'create', `post-${process.pid}`)) as Credentials;
  await cli('bucket', 'allow', bucket, '--key', created.accessKeyId, '--read');
  const fields = (): Array<[string, string]> =>
    simpleForm(bucket, 'k', {
      credentials: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey },
    });
  const error = await errorOf(await postForm(bucket, fields(), { bytes: Buffer.from('x') }));
  t.is(error.status, 403);
  t.is(error.code, 'AccessDenied');
  await cli('bucket', 'allow', bucket, '--key', created.accessKeyId, '--write');
  const response = await postForm(bucket, fields(), { bytes: Buffer.from('x') });
  t.is(response.status, 204, await response.text());
});

test('a POST to a missing bucket is NoSuchBucket', async (t) => {
  const fields = simpleForm('no-such-bucket-post', 'k');
  const error = await errorOf(
    await postForm('no-such-bucket-post', fields, { bytes: Buffer.from('x') }),
  );
  t.is(error.status, 404);
  t.is(error.code, 'NoSuchBucket');
});

// ---- malformed requests ----

test('malformed multipart bodies are 400 MalformedPOSTRequest', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-malformed');
  const post = (body: string, contentType: string): Promise<Response> =>
    fetch(`${suite.server.endpoint}/${bucket}`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType },
    });
  const cases: Array<[string, string, string]> = [
    ['not multipart', 'key=k', 'application/x-www-form-urlencoded'],
    ['no boundary', '--x\r\n', 'multipart/form-data'],
    ['no delimiter', 'just text', 'multipart/form-data; boundary=xyz'],
    [
      'truncated',
      '--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--xyz\r\nContent-Disposition: form-da',
      'multipart/form-data; boundary=xyz',
    ],
    [
      'bad part header',
      '--xyz\r\nbroken header\r\n\r\nk\r\n--xyz--\r\n',
      'multipart/form-data; boundary=xyz',
    ],
  ];
  for (const [label, body, contentType] of cases) {
    const error = await errorOf(await post(body, contentType));
    t.is(error.status, 400, label);
    t.is(error.code, 'MalformedPOSTRequest', label);
  }
});

test('the connection stays usable after POSTs, good and refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-keepalive');
  for (let i = 0; i < 5; i++) {
    const ok = await postForm(bucket, simpleForm(bucket, `k${i}`), {
      bytes: randomBytesSeeded(50 * KIB, i + 1),
    });
    t.is(ok.status, 204);
    const refused = await postForm(bucket, simpleForm(bucket, `k${i}`, { expiresInMs: -1 }), {
      bytes: Buffer.from('x'),
    });
    t.is(refused.status, 403);
    await refused.text();
  }
  const other = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k4' }));
  t.is(other.ContentLength, 50 * KIB);
});

// ---- helpers: the CLI ----

/** Runs `hangar ... --json` against the server (through its admin API) and parses the output. */
async function cli(...args: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await suite.server.cli(...args, '--json');
  if (code !== 0) throw new Error(`hangar ${args.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as unknown;
}
