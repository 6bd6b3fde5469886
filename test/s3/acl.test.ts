import {
  CreateBucketCommand,
  DeleteBucketOwnershipControlsCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  type Grant,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { canonicalIdOfAccessKey, ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { type Credentials, grant } from '../helpers/keys.js';
import { objectBytes, s3Failure, useServer } from '../helpers/server.js';

/**
 * ACLs and Object Ownership through the real server: canned ACLs, x-amz-grant-* headers and
 * AccessControlPolicy documents on buckets and objects, OwnershipControls, and what
 * BucketOwnerEnforced (the default for new buckets) and BlockPublicAcls refuse.
 */
const suite = useServer(test);

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

let counter = 0;
function bucketName(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** A bucket with ACLs enabled (ObjectWriter), made with CreateBucket's x-amz-object-ownership. */
async function aclBucket(s3: S3Client, prefix: string): Promise<string> {
  const name = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: 'ObjectWriter' }));
  return name;
}

/** A key that may create buckets, and its canonical id. */
async function bucketMakingKey(name: string): Promise<Credentials & { id: string }> {
  const { code, stdout, stderr } = await suite.server.cli(
    'key',
    'create',
    name,
    '--allow-create-bucket',
    '--json',
  );
  if (code !== 0) throw new Error(`key create: ${stderr}`);
  const created = JSON.parse(stdout) as Credentials;
  return { ...created, id: canonicalIdOfAccessKey(created.accessKeyId) };
}

/** A grant list as comparable strings: "FULL_CONTROL id:<id>", "READ uri:<uri>". */
function grantsOf(grants: Grant[] | undefined): string[] {
  return (grants ?? [])
    .map((g) => {
      const who = g.Grantee?.ID !== undefined ? `id:${g.Grantee.ID}` : `uri:${g.Grantee?.URI}`;
      return `${g.Permission} ${who}`;
    })
    .sort();
}

async function failsWith(
  t: ExecutionContext,
  promise: Promise<unknown>,
  name: string,
  status: number,
): Promise<void> {
  const failure = await s3Failure(promise);
  t.is(failure.name, name, failure.message);
  t.is(failure.status, status);
}

test('new buckets are BucketOwnerEnforced: owner FULL_CONTROL only, ACL headers refused', async (t) => {
  const { s3 } = suite;
  const bucket = bucketName('acl-enforced');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const controls = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }));
  t.is(controls.OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerEnforced');
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  t.is(acl.Owner?.ID, ROOT_CANONICAL_ID);
  t.is(acl.Owner?.DisplayName, 'root');
  t.deepEqual(grantsOf(acl.Grants), [`FULL_CONTROL id:${ROOT_CANONICAL_ID}`]);
  t.is(acl.Grants?.[0]?.Grantee?.Type, 'CanonicalUser');

  await failsWith(
    t,
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ACL: 'public-read' })),
    'AccessControlListNotSupported',
    400,
  );
  await failsWith(
    t,
    s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'authenticated-read' })),
    'AccessControlListNotSupported',
    400,
  );
  // The ACLs that say "the bucket owner has full control" are accepted, as on AWS.
  for (const canned of ['bucket-owner-full-control', 'private'] as const) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: canned, Body: 'x', ACL: canned }));
    const got = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: canned }));
    t.deepEqual(grantsOf(got.Grants), [`FULL_CONTROL id:${ROOT_CANONICAL_ID}`], canned);
  }
  await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'private', ACL: 'private' }));
  await failsWith(
    t,
    s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'private', ACL: 'public-read' })),
    'AccessControlListNotSupported',
    400,
  );
  // CreateBucket with an ACL beyond the owner's and no ownership: AWS's error.
  await failsWith(
    t,
    s3.send(new CreateBucketCommand({ Bucket: bucketName('acl-create'), ACL: 'public-read' })),
    'InvalidBucketAclWithObjectOwnership',
    400,
  );
});

