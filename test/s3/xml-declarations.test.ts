import { createHash } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const suite = useServer(test);

/** Defines an entity, used in the document: an XML parser that honours DTDs expands it. */
const DOCTYPE = (root: string): string => `<!DOCTYPE ${root} [<!ENTITY v "victim">]>`;

async function sendXml(method: string, path: string, document: string): Promise<Response> {
  const body = Buffer.from(document);
  return signedFetch(suite.server.endpoint, {
    method,
    path,
    body,
    headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
  });
}

async function expectMalformed(
  t: { is: (a: unknown, b: unknown, m?: string) => void },
  response: Response,
): Promise<void> {
  const text = await response.text();
  t.is(response.status, 400, text);
  t.is(/<Code>([^<]*)<\/Code>/.exec(text)?.[1], 'MalformedXML');
}

test('PutBucketTagging with a DOCTYPE is MalformedXML and sets nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'dtd-tagging');
  const document = `${DOCTYPE('Tagging')}<Tagging><TagSet><Tag><Key>k</Key><Value>&v;</Value></Tag></TagSet></Tagging>`;
  await expectMalformed(t, await sendXml('PUT', `/${bucket}?tagging`, document));
  const failure = await s3Failure(suite.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })));
  t.is(failure.status, 404);
  t.is(failure.name, 'NoSuchTagSet');
});

test('DeleteObjects with an entity naming the key is MalformedXML and deletes nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'dtd-delete');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim', Body: 'v' }));
  const document = `<?xml version="1.0"?>${DOCTYPE('Delete')}<Delete><Object><Key>&v;</Key></Object></Delete>`;
  await expectMalformed(t, await sendXml('POST', `/${bucket}?delete`, document));
  await t.notThrowsAsync(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'victim' })));
});

test('DeleteObjects: a key listed with a control character reference deletes that key', async (t) => {
  const bucket = await newBucket(suite.s3, 'ctl-delete');
  for (const key of ['a\u0001b', 'ab']) {
    await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v' }));
  }
  // The listing writes the key as a reference; sent back, it names the same key, not "ab".
  const listed = await signedFetch(suite.server.endpoint, { method: 'GET', path: `/${bucket}` });
  t.regex(await listed.text(), /<Key>a&#x1;b<\/Key>/);
  const response = await sendXml(
    'POST',
    `/${bucket}?delete`,
    '<Delete><Quiet>true</Quiet><Object><Key>a&#x1;b</Key></Object></Delete>',
  );
  t.is(response.status, 200, await response.text());
  const gone = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a\u0001b' })),
  );
  t.is(gone.status, 404);
  await t.notThrowsAsync(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ab' })));
  // Written raw, the character is not XML 1.0: MalformedXML, as AWS answers, and nothing deleted.
  await expectMalformed(
    t,
    await sendXml(
      'POST',
      `/${bucket}?delete`,
      '<Delete><Object><Key>a\u0001b</Key></Object></Delete>',
    ),
  );
});

test('PutBucketCors with an ENTITY declaration is MalformedXML', async (t) => {
  const bucket = await newBucket(suite.s3, 'dtd-cors');
  const document = `${DOCTYPE('CORSConfiguration')}<CORSConfiguration><CORSRule><AllowedOrigin>&v;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`;
  await expectMalformed(t, await sendXml('PUT', `/${bucket}?cors`, document));
  const failure = await s3Failure(suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket })));
  t.is(failure.name, 'NoSuchCORSConfiguration');
});

test('CompleteMultipartUpload with a DOCTYPE is MalformedXML; the upload stays open', async (t) => {
  const bucket = await newBucket(suite.s3, 'dtd-mpu');
  const { UploadId } = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }),
  );
  const part = await suite.s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: 'one' }),
  );
  const document = `${DOCTYPE('CompleteMultipartUpload')}<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag}</ETag></Part></CompleteMultipartUpload>`;
  await expectMalformed(t, await sendXml('POST', `/${bucket}/mpu?uploadId=${UploadId}`, document));
  const parts = await suite.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu', UploadId }));
  t.is(parts.Parts?.length, 1);
});
