// Global bucket aliases (Garage's model): one bucket reachable under several names, managed by the
// admin API's AddBucketAlias / RemoveBucketAlias.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { type AdminAnswer, adminCall } from '../helpers/admin.js';
import { ADMIN_TOKEN, s3Failure, TestServer } from '../helpers/server.js';
import { makePublicRead, type WebResponse, webRequest } from '../helpers/website.js';

let server: TestServer;
test.before(async () => {
  server = await TestServer.start({ shards: 3 });
});
test.after.always(async () => {
  await server?.destroy();
});

const admin = (method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminAnswer> =>
  adminCall(server, method, path, body);

async function createBucket(name: string): Promise<string> {
  const created = await admin('POST', '/v2/CreateBucket', { globalAlias: name });
  if (created.status !== 200) throw new Error(`CreateBucket ${name}: ${created.status}`);
  return created.json.id as string;
}

const addAlias = (bucketId: string, globalAlias: string): Promise<AdminAnswer> =>
  admin('POST', '/v2/AddBucketAlias', { bucketId, globalAlias });
const removeAlias = (bucketId: string, globalAlias: string): Promise<AdminAnswer> =>
  admin('POST', '/v2/RemoveBucketAlias', { bucketId, globalAlias });

async function text(client: S3Client, bucket: string, key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await got.Body?.transformToString()) ?? '';
}

async function keys(client: S3Client, bucket: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((c) => c.Key ?? '');
}

test('an alias reaches the same bucket: path and vhost style, both directions', async (t) => {
  const id = await createBucket('alias-first');
  const added = await addAlias(id, 'alias-second');
  t.is(added.status, 200);
  t.deepEqual(added.json.globalAliases, ['alias-first', 'alias-second']);
  t.is(added.json.id, id);

  const path = server.client();
  const vhost = server.vhostClient();
  await path.send(
    new PutObjectCommand({ Bucket: 'alias-first', Key: 'a.txt', Body: 'from first' }),
  );
  t.is(await text(path, 'alias-second', 'a.txt'), 'from first');
  t.is(await text(vhost, 'alias-second', 'a.txt'), 'from first');
  t.deepEqual(await keys(vhost, 'alias-second'), ['a.txt']);

  await vhost.send(
    new PutObjectCommand({ Bucket: 'alias-second', Key: 'b.txt', Body: 'from second' }),
  );
  t.is(await text(path, 'alias-first', 'b.txt'), 'from second');
  t.deepEqual(await keys(path, 'alias-first'), ['a.txt', 'b.txt']);
  const listed = await path.send(new ListObjectsV2Command({ Bucket: 'alias-second' }));
  t.is(listed.Name, 'alias-second', 'responses name the alias addressed');

  const info = await admin('GET', `/v2/GetBucketInfo?globalAlias=alias-second`);
  t.is(info.status, 200);
  t.is(info.json.id, id);
  t.deepEqual(info.json.globalAliases, ['alias-first', 'alias-second']);
  t.is(info.json.objects, 2);
  const list = await admin('GET', '/v2/ListBuckets');
  const entries = list.json.filter((b: { id: string }) => b.id === id);
  t.is(entries.length, 1, 'the admin API lists the bucket once');
  t.deepEqual(entries[0].globalAliases, ['alias-first', 'alias-second']);

  // S3 ListBuckets lists the bucket under each alias (as Garage does).
  const s3list = await path.send(new ListBucketsCommand({}));
  const names = (s3list.Buckets ?? []).map((b) => b.Name);
  t.true(names.includes('alias-first'));
  t.true(names.includes('alias-second'));
});

