import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall, onNode } from '../helpers/admin.js';
import {
  addRemote,
  eventually,
  headOrNone,
  keysNotArrived,
  putMultipart,
  putNumbered,
  repairAndWait,
  replicateTo,
  ruleTo,
  setVersioning,
  statusBecomes,
} from '../helpers/replication.js';
import {
  newBucket,
  objectBytes,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  randomBytesSeeded,
  TestServer,
} from '../helpers/server.js';

// hangar → a second hangar process: statuses, bytes, metadata, tags, delete markers, a
// destination down for a while, a kill -9 of the source mid-queue, and the repair pass.

const ROOT = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY };
/**
 * Quick retries, so a down destination is retried often and a dead one FAILS in about 15 s: the
 * longest outage a change survives without FAILED (a restart of a loaded machine takes seconds).
 */
const SOURCE_ENV = {
  HANGAR_REPLICATION_BACKOFF_BASE_MS: '50',
  HANGAR_REPLICATION_BACKOFF_MAX_MS: '250',
  HANGAR_REPLICATION_ATTEMPTS_MAX: '60',
  HANGAR_REPLICATION_POLL_MS: '50',
};
const EXPECTED = [/replication attempt failed/];

let source: TestServer;
let destination: TestServer;
let src: S3Client;
let dst: S3Client;

test.before(async () => {
  destination = await TestServer.start({ shards: 2 });
  source = await TestServer.start({ shards: 2, env: SOURCE_ENV, expectedLogErrors: EXPECTED });
  src = source.client();
  dst = destination.client();
});

test.after.always(async () => {
  await source?.destroy();
  await destination?.destroy();
});

/** A versioned source bucket replicating everything to a fresh destination bucket. */
async function replicatedPair(prefix: string): Promise<{ from: string; to: string }> {
  const from = await newBucket(src, `${prefix}-src`);
  const to = await newBucket(dst, `${prefix}-dst`);
  await setVersioning(src, from);
  await setVersioning(dst, to);
  await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
  await replicateTo(src, from, [ruleTo(to)]);
  return { from, to };
}

/** kill -9 of the source, then a new process on its data directory. */
async function killAndRestartSource(): Promise<void> {
  await source.kill();
  source = await TestServer.start({
    shards: 2,
    dataDir: source.dataDir,
    env: SOURCE_ENV,
    expectedLogErrors: EXPECTED,
  });
  src = source.client();
}

async function restartDestination(): Promise<void> {
  destination = await TestServer.start({
    shards: 2,
    dataDir: destination.dataDir,
    port: destination.port,
  });
  dst = destination.client();
}

test.serial(
  'objects arrive byte-identical with metadata and tags; statuses COMPLETED and REPLICA',
  async (t) => {
    const { from, to } = await replicatedPair('basic');
    const small = randomBytesSeeded(70_000, 7);
    const put = await src.send(
      new PutObjectCommand({
        Bucket: from,
        Key: 'docs/small.bin',
        Body: small,
        ContentType: 'application/x-test',
        ContentDisposition: 'attachment; filename="small.bin"',
        CacheControl: 'max-age=60',
        Metadata: { colour: 'blue', 'two-words': 'a b' },
        Tagging: 'team=storage&tier=gold',
      }),
    );
    const part = randomBytesSeeded(5 * 1024 * 1024, 8);
    const last = randomBytesSeeded(1_234_567, 9);
    await putMultipart(src, from, 'big/multi.bin', [part, last]);

    const done = await statusBecomes(src, from, 'docs/small.bin', 'COMPLETED');
    t.is(done.VersionId, put.VersionId);
    await statusBecomes(src, from, 'big/multi.bin', 'COMPLETED');

    const replica = await headOrNone(dst, to, 'docs/small.bin');
    t.is(replica?.ReplicationStatus, 'REPLICA');
    t.is(replica?.ContentType, 'application/x-test');
    t.is(replica?.ContentDisposition, 'attachment; filename="small.bin"');
    t.is(replica?.CacheControl, 'max-age=60');
    t.deepEqual(replica?.Metadata, { colour: 'blue', 'two-words': 'a b' });
    t.true(Buffer.from(await objectBytes(dst, to, 'docs/small.bin')).equals(small));
    const tags = await dst.send(new GetObjectTaggingCommand({ Bucket: to, Key: 'docs/small.bin' }));
    t.deepEqual(tags.TagSet?.map((tag) => `${tag.Key}=${tag.Value}`).sort(), [
      'team=storage',
      'tier=gold',
    ]);
    const big = await objectBytes(dst, to, 'big/multi.bin');
    t.true(Buffer.from(big).equals(Buffer.concat([part, last])));
    t.is((await headOrNone(dst, to, 'big/multi.bin'))?.ReplicationStatus, 'REPLICA');
  },
);

