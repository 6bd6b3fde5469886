import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  type Grant,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { createKey } from '../helpers/keys.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { errorOf } from '../helpers/xml-error.js';

/**
 * What PutBucketPolicy and the ACL writes check before they change anything, through the real
 * server: unknown actions in a policy, the Arn operators component by component, the integrity
 * header the SDKs always send on access-control PUTs, what is a public policy, and PutObjectAcl
 * on versions (its guard against concurrent overwrites: test/unit/object-acl-owner.test.ts).
 */
const suite = useServer(test);

const ACCOUNT = '000000000000';

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function reads(bucket: string, extra: object = {}): object {
  return {
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/*`,
    ...extra,
  };
}

const putPolicy = (bucket: string, text: string, s3: S3Client = suite.s3) =>
  s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: text }));

async function openBucket(prefix: string): Promise<string> {
  const bucket = await newBucket(suite.s3, prefix);
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  return bucket;
}

async function failsWith(
  t: ExecutionContext,
  promise: Promise<unknown>,
  name: string,
  status: number,
  message?: string,
): Promise<void> {
  const failure = await s3Failure(promise);
  t.is(failure.name, name, failure.message);
  t.is(failure.status, status);
  if (message !== undefined) t.is(failure.message, message);
}

// ---- unknown actions ----

test('PutBucketPolicy refuses an s3 action that does not exist, in Action and NotAction', async (t) => {
  const bucket = await newBucket(suite.s3, 'act-unknown');
  const invalid = 'Policy has invalid action';
  for (const statement of [
    reads(bucket, { Action: 's3:GetObjektt' }),
    reads(bucket, { Action: ['s3:GetObject', 's3:ListBuckett'] }),
    { ...reads(bucket), Action: undefined, NotAction: 's3:PutObjektAcl', Effect: 'Deny' },
    reads(bucket, { Action: 'iam:PassRole' }),
  ]) {
    await failsWith(t, putPolicy(bucket, policy(statement)), 'MalformedPolicy', 400, invalid);
  }
  // Real actions in any case, versioned and permission-only ones, and patterns (even one that
  // matches nothing today) are accepted.
  const fixed = { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/HKSOMEONE` } };
  for (const action of [
    ['s3:getobjectversion', 's3:GetObjectVersionAcl', 's3:RestoreObject', 's3:PutObjectRetention'],
    ['s3:BypassGovernanceRetention', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
    's3:Nothing*',
    's3:Get*',
  ]) {
    await t.notThrowsAsync(putPolicy(bucket, policy(reads(bucket, { ...fixed, Action: action }))));
  }
});

// ---- Arn operators ----

test('ArnLike matches aws:PrincipalArn component by component, not as one glob', async (t) => {
  const bucket = await openBucket('arn-like');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const reader = await createKey(suite.server, 'arn-reader');
  const s3 = suite.server.client(reader);
  const get = () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  const when = (pattern: string) =>
    policy(reads(bucket, { Condition: { ArnLike: { 'aws:PrincipalArn': pattern } } }));
  await putPolicy(bucket, when(`arn:aws:iam::*:user/${reader.accessKeyId}`));
  t.is((await get()).$metadata.httpStatusCode, 200);
  // As one glob over the string this would match the reader's ARN; per component it has three.
  await putPolicy(bucket, when('arn:aws:*'));
  await failsWith(t, get(), 'AccessDenied', 403);
  // A `*` does not reach across a colon: as a glob this would take "iam:" for its star.
  await putPolicy(bucket, when(`arn:aws:*:${ACCOUNT}:user/${reader.accessKeyId}`));
  await failsWith(t, get(), 'AccessDenied', 403);
  await putPolicy(bucket, when(`arn:aws:*:*:${ACCOUNT}:user/${reader.accessKeyId}`));
  t.is((await get()).$metadata.httpStatusCode, 200);
});

// ---- Content-MD5 or a checksum ----

const md5 = (body: string) => createHash('md5').update(body).digest('base64');

test('the access-control PUTs require Content-MD5 or a checksum (ACLs: check one if sent)', async (t) => {
  const bucket = await openBucket('acl-md5');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const ownership =
    '<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>';
  const block =
    '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>';
  const acl = `<AccessControlPolicy><Owner><ID>${ROOT_CANONICAL_ID}</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${ROOT_CANONICAL_ID}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`;
  const cases: Array<{
    path: string;
    body: string;
    headers?: Record<string, string>;
    optional?: boolean;
  }> = [
    { path: `/${bucket}?policy`, body: policy(reads(bucket)) },
    { path: `/${bucket}?ownershipControls`, body: ownership },
    // S3 takes ACL writes without a digest (s3cmd setacl sends none), but checks one sent.
    { path: `/${bucket}?acl`, body: acl, optional: true },
    { path: `/${bucket}?acl`, body: '', headers: { 'x-amz-acl': 'private' }, optional: true },
    { path: `/${bucket}/k?acl`, body: acl, optional: true },
    { path: `/${bucket}/k?acl`, body: '', headers: { 'x-amz-acl': 'private' }, optional: true },
    // Last: it blocks public policies again.
    { path: `/${bucket}?publicAccessBlock`, body: block },
  ];
  for (const { path, body, headers = {}, optional = false } of cases) {
    const send = (digest: Record<string, string>) =>
      signedFetch(suite.server.endpoint, {
        method: 'PUT',
        path,
        body: Buffer.from(body),
        headers: { ...headers, ...digest },
      });
    const missing = await send({});
    if (optional) t.is(missing.status, 200, `${path} without a digest`);
    else
      t.deepEqual(
        await errorOf(missing),
        {
          status: 400,
          code: 'InvalidRequest',
          message: 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
        },
        path,
      );
    t.is((await errorOf(await send({ 'content-md5': md5('other') }))).code, 'BadDigest', path);
    const crc = await send({ 'x-amz-checksum-crc32': 'AAAAAA==' });
    t.is((await errorOf(crc)).code, body === '' ? '' : 'BadDigest', `${path} wrong CRC32`);
    const right = await send({ 'content-md5': md5(body) });
    t.true(right.status === 200 || right.status === 204, `${path}: ${right.status}`);
  }
});

// ---- what is public ----

test('GetBucketPolicyStatus and BlockPublicPolicy follow AWS\'s "public"', async (t) => {
  const open = await openBucket('pub-status');
  const blocked = await newBucket(suite.s3, 'pub-blocked');
  const cases: Array<[string, object, boolean]> = [
    ['everyone', {}, true],
    ['a private CIDR', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }, false],
    ['every address', { Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }, true],
    [
      'a fixed source ARN',
      { Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudfront::1:distribution/D' } } },
      false,
    ],
    [
      'a fixed organization',
      { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } },
      false,
    ],
    ['a fixed VPC', { Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } }, false],
    ['a fixed user id', { Condition: { StringEquals: { 'aws:userid': 'AIDA1' } } }, false],
    [
      'a fixed KMS key',
      {
        Condition: {
          StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:k' },
        },
      },
      false,
    ],
    ['a source ARN pattern', { Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:*' } } }, true],
    [
      'a condition only if present',
      { Condition: { StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } } },
      true,
    ],
    ['a transport condition', { Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, true],
  ];
  for (const [what, extra, isPublic] of cases) {
    await putPolicy(open, policy(reads(open, extra)));
    const status = await suite.s3.send(new GetBucketPolicyStatusCommand({ Bucket: open }));
    t.is(status.PolicyStatus?.IsPublic, isPublic, what);
    const onBlocked = putPolicy(blocked, policy(reads(blocked, extra)));
    if (isPublic) await failsWith(t, onBlocked, 'AccessDenied', 403);
    else await t.notThrowsAsync(onBlocked, what);
  }
});

// ---- PutObjectAcl ----

const grantsOf = (grants: Grant[] | undefined): string[] =>
  (grants ?? []).map((g) => `${g.Permission} ${g.Grantee?.ID ?? g.Grantee?.URI}`).sort();

async function versionedAclBucket(prefix: string): Promise<string> {
  const bucket = `${prefix}-${process.pid}-${Date.now() % 100000}`;
  await suite.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'ObjectWriter' }));
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  return bucket;
}

test('PutObjectAcl on a version, a missing version and a delete marker', async (t) => {
  const { s3 } = suite;
  const bucket = await versionedAclBucket('acl-ver');
  const put = () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const first = (await put()).VersionId;
  const second = (await put()).VersionId;
  const logDelivery = 'log-delivery-write' as 'private';
  const changed = await s3.send(
    new PutObjectAclCommand({ Bucket: bucket, Key: 'k', VersionId: first, ACL: logDelivery }),
  );
  t.is(changed.$metadata.httpStatusCode, 200);
  const aclOf = (versionId: string | undefined) =>
    s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k', VersionId: versionId }));
  t.is(grantsOf((await aclOf(first)).Grants).length, 3, 'the named version changed');
  t.deepEqual(grantsOf((await aclOf(second)).Grants), [`FULL_CONTROL ${ROOT_CANONICAL_ID}`]);
  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: 'ffffffffffffffffffffffffffffffff',
        ACL: 'private',
      }),
    ),
    'NoSuchVersion',
    404,
  );
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.true(marker.DeleteMarker);
  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: marker.VersionId,
        ACL: 'private',
      }),
    ),
    'MethodNotAllowed',
    405,
  );
});
