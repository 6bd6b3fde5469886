import { createHash } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketTaggingCommand,
  GetBucketWebsiteCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { streamingFetch } from '../helpers/chunk-signer.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const suite = useServer(test);

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

function errorCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

/** A signed XML request whose x-amz-content-sha256 is the hash of `signed`, its body `sent`. */
async function sendXml(
  method: string,
  path: string,
  sent: string,
  signed: string,
): Promise<Response> {
  const body = Buffer.from(sent);
  return signedFetch(suite.server.endpoint, {
    method,
    path,
    body,
    // The Content-MD5 is the sent body's: only the signed hash disagrees with it.
    headers: { 'content-md5': md5Base64(body), 'content-type': 'application/xml' },
    payloadHash: sha256Hex(signed),
  });
}

interface Case {
  title: string;
  method: string;
  /** Prepares the target; returns the request path and the document to send. */
  setUp(bucket: string): Promise<{ path: string; document: string }>;
  /** Throws unless the request's effect is absent (exactly: the expected 404, or the old state). */
  notApplied(bucket: string): Promise<void>;
  /** Throws unless the request's effect is present. */
  applied(bucket: string): Promise<void>;
  /** The success status (default 200). */
  status?: number;
}

async function expect404(promise: Promise<unknown>, name: string): Promise<void> {
  const failure = await s3Failure(promise);
  if (failure.status !== 404 || failure.name !== name)
    throw new Error(`expected 404 ${name}, got ${failure.status} ${failure.name}`);
}

const TAGGING = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';

