import {
  GetBucketTaggingCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { objectBytes, s3Failure, TestServer, useTempDir } from '../helpers/server.js';

/** Root key rotation (HANGAR_ROOT_*) and revoking root keys through the admin API. */

const work = useTempDir(test, 'hangar-root-key-');

const KEY_A = { accessKeyId: 'HKROOTKEYAAAA01', secretAccessKey: 'root-secret-a-0123456789abcdef' };
const KEY_B = { accessKeyId: 'HKROOTKEYBBBB02', secretAccessKey: 'root-secret-b-0123456789abcdef' };

function rootEnv(key: { accessKeyId: string; secretAccessKey: string } | null) {
  // An empty variable counts as unset: the server then keeps the root key its catalog holds.
  return {
    HANGAR_ROOT_ACCESS_KEY: key?.accessKeyId ?? '',
    HANGAR_ROOT_SECRET_KEY: key?.secretAccessKey ?? '',
  };
}

async function withServer<T>(
  dataDir: string,
  root: typeof KEY_A | null,
  body: (server: TestServer) => Promise<T>,
): Promise<T> {
  const server = await TestServer.start({ dataDir, env: rootEnv(root) });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

async function keyIds(server: TestServer): Promise<string[]> {
  const listed = await adminCall(server, 'GET', '/v2/ListKeys');
  return (listed.json as Array<{ id: string }>).map((key) => key.id).sort();
}

test('rotating the root key deletes the old one; the new one has every bucket', async (t) => {
  const dataDir = `${work}/rotate`;
  const appKeyId = await withServer(dataDir, KEY_A, async (server) => {
    const s3 = server.client(KEY_A);
    await server.cli('bucket', 'create', 'kept');
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'before rotation' }));
    const created = await adminCall(server, 'POST', '/v2/CreateKey', { name: 'app' });
    return created.json.accessKeyId as string;
  });
  await withServer(dataDir, KEY_B, async (server) => {
    const old = await s3Failure(server.client(KEY_A).send(new ListBucketsCommand({})));
    t.is(old.status, 403);
    t.is(old.name, 'InvalidAccessKeyId');
    const s3 = server.client(KEY_B);
    const buckets = await s3.send(new ListBucketsCommand({}));
    t.deepEqual(
      buckets.Buckets?.map((b) => b.Name),
      ['kept'],
    );
    t.is((await objectBytes(s3, 'kept', 'k')).toString(), 'before rotation');
    // An owner-only call: the new root key administers the bucket.
    const TagSet = [{ Key: 'rotated', Value: 'yes' }];
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'kept', Tagging: { TagSet } }));
    t.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'kept' }))).TagSet, TagSet);
    // Only root keys go: the application key stays.
    t.deepEqual(await keyIds(server), [appKeyId, KEY_B.accessKeyId].sort());
    t.regex(server.log, /root key rotated/);
    t.true(server.log.includes(KEY_A.accessKeyId));
    // The configured root key cannot be deleted: the next start would bring it back.
    const refused = await adminCall(server, 'POST', `/v2/DeleteKey?id=${KEY_B.accessKeyId}`);
    t.is(refused.status, 400);
    t.regex(refused.json.message, /HANGAR_ROOT_ACCESS_KEY/);
    t.is((await s3.send(new ListBucketsCommand({}))).Buckets?.length, 1);
  });
});

test('a root key the configuration does not set can be revoked through the admin API', async (t) => {
  const dataDir = `${work}/revoke`;
  await withServer(dataDir, KEY_A, async (server) => {
    await server.client(KEY_A).send(new ListBucketsCommand({}));
  });
  // Started without HANGAR_ROOT_*, the server keeps the stored root key: A.
  await withServer(dataDir, null, async (server) => {
    const s3 = server.client(KEY_A);
    await s3.send(new ListBucketsCommand({}));
    const deleted = await server.cli('key', 'delete', KEY_A.accessKeyId);
    t.is(deleted.code, 0, deleted.stderr);
    const revoked = await s3Failure(s3.send(new ListBucketsCommand({})));
    t.is(revoked.status, 403);
    t.is(revoked.name, 'InvalidAccessKeyId');
    t.deepEqual(await keyIds(server), []);
  });
  // The next start generates a new root key and prints it; A stays revoked.
  await withServer(dataDir, null, async (server) => {
    const printed = /AWS_ACCESS_KEY_ID=(\S+)/.exec(server.log)?.[1];
    t.truthy(printed);
    t.not(printed, KEY_A.accessKeyId);
    t.deepEqual(await keyIds(server), [printed]);
    const old = await s3Failure(server.client(KEY_A).send(new ListBucketsCommand({})));
    t.is(old.name, 'InvalidAccessKeyId');
  });
});
