import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { canonicalIdOfAccessKey, ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { createKey, grant } from '../helpers/keys.js';
import { useServer } from '../helpers/server.js';

/**
 * Owners of objects written by a key that does not own the bucket: the object's own owner under
 * ObjectWriter, the bucket owner once BucketOwnerEnforced. Needs the ACL work (owners stored by
 * the write paths, PutBucketOwnershipControls): without it PutBucketOwnershipControls is 501.
 */
const suite = useServer(test);

test('objects a second key writes list with that key as Owner under ObjectWriter', async (t) => {
  const { s3, server } = suite;
  await s3.send(new CreateBucketCommand({ Bucket: 'writer-owned' }));
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: 'writer-owned',
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
    }),
  );
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: 'writer-owned',
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const writer = await createKey(server, 'object-writer');
  await grant(server, 'writer-owned', writer, 'read', 'write');
  await s3.send(new PutObjectCommand({ Bucket: 'writer-owned', Key: 'by-root', Body: 'r' }));
  await server
    .client(writer)
    .send(new PutObjectCommand({ Bucket: 'writer-owned', Key: 'by-writer', Body: 'w' }));
  await server
    .client(writer)
    .send(new CreateMultipartUploadCommand({ Bucket: 'writer-owned', Key: 'up' }));
  const mine = { ID: canonicalIdOfAccessKey(writer.accessKeyId), DisplayName: 'object-writer' };
  const root = { ID: ROOT_CANONICAL_ID, DisplayName: 'root' };
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'writer-owned' }));
  t.deepEqual(
    v1.Contents?.map((o) => [o.Key, o.Owner]),
    [
      ['by-root', root],
      ['by-writer', mine],
    ],
  );
  const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'writer-owned', FetchOwner: true }));
  t.deepEqual(
    v2.Contents?.map((o) => [o.Key, o.Owner]),
    [
      ['by-root', root],
      ['by-writer', mine],
    ],
  );
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'writer-owned' }));
  t.deepEqual(
    versions.Versions?.map((o) => [o.Key, o.Owner]),
    [
      ['by-root', root],
      ['by-writer', mine],
    ],
  );
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'writer-owned' }));
  t.deepEqual(uploads.Uploads?.[0]?.Initiator, mine);
  t.deepEqual(uploads.Uploads?.[0]?.Owner, mine);
  // Switching to BucketOwnerEnforced: the bucket owner owns them all.
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: 'writer-owned',
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
  const enforced = await s3.send(new ListObjectsCommand({ Bucket: 'writer-owned' }));
  t.deepEqual(
    enforced.Contents?.map((o) => o.Owner),
    [root, root],
  );
});