test('OwnershipControls: put, get, delete, and their errors', async (t) => {
  const { s3 } = suite;
  const bucket = bucketName('acl-ownership');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const ownership of [
    'ObjectWriter',
    'BucketOwnerPreferred',
    'BucketOwnerEnforced',
  ] as const) {
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] },
      }),
    );
    const got = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }));
    t.is(got.OwnershipControls?.Rules?.[0]?.ObjectOwnership, ownership);
  }
  await failsWith(
    t,
    s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'Nobody' as 'ObjectWriter' }] },
      }),
    ),
    'MalformedXML',
    400,
  );
  await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
  await failsWith(
    t,
    s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })),
    'OwnershipControlsNotFoundError',
    404,
  );
  // Without OwnershipControls, ACLs are on (ObjectWriter).
  await s3.send(
    new PutBucketAclCommand({ Bucket: bucket, ACL: 'log-delivery-write' as 'private' }),
  );
  // Turning ACLs off while the bucket ACL grants others is refused, as on AWS.
  await failsWith(
    t,
    s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    ),
    'InvalidBucketAclWithObjectOwnership',
    400,
  );
  await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: bucket,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
});

test('canned ACLs round-trip on a bucket and its objects (ObjectWriter)', async (t) => {
  const { s3 } = suite;
  const bucket = await aclBucket(s3, 'acl-canned');
  const owner = `FULL_CONTROL id:${ROOT_CANONICAL_ID}`;
  const expected: Record<string, string[]> = {
    private: [owner],
    'aws-exec-read': [owner],
    'bucket-owner-read': [owner],
    'bucket-owner-full-control': [owner],
    'log-delivery-write': [owner, `READ_ACP uri:${LOG_DELIVERY}`, `WRITE uri:${LOG_DELIVERY}`],
  };
  for (const [canned, grants] of Object.entries(expected)) {
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: canned as 'private' }));
    const got = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
    t.deepEqual(grantsOf(got.Grants), grants.sort(), `bucket ${canned}`);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: canned, Body: 'x', ACL: canned as 'private' }),
    );
    const object = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: canned }));
    t.is(object.Owner?.ID, ROOT_CANONICAL_ID);
    t.deepEqual(grantsOf(object.Grants), grants.sort(), `object ${canned}`);
  }
  await s3.send(
    new PutObjectAclCommand({
      Bucket: bucket,
      Key: 'private',
      ACL: 'log-delivery-write' as 'private',
    }),
  );
  const changed = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'private' }));
  t.deepEqual(grantsOf(changed.Grants), (expected['log-delivery-write'] ?? []).sort());
  // New buckets block public ACLs (BlockPublicAcls): a public canned ACL is AccessDenied.
  for (const canned of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
    await failsWith(
      t,
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: canned })),
      'AccessDenied',
      403,
    );
    await failsWith(
      t,
      s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: canned })),
      'AccessDenied',
      403,
    );
  }
  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({ Bucket: bucket, Key: 'private', ACL: 'nonsense' as 'private' }),
    ),
    'InvalidArgument',
    400,
  );
  await failsWith(
    t,
    s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'missing' })),
    'NoSuchKey',
    404,
  );
});

