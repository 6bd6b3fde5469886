import { createHash } from 'node:crypto';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { createKey, grant } from '../helpers/keys.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { type Run, runTool } from '../helpers/tree.js';

const suite = useServer(test);

const ALL_TRUE = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

test('a new bucket blocks all public access, as AWS buckets made since April 2023', async (t) => {
  const bucket = await newBucket(suite.s3, 'pab-default');
  const got = await suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
  t.deepEqual(got.PublicAccessBlockConfiguration, ALL_TRUE);
});

test('PutPublicAccessBlock replaces the flags; an absent flag is false', async (t) => {
  const bucket = await newBucket(suite.s3, 'pab-put');
  await suite.s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    }),
  );
  const got = await suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
  t.deepEqual(got.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    IgnorePublicAcls: false,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: true,
  });
});

test('DeletePublicAccessBlock answers 204; then Get is NoSuchPublicAccessBlockConfiguration', async (t) => {
  const bucket = await newBucket(suite.s3, 'pab-delete');
  const deleted = await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  // Deleting what is not there is still 204.
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  const missing = await s3Failure(
    suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })),
  );
  t.is(missing.status, 404);
  t.is(missing.name, 'NoSuchPublicAccessBlockConfiguration');
});

test('a malformed PublicAccessBlockConfiguration is MalformedXML', async (t) => {
  const bucket = await newBucket(suite.s3, 'pab-malformed');
  const put = (body: string): Promise<Response> =>
    signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}?publicAccessBlock`,
      body: Buffer.from(body),
      // S3 requires an integrity header here; with it, the document itself is judged.
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    });
  for (const body of [
    '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>',
    '<PublicAccessBlockConfiguration><BlockEverything>true</BlockEverything></PublicAccessBlockConfiguration>',
    '<Other/>',
  ]) {
    const answer = await put(body);
    t.is(answer.status, 400, body);
    t.regex(await answer.text(), /<Code>MalformedXML<\/Code>/);
  }
  // Nothing changed.
  const got = await suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
  t.deepEqual(got.PublicAccessBlockConfiguration, ALL_TRUE);
});

test('only the bucket owner (or an owner grant) reads and changes the block', async (t) => {
  const bucket = await newBucket(suite.s3, 'pab-owner');
  const writer = await createKey(suite.server, 'pab-writer');
  await grant(suite.server, bucket, writer, 'read', 'write');
  const client = suite.server.client(writer);
  for (const attempt of [
    client.send(new GetPublicAccessBlockCommand({ Bucket: bucket })),
    client.send(new DeletePublicAccessBlockCommand({ Bucket: bucket })),
  ]) {
    const refused = await s3Failure(attempt);
    t.is(refused.name, 'AccessDenied');
  }
  await grant(suite.server, bucket, writer, 'owner');
  await client.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  t.pass();
});

test('anonymous curl: a public prefix answers 200, a private key 403 AccessDenied, as AWS', async (t) => {
  const bucket = await newBucket(suite.s3, 'pab-curl');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/a.txt', Body: 'open' }));
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/b.txt', Body: 'shut' }));
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/public/*`,
      },
    ],
  });
  const curl = (key: string): Promise<Run> =>
    runTool(
      'curl',
      ['-sS', '-w', '\\n%{http_code}', `${suite.server.endpoint}/${bucket}/${key}`],
      {},
    );
  // The block is on: the public policy cannot be put, and nothing is public.
  const blocked = await s3Failure(
    suite.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })),
  );
  t.is(blocked.name, 'AccessDenied');
  t.regex((await curl('public/a.txt')).stdout, /403$/);
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await suite.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
  const open = await curl('public/a.txt');
  t.is(open.code, 0, open.stderr);
  t.is(open.stdout, 'open\n200');
  const shut = await curl('private/b.txt');
  t.regex(shut.stdout, /<Code>AccessDenied<\/Code>[\s\S]*\n403$/);
  // RestrictPublicBuckets: the stored public policy no longer admits anonymous requests.
  await suite.s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: { RestrictPublicBuckets: true },
    }),
  );
  t.regex((await curl('public/a.txt')).stdout, /<Code>AccessDenied<\/Code>[\s\S]*\n403$/);
});
