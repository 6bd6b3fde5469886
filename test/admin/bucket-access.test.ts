import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { canonicalIdOfAccessKey, ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { type AdminAnswer, adminCall } from '../helpers/admin.js';
import { ROOT_ACCESS_KEY, s3Failure, useServer } from '../helpers/server.js';

/**
 * The admin API's view of who may reach a bucket: owner, Object Ownership, PublicAccessBlock,
 * public status (GetBucketInfo), the PublicAccessBlock through UpdateBucket, the policy
 * endpoints' errors, and each key's canonical id (GetKeyInfo).
 */
const suite = useServer(test);

function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminAnswer> {
  return adminCall(suite.server, method, path, body);
}

/** The S3 credentials of a CreateKey answer (it has other fields the SDK would misread). */
function credentialsOf(key: { accessKeyId: string; secretAccessKey: string }) {
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

const ALL_BLOCKED = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};

test("GetBucketInfo shows a new bucket as the account's, ACLs off, all public access blocked", async (t) => {
  const created = await call('POST', '/v2/CreateBucket', { globalAlias: 'access-info' });
  t.is(created.status, 200);
  t.like(created.json, {
    owner: { accessKeyId: ROOT_ACCESS_KEY, canonicalId: ROOT_CANONICAL_ID, root: true },
    objectOwnership: 'BucketOwnerEnforced',
    publicAccessBlock: ALL_BLOCKED,
    hasPolicy: false,
    policyPublic: false,
    aclPublic: false,
    public: false,
  });
  t.regex(created.json.publicReason, /neither the bucket policy nor the bucket ACL is public/);
  // ACLs are off: no object ACL can make anything public either.
  t.notRegex(created.json.publicReason, /objects' own ACLs/);
});

test("a bucket a key created through S3 is that key's, by access key and canonical id", async (t) => {
  const key = (await call('POST', '/v2/CreateKey', { name: 'maker', allowCreateBucket: true }))
    .json;
  await suite.server
    .client(credentialsOf(key))
    .send(new CreateBucketCommand({ Bucket: 'key-owned' }));
  const info = await call('GET', '/v2/GetBucketInfo?globalAlias=key-owned');
  t.deepEqual(info.json.owner, {
    accessKeyId: key.accessKeyId,
    canonicalId: canonicalIdOfAccessKey(key.accessKeyId),
    root: false,
  });
  // Deleting the key leaves the bucket owned by its canonical id, with no key behind it.
  t.is((await call('POST', `/v2/DeleteKey?id=${key.accessKeyId}`)).status, 200);
  const orphan = await call('GET', '/v2/GetBucketInfo?globalAlias=key-owned');
  t.deepEqual(orphan.json.owner, {
    accessKeyId: null,
    canonicalId: canonicalIdOfAccessKey(key.accessKeyId),
    root: false,
  });
});

test('UpdateBucket sets single PublicAccessBlock flags, keeps the others, and null removes it', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'block-flags' })).json;
  const one = await call('POST', `/v2/UpdateBucket?id=${id}`, {
    publicAccessBlock: { blockPublicPolicy: false },
  });
  t.is(one.status, 200);
  t.deepEqual(one.json.publicAccessBlock, { ...ALL_BLOCKED, blockPublicPolicy: false });
  const two = await call('POST', `/v2/UpdateBucket?id=${id}`, {
    publicAccessBlock: { restrictPublicBuckets: false, ignorePublicAcls: false },
  });
  t.deepEqual(two.json.publicAccessBlock, {
    blockPublicAcls: true,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  });
  // Stored: GetBucketInfo reads it back.
  const read = await call('GET', `/v2/GetBucketInfo?id=${id}`);
  t.deepEqual(read.json.publicAccessBlock, two.json.publicAccessBlock);

  const removed = await call('POST', `/v2/UpdateBucket?id=${id}`, { publicAccessBlock: null });
  t.is(removed.status, 200);
  t.is(removed.json.publicAccessBlock, null);
  // Ownership and quotas are other fields of the same records: untouched.
  t.is(removed.json.objectOwnership, 'BucketOwnerEnforced');
  // From no block, a flag starts from all false.
  const fresh = await call('POST', `/v2/UpdateBucket?id=${id}`, {
    publicAccessBlock: { blockPublicAcls: true },
  });
  t.deepEqual(fresh.json.publicAccessBlock, {
    blockPublicAcls: true,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  });
});

