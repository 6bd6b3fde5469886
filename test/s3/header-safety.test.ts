import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { newBucket, REGION, ROOT_ACCESS_KEY, s3Failure, useServer } from '../helpers/server.js';
import { makePublicRead, webRequest } from '../helpers/website.js';

const suite = useServer(test);

/** A value that would add a Set-Cookie header if it reached the wire unchanged. */
const SPLIT = 'text/plain\r\nSet-Cookie: split=1';

function codeOf(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

// ---- Row 2: control characters never reach a response header ----

test('a presigned GET with CR/LF in response-content-type is InvalidArgument, no header split', async (t) => {
  const bucket = await newBucket(suite.s3, 'split-q');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'body' }));
  for (const override of [
    { ResponseContentType: SPLIT },
    { ResponseContentDisposition: 'inline\r\nSet-Cookie: split=1' },
    { ResponseCacheControl: 'no-cache\nSet-Cookie: split=1' },
    { ResponseContentLanguage: 'en\x00' },
  ]) {
    const url = await getSignedUrl(
      suite.s3,
      new GetObjectCommand({ Bucket: bucket, Key: 'k', ...override }),
      { expiresIn: 600 },
    );
    const response = await fetch(url);
    const text = await response.text();
    t.is(response.status, 400, JSON.stringify(override));
    t.is(codeOf(text), 'InvalidArgument');
    t.is(response.headers.get('set-cookie'), null);
  }
  // A plain override still works.
  const url = await getSignedUrl(
    suite.s3,
    new GetObjectCommand({ Bucket: bucket, Key: 'k', ResponseContentType: 'text/x-fine' }),
    { expiresIn: 600 },
  );
  const fine = await fetch(url);
  t.is(fine.status, 200);
  t.is(fine.headers.get('content-type'), 'text/x-fine');
  await fine.arrayBuffer();
});

/** A browser-style POST upload whose policy lets `fields` through (starts-with ""). */
async function postWith(bucket: string, key: string, fields: Record<string, string>) {
  const { url, fields: signed } = await createPresignedPost(suite.s3, {
    Bucket: bucket,
    Key: key,
    Conditions: Object.keys(fields).map((name) => ['starts-with', `$${name}`, '']),
    Fields: fields,
    Expires: 600,
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(signed)) form.append(name, value);
  form.append('file', new Blob([Buffer.from('posted')]), 'f.txt');
  const response = await fetch(url, { method: 'POST', body: form, redirect: 'manual' });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

test('PostObject fields that become stored headers refuse control characters', async (t) => {
  const bucket = await newBucket(suite.s3, 'split-post');
  const cases: Array<Record<string, string>> = [
    { 'Content-Type': SPLIT },
    { 'Cache-Control': 'no-cache\r\nSet-Cookie: split=1' },
    { 'Content-Disposition': 'inline\r\nX-Evil: 1' },
    { 'x-amz-meta-note': 'a\x00b' },
    { 'x-amz-meta-note': 'bell\x07' },
    // A field name is any string of the form: the metadata name must still be a header token.
    { 'x-amz-meta-a b': 'v' },
  ];
  for (const [i, fields] of cases.entries()) {
    const key = `k${i}`;
    const answer = await postWith(bucket, key, fields);
    t.is(answer.status, 400, JSON.stringify(fields));
    t.is(codeOf(answer.text), 'InvalidArgument', JSON.stringify(fields));
    const missing = await s3Failure(
      suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    );
    t.is(missing.status, 404, 'nothing was stored');
  }
  const ok = await postWith(bucket, 'fine', {
    'Content-Type': 'text/plain',
    'x-amz-meta-note': 'tab\tok',
  });
  t.is(ok.status, 204);
  const head = await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fine' }));
  t.is(head.ContentType, 'text/plain');
  t.is(head.Metadata?.['note'], 'tab\tok');
});

test('a website configuration with CR/LF in a redirect is InvalidArgument and not stored', async (t) => {
  const bucket = await newBucket(suite.s3, 'split-web');
  const configs = [
    { RedirectAllRequestsTo: { HostName: 'example.com\r\nSet-Cookie: split=1' } },
    {
      IndexDocument: { Suffix: 'index.html' },
      RoutingRules: [{ Redirect: { HostName: 'example.com\r\nSet-Cookie: split=1' } }],
    },
    {
      IndexDocument: { Suffix: 'index.html' },
      RoutingRules: [{ Redirect: { ReplaceKeyWith: 'a\r\nSet-Cookie: split=1' } }],
    },
  ];
  for (const config of configs) {
    const err = await s3Failure(
      suite.s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: config })),
    );
    t.is(err.status, 400, JSON.stringify(config));
    t.is(err.name, 'InvalidArgument');
  }
  // The SDK writes a NUL as it is: not XML 1.0 at all, so the document is MalformedXML (as AWS
  // answers) before any field is judged; either way nothing is stored.
  const nul = await s3Failure(
    suite.s3.send(
      new PutBucketWebsiteCommand({
        Bucket: bucket,
        WebsiteConfiguration: {
          IndexDocument: { Suffix: 'index.html' },
          RoutingRules: [{ Redirect: { ReplaceKeyPrefixWith: 'a\x00' } }],
        },
      }),
    ),
  );
  t.is(nul.status, 400);
  t.is(nul.name, 'MalformedXML');
  const none = await s3Failure(suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })));
  t.is(none.name, 'NoSuchWebsiteConfiguration');
});

