import {
  CreateBucketCommand,
  GetBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { eventually } from '../helpers/fsck.js';
import { s3Failure, TestServer } from '../helpers/server.js';
import { makePublicRead, webRequest } from '../helpers/website.js';

/** Admin UpdateBucket's websiteAccess (Garage v2), seen through S3 and the website endpoint; /ready. */

let server: TestServer;
let s3: S3Client;
test.before(async () => {
  server = await TestServer.start({ shards: 2 });
  s3 = server.client();
});
test.after.always(async () => {
  s3?.destroy();
  await server?.destroy();
});

async function bucketId(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await makePublicRead(s3, name);
  const info = await adminCall(server, 'GET', `/v2/GetBucketInfo?globalAlias=${name}`);
  return info.json.id as string;
}

const update = (id: string, body: unknown) =>
  adminCall(server, 'POST', `/v2/UpdateBucket?id=${id}`, body);
const site = (bucket: string, path: string) =>
  webRequest(server.webPort, `${bucket}.web.localhost`, path);

test('websiteAccess enables and disables the website, as PutBucketWebsite would', async (t) => {
  const id = await bucketId('admin-site');
  for (const [key, body] of [
    ['index.html', '<h1>home</h1>'],
    ['404.html', '<h1>lost</h1>'],
    ['docs/index.html', '<h1>docs</h1>'],
  ] as const) {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'admin-site',
        Key: key,
        Body: body,
        ContentType: 'text/html',
      }),
    );
  }
  t.is((await site('admin-site', '/')).status, 404, 'no website before');

  const enabled = await update(id, {
    websiteAccess: { enabled: true, indexDocument: 'index.html', errorDocument: '404.html' },
  });
  t.is(enabled.status, 200);
  t.is(enabled.json.websiteAccess, true);
  t.deepEqual(enabled.json.websiteConfig, {
    indexDocument: 'index.html',
    errorDocument: '404.html',
  });
  const info = await adminCall(server, 'GET', `/v2/GetBucketInfo?id=${id}`);
  t.is(info.json.websiteAccess, true);

  const home = await site('admin-site', '/');
  t.is(home.status, 200);
  t.is(home.body, '<h1>home</h1>');
  t.is((await site('admin-site', '/docs/')).body, '<h1>docs</h1>');
  const lost = await site('admin-site', '/nope.html');
  t.is(lost.status, 404);
  t.is(lost.body, '<h1>lost</h1>');

  const website = await s3.send(new GetBucketWebsiteCommand({ Bucket: 'admin-site' }));
  t.deepEqual(website.IndexDocument, { Suffix: 'index.html' });
  t.deepEqual(website.ErrorDocument, { Key: '404.html' });

  // Without an error document, a missing key gets hangar's own 404.
  const indexOnly = await update(id, {
    websiteAccess: { enabled: true, indexDocument: 'index.html' },
  });
  t.deepEqual(indexOnly.json.websiteConfig, { indexDocument: 'index.html', errorDocument: null });
  const plain404 = await site('admin-site', '/nope.html');
  t.is(plain404.status, 404);
  t.regex(plain404.body, /NoSuchKey/);

  const disabled = await update(id, { websiteAccess: { enabled: false } });
  t.is(disabled.status, 200);
  t.is(disabled.json.websiteAccess, false);
  t.is(disabled.json.websiteConfig, null);
  const off = await site('admin-site', '/');
  t.is(off.status, 404);
  t.regex(off.body, /NoSuchWebsiteConfiguration/);
  const gone = await s3Failure(s3.send(new GetBucketWebsiteCommand({ Bucket: 'admin-site' })));
  t.is(gone.name, 'NoSuchWebsiteConfiguration');
});

test('UpdateBucket validates the whole body before changing anything', async (t) => {
  const id = await bucketId('admin-site-bad');
  const cases: Array<[unknown, RegExp]> = [
    [{ websiteAccess: { enabled: true } }, /body\.websiteAccess\.indexDocument is required/],
    [{ websiteAccess: { enabled: true, indexDocument: '' } }, /indexDocument/],
    [{ websiteAccess: { enabled: true, indexDocument: 'a/index.html' } }, /slash/],
    [{ websiteAccess: { enabled: 'yes', indexDocument: 'i.html' } }, /enabled must be a boolean/],
    [{ websiteAccess: { indexDocument: 'i.html' } }, /enabled is required/],
    [{ websiteAccess: { enabled: false, indexDocument: 'i.html' } }, /only valid with enabled/],
    [
      { websiteAccess: { enabled: true, indexDocument: 'i.html', colour: 1 } },
      /websiteAccess\.colour is not a known field/,
    ],
    [{ websiteAccess: 'on' }, /body\.websiteAccess must be a JSON object/],
    [{ website: {} }, /body\.website is not a known field/],
    // A valid quota beside an invalid websiteAccess: neither is applied.
    [{ quotas: { maxObjects: 5 }, websiteAccess: { enabled: true } }, /indexDocument/],
  ];
  for (const [body, message] of cases) {
    const answer = await update(id, body);
    t.is(answer.status, 400, JSON.stringify(body));
    t.is(answer.json.code, 'InvalidRequest');
    t.regex(answer.json.message, message, JSON.stringify(body));
  }
  const info = await adminCall(server, 'GET', `/v2/GetBucketInfo?id=${id}`);
  t.deepEqual(info.json.quotas, { maxSize: null, maxObjects: null });
  t.is(info.json.websiteAccess, false);
  const missing = await update('0'.repeat(32), { websiteAccess: { enabled: false } });
  t.is(missing.status, 404);
});

test('/ready answers 200 with every check, without a token; /health stays the liveness probe', async (t) => {
  // On a loaded machine a shard can miss readiness's 2 s ping bound once: ask again, bounded.
  let ready = await adminCall(server, 'GET', '/ready', undefined, null);
  await eventually(
    async () => {
      ready = await adminCall(server, 'GET', '/ready', undefined, null);
      return ready.status === 200;
    },
    15_000,
    200,
  );
  t.is(ready.status, 200, ready.text);
  t.is(ready.json.status, 'ready');
  t.deepEqual(ready.json.reasons, []);
  t.deepEqual(
    ready.json.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
    [
      ['serving', true],
      ['shards', true],
      ['disk', true],
    ],
  );
  t.is(ready.json.shards, 2);
  t.true(ready.json.freeBytes > 64 * 1024 * 1024);
  const health = await adminCall(server, 'GET', '/health', undefined, null);
  t.is(health.status, 200);
  t.is(health.json.status, 'ok');
  t.is((await adminCall(server, 'POST', '/ready', {}, null)).status, 405);
});