test('grants apply under every alias; ListBuckets shows the key each alias', async (t) => {
  const id = await createBucket('grant-one');
  t.is((await addAlias(id, 'grant-two')).status, 200);
  const key = await admin('POST', '/v2/CreateKey', { name: 'alias-user' });
  t.is(key.status, 200);
  const { accessKeyId, secretAccessKey } = key.json;
  const allowed = await admin('POST', '/v2/AllowBucketKey', {
    bucketId: id,
    accessKeyId,
    permissions: { read: true, write: true, owner: false },
  });
  t.is(allowed.status, 200);
  t.deepEqual(allowed.json.globalAliases, ['grant-one', 'grant-two']);

  const user = server.client({ accessKeyId, secretAccessKey });
  await user.send(new PutObjectCommand({ Bucket: 'grant-two', Key: 'k', Body: 'v' }));
  t.is(await text(user, 'grant-one', 'k'), 'v');
  const listed = await user.send(new ListBucketsCommand({}));
  t.deepEqual(listed.Buckets?.map((b) => b.Name).sort(), ['grant-one', 'grant-two']);
  const keyInfo = await admin('GET', `/v2/GetKeyInfo?id=${accessKeyId}`);
  t.deepEqual(keyInfo.json.buckets[0].globalAliases, ['grant-one', 'grant-two']);

  // Denying through the bucket id takes effect under both names.
  await admin('POST', '/v2/DenyBucketKey', {
    bucketId: id,
    accessKeyId,
    permissions: { read: true, write: true, owner: false },
  });
  t.is((await s3Failure(text(user, 'grant-one', 'k'))).status, 403);
  t.is((await s3Failure(text(user, 'grant-two', 'k'))).status, 403);
});

test('removing an alias: that name is NoSuchBucket, the other still works', async (t) => {
  const id = await createBucket('rm-keep');
  t.is((await addAlias(id, 'rm-drop')).status, 200);
  const s3 = server.client();
  await s3.send(new PutObjectCommand({ Bucket: 'rm-drop', Key: 'x', Body: 'kept' }));
  const removed = await removeAlias(id, 'rm-drop');
  t.is(removed.status, 200);
  t.deepEqual(removed.json.globalAliases, ['rm-keep']);
  t.is((await s3Failure(text(s3, 'rm-drop', 'x'))).name, 'NoSuchBucket');
  t.is((await s3Failure(s3.send(new HeadBucketCommand({ Bucket: 'rm-drop' })))).status, 404);
  t.is(await text(s3, 'rm-keep', 'x'), 'kept');

  // The freed name may name a new, different bucket.
  await s3.send(new CreateBucketCommand({ Bucket: 'rm-drop' }));
  t.deepEqual(await keys(s3, 'rm-drop'), []);

  // Removing a name that is not an alias of this bucket: 404.
  const notMine = await removeAlias(id, 'rm-drop');
  t.is(notMine.status, 404);
  t.is(notMine.json.code, 'NoSuchBucket');
});

test('the last alias cannot be removed', async (t) => {
  const id = await createBucket('last-alias');
  const refused = await removeAlias(id, 'last-alias');
  t.is(refused.status, 409);
  t.is(refused.json.code, 'BucketAliasRequired');
  await server.client().send(new HeadBucketCommand({ Bucket: 'last-alias' }));
  t.pass();
});

test('alias collisions, invalid names and unknown buckets', async (t) => {
  const a = await createBucket('coll-a');
  await createBucket('coll-b');
  const taken = await addAlias(a, 'coll-b');
  t.is(taken.status, 409);
  t.is(taken.json.code, 'BucketAlreadyExists');
  // Adding an alias the bucket already has is a no-op.
  const again = await addAlias(a, 'coll-a');
  t.is(again.status, 200);
  t.deepEqual(again.json.globalAliases, ['coll-a']);
  t.is((await addAlias(a, 'Not_A_Bucket')).status, 400);
  t.is((await addAlias(a, 'ab')).status, 400);
  t.is((await admin('POST', '/v2/AddBucketAlias', { bucketId: a })).status, 400);
  const unknown = await addAlias('0'.repeat(32), 'coll-free');
  t.is(unknown.status, 404);
  t.is(unknown.json.code, 'NoSuchBucket');
  // S3 CreateBucket on an alias answers as for any existing bucket.
  const aliasId = a;
  t.is((await addAlias(aliasId, 'coll-c')).status, 200);
  const exists = await s3Failure(
    server.client().send(new CreateBucketCommand({ Bucket: 'coll-c' })),
  );
  t.is(exists.name, 'BucketAlreadyOwnedByYou');
});