test.serial(
  'a multipart object keeps its part layout and ETag; one PUT stays one PUT',
  async (t) => {
    const { from, to } = await replicatedPair('layout');
    const parts = [
      randomBytesSeeded(5 * 1024 * 1024 + 3, 11),
      randomBytesSeeded(6 * 1024 * 1024, 12),
      randomBytesSeeded(1_000_001, 13),
    ];
    await putMultipart(src, from, 'multi.bin', parts, {
      ContentType: 'application/x-large',
      Metadata: { kind: 'large' },
      Tagging: 'size=large',
    });
    const single = randomBytesSeeded(12 * 1024 * 1024 + 7, 14);
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'single.bin', Body: single }));
    const multi = await statusBecomes(src, from, 'multi.bin', 'COMPLETED');
    const one = await statusBecomes(src, from, 'single.bin', 'COMPLETED');

    const replica = await headOrNone(dst, to, 'multi.bin');
    t.regex(multi.ETag ?? '', /^"[0-9a-f]{32}-3"$/);
    t.is(replica?.ETag, multi.ETag, "the source's multipart ETag");
    for (const [index, part] of parts.entries()) {
      const answer = await dst.send(
        new HeadObjectCommand({ Bucket: to, Key: 'multi.bin', PartNumber: index + 1 }),
      );
      t.is(answer.ContentLength, part.length, `part ${index + 1} has the source's size`);
      t.is(answer.PartsCount, 3);
    }
    t.is(replica?.ReplicationStatus, 'REPLICA');
    t.is(replica?.ContentType, 'application/x-large');
    t.deepEqual(replica?.Metadata, { kind: 'large' });
    t.true(Buffer.from(await objectBytes(dst, to, 'multi.bin')).equals(Buffer.concat(parts)));
    const tags = await dst.send(new GetObjectTaggingCommand({ Bucket: to, Key: 'multi.bin' }));
    t.deepEqual(tags.TagSet, [{ Key: 'size', Value: 'large' }]);

    const copy = await headOrNone(dst, to, 'single.bin');
    t.regex(one.ETag ?? '', /^"[0-9a-f]{32}"$/);
    t.is(copy?.ETag, one.ETag, 'one PutObject: the MD5 ETag');
    t.true(Buffer.from(await objectBytes(dst, to, 'single.bin')).equals(single));
    const uploads = await dst.send(new ListMultipartUploadsCommand({ Bucket: to }));
    t.is(uploads.Uploads?.length ?? 0, 0, 'no upload left behind at the destination');
  },
);

/** The source's count of failed replication attempts, from /metrics. */
async function failedAttempts(): Promise<number> {
  const { text } = await adminCall(source, 'GET', '/metrics');
  const counts = [...text.matchAll(/^hangar_replication_attempt_failures_total\{[^}]*\} (\d+)$/gm)];
  return counts.reduce((sum, match) => sum + Number(match[1]), 0);
}

async function setQuota(bucket: string, maxSize: number | null): Promise<void> {
  const info = await adminCall(destination, 'GET', `/v2/GetBucketInfo?globalAlias=${bucket}`);
  const id = info.json.id as string;
  const quotas = { maxSize, maxObjects: null };
  const updated = await adminCall(destination, 'POST', `/v2/UpdateBucket?id=${id}`, { quotas });
  if (updated.status !== 200) throw new Error(`UpdateBucket: ${JSON.stringify(updated.json)}`);
}

/** The destination's multipart uploads of `bucket`: their ids. */
async function uploadsAt(bucket: string): Promise<string[]> {
  const uploads = await dst.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (uploads.Uploads ?? []).map((upload) => upload.UploadId ?? '');
}