test('UpdateBucket refuses a malformed publicAccessBlock before changing anything', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'block-errors' })).json;
  for (const [publicAccessBlock, message] of [
    [{}, /body\.publicAccessBlock needs at least one of/],
    [{ blockEverything: true }, /body\.publicAccessBlock\.blockEverything is not a known field/],
    [{ blockPublicAcls: 'yes' }, /body\.publicAccessBlock\.blockPublicAcls must be a boolean/],
    [true, /body\.publicAccessBlock must be a JSON object/],
  ] as const) {
    const refused = await call('POST', `/v2/UpdateBucket?id=${id}`, {
      quotas: { maxObjects: 5 },
      publicAccessBlock,
    });
    t.is(refused.status, 400, JSON.stringify(publicAccessBlock));
    t.is(refused.json.code, 'InvalidRequest');
    t.regex(refused.json.message, message);
  }
  const after = await call('GET', `/v2/GetBucketInfo?id=${id}`);
  t.deepEqual(after.json.publicAccessBlock, ALL_BLOCKED);
  t.deepEqual(after.json.quotas, { maxSize: null, maxObjects: null });
});

test('the policy endpoints: no policy is 404 NoSuchBucketPolicy; bad requests name the field', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'no-policy' })).json;
  const none = await call('GET', `/v2/GetBucketPolicy?id=${id}`);
  t.is(none.status, 404);
  t.is(none.json.code, 'NoSuchBucketPolicy');
  const noBucket = await call('GET', `/v2/GetBucketPolicy?id=${'f'.repeat(32)}`);
  t.is(noBucket.status, 404);
  t.is(noBucket.json.code, 'NoSuchBucket');
  t.is((await call('GET', '/v2/GetBucketPolicy')).status, 400);
  const noText = await call('POST', `/v2/PutBucketPolicy?id=${id}`, {});
  t.is(noText.status, 400);
  t.regex(noText.json.message, /body\.policy is required/);
  const notText = await call('POST', `/v2/PutBucketPolicy?id=${id}`, { policy: { Version: 1 } });
  t.regex(notText.json.message, /body\.policy must be a string/);
  const elsewhere = await call('POST', `/v2/PutBucketPolicy?id=${'f'.repeat(32)}`, {
    policy: '{}',
  });
  t.is(elsewhere.status, 404);
  t.is((await call('POST', `/v2/DeleteBucketPolicy?id=${'f'.repeat(32)}`)).status, 404);
});

test('GetKeyInfo shows the canonical id S3 answers show for the key', async (t) => {
  const root = await call('GET', `/v2/GetKeyInfo?id=${ROOT_ACCESS_KEY}`);
  t.is(root.json.canonicalId, ROOT_CANONICAL_ID);
  const key = (await call('POST', '/v2/CreateKey', { name: 'shown' })).json;
  t.is(key.canonicalId, canonicalIdOfAccessKey(key.accessKeyId));
  const info = await call('GET', `/v2/GetKeyInfo?id=${key.accessKeyId}`);
  t.regex(info.json.canonicalId, /^[0-9a-f]{64}$/);
  const listed = await suite.server.client(credentialsOf(key)).send(new ListBucketsCommand({}));
  t.is(listed.Owner?.ID, info.json.canonicalId);
  const rootListed = await suite.s3.send(new ListBucketsCommand({}));
  t.is(rootListed.Owner?.ID, root.json.canonicalId);
});

test('the admin API and S3 see one PublicAccessBlock', async (t) => {
  const { id } = (await call('POST', '/v2/CreateBucket', { globalAlias: 'block-shared' })).json;
  await call('POST', `/v2/UpdateBucket?id=${id}`, {
    publicAccessBlock: { blockPublicPolicy: false, restrictPublicBuckets: false },
  });
  const seen = await suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: 'block-shared' }));
  t.deepEqual(seen.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  });
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'block-shared' }));
  t.is((await call('GET', `/v2/GetBucketInfo?id=${id}`)).json.publicAccessBlock, null);
  await call('POST', `/v2/UpdateBucket?id=${id}`, { publicAccessBlock: { blockPublicAcls: true } });
  const again = await suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: 'block-shared' }));
  t.is(again.PublicAccessBlockConfiguration?.BlockPublicAcls, true);
  t.is(again.PublicAccessBlockConfiguration?.IgnorePublicAcls, false);
  await call('POST', `/v2/UpdateBucket?id=${id}`, { publicAccessBlock: null });
  const gone = await s3Failure(
    suite.s3.send(new GetPublicAccessBlockCommand({ Bucket: 'block-shared' })),
  );
  t.is(gone.name, 'NoSuchPublicAccessBlockConfiguration');
});