test('x-amz-grant-* headers: grants by canonical id and group, and their errors', async (t) => {
  const { s3 } = suite;
  const bucket = await aclBucket(s3, 'acl-grants');
  const reader = await bucketMakingKey('acl-grant-reader');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'granted',
      GrantRead: `id="${reader.id}"`,
      GrantReadACP: `id="${reader.id}", uri="${LOG_DELIVERY}"`,
      GrantFullControl: `id="${ROOT_CANONICAL_ID}"`,
    }),
  );
  const got = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(
    grantsOf(got.Grants),
    [
      `FULL_CONTROL id:${ROOT_CANONICAL_ID}`,
      `READ id:${reader.id}`,
      `READ_ACP id:${reader.id}`,
      `READ_ACP uri:${LOG_DELIVERY}`,
    ].sort(),
  );
  t.is(
    got.Grants?.find((g) => g.Grantee?.ID === reader.id)?.Grantee?.DisplayName,
    'acl-grant-reader',
  );
  // The key holds no grant on the bucket: its READ grant on the object is what lets it read.
  const client = suite.server.client(reader);
  t.is((await objectBytes(client, bucket, 'k')).toString(), 'granted');
  await failsWith(
    t,
    client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'no' })),
    'AccessDenied',
    403,
  );

  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({ Bucket: bucket, Key: 'k', GrantRead: `id="${'0'.repeat(64)}"` }),
    ),
    'InvalidArgument',
    400,
  );
  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({ Bucket: bucket, Key: 'k', GrantRead: 'emailAddress="a@b.c"' }),
    ),
    'UnresolvableGrantByEmailAddress',
    400,
  );
  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: 'k',
        ACL: 'private',
        GrantRead: `id="${reader.id}"`,
      }),
    ),
    'InvalidRequest',
    400,
  );
  await failsWith(
    t,
    s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantWrite: 'uri="http://example.com/x"' })),
    'InvalidArgument',
    400,
  );
  // A public group by header is still a public ACL: BlockPublicAcls refuses it.
  await failsWith(
    t,
    s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', GrantRead: `uri="${ALL_USERS}"` })),
    'AccessDenied',
    403,
  );
  // Reverting to private takes the reader's access away.
  await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', ACL: 'private' }));
  await failsWith(
    t,
    client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })),
    'AccessDenied',
    403,
  );
});

test('AccessControlPolicy documents: PutBucketAcl and PutObjectAcl by XML', async (t) => {
  const { s3 } = suite;
  const bucket = await aclBucket(s3, 'acl-xml');
  const other = await bucketMakingKey('acl-xml-other');
  const policy = (ownerId: string) => ({
    Owner: { ID: ownerId },
    Grants: [
      {
        Grantee: { Type: 'CanonicalUser' as const, ID: ROOT_CANONICAL_ID },
        Permission: 'FULL_CONTROL' as const,
      },
      {
        Grantee: { Type: 'CanonicalUser' as const, ID: other.id },
        Permission: 'WRITE_ACP' as const,
      },
      { Grantee: { Type: 'Group' as const, URI: LOG_DELIVERY }, Permission: 'WRITE' as const },
    ],
  });
  const expected = [
    `FULL_CONTROL id:${ROOT_CANONICAL_ID}`,
    `WRITE_ACP id:${other.id}`,
    `WRITE uri:${LOG_DELIVERY}`,
  ].sort();
  await s3.send(
    new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: policy(ROOT_CANONICAL_ID) }),
  );
  t.deepEqual(
    grantsOf((await s3.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants),
    expected,
  );
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  await s3.send(
    new PutObjectAclCommand({
      Bucket: bucket,
      Key: 'k',
      AccessControlPolicy: policy(ROOT_CANONICAL_ID),
    }),
  );
  const got = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(grantsOf(got.Grants), expected);
  t.is(got.Owner?.ID, ROOT_CANONICAL_ID);

  // A policy cannot hand the object to another owner.
  await failsWith(
    t,
    s3.send(
      new PutObjectAclCommand({ Bucket: bucket, Key: 'k', AccessControlPolicy: policy(other.id) }),
    ),
    'AccessDenied',
    403,
  );
  await failsWith(
    t,
    s3.send(
      new PutBucketAclCommand({
        Bucket: bucket,
        AccessControlPolicy: {
          Owner: { ID: ROOT_CANONICAL_ID },
          Grants: [
            {
              Grantee: { Type: 'CanonicalUser', ID: other.id },
              Permission: 'EVERYTHING' as 'READ',
            },
          ],
        },
      }),
    ),
    'MalformedACLError',
    400,
  );
  await failsWith(
    t,
    s3.send(
      new PutBucketAclCommand({
        Bucket: bucket,
        AccessControlPolicy: {
          Owner: { ID: ROOT_CANONICAL_ID },
          Grants: [
            {
              Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'a@b.c' },
              Permission: 'READ',
            },
          ],
        },
      }),
    ),
    'UnresolvableGrantByEmailAddress',
    400,
  );
  await failsWith(
    t,
    s3.send(
      new PutBucketAclCommand({
        Bucket: bucket,
        AccessControlPolicy: {
          Owner: { ID: ROOT_CANONICAL_ID },
          Grants: Array.from({ length: 101 }, () => ({
            Grantee: { Type: 'CanonicalUser' as const, ID: other.id },
            Permission: 'READ' as const,
          })),
        },
      }),
    ),
    'MalformedACLError',
    400,
  );
  // The WRITE_ACP grant lets the other key change the object's ACL (and nothing more).
  const client = suite.server.client(other);
  await client.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', ACL: 'private' }));
  await failsWith(
    t,
    client.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' })),
    'AccessDenied',
    403,
  );
});