/** The parts of a destination upload: number, ETag and when each arrived. */
async function partsAt(bucket: string, key: string, uploadId: string): Promise<string[]> {
  const listed = await dst.send(
    new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
  );
  return (listed.Parts ?? []).map(
    (part) => `${part.PartNumber} ${part.ETag} ${part.LastModified?.toISOString()}`,
  );
}

const SIX_MIB = 6 * 1024 * 1024;

test.serial(
  'kill -9 of the source mid-multipart: the restarted source resumes the same upload',
  async (t) => {
    const { from, to } = await replicatedPair('resume');
    // Under the destination's quota every part arrives but the completion is refused.
    await setQuota(to, SIX_MIB);
    const parts = [randomBytesSeeded(SIX_MIB, 21), randomBytesSeeded(SIX_MIB, 22)];
    parts.push(randomBytesSeeded(777_777, 23));
    await putMultipart(src, from, 'resumed.bin', parts);
    const before = await failedAttempts();
    await eventually('a refused completion', async () =>
      (await failedAttempts()) > before ? true : undefined,
    );
    const [held, ...others] = await uploadsAt(to);
    t.truthy(held);
    t.deepEqual(others, [], 'one upload at the destination');
    const sent = await partsAt(to, 'resumed.bin', held ?? '');
    t.is(sent.length, 3);

    await killAndRestartSource();
    await eventually('a refused completion after the restart', async () =>
      (await failedAttempts()) > 0 ? true : undefined,
    );
    t.deepEqual(await uploadsAt(to), [held], 'the restarted source resumed that upload');
    t.deepEqual(await partsAt(to, 'resumed.bin', held ?? ''), sent, 'no part sent again');

    await setQuota(to, null);
    const done = await statusBecomes(src, from, 'resumed.bin', 'COMPLETED');
    t.is((await headOrNone(dst, to, 'resumed.bin'))?.ETag, done.ETag);
    t.true(Buffer.from(await objectBytes(dst, to, 'resumed.bin')).equals(Buffer.concat(parts)));
    t.deepEqual(await uploadsAt(to), [], 'no upload left behind');
  },
);

test.serial('a multipart replication that ends FAILED aborts its upload', async (t) => {
  const to = await newBucket(dst, 'abort-dst');
  await setVersioning(dst, to);
  await setQuota(to, SIX_MIB);
  // Two attempts at most: the first leaves its upload, the second (FAILED) aborts it.
  const quick = await TestServer.start({
    shards: 1,
    env: { ...SOURCE_ENV, HANGAR_REPLICATION_ATTEMPTS_MAX: '2' },
    expectedLogErrors: EXPECTED,
  });
  try {
    const s3 = quick.client();
    const bucket = await newBucket(s3, 'abort-src');
    await setVersioning(s3, bucket);
    await addRemote(quick, `remote-${to}`, destination.endpoint, [to], ROOT);
    await replicateTo(s3, bucket, [ruleTo(to)]);
    await putMultipart(s3, bucket, 'doomed.bin', [
      randomBytesSeeded(SIX_MIB, 24),
      Buffer.from('x'),
    ]);
    await statusBecomes(s3, bucket, 'doomed.bin', 'FAILED');
    t.deepEqual(await uploadsAt(to), [], 'the FAILED row aborted its upload');
  } finally {
    await quick.destroy();
    await setQuota(to, null);
  }
});

test.serial('a delete marker is replicated; a tag change reaches the replica', async (t) => {
  const { from, to } = await replicatedPair('marker');
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'gone.txt', Body: 'bye' }));
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'tagged.txt', Body: 'tags' }));
  await statusBecomes(src, from, 'gone.txt', 'COMPLETED');
  await statusBecomes(src, from, 'tagged.txt', 'COMPLETED');
  await src.send(new DeleteObjectCommand({ Bucket: from, Key: 'gone.txt' }));
  await eventually('the delete marker at the destination', async () =>
    (await headOrNone(dst, to, 'gone.txt')) === undefined ? true : undefined,
  );
  const versions = await dst.send(
    new ListObjectVersionsCommand({ Bucket: to, Prefix: 'gone.txt' }),
  );
  t.is(versions.DeleteMarkers?.length, 1);
  t.is(versions.Versions?.length, 1, 'the replica itself stays, under the marker');

  await src.send(
    new PutObjectTaggingCommand({
      Bucket: from,
      Key: 'tagged.txt',
      Tagging: { TagSet: [{ Key: 'state', Value: 'reviewed' }] },
    }),
  );
  await eventually('the new tags at the destination', async () => {
    const tags = await dst.send(new GetObjectTaggingCommand({ Bucket: to, Key: 'tagged.txt' }));
    return tags.TagSet?.[0]?.Value === 'reviewed' ? true : undefined;
  });
  await statusBecomes(src, from, 'tagged.txt', 'COMPLETED');
  t.pass();
});