test('S3 DeleteBucket on an alias removes only that alias (Garage), the last deletes', async (t) => {
  const id = await createBucket('del-one');
  t.is((await addAlias(id, 'del-two')).status, 200);
  const s3 = server.client();
  await s3.send(new PutObjectCommand({ Bucket: 'del-one', Key: 'obj', Body: 'still here' }));
  // Not empty, but it has another alias: only the alias goes.
  await s3.send(new DeleteBucketCommand({ Bucket: 'del-one' }));
  t.is((await s3Failure(s3.send(new HeadBucketCommand({ Bucket: 'del-one' })))).status, 404);
  t.is(await text(s3, 'del-two', 'obj'), 'still here');
  // Now the last alias: an ordinary DeleteBucket, refused while not empty.
  t.is(
    (await s3Failure(s3.send(new DeleteBucketCommand({ Bucket: 'del-two' })))).name,
    'BucketNotEmpty',
  );
  const info = await admin('GET', `/v2/GetBucketInfo?id=${id}`);
  t.deepEqual(info.json.globalAliases, ['del-two']);
});

test('admin DeleteBucket removes every alias', async (t) => {
  const id = await createBucket('gone-a');
  t.is((await addAlias(id, 'gone-b')).status, 200);
  t.is((await admin('POST', `/v2/DeleteBucket?id=${id}`)).status, 200);
  const s3 = server.client();
  for (const name of ['gone-a', 'gone-b']) {
    t.is((await s3Failure(s3.send(new HeadBucketCommand({ Bucket: name })))).status, 404);
  }
  t.is((await admin('GET', `/v2/GetBucketInfo?id=${id}`)).status, 404);
});

const web = (host: string, path: string): Promise<WebResponse> =>
  webRequest(server.webPort, host, path);

test('the website endpoint serves a bucket under every alias', async (t) => {
  const id = await createBucket('site-main');
  t.is((await addAlias(id, 'site-mirror')).status, 200);
  const s3 = server.client();
  await makePublicRead(s3, 'site-main');
  await s3.send(
    new PutBucketWebsiteCommand({
      Bucket: 'site-main',
      WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'site-mirror',
      Key: 'index.html',
      Body: '<h1>hello</h1>',
      ContentType: 'text/html',
    }),
  );
  for (const name of ['site-main', 'site-mirror']) {
    const page = await web(`${name}.web.localhost`, '/');
    t.is(page.status, 200, name);
    t.is(page.body, '<h1>hello</h1>');
  }
  await removeAlias(id, 'site-mirror');
  t.is((await web('site-mirror.web.localhost', '/')).status, 404);
});

test('aliases survive a restart', async (t) => {
  const own = await TestServer.start({ shards: 2 });
  try {
    const created = await fetch(`${own.adminEndpoint}/v2/CreateBucket`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ globalAlias: 'persist-a' }),
    });
    const { id } = (await created.json()) as { id: string };
    const added = await fetch(`${own.adminEndpoint}/v2/AddBucketAlias`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ bucketId: id, globalAlias: 'persist-b' }),
    });
    t.is(added.status, 200);
    await own
      .client()
      .send(new PutObjectCommand({ Bucket: 'persist-a', Key: 'p', Body: 'persisted' }));
    await own.stop();
    const again = await TestServer.start({ shards: 2, dataDir: own.dataDir });
    try {
      t.is(await text(again.client(), 'persist-b', 'p'), 'persisted');
      const info = await fetch(`${again.adminEndpoint}/v2/GetBucketInfo?id=${id}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const json = (await info.json()) as { globalAliases: string[] };
      t.deepEqual(json.globalAliases, ['persist-a', 'persist-b']);
    } finally {
      await again.destroy();
    }
  } finally {
    await own.destroy();
  }
});
