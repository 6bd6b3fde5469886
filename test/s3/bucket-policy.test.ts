import {
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import { LIMITS } from '../../engine/limits.js';
import { createKey, grant } from '../helpers/keys.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

/**
 * Bucket policies through the real server: Put/Get/Delete/GetBucketPolicyStatus, their errors,
 * and policies that allow and deny requests (principals, prefixes, IP, transport, tags,
 * anonymous reads) beside key grants and the PublicAccessBlock.
 */
const suite = useServer(test);

const ACCOUNT = '000000000000';
const userArn = (accessKeyId: string) => `arn:aws:iam::${ACCOUNT}:user/${accessKeyId}`;

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

async function putPolicy(bucket: string, text: string, s3: S3Client = suite.s3): Promise<void> {
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: text }));
}

async function refused(t: ExecutionContext, promise: Promise<unknown>, what: string) {
  const failure = await s3Failure(promise);
  t.is(failure.status, 403, `${what}: ${failure.name} ${failure.message}`);
  t.is(failure.name, 'AccessDenied', what);
}

const put = (s3: S3Client, bucket: string, key: string, tagging?: string) =>
  s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: 'x',
      ...(tagging === undefined ? {} : { Tagging: tagging }),
    }),
  );
const get = (s3: S3Client, bucket: string, key: string) =>
  s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));

/** A policy that lets everyone, anonymous requests included, GetObject under `keys`. */
function publicReads(bucket: string, keys: string): string {
  return policy({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/${keys}`,
  });
}

/** A bucket whose PublicAccessBlock is gone, so that a public policy may be put. */
async function openBucket(prefix: string): Promise<string> {
  const bucket = await newBucket(suite.s3, prefix);
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  return bucket;
}

test('Put, Get, GetBucketPolicyStatus and Delete round trip; the text comes back exactly', async (t) => {
  const { s3 } = suite;
  const bucket = await newBucket(s3, 'pol-rt');
  // Spacing and key order a client chose must survive: GetBucketPolicy returns the text.
  const text = `{ "Statement": [ {"Sid":"k","Effect":"Allow","Action":"s3:GetObject",\n  "Principal": {"AWS": "${userArn('HKSOMEONE')}"}, "Resource":"arn:aws:s3:::${bucket}/*"} ],\n "Version":"2012-10-17" }`;
  await putPolicy(bucket, text);
  const got = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
  t.is(got.Policy, text);
  // On the wire: the JSON itself, as application/json (not wrapped in XML).
  const url = await getSignedUrl(s3, new GetBucketPolicyCommand({ Bucket: bucket }));
  const raw = await fetch(url);
  t.is(raw.status, 200);
  t.is(raw.headers.get('content-type'), 'application/json');
  t.is(await raw.text(), text);
  const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }));
  t.is(status.PolicyStatus?.IsPublic, false);
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  const missing = await s3Failure(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })));
  t.is(missing.status, 404);
  t.is(missing.name, 'NoSuchBucketPolicy');
  // Deleting again is no error; the status of a bucket without policy is "not public".
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  const none = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }));
  t.is(none.PolicyStatus?.IsPublic, false);
});

test('malformed, foreign and oversized policies are MalformedPolicy 400', async (t) => {
  const { s3 } = suite;
  const bucket = await newBucket(s3, 'pol-bad');
  const cases: Array<[string, string]> = [
    ['not json', "Policies must be valid JSON and the first byte must be '{'"],
    ['{"Version":"2012-10-17"}', 'Missing required field Statement'],
    [
      policy({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::another-bucket/*',
      }),
      'Policy has invalid resource',
    ],
    [
      policy({
        Effect: 'Permit',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
      }),
      'Invalid effect: Permit',
    ],
    [
      policy({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Sid: 'x'.repeat(LIMITS.bucketPolicyBytesMax),
      }),
      'Policy exceeds the maximum allowed document size.',
    ],
  ];
  for (const [text, message] of cases) {
    const failure = await s3Failure(putPolicy(bucket, text));
    t.is(failure.status, 400, message);
    t.is(failure.name, 'MalformedPolicy', message);
    t.is(failure.message, message);
  }
  const stillNone = await s3Failure(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })));
  t.is(stillNone.name, 'NoSuchBucketPolicy', 'no refused policy was stored');
});

test('a policy lets a key without grants PutObject under uploads/ only', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-up');
  const key = await createKey(server, 'uploader');
  const client = server.client(key);
  await refused(t, put(client, bucket, 'uploads/before'), 'before the policy');
  await putPolicy(
    bucket,
    policy({
      Effect: 'Allow',
      Principal: { AWS: userArn(key.accessKeyId) },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/uploads/*`,
    }),
  );
  await put(client, bucket, 'uploads/a.txt');
  await refused(t, put(client, bucket, 'elsewhere/a.txt'), 'outside uploads/');
  await refused(t, get(client, bucket, 'uploads/a.txt'), 'reading is not allowed');
  const other = server.client(await createKey(server, 'not-named'));
  await refused(t, put(other, bucket, 'uploads/b.txt'), 'a key the policy does not name');
  t.is((await get(s3, bucket, 'uploads/a.txt')).ContentLength, 1);
});