test.serial('only matching keys replicate; the others carry no replication status', async (t) => {
  const from = await newBucket(src, 'filter-src');
  const to = await newBucket(dst, 'filter-dst');
  await setVersioning(src, from);
  await setVersioning(dst, to);
  await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
  await replicateTo(src, from, [ruleTo(to, 'logs/')]);
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'other/x', Body: 'x' }));
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'logs/y', Body: 'y' }));
  await statusBecomes(src, from, 'logs/y', 'COMPLETED');
  t.is((await headOrNone(src, from, 'other/x'))?.ReplicationStatus, undefined);
  t.is(await headOrNone(dst, to, 'other/x'), undefined);
});

test.serial('two buckets replicating to each other: a replica is not sent back', async (t) => {
  const { from, to } = await replicatedPair('mutual');
  await addRemote(destination, `back-${from}`, source.endpoint, [from], ROOT);
  await replicateTo(dst, to, [ruleTo(from)]);
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'ping', Body: 'once' }));
  await statusBecomes(src, from, 'ping', 'COMPLETED');
  t.is((await headOrNone(dst, to, 'ping'))?.ReplicationStatus, 'REPLICA');
  await dst.send(new PutObjectCommand({ Bucket: to, Key: 'pong', Body: 'back' }));
  await statusBecomes(dst, to, 'pong', 'COMPLETED');
  t.is((await headOrNone(src, from, 'pong'))?.ReplicationStatus, 'REPLICA');
  await src.send(new DeleteObjectCommand({ Bucket: from, Key: 'ping' }));
  await eventually('the marker at the destination', async () =>
    (await headOrNone(dst, to, 'ping')) === undefined ? true : undefined,
  );
  // Give a loop the time to show itself: each side keeps one version of each key, one marker.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const [s3, bucket] of [
    [src, from],
    [dst, to],
  ] as const) {
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    t.deepEqual(versions.Versions?.map((v) => v.Key).sort(), ['ping', 'pong'], bucket);
    t.deepEqual(
      versions.DeleteMarkers?.map((v) => v.Key),
      ['ping'],
      bucket,
    );
  }
});

test.serial(
  'a destination down for a while: PENDING meanwhile, then everything arrives',
  async (t) => {
    const { from, to } = await replicatedPair('down');
    await destination.stop();
    const bodies = await putNumbered(src, from, 'k', 12, 100);
    t.is((await headOrNone(src, from, 'k0'))?.ReplicationStatus, 'PENDING');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    t.is((await headOrNone(src, from, 'k11'))?.ReplicationStatus, 'PENDING');
    await restartDestination();
    t.deepEqual(
      await keysNotArrived({ s3: src, bucket: from }, { s3: dst, bucket: to }, bodies),
      [],
    );
  },
);

test.serial('kill -9 of the source mid-queue: after a restart every object arrives', async (t) => {
  const { from, to } = await replicatedPair('crash');
  await destination.stop();
  const bodies = await putNumbered(src, from, 'c', 10, 200);
  await killAndRestartSource();
  t.is((await headOrNone(src, from, 'c9'))?.ReplicationStatus, 'PENDING');
  await restartDestination();
  t.deepEqual(await keysNotArrived({ s3: src, bucket: from }, { s3: dst, bucket: to }, bodies), []);
});