test('cross-key uploads: bucket-owner-full-control, ObjectWriter and BucketOwnerPreferred', async (t) => {
  const owner = await bucketMakingKey('acl-bucket-owner');
  const writer = await bucketMakingKey('acl-writer');
  const a = suite.server.client(owner);
  const b = suite.server.client(writer);
  const bucket = await aclBucket(a, 'acl-cross');
  await grant(suite.server, bucket, writer, 'write');

  await b.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'by-b',
      Body: 'b',
      ACL: 'bucket-owner-full-control',
    }),
  );
  const asA = await a.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'by-b' }));
  t.is(asA.Owner?.ID, writer.id, 'ObjectWriter: the writer owns it');
  t.is(asA.Owner?.DisplayName, 'acl-writer');
  t.deepEqual(
    grantsOf(asA.Grants),
    [`FULL_CONTROL id:${owner.id}`, `FULL_CONTROL id:${writer.id}`].sort(),
  );
  // The owner of the object reads its ACL without any read grant on the bucket.
  const asB = await b.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'by-b' }));
  t.is(asB.Owner?.ID, writer.id);

  // Without bucket-owner-full-control, the writer owns the object alone.
  await b.send(new PutObjectCommand({ Bucket: bucket, Key: 'mine', Body: 'b' }));
  const mine = await b.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'mine' }));
  t.deepEqual(grantsOf(mine.Grants), [`FULL_CONTROL id:${writer.id}`]);

  await a.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: bucket,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
    }),
  );
  await b.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'preferred',
      Body: 'b',
      ACL: 'bucket-owner-full-control',
    }),
  );
  const preferred = await a.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'preferred' }));
  t.is(preferred.Owner?.ID, owner.id, 'BucketOwnerPreferred: the bucket owner owns it');
  t.deepEqual(grantsOf(preferred.Grants), [`FULL_CONTROL id:${owner.id}`]);
  await b.send(new PutObjectCommand({ Bucket: bucket, Key: 'preferred-plain', Body: 'b' }));
  const plain = await a.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'preferred-plain' }));
  t.is(plain.Owner?.ID, writer.id, 'without the canned ACL the writer still owns it');

  // BucketOwnerEnforced: every object answers as the bucket owner's, whoever wrote it.
  await a.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: bucket,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
  const enforced = await a.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'by-b' }));
  t.deepEqual(grantsOf(enforced.Grants), [`FULL_CONTROL id:${owner.id}`]);
  await b.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'enforced',
      Body: 'b',
      ACL: 'bucket-owner-full-control',
    }),
  );
  await failsWith(
    t,
    b.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'enforced',
        Body: 'b',
        ACL: 'bucket-owner-read',
      }),
    ),
    'AccessControlListNotSupported',
    400,
  );
});
