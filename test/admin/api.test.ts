import { readFileSync } from 'node:fs';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { ROUTES } from '../../http/admin/routes.js';
import { ADMIN_TOKEN, ROOT_ACCESS_KEY, s3Failure, TestServer } from '../helpers/server.js';

let server: TestServer;
test.before(async () => {
  server = await TestServer.start({ shards: 3 });
});
test.after.always(async () => {
  await server?.destroy();
});

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are inspected field by field
  json: any;
  text: string;
  contentType: string | null;
}

async function call(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
  base = server.adminEndpoint,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (metrics)
  }
  return { status: response.status, json, text, contentType: response.headers.get('content-type') };
}

// ---- auth ----

test('no admin token configured: a wrong token gets 403 JSON on every admin route, the probes need none', async (t) => {
  const disabled = await TestServer.start({ adminToken: null });
  try {
    for (const route of ROUTES) {
      const answer = await call(
        route.method,
        route.path,
        undefined,
        'anything',
        disabled.adminEndpoint,
      );
      // The probes (/health, /ready) answer load balancers and orchestrators, token or not.
      if (route.auth === 'none') {
        t.true(['/health', '/ready'].includes(route.path), route.path);
        t.is(answer.status, 200, route.path);
        continue;
      }
      t.is(answer.status, 403, route.path);
      t.is(answer.json.code, 'Forbidden');
      t.regex(answer.json.message, /Invalid authorization token/);
      t.is(answer.json.path, route.path);
    }
  } finally {
    await disabled.destroy();
  }
});

test('a missing or wrong token answers 403 with a JSON error', async (t) => {
  const missing = await call('GET', '/v2/ListKeys', undefined, null);
  t.is(missing.status, 403);
  t.is(missing.json.code, 'Forbidden');
  t.regex(missing.json.message, /must be provided/);
  const wrong = await call('GET', '/v2/ListKeys', undefined, 'not-the-token-at-all');
  t.is(wrong.status, 403);
  t.regex(wrong.json.message, /Invalid authorization token/);
  t.is(wrong.contentType, 'application/json');
  const basic = await fetch(`${server.adminEndpoint}/v2/ListKeys`, {
    headers: { authorization: `Basic ${ADMIN_TOKEN}` },
  });
  t.is(basic.status, 403);
});

test('unknown endpoints answer 404, wrong methods 405, bad JSON 400, big bodies 413', async (t) => {
  const unknown = await call('GET', '/v2/NoSuchThing');
  t.is(unknown.status, 404);
  t.is(unknown.json.code, 'NoSuchEndpoint');
  const method = await call('POST', '/v2/ListKeys');
  t.is(method.status, 405);
  const bad = await call('POST', '/v2/CreateKey', '{"name": ');
  t.is(bad.status, 400);
  t.regex(bad.json.message, /not valid JSON/);
  const big = await call(
    'POST',
    '/v2/CreateKey',
    JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
  );
  t.is(big.status, 413);
});

// ---- cluster, health, metrics, openapi ----

test('GetClusterStatus reports node, version, shards, data dir and uptime', async (t) => {
  const answer = await call('GET', '/v2/GetClusterStatus');
  t.is(answer.status, 200);
  t.regex(answer.json.node, /^[0-9a-f]{16}$/);
  t.is(answer.json.version, JSON.parse(readFileSync('package.json', 'utf8')).version);
  t.is(answer.json.shards, 3);
  t.is(answer.json.dataDir, server.dataDir);
  t.true(Number.isInteger(answer.json.uptimeSecs) && answer.json.uptimeSecs >= 0);
  t.is(answer.json.nodes.length, 1);
  // Each data directory with its filesystem's space (Garage's dataPartition: the first).
  const [node] = answer.json.nodes;
  t.deepEqual(
    node.dataDirectories.map((d: { path: string }) => d.path),
    [server.dataDir],
  );
  const [disk] = node.dataDirectories;
  t.true(
    disk.total > 0 && disk.available >= 0 && disk.available <= disk.total,
    JSON.stringify(disk),
  );
  t.deepEqual(node.dataPartition, { available: disk.available, total: disk.total });
});