test('an explicit Deny beats a key write grant', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-deny');
  const key = await createKey(server, 'writer');
  await grant(server, bucket, key, 'read', 'write');
  const client = server.client(key);
  await put(client, bucket, 'locked/before');
  await putPolicy(
    bucket,
    policy({
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:DeleteObject'],
      Resource: `arn:aws:s3:::${bucket}/locked/*`,
    }),
  );
  await refused(t, put(client, bucket, 'locked/after'), 'denied by the policy');
  await put(client, bucket, 'free/after');
  t.is((await get(client, bucket, 'locked/before')).ContentLength, 1, 'reads still allowed');
});

test('Deny on aws:SecureTransport false refuses plain-HTTP requests, root too, but never its policy calls', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-tls');
  await put(s3, bucket, 'a');
  const key = await createKey(server, 'tls-reader');
  await grant(server, bucket, key, 'read');
  await putPolicy(
    bucket,
    policy({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
  );
  await refused(t, get(server.client(key), bucket, 'a'), 'a granted key over http');
  await refused(t, get(s3, bucket, 'a'), 'the root key over http');
  // The root key can always read, replace and remove the policy that locks everyone out.
  const locking = (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '';
  await putPolicy(bucket, locking.replace('s3:*', 's3:Put*'));
  t.is((await get(s3, bucket, 'a')).ContentLength, 1, 'the replaced policy denies writes only');
  await putPolicy(bucket, locking);
  await refused(
    t,
    server.client(key).send(new DeleteBucketPolicyCommand({ Bucket: bucket })),
    'a read key may not remove the policy',
  );
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  t.is((await get(s3, bucket, 'a')).ContentLength, 1);
});

test('aws:SourceIp allows from 127.0.0.0/8 and not from elsewhere; NotIpAddress denies', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-ip');
  await put(s3, bucket, 'a');
  const key = await createKey(server, 'ip-reader');
  const client = server.client(key);
  const allowFrom = (cidr: string) =>
    putPolicy(
      bucket,
      policy({
        Effect: 'Allow',
        Principal: { AWS: userArn(key.accessKeyId) },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { IpAddress: { 'aws:SourceIp': cidr } },
      }),
    );
  await allowFrom('127.0.0.0/8');
  t.is((await get(client, bucket, 'a')).ContentLength, 1);
  await allowFrom('10.0.0.0/8');
  await refused(t, get(client, bucket, 'a'), 'from outside the range');
  await grant(server, bucket, key, 'read');
  await putPolicy(
    bucket,
    policy({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${bucket}/*`,
      Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } },
    }),
  );
  await refused(t, get(client, bucket, 'a'), 'a granted key outside the allowed networks');
});

test('s3:prefix limits what a key may list', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-prefix');
  await put(s3, bucket, 'home/alice/a');
  await put(s3, bucket, 'etc/passwd');
  const key = await createKey(server, 'lister');
  const client = server.client(key);
  await putPolicy(
    bucket,
    policy({
      Effect: 'Allow',
      Principal: { AWS: userArn(key.accessKeyId) },
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringLike: { 's3:prefix': 'home/*' } },
    }),
  );
  const list = (prefix?: string) =>
    client.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }),
    );
  const listed = await list('home/');
  t.deepEqual(
    listed.Contents?.map((o) => o.Key),
    ['home/alice/a'],
  );
  await refused(t, list('etc/'), 'another prefix');
  await refused(t, list(), 'the whole bucket');
});

test('s3:ExistingObjectTag and s3:RequestObjectTag conditions', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-tags');
  await put(s3, bucket, 'open', 'class=public');
  await put(s3, bucket, 'closed', 'class=secret');
  const key = await createKey(server, 'tagged');
  const client = server.client(key);
  const resource = `arn:aws:s3:::${bucket}/*`;
  await putPolicy(
    bucket,
    policy(
      {
        Sid: 'ReadPublicTagged',
        Effect: 'Allow',
        Principal: { AWS: userArn(key.accessKeyId) },
        Action: 's3:GetObject',
        Resource: resource,
        Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'public' } },
      },
      {
        Sid: 'WriteBlueTagged',
        Effect: 'Allow',
        Principal: { AWS: userArn(key.accessKeyId) },
        Action: 's3:PutObject',
        Resource: resource,
        Condition: { StringEquals: { 's3:RequestObjectTag/team': 'blue' } },
      },
    ),
  );
  t.is((await get(client, bucket, 'open')).ContentLength, 1);
  await refused(t, get(client, bucket, 'closed'), 'an object tagged otherwise');
  await put(client, bucket, 'new-blue', 'team=blue&x=1');
  await refused(t, put(client, bucket, 'new-red', 'team=red'), 'a PUT tagged otherwise');
  await refused(t, put(client, bucket, 'new-untagged'), 'a PUT without tags');
});

test('Principal "*" lets anonymous requests read public/* only; other keys stay denied elsewhere', async (t) => {
  const { server, s3 } = suite;
  const bucket = await openBucket('pol-anon');
  await put(s3, bucket, 'public/page.html');
  await put(s3, bucket, 'private/data');
  await putPolicy(bucket, publicReads(bucket, 'public/*'));
  const anonymous = (key: string) => fetch(`${server.endpoint}/${bucket}/${key}`);
  const open = await anonymous('public/page.html');
  t.is(open.status, 200);
  t.is(await open.text(), 'x');
  const closed = await anonymous('private/data');
  t.is(closed.status, 403);
  t.regex(await closed.text(), /<Code>AccessDenied<\/Code>/);
  const stranger = server.client(await createKey(server, 'stranger'));
  t.is((await get(stranger, bucket, 'public/page.html')).ContentLength, 1);
  await refused(t, get(stranger, bucket, 'private/data'), 'a key without grants');
  await refused(t, put(stranger, bucket, 'public/new'), 'writing is not in the policy');
  const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }));
  t.is(status.PolicyStatus?.IsPublic, true);
});

test('BlockPublicPolicy refuses a public policy with AccessDenied, not a private one', async (t) => {
  const { s3 } = suite;
  // New buckets block public access (AWS's default since 2023).
  const bucket = await newBucket(s3, 'pol-block');
  const everyone = publicReads(bucket, '*');
  await refused(t, putPolicy(bucket, everyone), 'a public policy under BlockPublicPolicy');
  const fromOneNetwork = policy({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/*`,
    Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } },
  });
  await putPolicy(bucket, fromOneNetwork);
  t.is((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, fromOneNetwork);
});

test('RestrictPublicBuckets makes a stored public policy stop allowing anonymous reads', async (t) => {
  const { server, s3 } = suite;
  const bucket = await openBucket('pol-restrict');
  await put(s3, bucket, 'public/a');
  await putPolicy(bucket, publicReads(bucket, 'public/*'));
  const url = `${server.endpoint}/${bucket}/public/a`;
  t.is((await fetch(url)).status, 200);
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: { RestrictPublicBuckets: true },
    }),
  );
  const restricted = await fetch(url);
  t.is(restricted.status, 403);
  const stranger = server.client(await createKey(server, 'restricted-stranger'));
  await refused(t, get(stranger, bucket, 'public/a'), 'a key outside the bucket');
  // The policy is still stored and still public: only its effect is restricted.
  const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }));
  t.is(status.PolicyStatus?.IsPublic, true);
});

test('a policy variable gives every key of the account its own home directory', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'pol-home');
  const alice = await createKey(server, 'home-alice');
  const bob = await createKey(server, 'home-bob');
  await putPolicy(
    bucket,
    policy({
      Effect: 'Allow',
      Principal: { AWS: ACCOUNT },
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: `arn:aws:s3:::${bucket}/home/${['$', '{aws:username}'].join('')}/*`,
    }),
  );
  await put(server.client(alice), bucket, `home/${alice.accessKeyId}/a`);
  await put(server.client(bob), bucket, `home/${bob.accessKeyId}/b`);
  await refused(
    t,
    put(server.client(bob), bucket, `home/${alice.accessKeyId}/b`),
    "another's home",
  );
  await refused(
    t,
    get(server.client(alice), bucket, `home/${bob.accessKeyId}/b`),
    "reading another's",
  );
  t.is((await get(server.client(alice), bucket, `home/${alice.accessKeyId}/a`)).ContentLength, 1);
});