test('a CORS rule whose header names are not tokens, or whose origin has CR/LF, is refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'split-cors');
  const base = { AllowedMethods: ['GET'], AllowedOrigins: ['https://example.com'] };
  const rules = [
    { ...base, ExposeHeaders: ['x-a\r\nSet-Cookie: split=1'] },
    { ...base, AllowedHeaders: ['x-a\r\nSet-Cookie: split=1'] },
    { ...base, AllowedHeaders: ['x-a x-b'] },
    { ...base, AllowedOrigins: ['https://example.com\r\nSet-Cookie: split=1'] },
  ];
  for (const rule of rules) {
    const err = await s3Failure(
      suite.s3.send(
        new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } }),
      ),
    );
    t.is(err.status, 400, JSON.stringify(rule));
    t.is(err.name, 'InvalidRequest');
  }
  await suite.s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [{ ...base, AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }],
      },
    }),
  );
  t.pass();
});

// ---- Row 12: prototype keys and over-long keys are clean 4xx ----

test('SignedHeaders naming __proto__ or constructor is a clean 403, not a 500', async (t) => {
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const day = amzDate.slice(0, 8);
  for (const extra of ['__proto__', 'constructor', 'tostring']) {
    const signed = ['host', 'x-amz-content-sha256', 'x-amz-date', extra].sort().join(';');
    const response = await fetch(`${suite.server.endpoint}/`, {
      headers: {
        'x-amz-date': amzDate,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        authorization: `AWS4-HMAC-SHA256 Credential=${ROOT_ACCESS_KEY}/${day}/${REGION}/s3/aws4_request, SignedHeaders=${signed}, Signature=${'0'.repeat(64)}`,
      },
    });
    const text = await response.text();
    t.is(response.status, 403, `${extra}: ${text}`);
    t.is(codeOf(text), 'SignatureDoesNotMatch');
  }
});

const LONG_KEY = 'k'.repeat(1025);
const VERY_LONG_KEY = 'k'.repeat(4000);
const LONG_UTF8_KEY = `${'é'.repeat(512)}x`;

test('every endpoint that takes a key answers KeyTooLongError past 1024 bytes', async (t) => {
  const bucket = await newBucket(suite.s3, 'longkey');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'x' }));
  for (const key of [LONG_KEY, VERY_LONG_KEY, LONG_UTF8_KEY]) {
    for (const [name, command] of [
      ['GET', new GetObjectCommand({ Bucket: bucket, Key: key })],
      ['DELETE', new DeleteObjectCommand({ Bucket: bucket, Key: key })],
      ['PUT', new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' })],
      [
        'UploadPart',
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: 'u',
          PartNumber: 1,
          Body: 'x',
        }),
      ],
      [
        'copy target',
        new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/src` }),
      ],
      [
        'copy source',
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'dst',
          CopySource: `${bucket}/${encodeURIComponent(key)}`,
        }),
      ],
      [
        'DeleteObjects',
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [{ Key: 'src' }, { Key: key }] },
        }),
      ],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: one loop over differently typed commands
      const err = await s3Failure(suite.s3.send(command as any));
      t.is(err.status, 400, `${name} ${key.length}`);
      t.is(err.name, 'KeyTooLongError', `${name} ${key.length}`);
    }
    const head = await s3Failure(
      suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    );
    t.is(head.status, 400, `HEAD ${key.length}`);
  }
  // DeleteObjects refused as a whole: the valid entry is still there.
  await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
  const posted = await postWith(bucket, VERY_LONG_KEY, {});
  t.is(posted.status, 400);
  t.is(codeOf(posted.text), 'KeyTooLongError');
});

test('the website endpoint answers KeyTooLongError for a key past 1024 bytes', async (t) => {
  const bucket = await newBucket(suite.s3, 'longkey-web');
  await makePublicRead(suite.s3, bucket);
  await suite.s3.send(
    new PutBucketWebsiteCommand({
      Bucket: bucket,
      WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
    }),
  );
  const answer = await webRequest(
    suite.server.webPort,
    `${bucket}.web.localhost`,
    `/${VERY_LONG_KEY}`,
  );
  t.is(answer.status, 400);
  t.regex(answer.body, /KeyTooLongError/);
});

test('a listing prefix past 1024 bytes is KeyTooLongError, not a 500', async (t) => {
  const bucket = await newBucket(suite.s3, 'longprefix');
  for (const command of [
    new ListObjectsV2Command({ Bucket: bucket, Prefix: VERY_LONG_KEY }),
    new ListObjectsCommand({ Bucket: bucket, Prefix: VERY_LONG_KEY }),
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: VERY_LONG_KEY }),
  ]) {
    // biome-ignore lint/suspicious/noExplicitAny: one loop over differently typed commands
    const err = await s3Failure(suite.s3.send(command as any));
    t.is(err.status, 400);
    t.is(err.name, 'KeyTooLongError');
    t.is(err.message, 'Your key is too long');
  }
  const fine = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: 'k'.repeat(1024) }),
  );
  t.is(fine.KeyCount, 0);
});
