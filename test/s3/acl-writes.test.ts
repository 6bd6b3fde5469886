import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  type Grant,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test from 'ava';
import { canonicalIdOfAccessKey, ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { type Credentials, createKey } from '../helpers/keys.js';
import {
  objectBytes,
  REGION,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  s3Failure,
  useServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

/**
 * The ACL and owner a write gives its object: CopyObject (never the source's ACL), multipart
 * uploads (the creating request's, applied at completion), POST forms (`acl`), and ACLs of
 * noncurrent versions; awscli's put-object-acl / get-object-acl against them.
 */
const suite = useServer(test);

const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const OWNER_ONLY = [`FULL_CONTROL id:${ROOT_CANONICAL_ID}`];
const LOG_DELIVERY_WRITE = [
  `FULL_CONTROL id:${ROOT_CANONICAL_ID}`,
  `READ_ACP uri:${LOG_DELIVERY}`,
  `WRITE uri:${LOG_DELIVERY}`,
];

let counter = 0;
async function aclBucket(prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++counter}`;
  await suite.s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: 'ObjectWriter' }));
  return name;
}

function grantsOf(grants: Grant[] | undefined): string[] {
  return (grants ?? [])
    .map(
      (g) =>
        `${g.Permission} ${g.Grantee?.ID !== undefined ? `id:${g.Grantee.ID}` : `uri:${g.Grantee?.URI}`}`,
    )
    .sort();
}

async function objectGrants(bucket: string, key: string, versionId?: string): Promise<string[]> {
  const got = await suite.s3.send(
    new GetObjectAclCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return grantsOf(got.Grants);
}

async function readerKey(name: string): Promise<Credentials & { id: string }> {
  const key = await createKey(suite.server, name);
  return { ...key, id: canonicalIdOfAccessKey(key.accessKeyId) };
}

test('CopyObject takes the request ACL, never the source one', async (t) => {
  const { s3 } = suite;
  const bucket = await aclBucket('aclw-copy');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'src',
      Body: 'x',
      ACL: 'log-delivery-write' as 'private',
    }),
  );
  t.deepEqual(await objectGrants(bucket, 'src'), LOG_DELIVERY_WRITE);
  await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'plain', CopySource: `${bucket}/src` }),
  );
  t.deepEqual(await objectGrants(bucket, 'plain'), OWNER_ONLY);
  const reader = await readerKey('aclw-copy-reader');
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'granted',
      CopySource: `${bucket}/src`,
      GrantRead: `id="${reader.id}"`,
    }),
  );
  t.deepEqual(await objectGrants(bucket, 'granted'), [`READ id:${reader.id}`]);
  t.is((await objectBytes(suite.server.client(reader), bucket, 'granted')).toString(), 'x');
});

test('a multipart upload gets the ACL it was created with at completion', async (t) => {
  const { s3 } = suite;
  const bucket = await aclBucket('aclw-mpu');
  const reader = await readerKey('aclw-mpu-reader');
  const upload = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'big',
      GrantRead: `id="${reader.id}"`,
      GrantFullControl: `id="${ROOT_CANONICAL_ID}"`,
    }),
  );
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'big',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: 'multipart body',
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'big',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  t.deepEqual(
    await objectGrants(bucket, 'big'),
    [`FULL_CONTROL id:${ROOT_CANONICAL_ID}`, `READ id:${reader.id}`].sort(),
  );
  const body = await objectBytes(suite.server.client(reader), bucket, 'big');
  t.is(body.toString(), 'multipart body');
});

test('ACLs of noncurrent versions are read and changed by versionId', async (t) => {
  const { s3 } = suite;
  const bucket = await aclBucket('aclw-versions');
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const first = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'v1',
      ACL: 'log-delivery-write' as 'private',
    }),
  );
  const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v2' }));
  t.deepEqual(await objectGrants(bucket, 'k'), OWNER_ONLY);
  t.deepEqual(await objectGrants(bucket, 'k', first.VersionId), LOG_DELIVERY_WRITE);

  const reader = await readerKey('aclw-version-reader');
  await s3.send(
    new PutObjectAclCommand({
      Bucket: bucket,
      Key: 'k',
      VersionId: first.VersionId,
      GrantRead: `id="${reader.id}"`,
    }),
  );
  t.deepEqual(await objectGrants(bucket, 'k', first.VersionId), [`READ id:${reader.id}`]);
  t.deepEqual(
    await objectGrants(bucket, 'k', second.VersionId),
    OWNER_ONLY,
    'the current one is untouched',
  );
  // The READ grant on version 1 reads version 1, not the current version.
  const client = suite.server.client(reader);
  const old = await client.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: first.VersionId }),
  );
  t.is(await old.Body?.transformToString(), 'v1');
  const current = await s3Failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(current.name, 'AccessDenied');
  const missing = await s3Failure(
    s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k', VersionId: '0'.repeat(32) })),
  );
  t.is(missing.status, 404);
});

test('a POST form sets the object ACL with its acl field', async (t) => {
  const bucket = await aclBucket('aclw-post');
  const { url, fields } = await createPresignedPost(
    suite.s3 as unknown as Parameters<typeof createPresignedPost>[0],
    {
      Bucket: bucket,
      Key: 'posted',
      Fields: { acl: 'log-delivery-write' },
      Expires: 60,
    },
  );
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob(['form body']), 'posted.txt');
  const response = await fetch(url, { method: 'POST', body: form });
  t.is(response.status, 204, await response.text());
  t.deepEqual(await objectGrants(bucket, 'posted'), LOG_DELIVERY_WRITE);
});

const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

function aws(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS,
      ['--endpoint-url', suite.server.endpoint, '--region', REGION, ...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: suite.server.dataDir,
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
          AWS_ACCESS_KEY_ID: ROOT_ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: ROOT_SECRET_KEY,
          AWS_PAGER: '',
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test('awscli s3api put-object-acl and get-object-acl', async (t) => {
  const bucket = await aclBucket('aclw-cli');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const put = await aws(
    's3api',
    'put-object-acl',
    '--bucket',
    bucket,
    '--key',
    'k',
    '--acl',
    'bucket-owner-read',
  );
  t.is(put.code, 0, put.stderr);
  const reader = await readerKey('aclw-cli-reader');
  const grant = await aws(
    's3api',
    'put-object-acl',
    '--bucket',
    bucket,
    '--key',
    'k',
    '--grant-read',
    `id=${reader.id}`,
    '--grant-full-control',
    `id=${ROOT_CANONICAL_ID}`,
  );
  t.is(grant.code, 0, grant.stderr);
  const got = await aws('s3api', 'get-object-acl', '--bucket', bucket, '--key', 'k');
  t.is(got.code, 0, got.stderr);
  const acl = JSON.parse(got.stdout) as {
    Owner: { ID: string; DisplayName: string };
    Grants: Grant[];
  };
  t.is(acl.Owner.ID, ROOT_CANONICAL_ID);
  t.is(acl.Owner.DisplayName, 'root');
  t.deepEqual(
    grantsOf(acl.Grants),
    [`FULL_CONTROL id:${ROOT_CANONICAL_ID}`, `READ id:${reader.id}`].sort(),
  );
  const refused = await aws(
    's3api',
    'put-object-acl',
    '--bucket',
    bucket,
    '--key',
    'k',
    '--grant-read',
    'emailAddress=a@b.c',
  );
  t.not(refused.code, 0);
  t.regex(refused.stderr, /UnresolvableGrantByEmailAddress/);
});

test('the AccessControlPolicy on the wire: xsi:type grantees, and documents refused', async (t) => {
  const bucket = await aclBucket('aclw-wire');
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'x',
      ACL: 'log-delivery-write' as 'private',
    }),
  );
  const got = await signedFetch(suite.server.endpoint, { method: 'GET', path: `/${bucket}/k?acl` });
  t.is(got.status, 200);
  const xml = await got.text();
  t.regex(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<AccessControlPolicy xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/,
  );
  t.true(
    xml.includes(
      `<Owner><ID>${ROOT_CANONICAL_ID}</ID><DisplayName>root</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${ROOT_CANONICAL_ID}</ID><DisplayName>root</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>`,
    ),
    xml,
  );
  t.true(
    xml.includes(
      `xsi:type="Group"><URI>${LOG_DELIVERY}</URI></Grantee><Permission>WRITE</Permission>`,
    ),
    xml,
  );

  const put = (body: string): Promise<Response> =>
    signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}/k?acl`,
      body: Buffer.from(body),
      // S3 requires an integrity header here; with it, the document itself is judged.
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    });
  const grantee = (type: string, inner: string) =>
    `<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${type}">${inner}</Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`;
  for (const [body, code] of [
    ['<AccessControlPolicy><AccessControlList>', 'MalformedACLError'],
    ['<Other/>', 'MalformedACLError'],
    ['<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>', 'MalformedACLError'],
    [grantee('Robot', '<ID>x</ID>'), 'MalformedACLError'],
    [grantee('CanonicalUser', '<URI>x</URI>'), 'MalformedACLError'],
    [grantee('Group', '<URI>http://example.com/group</URI>'), 'InvalidArgument'],
    [grantee('CanonicalUser', `<ID>${'f'.repeat(64)}</ID>`), 'InvalidArgument'],
    [
      `<!DOCTYPE x [<!ENTITY a "b">]>${grantee('Group', `<URI>${LOG_DELIVERY}</URI>`)}`,
      'MalformedACLError',
    ],
  ] as const) {
    const answer = await put(body);
    t.is(answer.status, 400, body);
    t.regex(await answer.text(), new RegExp(`<Code>${code}</Code>`), body);
  }
  // A document without an Owner is the object's own: accepted.
  const plain = await put(grantee('Group', `<URI>${LOG_DELIVERY}</URI>`));
  t.is(plain.status, 200, await plain.text());
  t.deepEqual(await objectGrants(bucket, 'k'), [`READ uri:${LOG_DELIVERY}`]);
});