test.serial(
  'FAILED after the attempts; the repair pass queues FAILED and missing objects again',
  async (t) => {
    const from = await newBucket(src, 'repair-src');
    const to = `repair-dst-${process.pid}`;
    await setVersioning(src, from);
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'before-config', Body: 'early' }));
    await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
    await replicateTo(src, from, [ruleTo(to)]);
    // The destination bucket does not exist yet: every attempt fails, until the bound.
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'doomed', Body: 'retry me' }));
    await statusBecomes(src, from, 'doomed', 'FAILED', 60_000);
    t.is((await headOrNone(src, from, 'before-config'))?.ReplicationStatus, undefined);

    await dst.send(new CreateBucketCommand({ Bucket: to }));
    await setVersioning(dst, to);
    const repair = await onNode(source, 'POST', 'LaunchRepairOperation', {
      repairType: 'replication',
    });
    t.is(repair.status, 200);
    await statusBecomes(src, from, 'doomed', 'COMPLETED');
    await statusBecomes(src, from, 'before-config', 'COMPLETED');
    t.is(Buffer.from(await objectBytes(dst, to, 'before-config')).toString(), 'early');

    // Lost at the destination (its version removed there for good, under the source's id):
    // the next repair sends it again.
    const doomed = (await headOrNone(src, from, 'doomed'))?.VersionId;
    t.is((await headOrNone(dst, to, 'doomed'))?.VersionId, doomed, "the source's version id");
    await dst.send(new DeleteObjectCommand({ Bucket: to, Key: 'doomed', VersionId: doomed }));
    t.is(await headOrNone(dst, to, 'doomed'), undefined);
    await onNode(source, 'POST', 'LaunchRepairOperation', { repairType: 'replication' });
    await eventually('doomed back at the destination', async () =>
      (await headOrNone(dst, to, 'doomed')) !== undefined ? true : undefined,
    );
    t.is(Buffer.from(await objectBytes(dst, to, 'doomed')).toString(), 'retry me');
  },
);

test.serial(
  'the repair pass compares versions by id: a lost one returns, with its ETag',
  async (t) => {
    const { from, to } = await replicatedPair('differ');
    for (const key of ['hidden', 'same']) {
      await src.send(new PutObjectCommand({ Bucket: from, Key: key, Body: 'the source bytes' }));
      await statusBecomes(src, from, key, 'COMPLETED');
    }
    const parts = [randomBytesSeeded(5 * 1024 * 1024, 31), randomBytesSeeded(1000, 32)];
    await putMultipart(src, from, 'multi', parts);
    const multi = await statusBecomes(src, from, 'multi', 'COMPLETED');
    // Hidden at the destination by a version written there: the source's version is still
    // there under its id, and is not sent again (AWS leaves a destination's own writes alone).
    await dst.send(new PutObjectCommand({ Bucket: to, Key: 'hidden', Body: 'THE SOURCE BYTES' }));
    // The multipart version removed at the destination for good.
    await dst.send(
      new DeleteObjectCommand({ Bucket: to, Key: 'multi', VersionId: multi.VersionId }),
    );

    await repairAndWait(source);
    await eventually('the multipart version back', async () =>
      (await headOrNone(dst, to, 'multi')) !== undefined ? true : undefined,
    );
    await statusBecomes(src, from, 'multi', 'COMPLETED');
    const back = await headOrNone(dst, to, 'multi');
    t.is(back?.VersionId, multi.VersionId);
    t.is(back?.ETag, multi.ETag);
    t.true(Buffer.from(await objectBytes(dst, to, 'multi')).equals(Buffer.concat(parts)));
    for (const key of ['hidden', 'same']) {
      const versions = await dst.send(new ListObjectVersionsCommand({ Bucket: to, Prefix: key }));
      const count = key === 'hidden' ? 2 : 1;
      t.is(versions.Versions?.length, count, `${key}: not sent again`);
    }
  },
);

test.serial('ListWorkers and /metrics show the replication worker', async (t) => {
  const workers = await onNode(source, 'POST', 'ListWorkers', {});
  t.is(workers.status, 200);
  const worker = (
    workers.node as Array<{ name: string; freeform: string[]; queueLength: number }>
  ).find((w) => w.name === 'Bucket replication');
  t.truthy(worker);
  t.true(worker?.freeform.some((line) => line.startsWith('Remotes: remote-')));
  t.regex(worker?.freeform.join('\n') ?? '', /Repair .*queued again/);
  const metrics = await adminCall(source, 'GET', '/metrics');
  t.regex(
    metrics.text,
    /hangar_replication_objects_replicated_total\{remote="remote-[^"]+"\} [1-9]/,
  );
  t.regex(metrics.text, /hangar_replication_pending 0/);
  t.regex(metrics.text, /hangar_replication_objects_failed_total [1-9]/);
});
