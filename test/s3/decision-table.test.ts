// The decision table (issue 15): key grant × ACL × bucket policy × PublicAccessBlock, for a
// second key and for an anonymous request reading one object. The expected answer of each row
// is AWS's rule restated here on its own (the README's table), not computed by hangar's code.
import {
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { type Credentials, createKey, grant } from '../helpers/keys.js';
import { newBucket, useServer } from '../helpers/server.js';

const suite = useServer(test);

type KeyGrant = 'none' | 'read';
type ObjectAcl = 'private' | 'key-read' | 'public-read';
type Policy = 'none' | 'allow-key' | 'deny-key' | 'allow-anyone';
type Block = 'off' | 'ignore-and-restrict';

interface Row {
  grant: KeyGrant;
  acl: ObjectAcl;
  policy: Policy;
  block: Block;
}

/** AWS's evaluation, restated: explicit Deny, then any Allow, else AccessDenied. */
function expected(row: Row, who: 'key' | 'anonymous'): boolean {
  const isKey = who === 'key';
  if (row.policy === 'deny-key' && isKey) return false;
  if (isKey && row.grant === 'read') return true;
  const ignorePublic = row.block === 'ignore-and-restrict';
  if (row.acl === 'key-read' && isKey) return true;
  if (row.acl === 'public-read' && !ignorePublic) return true;
  if (row.policy === 'allow-key' && isKey) return true;
  // RestrictPublicBuckets: a public policy admits only the bucket's own keys (a grant: above).
  if (row.policy === 'allow-anyone' && !ignorePublic) return true;
  return false;
}

function rows(): Row[] {
  const out: Row[] = [];
  for (const grant of ['none', 'read'] as const)
    for (const acl of ['private', 'key-read', 'public-read'] as const)
      for (const policy of ['none', 'allow-key', 'deny-key', 'allow-anyone'] as const)
        for (const block of ['off', 'ignore-and-restrict'] as const)
          out.push({ grant, acl, policy, block });
  return out;
}

function policyDocument(policy: Policy, bucket: string, key: Credentials): string | null {
  if (policy === 'none') return null;
  const principal =
    policy === 'allow-anyone' ? '*' : { AWS: `arn:aws:iam::000000000000:user/${key.accessKeyId}` };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: policy === 'deny-key' ? 'Deny' : 'Allow',
        Principal: principal,
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
    ],
  });
}

async function anonymousStatus(bucket: string, key: string): Promise<number> {
  const answer = await fetch(`${suite.server.endpoint}/${bucket}/${key}`);
  await answer.arrayBuffer();
  return answer.status;
}

test('key grant × object ACL × bucket policy × PublicAccessBlock (48 rows, 2 requesters)', async (t) => {
  const s3 = suite.s3;
  const bucket = await newBucket(s3, 'decision');
  const objectKey = 'doc.txt';
  // ACLs enabled (ObjectWriter), nothing blocked while the row is set up.
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: bucket,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: 'decided' }));
  const reader = await createKey(suite.server, 'decision-reader');
  const readerClient = suite.server.client(reader);
  const readerId = (await readerClient.send(new ListBucketsCommand({}))).Owner?.ID;
  t.regex(readerId ?? '', /^[0-9a-f]{64}$/);
  let granted: KeyGrant = 'none';
  const mismatches: string[] = [];
  for (const row of rows()) {
    if (row.grant !== granted) {
      await grant(suite.server, bucket, reader, 'read');
      granted = row.grant;
    }
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: objectKey,
        ...(row.acl === 'key-read'
          ? { GrantRead: `id="${readerId}"` }
          : { ACL: row.acl === 'public-read' ? 'public-read' : 'private' }),
      }),
    );
    const document = policyDocument(row.policy, bucket, reader);
    if (document === null) await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    else await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: document }));
    if (row.block === 'ignore-and-restrict') {
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: { IgnorePublicAcls: true, RestrictPublicBuckets: true },
        }),
      );
    }
    const keyAllowed = await readerClient
      .send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }))
      .then(
        async (got) => (await got.Body?.transformToString()) === 'decided',
        (error: { name?: string }) => {
          if (error.name !== 'AccessDenied') throw error;
          return false;
        },
      );
    const anonymous = await anonymousStatus(bucket, objectKey);
    t.true(anonymous === 200 || anonymous === 403, `anonymous answered ${anonymous}`);
    const label = JSON.stringify(row);
    if (keyAllowed !== expected(row, 'key')) mismatches.push(`key ${label}: ${keyAllowed}`);
    if ((anonymous === 200) !== expected(row, 'anonymous'))
      mismatches.push(`anonymous ${label}: ${anonymous}`);
  }
  t.deepEqual(mismatches, []);
  // The root key reads whatever the row (no Deny names it).
  const root = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
  t.is(await root.Body?.transformToString(), 'decided');
});
