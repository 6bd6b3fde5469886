import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import type { FsckReport } from '../../engine/fsck.js';
import { fsckReport } from '../helpers/fsck.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import {
  assertNoObject,
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  useServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

// Several shards: the racing writers of one key all meet on its shard, wherever that is.
const suite = useServer(test, { shards: 4 });

const KIB = 1024;

function etagOf(data: Buffer | string): string {
  return `"${createHash('md5').update(data).digest('hex')}"`;
}

async function put(bucket: string, key: string, body: Buffer | string): Promise<string> {
  const answer = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
  );
  return answer.ETag ?? '';
}

/** A raw signed request's answer: status, and the XML error's code and Condition if any. */
async function rawPut(
  bucket: string,
  key: string,
  headers: Record<string, string>,
  body = 'raw',
): Promise<{ status: number; xml: string }> {
  const res = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}/${encodeURIComponent(key)}`,
    headers,
    body: Buffer.from(body),
  });
  return { status: res.status, xml: await res.text() };
}

async function expectFailure(
  t: ExecutionContext,
  promise: Promise<unknown>,
  status: number,
  code: string,
): Promise<void> {
  const failure = await s3Failure(promise);
  t.is(failure.status, status, `${failure.name}: ${failure.message}`);
  t.is(failure.name, code);
}

// ---------------------------------------------------------------------------------------------
// PutObject

test('PutObject If-None-Match * creates an absent key and refuses an existing one (412)', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-inm');
  const created = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'first', IfNoneMatch: '*' }),
  );
  t.is(created.$metadata.httpStatusCode, 200);
  t.is(created.ETag, etagOf('first'));
  await expectFailure(
    t,
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'second', IfNoneMatch: '*' }),
    ),
    412,
    'PreconditionFailed',
  );
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'first');
});

test('a refused conditional PUT answers S3 XML naming the failed condition', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-xml');
  await put(bucket, 'k', 'there');
  const exists = await rawPut(bucket, 'k', { 'if-none-match': '*' });
  t.is(exists.status, 412);
  t.regex(exists.xml, /<Code>PreconditionFailed<\/Code>/);
  t.regex(exists.xml, /<Condition>If-None-Match<\/Condition>/);
  t.regex(
    exists.xml,
    /<Message>At least one of the preconditions you specified did not hold\.<\/Message>/,
  );
  const otherEtag = await rawPut(bucket, 'k', { 'if-match': '"0123456789abcdef0123456789abcdef"' });
  t.is(otherEtag.status, 412);
  t.regex(otherEtag.xml, /<Condition>If-Match<\/Condition>/);
  const missing = await rawPut(bucket, 'absent', { 'if-match': etagOf('there') });
  t.is(missing.status, 404);
  t.regex(missing.xml, /<Code>NoSuchKey<\/Code>/);
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'there');
});

test('PutObject If-None-Match with an ETag (not *) is 501 NotImplemented, as AWS', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-inm-etag');
  const answer = await rawPut(bucket, 'k', { 'if-none-match': etagOf('x') });
  t.is(answer.status, 501);
  t.regex(answer.xml, /<Code>NotImplemented<\/Code>/);
  t.regex(answer.xml, /<Header>If-None-Match<\/Header>/);
  await assertNoObject(t, suite.s3, bucket, 'k');
});

test('PutObject If-Match replaces only the object with that ETag', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-im');
  const v1 = await put(bucket, 'k', 'version 1');
  const v2 = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'version 2', IfMatch: v1 }),
  );
  t.is(v2.$metadata.httpStatusCode, 200);
  // v1's ETag is stale now.
  await expectFailure(
    t,
    suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v3', IfMatch: v1 })),
    412,
    'PreconditionFailed',
  );
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'version 2');
  // Unquoted, in a list, or "*" (any object): RFC 7232's forms.
  const bare = (v2.ETag ?? '').replaceAll('"', '');
  const v3 = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'version 3', IfMatch: bare }),
  );
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'version 4',
      IfMatch: `"ffffffffffffffffffffffffffffffff", ${v3.ETag}`,
    }),
  );
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v5', IfMatch: '*' }));
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'v5');
});

test('PutObject If-Match on a missing key is 404 NoSuchKey and stores nothing', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-im-missing');
  await expectFailure(
    t,
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', IfMatch: etagOf('x') }),
    ),
    404,
    'NoSuchKey',
  );
  await expectFailure(
    t,
    suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', IfMatch: '*' })),
    404,
    'NoSuchKey',
  );
  await assertNoObject(t, suite.s3, bucket, 'k');
});

test('a large conditional PUT refused at once stores nothing (body in blocks)', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-big');
  const original = randomBytesSeeded(300 * KIB, 7);
  await put(bucket, 'k', original);
  await expectFailure(
    t,
    suite.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: randomBytesSeeded(3 * 1024 * KIB, 8),
        IfNoneMatch: '*',
      }),
    ),
    412,
    'PreconditionFailed',
  );
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(original));
});

const CLEAN = { unreferencedBlocks: [], missingBlocks: [], refcountMismatches: [] };

function pick(report: FsckReport): Partial<FsckReport> {
  const { unreferencedBlocks, missingBlocks, refcountMismatches } = report;
  return { unreferencedBlocks, missingBlocks, refcountMismatches };
}

/** fsck of the live data directory, polled: block unlinks run just after the commit they follow. */
async function fsckUntilClean(): Promise<FsckReport> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const report = await fsckReport(suite.server.dataDir);
    const clean = JSON.stringify(pick(report)) === JSON.stringify(CLEAN);
    if (clean || Date.now() > deadline) return report;
    await sleep(50);
  }
}

/**
 * Resolves once the shards hold `count` streaming sessions (those PUTs' PutBegin was handled,
 * their conditions checked). Tests using it are serial: no other test's session is counted.
 */
async function untilSessionsOpen(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const open = metricValue(await scrapeMetrics(suite.server), 'hangar_shard_open_sessions');
    if (open >= count) return;
    await sleep(20);
  }
  throw new Error(`the shards never held ${count} open PUT sessions`);
}

/**
 * A PUT whose body is held open after its first half until `release` is called. Its 384 KiB
 * are past the inline limit: the body goes to block files, which a refused commit must free.
 */
function heldPut(bucket: string, key: string, seed: number, conditions: Record<string, string>) {
  const half = randomBytesSeeded(192 * KIB, seed);
  const body = new PassThrough();
  body.write(half);
  const answer = suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: 2 * half.length,
      ...conditions,
    }),
  );
  return { answer, bytes: Buffer.concat([half, half]), release: () => body.end(half) };
}

test.serial(
  'a write committed while a conditional PUT streams makes it 409 ConditionalRequestConflict',
  async (t) => {
    const bucket = await newBucket(suite.s3, 'cw-conflict');
    for (const condition of ['IfNoneMatch', 'IfMatch'] as const) {
      const key = `k-${condition}`;
      const before = condition === 'IfMatch' ? await put(bucket, key, 'before') : '*';
      const held = heldPut(bucket, key, 1, { [condition]: before });
      const slow = s3Failure(held.answer);
      await untilSessionsOpen(1);
      // The condition held when the PUT began; this write lands while its body streams.
      await put(bucket, key, 'the other writer');
      held.release();
      const failure = await slow;
      t.is(failure.status, 409, `${condition}: ${failure.name} ${failure.message}`);
      t.is(failure.name, 'ConditionalRequestConflict');
      t.is((await objectBytes(suite.s3, bucket, key)).toString(), 'the other writer');
    }
  },
);

test.serial(
  '16 If-None-Match * PUTs that all began before any commits: one wins, 15 get 409',
  async (t) => {
    const bucket = await newBucket(suite.s3, 'cw-race-held');
    const held = Array.from({ length: 16 }, (_, i) =>
      heldPut(bucket, 'k', 300 + i, { IfNoneMatch: '*' }),
    );
    const outcomes = Promise.allSettled(held.map((put) => put.answer));
    await untilSessionsOpen(16);
    for (const put of held) put.release();
    const settled = await outcomes;
    const winners = settled.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
    t.is(winners.length, 1, 'exactly one PUT succeeds');
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') continue;
      const e = outcome.reason as { name: string; $metadata?: { httpStatusCode?: number } };
      t.is(e.$metadata?.httpStatusCode, 409, e.name);
      t.is(e.name, 'ConditionalRequestConflict');
    }
    const winner = held[winners[0] ?? -1]?.bytes ?? Buffer.alloc(0);
    t.true((await objectBytes(suite.s3, bucket, 'k')).equals(winner));
    // The 15 refused bodies' blocks are gone (serial: no other test writes meanwhile).
    const report = await fsckUntilClean();
    t.deepEqual(pick(report), CLEAN);
  },
);

test('16 racing If-None-Match * PUTs of one key: exactly one wins, and its bytes are stored', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-race');
  const bodies = Array.from({ length: 16 }, (_, i) => randomBytesSeeded(200 * KIB, 100 + i));
  const outcomes = await Promise.allSettled(
    bodies.map((body) =>
      suite.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body, IfNoneMatch: '*' }),
      ),
    ),
  );
  const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
  t.is(winners.length, 1, 'exactly one PUT succeeds');
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') continue;
    const e = outcome.reason as { name: string; $metadata?: { httpStatusCode?: number } };
    t.true(
      (e.$metadata?.httpStatusCode === 412 && e.name === 'PreconditionFailed') ||
        (e.$metadata?.httpStatusCode === 409 && e.name === 'ConditionalRequestConflict'),
      `a losing PUT answered ${e.$metadata?.httpStatusCode} ${e.name}`,
    );
  }
  const winner = bodies[winners[0] ?? -1];
  t.truthy(winner);
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(winner ?? Buffer.alloc(0)));
});

test('16 racing If-Match PUTs on one ETag: exactly one replaces it', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-race-im');
  const base = await put(bucket, 'k', 'base');
  const bodies = Array.from({ length: 16 }, (_, i) => randomBytesSeeded(8 * KIB, 200 + i));
  const outcomes = await Promise.allSettled(
    bodies.map((body) =>
      suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body, IfMatch: base })),
    ),
  );
  const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
  t.is(winners.length, 1, 'exactly one PUT succeeds');
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') continue;
    const status = (outcome.reason as { $metadata?: { httpStatusCode?: number } }).$metadata
      ?.httpStatusCode;
    t.true(status === 412 || status === 409, `a losing PUT answered ${status}`);
  }
  const winner = bodies[winners[0] ?? -1] ?? Buffer.alloc(0);
  t.true((await objectBytes(suite.s3, bucket, 'k')).equals(winner));
});

// ---------------------------------------------------------------------------------------------
// CompleteMultipartUpload

async function oneAndDoneUpload(
  bucket: string,
  key: string,
  body: string,
): Promise<{ uploadId: string; parts: Array<{ PartNumber: number; ETag: string }> }> {
  const created = await suite.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  const uploadId = created.UploadId ?? '';
  const part = await suite.s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: 1,
      Body: body,
    }),
  );
  return { uploadId, parts: [{ PartNumber: 1, ETag: part.ETag ?? '' }] };
}

function complete(
  bucket: string,
  key: string,
  upload: { uploadId: string; parts: Array<{ PartNumber: number; ETag: string }> },
  conditions: { IfMatch?: string; IfNoneMatch?: string } = {},
) {
  return suite.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: upload.uploadId,
      MultipartUpload: { Parts: upload.parts },
      ...conditions,
    }),
  );
}

test('CompleteMultipartUpload If-None-Match *: 200 on an absent key, 412 on one that predates the upload', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-mpu-inm');
  const fresh = await oneAndDoneUpload(bucket, 'fresh', 'assembled');
  const done = await complete(bucket, 'fresh', fresh, { IfNoneMatch: '*' });
  t.is(done.$metadata.httpStatusCode, 200);
  t.is((await objectBytes(suite.s3, bucket, 'fresh')).toString(), 'assembled');

  await put(bucket, 'old', 'was here first');
  await sleep(5);
  const late = await oneAndDoneUpload(bucket, 'old', 'too late');
  await expectFailure(
    t,
    complete(bucket, 'old', late, { IfNoneMatch: '*' }),
    412,
    'PreconditionFailed',
  );
  t.is((await objectBytes(suite.s3, bucket, 'old')).toString(), 'was here first');
  // A refused completion keeps the upload: completing it unconditionally still works.
  await complete(bucket, 'old', late);
  t.is((await objectBytes(suite.s3, bucket, 'old')).toString(), 'too late');
});

test('CompleteMultipartUpload: an object written during the upload makes a conditional completion 409', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-mpu-409');
  const created = await oneAndDoneUpload(bucket, 'k', 'from the upload');
  await sleep(5);
  await put(bucket, 'k', 'written meanwhile');
  await expectFailure(
    t,
    complete(bucket, 'k', created, { IfNoneMatch: '*' }),
    409,
    'ConditionalRequestConflict',
  );
  // If-Match with the ETag the key had when the upload began: it changed during the upload.
  const before = await put(bucket, 'm', 'before the upload');
  await sleep(5);
  const overwritten = await oneAndDoneUpload(bucket, 'm', 'from the upload');
  await sleep(5);
  await put(bucket, 'm', 'overwritten meanwhile');
  await expectFailure(
    t,
    complete(bucket, 'm', overwritten, { IfMatch: before }),
    409,
    'ConditionalRequestConflict',
  );
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'written meanwhile');
  t.is((await objectBytes(suite.s3, bucket, 'm')).toString(), 'overwritten meanwhile');
});

test('CompleteMultipartUpload If-Match: replaces the matching object, 412 on another, 404 on none', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-mpu-im');
  const current = await put(bucket, 'k', 'current');
  await sleep(5);
  const matching = await oneAndDoneUpload(bucket, 'k', 'replacement');
  const done = await complete(bucket, 'k', matching, { IfMatch: current });
  t.is(done.$metadata.httpStatusCode, 200);
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'replacement');

  const stale = await oneAndDoneUpload(bucket, 'k', 'stale');
  await expectFailure(
    t,
    complete(bucket, 'k', stale, { IfMatch: current }),
    412,
    'PreconditionFailed',
  );
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'replacement');

  const nowhere = await oneAndDoneUpload(bucket, 'absent', 'x');
  await expectFailure(
    t,
    complete(bucket, 'absent', nowhere, { IfMatch: current }),
    404,
    'NoSuchKey',
  );
  await assertNoObject(t, suite.s3, bucket, 'absent');
});

// ---------------------------------------------------------------------------------------------
// CopyObject (its target key's If-Match / If-None-Match)

test('CopyObject If-None-Match / If-Match guard the target key', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-copy');
  await put(bucket, 'src', 'source bytes');
  const copy = (key: string, conditions: { IfMatch?: string; IfNoneMatch?: string }) =>
    suite.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: `${bucket}/src`,
        ...conditions,
      }),
    );
  const created = await copy('dst', { IfNoneMatch: '*' });
  t.is(created.$metadata.httpStatusCode, 200);
  await expectFailure(t, copy('dst', { IfNoneMatch: '*' }), 412, 'PreconditionFailed');
  await expectFailure(t, copy('absent', { IfMatch: etagOf('x') }), 404, 'NoSuchKey');
  const other = await put(bucket, 'dst', 'changed');
  await expectFailure(
    t,
    copy('dst', { IfMatch: etagOf('source bytes') }),
    412,
    'PreconditionFailed',
  );
  t.is((await objectBytes(suite.s3, bucket, 'dst')).toString(), 'changed');
  await copy('dst', { IfMatch: other });
  t.is((await objectBytes(suite.s3, bucket, 'dst')).toString(), 'source bytes');
  await assertNoObject(t, suite.s3, bucket, 'absent');
});

// ---------------------------------------------------------------------------------------------
// DeleteObject If-Match (2025 API)

test('DeleteObject If-Match deletes only the object with that ETag', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-delete');
  const etag = await put(bucket, 'k', 'delete me');
  await expectFailure(
    t,
    suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: etagOf('other') })),
    412,
    'PreconditionFailed',
  );
  t.is((await objectBytes(suite.s3, bucket, 'k')).toString(), 'delete me');
  const deleted = await suite.s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: etag }),
  );
  t.is(deleted.$metadata.httpStatusCode, 204);
  await assertNoObject(t, suite.s3, bucket, 'k');
  await expectFailure(
    t,
    suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: etag })),
    404,
    'NoSuchKey',
  );
  // "*" matches any object; without If-Match a delete of a missing key is still 204.
  await put(bucket, 'any', 'x');
  await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'any', IfMatch: '*' }));
  await assertNoObject(t, suite.s3, bucket, 'any');
  const plain = await suite.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'any' }));
  t.is(plain.$metadata.httpStatusCode, 204);
  const head = await s3Failure(suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(head.status, 404);
});

test('DeleteObjects entries with an ETag delete only a matching object (AWS 2025)', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-delete-many');
  const kept = await put(bucket, 'kept', 'other etag named');
  const gone = await put(bucket, 'gone', 'its etag named');
  await put(bucket, 'plain', 'no etag named');
  const answer = await suite.s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: {
        Objects: [
          { Key: 'kept', ETag: etagOf('something else') },
          { Key: 'gone', ETag: gone },
          { Key: 'plain' },
          { Key: 'missing', ETag: gone },
        ],
      },
    }),
  );
  t.deepEqual((answer.Deleted ?? []).map((entry) => entry.Key).sort(), ['gone', 'plain']);
  t.deepEqual((answer.Errors ?? []).map((entry) => [entry.Key, entry.Code]).sort(), [
    ['kept', 'PreconditionFailed'],
    ['missing', 'NoSuchKey'],
  ]);
  t.is((await objectBytes(suite.s3, bucket, 'kept')).toString(), 'other etag named');
  t.not(kept, gone);
  await assertNoObject(t, suite.s3, bucket, 'gone');
  await assertNoObject(t, suite.s3, bucket, 'plain');
});

test('DeleteObject If-Match answers S3 XML with the Condition', async (t) => {
  const bucket = await newBucket(suite.s3, 'cw-delete-xml');
  await put(bucket, 'k', 'x');
  const res = await signedFetch(suite.server.endpoint, {
    method: 'DELETE',
    path: `/${bucket}/k`,
    headers: { 'if-match': etagOf('y') },
  });
  t.is(res.status, 412);
  const xml = await res.text();
  t.regex(xml, /<Code>PreconditionFailed<\/Code>/);
  t.regex(xml, /<Condition>If-Match<\/Condition>/);
});