const CASES: Case[] = [
  {
    title: 'CreateBucket',
    method: 'PUT',
    setUp: async (bucket) => ({
      path: `/${bucket}-new`,
      document:
        '<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>',
    }),
    notApplied: (bucket) =>
      expect404(suite.s3.send(new HeadBucketCommand({ Bucket: `${bucket}-new` })), 'NotFound'),
    applied: async (bucket) => {
      await suite.s3.send(new HeadBucketCommand({ Bucket: `${bucket}-new` }));
    },
  },
  {
    title: 'DeleteObjects',
    method: 'POST',
    setUp: async (bucket) => {
      await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim', Body: 'v' }));
      return {
        path: `/${bucket}?delete`,
        document: '<Delete><Object><Key>victim</Key></Object></Delete>',
      };
    },
    notApplied: async (bucket) => {
      await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'victim' }));
    },
    applied: (bucket) =>
      expect404(
        suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'victim' })),
        'NotFound',
      ),
  },
  {
    title: 'CompleteMultipartUpload',
    method: 'POST',
    setUp: async (bucket) => {
      const { UploadId } = await suite.s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }),
      );
      const part = await suite.s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'mpu',
          UploadId,
          PartNumber: 1,
          Body: 'part one',
        }),
      );
      return {
        path: `/${bucket}/mpu?uploadId=${UploadId}`,
        document: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag}</ETag></Part></CompleteMultipartUpload>`,
      };
    },
    notApplied: async (bucket) => {
      await expect404(
        suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpu' })),
        'NotFound',
      );
    },
    applied: async (bucket) => {
      await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpu' }));
    },
  },
  {
    title: 'PutBucketCors',
    method: 'PUT',
    setUp: async (bucket) => ({
      path: `/${bucket}?cors`,
      document:
        '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
    }),
    notApplied: (bucket) =>
      expect404(
        suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket })),
        'NoSuchCORSConfiguration',
      ),
    applied: async (bucket) => {
      await suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    },
  },
  {
    title: 'PutBucketWebsite',
    method: 'PUT',
    setUp: async (bucket) => ({
      path: `/${bucket}?website`,
      document:
        '<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>',
    }),
    notApplied: (bucket) =>
      expect404(
        suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })),
        'NoSuchWebsiteConfiguration',
      ),
    applied: async (bucket) => {
      await suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
    },
  },
  {
    title: 'PutBucketLifecycleConfiguration',
    method: 'PUT',
    setUp: async (bucket) => ({
      path: `/${bucket}?lifecycle`,
      document:
        '<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>',
    }),
    notApplied: (bucket) =>
      expect404(
        suite.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
        'NoSuchLifecycleConfiguration',
      ),
    applied: async (bucket) => {
      await suite.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    },
  },
  {
    title: 'PutBucketTagging',
    method: 'PUT',
    status: 204,
    setUp: async (bucket) => ({ path: `/${bucket}?tagging`, document: TAGGING }),
    notApplied: (bucket) =>
      expect404(suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet'),
    applied: async (bucket) => {
      await suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    },
  },
  {
    title: 'PutObjectTagging',
    method: 'PUT',
    setUp: async (bucket) => {
      await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 't' }));
      return { path: `/${bucket}/tagged?tagging`, document: TAGGING };
    },
    notApplied: async (bucket) => {
      const got = await suite.s3.send(
        new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }),
      );
      if ((got.TagSet ?? []).length !== 0) throw new Error('the tags were set');
    },
    applied: async (bucket) => {
      const got = await suite.s3.send(
        new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }),
      );
      if ((got.TagSet ?? []).length !== 1) throw new Error('the tags were not set');
    },
  },
];

for (const c of CASES) {
  test(`${c.title}: a body that is not the signed one is XAmzContentSHA256Mismatch, and nothing happens`, async (t) => {
    const bucket = await newBucket(suite.s3, `sha-${c.title.toLowerCase().slice(0, 20)}`);
    const { path, document } = await c.setUp(bucket);
    // The signature covers another document (a single changed byte): the sent one must not act.
    const signedDocument = document.replace('</', ' </');
    const refused = await sendXml(c.method, path, document, signedDocument);
    const text = await refused.text();
    t.is(refused.status, 400, text);
    t.is(errorCode(text), 'XAmzContentSHA256Mismatch');
    t.regex(text, new RegExp(`<ClientComputedContentSHA256>${sha256Hex(signedDocument)}<`));
    t.regex(text, new RegExp(`<S3ComputedContentSHA256>${sha256Hex(document)}<`));
    await t.notThrowsAsync(c.notApplied(bucket));
    // The same request, signed over what it sends, is served: the refusal was the hash's.
    const served = await sendXml(c.method, path, document, document);
    t.is(served.status, c.status ?? 200, await served.text());
    await t.notThrowsAsync(c.applied(bucket));
  });
}

test('an aws-chunked XML body is decoded and its chunk signatures verified', async (t) => {
  const bucket = await newBucket(suite.s3, 'sha-chunked');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim', Body: 'v' }));
  const data = Buffer.from('<Delete><Object><Key>victim</Key></Object></Delete>');
  const request = {
    method: 'POST',
    path: `/${bucket}?delete`,
    mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' as const,
    data,
    chunkBytes: 8192,
    headers: { 'content-md5': md5Base64(data) },
  };
  // One payload byte changed after signing: its chunk signature no longer matches.
  const tampered = await streamingFetch(suite.server.endpoint, {
    ...request,
    tamper: (encoded) => {
      const copy = Buffer.from(encoded);
      const at = copy.indexOf('victim');
      copy[at] = 'V'.charCodeAt(0);
      return copy;
    },
  });
  const text = await tampered.text();
  t.is(tampered.status, 403, text);
  t.is(errorCode(text), 'SignatureDoesNotMatch');
  await t.notThrowsAsync(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'victim' })));
  const served = await streamingFetch(suite.server.endpoint, request);
  const servedText = await served.text();
  t.is(served.status, 200, servedText);
  t.regex(servedText, /<Deleted><Key>victim<\/Key><\/Deleted>/);
  const failure = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'victim' })),
  );
  t.is(failure.status, 404);
});

test('UNSIGNED-PAYLOAD XML bodies are not hashed (nothing was signed)', async (t) => {
  const bucket = await newBucket(suite.s3, 'sha-unsigned');
  const body = Buffer.from(TAGGING);
  const response = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?tagging`,
    body,
    headers: { 'content-md5': md5Base64(body) },
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  t.is(response.status, 204, await response.text());
  const tags = await suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
  t.deepEqual(tags.TagSet, [{ Key: 'k', Value: 'v' }]);
});
