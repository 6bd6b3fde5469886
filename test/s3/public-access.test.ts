import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { createKey, grant } from '../helpers/keys.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

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
