import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { canonicalIdOfAccessKey, ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { type Credentials, grant } from '../helpers/keys.js';
import { useServer } from '../helpers/server.js';

/**
 * Identities in S3's answers: each key is a canonical user (64 hex digits) named by its key's
 * name; the root key is the account. ListBuckets shows the requester; listings show each
 * object's owner (the bucket's owner unless the object has one of its own); uploads show who
 * initiated them.
 */
const suite = useServer(test);

const CANONICAL_ID = /^[0-9a-f]{64}$/;

async function newKey(name: string, allowCreateBucket = false): Promise<Credentials> {
  const args = ['key', 'create', name, ...(allowCreateBucket ? ['--allow-create-bucket'] : [])];
  const { code, stdout, stderr } = await suite.server.cli(...args, '--json');
  if (code !== 0) throw new Error(`hangar key create exited ${code}: ${stderr}`);
  const created = JSON.parse(stdout) as Credentials;
  return { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
}

test('ListBuckets Owner is the requester: the account for root, the key for another key', async (t) => {
  const root = await suite.s3.send(new ListBucketsCommand({}));
  t.is(root.Owner?.ID, ROOT_CANONICAL_ID);
  t.regex(root.Owner?.ID ?? '', CANONICAL_ID);
  t.is(root.Owner?.DisplayName, 'root');

  const key = await newKey('lister-one');
  const other = await newKey('lister-two');
  const listed = await suite.server.client(key).send(new ListBucketsCommand({}));
  const id = listed.Owner?.ID ?? '';
  t.regex(id, CANONICAL_ID);
  t.is(id, canonicalIdOfAccessKey(key.accessKeyId));
  t.not(id, ROOT_CANONICAL_ID);
  t.not(id, key.accessKeyId);
  t.is(listed.Owner?.DisplayName, 'lister-one');
  // Stable across requests, distinct per key.
  const again = await suite.server.client(key).send(new ListBucketsCommand({}));
  t.is(again.Owner?.ID, id);
  const second = await suite.server.client(other).send(new ListBucketsCommand({}));
  t.not(second.Owner?.ID, id);
  t.is(second.Owner?.DisplayName, 'lister-two');
});

test("objects in a key's bucket list with that key as Owner, to every reader", async (t) => {
  const maker = await newKey('bucket-maker', true);
  const client = suite.server.client(maker);
  await client.send(new CreateBucketCommand({ Bucket: 'made-by-key' }));
  await client.send(new PutObjectCommand({ Bucket: 'made-by-key', Key: 'a', Body: 'x' }));
  await client.send(new PutObjectCommand({ Bucket: 'made-by-key', Key: 'b', Body: 'y' }));
  const expected = { ID: canonicalIdOfAccessKey(maker.accessKeyId), DisplayName: 'bucket-maker' };

  const v2 = await client.send(
    new ListObjectsV2Command({ Bucket: 'made-by-key', FetchOwner: true }),
  );
  t.deepEqual(
    (v2.Contents ?? []).map((o) => o.Owner),
    [expected, expected],
  );
  // The root key reads them too, and sees the key (not itself) as their owner.
  const v1 = await suite.s3.send(new ListObjectsCommand({ Bucket: 'made-by-key' }));
  t.deepEqual(
    (v1.Contents ?? []).map((o) => o.Owner),
    [expected, expected],
  );
  const v2NoOwner = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'made-by-key' }));
  t.deepEqual(
    (v2NoOwner.Contents ?? []).map((o) => o.Owner),
    [undefined, undefined],
  );
});

test('ListObjectVersions shows the owner on versions and delete markers', async (t) => {
  const maker = await newKey('version-maker', true);
  const client = suite.server.client(maker);
  await client.send(new CreateBucketCommand({ Bucket: 'versions-by-key' }));
  await client.send(
    new PutBucketVersioningCommand({
      Bucket: 'versions-by-key',
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  await client.send(new PutObjectCommand({ Bucket: 'versions-by-key', Key: 'k', Body: '1' }));
  await client.send(new PutObjectCommand({ Bucket: 'versions-by-key', Key: 'k', Body: '2' }));
  const listed = await suite.s3.send(new ListObjectVersionsCommand({ Bucket: 'versions-by-key' }));
  const owners = (listed.Versions ?? []).map((v) => v.Owner);
  t.is(owners.length, 2);
  for (const owner of owners) {
    t.deepEqual(owner, {
      ID: canonicalIdOfAccessKey(maker.accessKeyId),
      DisplayName: 'version-maker',
    });
  }
});

test('ListParts and ListMultipartUploads show the initiating key and the owner', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'uploads-by-key' }));
  const writer = await newKey('upload-writer');
  await grant(suite.server, 'uploads-by-key', writer, 'read', 'write');
  const client = suite.server.client(writer);
  const upload = await client.send(
    new CreateMultipartUploadCommand({ Bucket: 'uploads-by-key', Key: 'big' }),
  );
  await client.send(
    new UploadPartCommand({
      Bucket: 'uploads-by-key',
      Key: 'big',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: 'part',
    }),
  );
  const initiator = {
    ID: canonicalIdOfAccessKey(writer.accessKeyId),
    DisplayName: 'upload-writer',
  };
  // New buckets are BucketOwnerEnforced: the object will be the bucket owner's (the account).
  const owner = { ID: ROOT_CANONICAL_ID, DisplayName: 'root' };

  const parts = await client.send(
    new ListPartsCommand({ Bucket: 'uploads-by-key', Key: 'big', UploadId: upload.UploadId }),
  );
  t.deepEqual(parts.Initiator, initiator);
  t.deepEqual(parts.Owner, owner);
  t.is(parts.Parts?.length, 1);

  const uploads = await suite.s3.send(
    new ListMultipartUploadsCommand({ Bucket: 'uploads-by-key' }),
  );
  t.is(uploads.Uploads?.length, 1);
  t.deepEqual(uploads.Uploads?.[0]?.Initiator, initiator);
  t.deepEqual(uploads.Uploads?.[0]?.Owner, owner);
});

test('a deleted key still owns its objects by canonical id, without a DisplayName', async (t) => {
  const maker = await newKey('short-lived', true);
  const client = suite.server.client(maker);
  await client.send(new CreateBucketCommand({ Bucket: 'orphaned-owner' }));
  await client.send(new PutObjectCommand({ Bucket: 'orphaned-owner', Key: 'left', Body: 'z' }));
  const { code, stderr } = await suite.server.cli('key', 'delete', maker.accessKeyId);
  t.is(code, 0, stderr);
  const listed = await suite.s3.send(new ListObjectsCommand({ Bucket: 'orphaned-owner' }));
  t.deepEqual(listed.Contents?.[0]?.Owner, { ID: canonicalIdOfAccessKey(maker.accessKeyId) });
});