test('GetClusterModeStatus answers 409 NotInClusterMode on an embedded node', async (t) => {
  const answer = await call('GET', '/v2/GetClusterModeStatus');
  t.is(answer.status, 409);
  t.is(answer.json.code, 'NotInClusterMode');
});

test('GetClusterHealth pings every shard', async (t) => {
  const answer = await call('GET', '/v2/GetClusterHealth');
  t.is(answer.status, 200);
  t.is(answer.json.status, 'healthy');
  t.is(answer.json.partitions, 3);
  t.is(answer.json.partitionsAllOk, 3);
});

test('/health needs no token; /metrics needs the token', async (t) => {
  const health = await call('GET', '/health', undefined, null);
  t.true([200, 503].includes(health.status));
  t.true(['ok', 'starting', 'stopping'].includes(health.json.status));
  const noToken = await call('GET', '/metrics', undefined, null);
  t.is(noToken.status, 403);
  const metrics = await call('GET', '/metrics');
  t.is(metrics.status, 200);
  t.regex(metrics.text, /# HELP /);
});

test('openapi.json documents exactly the routes of routes.ts, and is served', async (t) => {
  const file = JSON.parse(readFileSync('http/admin/openapi.json', 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = Object.entries(file.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  const routed = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
  t.deepEqual(documented, routed);
  const served = await call('GET', '/v2/openapi.json');
  t.is(served.status, 200);
  t.deepEqual(served.json, file);
});

// ---- keys ----

test('keys: create, info, list, update, delete', async (t) => {
  const created = await call('POST', '/v2/CreateKey', { name: 'app', allowCreateBucket: true });
  t.is(created.status, 200);
  const id = created.json.accessKeyId as string;
  t.regex(id, /^HK[0-9A-F]{24}$/);
  t.regex(created.json.secretAccessKey, /^[0-9a-f]{64}$/);
  t.is(created.json.name, 'app');
  t.deepEqual(created.json.permissions, { createBucket: true });
  t.deepEqual(created.json.buckets, []);

  const info = await call('GET', `/v2/GetKeyInfo?id=${id}`);
  t.is(info.status, 200);
  t.is(info.json.name, 'app');
  t.is(info.json.secretAccessKey, undefined);
  const withSecret = await call('GET', `/v2/GetKeyInfo?id=${id}&showSecretKey=true`);
  t.is(withSecret.json.secretAccessKey, created.json.secretAccessKey);
  const searched = await call('GET', `/v2/GetKeyInfo?search=${id.slice(0, 12)}`);
  t.is(searched.json.accessKeyId, id);

  const list = await call('GET', '/v2/ListKeys');
  t.is(list.status, 200);
  t.true(list.json.some((k: { id: string; name: string }) => k.id === id && k.name === 'app'));
  t.true(list.json.some((k: { id: string }) => k.id === ROOT_ACCESS_KEY));

  const updated = await call('POST', `/v2/UpdateKey?id=${id}`, {
    name: 'renamed',
    deny: { createBucket: true },
  });
  t.is(updated.status, 200);
  t.is(updated.json.name, 'renamed');
  t.deepEqual(updated.json.permissions, { createBucket: false });
  const allowed = await call('POST', `/v2/UpdateKey?id=${id}`, { allow: { createBucket: true } });
  t.deepEqual(allowed.json.permissions, { createBucket: true });
  t.is(allowed.json.name, 'renamed');

  const deleted = await call('POST', `/v2/DeleteKey?id=${id}`);
  t.is(deleted.status, 200);
  const gone = await call('GET', `/v2/GetKeyInfo?id=${id}`);
  t.is(gone.status, 404);
  t.is(gone.json.code, 'NoSuchAccessKey');
  const again = await call('POST', `/v2/DeleteKey?id=${id}`);
  t.is(again.status, 404);
});

test('keys: import, duplicates, validation errors name the field, the root key is protected', async (t) => {
  const imported = await call('POST', '/v2/ImportKey', {
    accessKeyId: 'HKIMPORTED0001',
    secretAccessKey: 'imported-secret-0123456789',
    name: 'imported',
  });
  t.is(imported.status, 200);
  t.is(imported.json.accessKeyId, 'HKIMPORTED0001');
  t.is(imported.json.secretAccessKey, 'imported-secret-0123456789');
  const duplicate = await call('POST', '/v2/ImportKey', {
    accessKeyId: 'HKIMPORTED0001',
    secretAccessKey: 'imported-secret-0123456789',
  });
  t.is(duplicate.status, 409);
  t.is(duplicate.json.code, 'KeyAlreadyExists');

  const cases: Array<[string, string, unknown, RegExp]> = [
    ['/v2/ImportKey', 'POST', { secretAccessKey: 'x'.repeat(10) }, /body\.accessKeyId is required/],
    [
      '/v2/ImportKey',
      'POST',
      { accessKeyId: 'bad id!', secretAccessKey: 'x'.repeat(10) },
      /body\.accessKeyId/,
    ],
    [
      '/v2/ImportKey',
      'POST',
      { accessKeyId: 'HKOKAYKEY01', secretAccessKey: 'short' },
      /body\.secretAccessKey/,
    ],
    ['/v2/ImportKey', 'POST', undefined, /body must be a JSON object/],
    ['/v2/CreateKey', 'POST', { name: 7 }, /body\.name must be a string/],
    [
      '/v2/CreateKey',
      'POST',
      { allowCreateBucket: 'yes' },
      /body\.allowCreateBucket must be a boolean/,
    ],
    [
      '/v2/CreateKey',
      'POST',
      { allow: { createBucket: 1 } },
      /body\.allow\.createBucket must be a boolean/,
    ],
    ['/v2/CreateKey', 'POST', { nmae: 'typo' }, /body\.nmae is not a known field/],
    ['/v2/CreateKey', 'POST', [], /body must be a JSON object/],
    ['/v2/UpdateKey', 'POST', {}, /query parameter id is required/],
    ['/v2/GetKeyInfo', 'GET', undefined, /query parameter id is required/],
  ];
  for (const [path, method, body, message] of cases) {
    const answer = await call(method as 'GET' | 'POST', path, body);
    t.is(answer.status, 400, `${path} ${JSON.stringify(body)}`);
    t.is(answer.json.code, 'InvalidRequest');
    t.regex(answer.json.message, message);
  }
  const updateMissing = await call('POST', '/v2/UpdateKey?id=HKNOSUCHKEY00', { name: 'x' });
  t.is(updateMissing.status, 404);
  const rootDelete = await call('POST', `/v2/DeleteKey?id=${ROOT_ACCESS_KEY}`);
  t.is(rootDelete.status, 400);
  t.regex(rootDelete.json.message, /root key/);
  t.is((await call('GET', `/v2/GetKeyInfo?id=${ROOT_ACCESS_KEY}`)).json.root, true);
});

// ---- buckets ----

test('buckets: create, list, info by id and alias, delete; errors', async (t) => {
  const created = await call('POST', '/v2/CreateBucket', { globalAlias: 'admin-made' });
  t.is(created.status, 200);
  const id = created.json.id as string;
  t.regex(id, /^[0-9a-f]{32}$/);
  t.deepEqual(created.json.globalAliases, ['admin-made']);
  t.is(created.json.objects, 0);
  t.is(created.json.bytes, 0);

  const exists = await call('POST', '/v2/CreateBucket', { globalAlias: 'admin-made' });
  t.is(exists.status, 409);
  t.is(exists.json.code, 'BucketAlreadyExists');
  const badName = await call('POST', '/v2/CreateBucket', { globalAlias: 'Bad_Name' });
  t.is(badName.status, 400);
  t.regex(badName.json.message, /body\.globalAlias/);
  const noName = await call('POST', '/v2/CreateBucket', {});
  t.regex(noName.json.message, /body\.globalAlias is required/);

  const list = await call('GET', '/v2/ListBuckets');
  t.true(list.json.some((b: { id: string }) => b.id === id));
  t.deepEqual((await call('GET', `/v2/GetBucketInfo?id=${id}`)).json.globalAliases, ['admin-made']);
  t.is((await call('GET', '/v2/GetBucketInfo?globalAlias=admin-made')).json.id, id);
  t.is((await call('GET', '/v2/GetBucketInfo?globalAlias=nope-nope')).status, 404);
  t.is((await call('GET', `/v2/GetBucketInfo?id=${'f'.repeat(32)}`)).json.code, 'NoSuchBucket');
  t.is((await call('GET', '/v2/GetBucketInfo')).status, 400);

  // The bucket is a real S3 bucket.
  const s3 = server.client();
  await s3.send(new PutObjectCommand({ Bucket: 'admin-made', Key: 'k', Body: 'x' }));
  const notEmpty = await call('POST', `/v2/DeleteBucket?id=${id}`);
  t.is(notEmpty.status, 409);
  t.is(notEmpty.json.code, 'BucketNotEmpty');
  const empty = await call('POST', '/v2/CreateBucket', { globalAlias: 'admin-empty' });
  const deleted = await call('POST', `/v2/DeleteBucket?id=${empty.json.id}`);
  t.is(deleted.status, 200);
  t.is((await call('GET', `/v2/GetBucketInfo?id=${empty.json.id}`)).status, 404);
  t.is((await call('POST', `/v2/DeleteBucket?id=${empty.json.id}`)).status, 404);
});

test('GetBucketInfo counts objects and bytes over every shard after SDK PUTs', async (t) => {
  const s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'counted' }));
  let bytes = 0;
  for (let i = 0; i < 12; i++) {
    const body = Buffer.alloc(100 + i * 37, i);
    bytes += body.length;
    await s3.send(new PutObjectCommand({ Bucket: 'counted', Key: `obj-${i}`, Body: body }));
  }
  const info = await call('GET', '/v2/GetBucketInfo?globalAlias=counted');
  t.is(info.status, 200);
  t.is(info.json.objects, 12);
  t.is(info.json.bytes, bytes);
});

test('a key created via the API works for S3 after AllowBucketKey, and not after DenyBucketKey', async (t) => {
  const bucket = (await call('POST', '/v2/CreateBucket', { globalAlias: 'granted' })).json;
  const key = (await call('POST', '/v2/CreateKey', { name: 'sdk-user' })).json;
  const s3 = server.client({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
  const before = await s3Failure(s3.send(new ListObjectsV2Command({ Bucket: 'granted' })));
  t.is(before.status, 403);

  const allowed = await call('POST', '/v2/AllowBucketKey', {
    bucketId: bucket.id,
    accessKeyId: key.accessKeyId,
    permissions: { read: true, write: true, owner: false },
  });
  t.is(allowed.status, 200);
  t.deepEqual(
    allowed.json.keys.find((k: { accessKeyId: string }) => k.accessKeyId === key.accessKeyId)
      .permissions,
    { read: true, write: true, owner: false },
  );
  await s3.send(new PutObjectCommand({ Bucket: 'granted', Key: 'hello', Body: 'world' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'granted', Key: 'hello' }));
  t.is(await got.Body?.transformToString(), 'world');
  const keyInfo = await call('GET', `/v2/GetKeyInfo?id=${key.accessKeyId}`);
  t.deepEqual(keyInfo.json.buckets, [
    {
      id: bucket.id,
      globalAliases: ['granted'],
      localAliases: [],
      permissions: { read: true, write: true, owner: false },
    },
  ]);

  const denied = await call('POST', '/v2/DenyBucketKey', {
    bucketId: bucket.id,
    accessKeyId: key.accessKeyId,
    permissions: { read: false, write: true, owner: false },
  });
  t.is(denied.status, 200);
  const putDenied = await s3Failure(
    s3.send(new PutObjectCommand({ Bucket: 'granted', Key: 'again', Body: 'x' })),
  );
  t.is(putDenied.status, 403);
  const stillReads = await s3.send(new GetObjectCommand({ Bucket: 'granted', Key: 'hello' }));
  t.is(stillReads.$metadata.httpStatusCode, 200);

  const errors: Array<[unknown, number, RegExp]> = [
    [{ bucketId: bucket.id, accessKeyId: key.accessKeyId }, 400, /body\.permissions is required/],
    [
      { bucketId: bucket.id, accessKeyId: key.accessKeyId, permissions: { read: true } },
      400,
      /body\.permissions\.write is required/,
    ],
    [
      {
        bucketId: bucket.id,
        accessKeyId: key.accessKeyId,
        permissions: { read: true, write: 1, owner: false },
      },
      400,
      /body\.permissions\.write must be a boolean/,
    ],
    [
      {
        bucketId: 'f'.repeat(32),
        accessKeyId: key.accessKeyId,
        permissions: { read: true, write: true, owner: true },
      },
      404,
      /bucket/,
    ],
    [
      {
        bucketId: bucket.id,
        accessKeyId: 'HKNOSUCHKEY00',
        permissions: { read: true, write: true, owner: true },
      },
      404,
      /access key/,
    ],
  ];
  for (const [body, status, message] of errors) {
    const answer = await call('POST', '/v2/AllowBucketKey', body);
    t.is(answer.status, status, JSON.stringify(body));
    t.regex(answer.json.message, message);
  }
});

test('CleanupIncompleteUploads aborts the uploads older than olderThanSecs and frees their parts', async (t) => {
  const s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'cleanup-uploads' }));
  const id = (await call('GET', '/v2/GetBucketInfo?globalAlias=cleanup-uploads')).json.id;
  for (const key of ['a', 'b/c', 'd']) {
    const upload = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'cleanup-uploads', Key: key }),
    );
    await s3.send(
      new UploadPartCommand({
        Bucket: 'cleanup-uploads',
        Key: key,
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(100_000, key.length),
      }),
    );
  }
  let info = await call('GET', `/v2/GetBucketInfo?id=${id}`);
  t.like(info.json, { unfinishedUploads: 3, unfinishedMultipartUploadParts: 3 });
  t.is(info.json.unfinishedMultipartUploadBytes, 300_000);

  const young = await call('POST', '/v2/CleanupIncompleteUploads', {
    bucketId: id,
    olderThanSecs: 3600,
  });
  t.is(young.status, 200);
  t.deepEqual(young.json, { uploadsDeleted: 0 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const all = await call('POST', '/v2/CleanupIncompleteUploads', {
    bucketId: id,
    olderThanSecs: 0,
  });
  t.deepEqual(all.json, { uploadsDeleted: 3 });
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'cleanup-uploads' }));
  t.is(listed.Uploads, undefined);
  info = await call('GET', `/v2/GetBucketInfo?id=${id}`);
  t.like(info.json, {
    unfinishedUploads: 0,
    unfinishedMultipartUploadParts: 0,
    unfinishedMultipartUploadBytes: 0,
  });

  for (const bad of [{ bucketId: id }, { bucketId: id, olderThanSecs: -1 }, { olderThanSecs: 5 }]) {
    t.is(
      (await call('POST', '/v2/CleanupIncompleteUploads', bad)).status,
      400,
      JSON.stringify(bad),
    );
  }
  const missing = await call('POST', '/v2/CleanupIncompleteUploads', {
    bucketId: '0'.repeat(32),
    olderThanSecs: 0,
  });
  t.is(missing.status, 404);
  s3.destroy();
});
