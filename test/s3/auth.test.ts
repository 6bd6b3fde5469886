import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import { canonicalIdOfAccessKey } from '../../http/access/principal.js';
import { ROOT_ACCESS_KEY, ROOT_SECRET_KEY, s3Failure, useServer } from '../helpers/server.js';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The root key's client is `suite.s3`. */
const suite = useServer(test);

// ---- helpers ----

/** Runs `hangar ... --json` against the server (through its admin API) and parses the output. */
async function cli(...args: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await suite.server.cli(...args, '--json');
  if (code !== 0) throw new Error(`hangar ${args.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as unknown;
}

async function createKey(name: string, allowCreateBucket = false): Promise<Credentials> {
  const created = (await cli(
    'key',
    'create',
    name,
    ...(allowCreateBucket ? ['--allow-create-bucket'] : []),
  )) as Record<string, unknown>;
  if (typeof created.accessKeyId !== 'string' || typeof created.secretAccessKey !== 'string') {
    throw new Error(`unexpected key JSON: ${JSON.stringify(created)}`);
  }
  return { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
}

type Permission = 'read' | 'write' | 'owner';

async function grant(
  bucket: string,
  key: Credentials,
  ...permissions: Permission[]
): Promise<void> {
  await cli(
    'bucket',
    'allow',
    bucket,
    '--key',
    key.accessKeyId,
    ...permissions.map((p) => `--${p}`),
  );
}

async function revoke(
  bucket: string,
  key: Credentials,
  ...permissions: Permission[]
): Promise<void> {
  await cli(
    'bucket',
    'deny',
    bucket,
    '--key',
    key.accessKeyId,
    ...permissions.map((p) => `--${p}`),
  );
}

/** A bucket made by root, holding the object 'existing' ("hello"). */
async function rootBucket(name: string): Promise<void> {
  await suite.s3.send(new CreateBucketCommand({ Bucket: name }));
  await suite.s3.send(new PutObjectCommand({ Bucket: name, Key: 'existing', Body: 'hello' }));
}

async function denied(
  t: ExecutionContext,
  promise: Promise<unknown>,
  what: string,
  name = 'AccessDenied',
): Promise<void> {
  const failure = await s3Failure(promise);
  t.is(failure.name, name, what);
  t.is(failure.status, 403, what);
}

/** What the key can and cannot do on `bucket` (which holds 'existing'). */
async function probe(client: S3Client, bucket: string) {
  const ok = async (promise: Promise<unknown>): Promise<boolean | string> => {
    try {
      await promise;
      return true;
    } catch (error) {
      const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
      return e.$metadata?.httpStatusCode === 403 ? false : `${e.name}`;
    }
  };
  return {
    get: await ok(
      client
        .send(new GetObjectCommand({ Bucket: bucket, Key: 'existing' }))
        .then((r) => r.Body?.transformToString()),
    ),
    head: await ok(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'existing' }))),
    list: await ok(client.send(new ListObjectsV2Command({ Bucket: bucket }))),
    listV1: await ok(client.send(new ListObjectsCommand({ Bucket: bucket }))),
    headBucket: await ok(client.send(new HeadBucketCommand({ Bucket: bucket }))),
    location: await ok(client.send(new GetBucketLocationCommand({ Bucket: bucket }))),
    put: await ok(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe', Body: 'p' }))),
    delete: await ok(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'probe' }))),
    // DeleteObjects decides each key: a refused key is an AccessDenied entry of a 200 answer.
    deleteMany: await client
      .send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'probe-2' }] } }))
      .then(
        (answer) => (answer.Errors ?? []).every((error) => error.Code !== 'AccessDenied'),
        () => false,
      ),
  };
}

// ---- the permission matrix ----

test('a key without a grant is AccessDenied 403 on everything in the bucket', async (t) => {
  await rootBucket('matrix-none');
  const key = await createKey('nobody');
  const client = suite.server.client(key);
  await denied(
    t,
    client.send(new GetObjectCommand({ Bucket: 'matrix-none', Key: 'existing' })),
    'GET',
  );
  await denied(
    t,
    client.send(new PutObjectCommand({ Bucket: 'matrix-none', Key: 'x', Body: 'x' })),
    'PUT',
  );
  await denied(t, client.send(new ListObjectsV2Command({ Bucket: 'matrix-none' })), 'LIST');
  await denied(t, client.send(new ListObjectsCommand({ Bucket: 'matrix-none' })), 'LIST v1');
  await denied(
    t,
    client.send(new DeleteObjectCommand({ Bucket: 'matrix-none', Key: 'existing' })),
    'DELETE',
  );
  await denied(t, client.send(new DeleteBucketCommand({ Bucket: 'matrix-none' })), 'DeleteBucket');
  await denied(
    t,
    client.send(new GetBucketLocationCommand({ Bucket: 'matrix-none' })),
    'GetBucketLocation',
  );
  // HEAD answers carry no body (the SDK cannot name the error), only the status.
  const head = await s3Failure(client.send(new HeadBucketCommand({ Bucket: 'matrix-none' })));
  t.is(head.status, 403);
  // The object is untouched.
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: 'matrix-none', Key: 'existing' }));
  t.is(await got.Body?.transformToString(), 'hello');
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'matrix-none' }));
  t.deepEqual(
    (listed.Contents ?? []).map((o) => o.Key),
    ['existing'],
  );
});

test('a missing bucket is NoSuchBucket even for a key without grants', async (t) => {
  const key = await createKey('lost');
  const failure = await s3Failure(
    suite.server.client(key).send(new ListObjectsV2Command({ Bucket: 'matrix-missing' })),
  );
  t.is(failure.name, 'NoSuchBucket');
  t.is(failure.status, 404);
});

test('the read grant allows GET, HEAD and LIST; PUT and DELETE are AccessDenied', async (t) => {
  await rootBucket('matrix-read');
  const key = await createKey('reader');
  await grant('matrix-read', key, 'read');
  const can = await probe(suite.server.client(key), 'matrix-read');
  t.deepEqual(can, {
    get: true,
    head: true,
    list: true,
    listV1: true,
    headBucket: true,
    location: true,
    put: false,
    delete: false,
    deleteMany: false,
  });
  await denied(
    t,
    suite.server.client(key).send(new DeleteBucketCommand({ Bucket: 'matrix-read' })),
    'DeleteBucket',
  );
});

test('the write grant allows PUT and DELETE, and without read no GET or LIST', async (t) => {
  await rootBucket('matrix-write');
  const key = await createKey('writer');
  await grant('matrix-write', key, 'write');
  const can = await probe(suite.server.client(key), 'matrix-write');
  t.deepEqual(can, {
    get: false,
    head: false,
    list: false,
    listV1: false,
    headBucket: false,
    location: false,
    put: true,
    delete: true,
    deleteMany: true,
  });
  // The writes happened: root sees the put and the delete.
  const client = suite.server.client(key);
  await client.send(new PutObjectCommand({ Bucket: 'matrix-write', Key: 'w', Body: 'written' }));
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: 'matrix-write', Key: 'w' }));
  t.is(await got.Body?.transformToString(), 'written');
  await client.send(new DeleteObjectCommand({ Bucket: 'matrix-write', Key: 'existing' }));
  const gone = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: 'matrix-write', Key: 'existing' })),
  );
  t.is(gone.status, 404);
});

test('read and write together allow everything on objects but not DeleteBucket', async (t) => {
  await rootBucket('matrix-rw');
  const key = await createKey('readwriter');
  await grant('matrix-rw', key, 'read', 'write');
  const can = await probe(suite.server.client(key), 'matrix-rw');
  t.true(
    Object.values(can).every((value) => value === true),
    JSON.stringify(can),
  );
  await suite.server
    .client(key)
    .send(new DeleteObjectCommand({ Bucket: 'matrix-rw', Key: 'existing' }));
  await denied(
    t,
    suite.server.client(key).send(new DeleteBucketCommand({ Bucket: 'matrix-rw' })),
    'DeleteBucket without owner',
  );
  await suite.s3.send(new HeadBucketCommand({ Bucket: 'matrix-rw' }));
});

test('DeleteBucket needs the owner grant', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'matrix-owner' }));
  const key = await createKey('owner');
  await grant('matrix-owner', key, 'read', 'write');
  await denied(
    t,
    suite.server.client(key).send(new DeleteBucketCommand({ Bucket: 'matrix-owner' })),
    'without owner',
  );
  await grant('matrix-owner', key, 'owner');
  const deleted = await suite.server
    .client(key)
    .send(new DeleteBucketCommand({ Bucket: 'matrix-owner' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  const gone = await s3Failure(suite.s3.send(new HeadBucketCommand({ Bucket: 'matrix-owner' })));
  t.is(gone.status, 404);
});

test('the owner grant alone does not allow reading or writing objects', async (t) => {
  await rootBucket('matrix-owner-only');
  const key = await createKey('owner-only');
  await grant('matrix-owner-only', key, 'owner');
  const can = await probe(suite.server.client(key), 'matrix-owner-only');
  t.false(can.get);
  t.false(can.put);
  t.false(can.list);
  t.false(can.delete);
});

test('deny removes a permission and leaves the others', async (t) => {
  await rootBucket('matrix-deny');
  const key = await createKey('denied');
  const client = suite.server.client(key);
  await grant('matrix-deny', key, 'read', 'write');
  await client.send(new GetObjectCommand({ Bucket: 'matrix-deny', Key: 'existing' }));
  await client.send(new PutObjectCommand({ Bucket: 'matrix-deny', Key: 'a', Body: 'a' }));

  await revoke('matrix-deny', key, 'read');
  await denied(
    t,
    client.send(new GetObjectCommand({ Bucket: 'matrix-deny', Key: 'existing' })),
    'GET after deny --read',
  );
  await denied(t, client.send(new ListObjectsV2Command({ Bucket: 'matrix-deny' })), 'LIST');
  const put = await client.send(
    new PutObjectCommand({ Bucket: 'matrix-deny', Key: 'b', Body: 'b' }),
  );
  t.is(put.$metadata.httpStatusCode, 200, 'write is kept');

  await revoke('matrix-deny', key, 'write');
  await denied(
    t,
    client.send(new PutObjectCommand({ Bucket: 'matrix-deny', Key: 'c', Body: 'c' })),
    'PUT after deny --write',
  );
  const visible = await client.send(new ListBucketsCommand({}));
  t.false((visible.Buckets ?? []).some((b) => b.Name === 'matrix-deny'));
});

test('CopyObject needs read on the source and write on the destination', async (t) => {
  await rootBucket('copy-source');
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'copy-target' }));
  const key = await createKey('copier');
  const client = suite.server.client(key);
  const copy = () =>
    client.send(
      new CopyObjectCommand({
        Bucket: 'copy-target',
        Key: 'copied',
        CopySource: 'copy-source/existing',
      }),
    );
  await grant('copy-target', key, 'write');
  await denied(t, copy(), 'no read on the source');
  await grant('copy-source', key, 'read');
  await revoke('copy-target', key, 'write');
  await grant('copy-target', key, 'read');
  await denied(t, copy(), 'no write on the target');
  await grant('copy-target', key, 'write');
  const copied = await copy();
  t.is(copied.$metadata.httpStatusCode, 200);
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: 'copy-target', Key: 'copied' }));
  t.is(await got.Body?.transformToString(), 'hello');
});

test('ListBuckets shows a key only the buckets it holds a grant on; root sees all', async (t) => {
  for (const name of ['seen-read', 'seen-write', 'seen-owner', 'unseen']) {
    await suite.s3.send(new CreateBucketCommand({ Bucket: name }));
  }
  const key = await createKey('looker');
  await grant('seen-read', key, 'read');
  await grant('seen-write', key, 'write');
  await grant('seen-owner', key, 'owner');
  const listed = await suite.server.client(key).send(new ListBucketsCommand({}));
  t.deepEqual(
    (listed.Buckets ?? []).map((b) => b.Name),
    ['seen-owner', 'seen-read', 'seen-write'],
  );
  t.is(listed.Owner?.ID, canonicalIdOfAccessKey(key.accessKeyId));
  const fresh = await createKey('blind');
  const none = await suite.server.client(fresh).send(new ListBucketsCommand({}));
  t.deepEqual(none.Buckets ?? [], []);
  const all = await suite.s3.send(new ListBucketsCommand({}));
  const names = (all.Buckets ?? []).map((b) => b.Name);
  for (const name of ['seen-read', 'seen-write', 'seen-owner', 'unseen']) {
    t.true(names.includes(name), name);
  }
});

test('CreateBucket by a key without allow-create-bucket is AccessDenied', async (t) => {
  const key = await createKey('no-create');
  await denied(
    t,
    suite.server.client(key).send(new CreateBucketCommand({ Bucket: 'not-created' })),
    'CreateBucket',
  );
  const head = await s3Failure(suite.s3.send(new HeadBucketCommand({ Bucket: 'not-created' })));
  t.is(head.status, 404);
});

test('a key with allow-create-bucket creates buckets and holds every grant on them', async (t) => {
  const key = await createKey('creator', true);
  const client = suite.server.client(key);
  const created = await client.send(new CreateBucketCommand({ Bucket: 'created-by-key' }));
  t.is(created.$metadata.httpStatusCode, 200);
  const info = (await cli('key', 'info', key.accessKeyId)) as {
    allowCreateBucket: boolean;
    grants: Array<{ bucket: string; read: boolean; write: boolean; owner: boolean }>;
  };
  t.true(info.allowCreateBucket);
  t.deepEqual(
    info.grants.map(({ bucket, read, write, owner }) => ({ bucket, read, write, owner })),
    [{ bucket: 'created-by-key', read: true, write: true, owner: true }],
  );
  await client.send(new PutObjectCommand({ Bucket: 'created-by-key', Key: 'mine', Body: 'm' }));
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'created-by-key' }));
  t.deepEqual(
    (listed.Contents ?? []).map((o) => o.Key),
    ['mine'],
  );
  const buckets = await client.send(new ListBucketsCommand({}));
  t.deepEqual(
    (buckets.Buckets ?? []).map((b) => b.Name),
    ['created-by-key'],
  );
  // Creating it again: it is the key's own.
  const again = await s3Failure(client.send(new CreateBucketCommand({ Bucket: 'created-by-key' })));
  t.is(again.name, 'BucketAlreadyOwnedByYou');
  t.is(again.status, 409);
  // Another key's bucket: BucketAlreadyExists, and no grant is handed out.
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'taken-by-root' }));
  const taken = await s3Failure(client.send(new CreateBucketCommand({ Bucket: 'taken-by-root' })));
  t.is(taken.name, 'BucketAlreadyExists');
  t.is(taken.status, 409);
  await denied(t, client.send(new ListObjectsV2Command({ Bucket: 'taken-by-root' })), 'LIST');
  // Another key may not touch the creator's bucket.
  const other = await createKey('other');
  await denied(
    t,
    suite.server.client(other).send(new ListObjectsV2Command({ Bucket: 'created-by-key' })),
    'other key',
  );
  await client.send(new DeleteObjectCommand({ Bucket: 'created-by-key', Key: 'mine' }));
  const deleted = await client.send(new DeleteBucketCommand({ Bucket: 'created-by-key' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
});

test('an imported key works with its own id and secret', async (t) => {
  const id = 'HKIMPORTED0000001';
  const secret = 'imported-secret-0123456789';
  const imported = (await cli('key', 'import', id, secret)) as Record<string, unknown>;
  t.is(imported.accessKeyId, id);
  t.is(imported.secretAccessKey, secret);
  await rootBucket('imported-bucket');
  await grant('imported-bucket', { accessKeyId: id, secretAccessKey: secret }, 'read');
  const got = await suite.server
    .client({ accessKeyId: id, secretAccessKey: secret })
    .send(new GetObjectCommand({ Bucket: 'imported-bucket', Key: 'existing' }));
  t.is(await got.Body?.transformToString(), 'hello');
});

test('a deleted key is InvalidAccessKeyId', async (t) => {
  const key = await createKey('short-lived');
  await suite.server.client(key).send(new ListBucketsCommand({}));
  await cli('key', 'delete', key.accessKeyId);
  await denied(
    t,
    suite.server.client(key).send(new ListBucketsCommand({})),
    'deleted key',
    'InvalidAccessKeyId',
  );
});

// ---- signatures ----

test('a wrong secret is SignatureDoesNotMatch 403', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'sig-bucket' }));
  const client = suite.server.client({
    accessKeyId: ROOT_ACCESS_KEY,
    secretAccessKey: 'wrong-secret',
  });
  await denied(t, client.send(new ListBucketsCommand({})), 'ListBuckets', 'SignatureDoesNotMatch');
  await denied(
    t,
    client.send(new PutObjectCommand({ Bucket: 'sig-bucket', Key: 'k', Body: 'v' })),
    'PutObject',
    'SignatureDoesNotMatch',
  );
  const failure = await s3Failure(client.send(new ListObjectsV2Command({ Bucket: 'sig-bucket' })));
  const raw = failure.raw as { AWSAccessKeyId?: string; StringToSign?: string };
  t.is(raw.AWSAccessKeyId, ROOT_ACCESS_KEY);
  t.regex(raw.StringToSign ?? '', /^AWS4-HMAC-SHA256\n/);
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'sig-bucket' }));
  t.is(listed.KeyCount, 0, 'the badly signed PUT stored nothing');
});

test('an unknown access key is InvalidAccessKeyId 403', async (t) => {
  const client = suite.server.client({
    accessKeyId: 'HKNOSUCHKEY000001',
    secretAccessKey: ROOT_SECRET_KEY,
  });
  await denied(t, client.send(new ListBucketsCommand({})), 'ListBuckets', 'InvalidAccessKeyId');
  const failure = await s3Failure(client.send(new ListObjectsV2Command({ Bucket: 'any-bucket' })));
  t.is(failure.name, 'InvalidAccessKeyId');
  t.is((failure.raw as { AWSAccessKeyId?: string }).AWSAccessKeyId, 'HKNOSUCHKEY000001');
});

test('a request signed an hour off is RequestTimeTooSkewed 403; the SDK then corrects its clock', async (t) => {
  for (const offset of [-3600_000, 3600_000]) {
    const client = suite.server.client(undefined, { systemClockOffset: offset });
    const failure = await s3Failure(client.send(new ListBucketsCommand({})));
    t.is(failure.name, 'RequestTimeTooSkewed', `offset ${offset}`);
    t.is(failure.status, 403);
    const raw = failure.raw as { MaxAllowedSkewMilliseconds?: string; ServerTime?: string };
    t.is(raw.MaxAllowedSkewMilliseconds, '900000');
    t.true(Math.abs(Date.parse(raw.ServerTime ?? '') - Date.now()) < 60_000);
    // The SDK read the server's Date header and adjusts: the next request goes through.
    t.true(Math.abs(client.config.systemClockOffset) < 60_000, 'offset corrected');
    const ok = await client.send(new ListBucketsCommand({}));
    t.is(ok.$metadata.httpStatusCode, 200);
  }
  // Within the 15-minute window a skew is accepted.
  const close = suite.server.client(undefined, { systemClockOffset: -10 * 60_000 });
  const ok = await close.send(new ListBucketsCommand({}));
  t.is(ok.$metadata.httpStatusCode, 200);
});

test('an anonymous request is AccessDenied 403 with an XML error body', async (t) => {
  await rootBucket('anon-bucket');
  for (const [method, path] of [
    ['GET', '/'],
    ['GET', '/anon-bucket'],
    ['GET', '/anon-bucket/existing'],
    ['PUT', '/anon-bucket/new'],
    ['DELETE', '/anon-bucket/existing'],
  ] as const) {
    const response = await fetch(`${suite.server.endpoint}${path}`, {
      method,
      ...(method === 'PUT' ? { body: 'anonymous' } : {}),
    });
    t.is(response.status, 403, `${method} ${path}`);
    t.regex(response.headers.get('content-type') ?? '', /xml/);
    const body = await response.text();
    t.regex(body, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
    t.regex(body, /<Error>[\s\S]*<Code>AccessDenied<\/Code>[\s\S]*<\/Error>/, `${method} ${path}`);
    t.regex(body, /<Message>[^<]+<\/Message>/);
    t.regex(body, /<RequestId>[^<]+<\/RequestId>/);
  }
  const head = await fetch(`${suite.server.endpoint}/anon-bucket/existing`, { method: 'HEAD' });
  t.is(head.status, 403);
  t.is(await head.text(), '');
  // Nothing changed.
  const listed = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'anon-bucket' }));
  t.deepEqual(
    (listed.Contents ?? []).map((o) => o.Key),
    ['existing'],
  );
});

// ---- addressing ----

test('a virtual-hosted-style client puts, gets, lists and deletes', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'vhost-bucket' }));
  const vhost = suite.server.vhostClient();
  const put = await vhost.send(
    new PutObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt', Body: 'via vhost' }),
  );
  t.is(put.$metadata.httpStatusCode, 200);
  const got = await vhost.send(
    new GetObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }),
  );
  t.is(await got.Body?.transformToString(), 'via vhost');
  // The same object through path style.
  const viaPath = await suite.s3.send(
    new GetObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }),
  );
  t.is(await viaPath.Body?.transformToString(), 'via vhost');
  const listed = await vhost.send(
    new ListObjectsV2Command({ Bucket: 'vhost-bucket', Delimiter: '/' }),
  );
  t.deepEqual(
    (listed.CommonPrefixes ?? []).map((p) => p.Prefix),
    ['dir/'],
  );
  t.is(listed.Name, 'vhost-bucket');
  const head = await vhost.send(new HeadBucketCommand({ Bucket: 'vhost-bucket' }));
  t.is(head.$metadata.httpStatusCode, 200);
  const deleted = await vhost.send(
    new DeleteObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }),
  );
  t.is(deleted.$metadata.httpStatusCode, 204);
  const after = await vhost.send(new ListObjectsV2Command({ Bucket: 'vhost-bucket' }));
  t.is(after.KeyCount, 0);
  const missing = await s3Failure(
    vhost.send(new GetObjectCommand({ Bucket: 'vhost-missing', Key: 'k' })),
  );
  t.is(missing.name, 'NoSuchBucket');
  // Grants apply the same way.
  const key = await createKey('vhost-nobody');
  const failure = await s3Failure(
    suite.server.vhostClient(key).send(new ListObjectsV2Command({ Bucket: 'vhost-bucket' })),
  );
  t.is(failure.name, 'AccessDenied');
});

// ---- presigned URLs ----

test('a presigned GET URL works with fetch', async (t) => {
  await rootBucket('presigned');
  const url = await getSignedUrl(
    suite.s3,
    new GetObjectCommand({ Bucket: 'presigned', Key: 'existing' }),
    {
      expiresIn: 300,
    },
  );
  t.regex(url, /X-Amz-Signature=[0-9a-f]{64}/);
  const response = await fetch(url);
  t.is(response.status, 200);
  t.is(await response.text(), 'hello');
  // The same signature for another method is refused.
  const asPut = await fetch(url, { method: 'PUT', body: 'x' });
  t.is(asPut.status, 403);
  t.regex(await asPut.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});

test('a presigned PUT URL uploads with fetch', async (t) => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'presigned-put' }));
  const url = await getSignedUrl(
    suite.s3,
    new PutObjectCommand({ Bucket: 'presigned-put', Key: 'up/loaded.txt' }),
    { expiresIn: 300 },
  );
  const response = await fetch(url, { method: 'PUT', body: 'uploaded by url' });
  t.is(response.status, 200);
  const got = await suite.s3.send(
    new GetObjectCommand({ Bucket: 'presigned-put', Key: 'up/loaded.txt' }),
  );
  t.is(await got.Body?.transformToString(), 'uploaded by url');
});

test('a tampered presigned URL is SignatureDoesNotMatch 403', async (t) => {
  await rootBucket('tampered');
  await suite.s3.send(new PutObjectCommand({ Bucket: 'tampered', Key: 'other', Body: 'secret' }));
  const url = await getSignedUrl(
    suite.s3,
    new GetObjectCommand({ Bucket: 'tampered', Key: 'existing' }),
    {
      expiresIn: 300,
    },
  );
  const tamperings: Array<[string, (u: URL) => void]> = [
    ['another key', (u) => (u.pathname = u.pathname.replace('/existing', '/other'))],
    [
      'a flipped signature digit',
      (u) => {
        const sig = u.searchParams.get('X-Amz-Signature') ?? '';
        u.searchParams.set('X-Amz-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
      },
    ],
    ['a longer expiry', (u) => u.searchParams.set('X-Amz-Expires', '600')],
    ['an added parameter', (u) => u.searchParams.set('response-content-type', 'text/evil')],
  ];
  for (const [what, tamper] of tamperings) {
    const tampered = new URL(url);
    tamper(tampered);
    const response = await fetch(tampered);
    t.is(response.status, 403, what);
    const body = await response.text();
    t.regex(body, /<Code>SignatureDoesNotMatch<\/Code>/, what);
    t.false(body.includes('secret'), what);
  }
  // The untampered URL still works.
  t.is((await fetch(url)).status, 200);
});

test('an expired presigned URL is AccessDenied', async (t) => {
  await rootBucket('expiring');
  const url = await getSignedUrl(
    suite.s3,
    new GetObjectCommand({ Bucket: 'expiring', Key: 'existing' }),
    {
      expiresIn: 1,
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const response = await fetch(url);
  t.is(response.status, 403);
  const body = await response.text();
  t.regex(body, /<Code>AccessDenied<\/Code>/);
  t.regex(body, /expired/i);
});

test('a presigned URL of a key without a grant is AccessDenied', async (t) => {
  await rootBucket('presigned-nogrant');
  const key = await createKey('presigner');
  const url = await getSignedUrl(
    suite.server.client(key),
    new GetObjectCommand({ Bucket: 'presigned-nogrant', Key: 'existing' }),
    { expiresIn: 300 },
  );
  const response = await fetch(url);
  t.is(response.status, 403);
  t.regex(await response.text(), /<Code>AccessDenied<\/Code>/);
  await grant('presigned-nogrant', key, 'read');
  const allowed = await fetch(url);
  t.is(allowed.status, 200);
  t.is(await allowed.text(), 'hello');
});
