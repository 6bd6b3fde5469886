import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type LifecycleRule,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { onNode } from '../helpers/admin.js';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { randomBytesSeeded, s3Failure, TestServer } from '../helpers/server.js';

/** Lifecycle runs take longer than a block unlink: 20 s, polled every 100 ms. */
function eventuallyWithin(check: () => Promise<boolean>): Promise<boolean> {
  return eventually(check, 20_000, 100);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a request was sent and when its answer was in (performance.now(), ms). */
interface Interval {
  sentMs: number;
  answeredMs: number;
}

async function timed(request: () => Promise<unknown>): Promise<Interval> {
  const sentMs = performance.now();
  await request();
  return { sentMs, answeredMs: performance.now() };
}

/** One look at the lifecycle worker through the admin API. */
interface WorkerLook extends Interval {
  busy: boolean;
  /** The ISO time of its last completed run (changes only when a run ends). */
  lastCompleted: string;
}

async function lifecycleWorker(server: TestServer): Promise<WorkerLook> {
  const sentMs = performance.now();
  const { node } = await onNode(server, 'POST', 'ListWorkers', {});
  const answeredMs = performance.now();
  const worker = (node as Array<{ name: string; state: unknown; freeform: string[] }>).find(
    (w) => w.name === 'Lifecycle worker',
  );
  if (worker === undefined) throw new Error('no Lifecycle worker in ListWorkers');
  const completed = /^Last completed: (\S+)/.exec(worker.freeform[0] ?? '');
  if (completed === null) throw new Error(`no last-completed line: ${worker.freeform.join(' | ')}`);
  return { sentMs, answeredMs, busy: worker.state === 'busy', lastCompleted: completed[1] ?? '' };
}

/**
 * Looks at the lifecycle worker back to back until the run after `previousRun` has completed;
 * calls `onBusy` at each look that finds it running.
 */
async function watchLifecycleRun(
  server: TestServer,
  previousRun: string,
  onBusy: () => void,
): Promise<WorkerLook[]> {
  const looks: WorkerLook[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const look = await lifecycleWorker(server);
    looks.push(look);
    if (look.busy) onBusy();
    if (!look.busy && look.lastCompleted !== previousRun) return looks;
  }
  throw new Error('the lifecycle run did not complete in 20 s');
}

/**
 * Whether `request` lies inside one run: a look answered before it was sent and a look sent
 * after its answer both found the worker busy, with no run completed in between.
 */
function answeredWithinRun(request: Interval, looks: WorkerLook[]): boolean {
  const before = looks.filter((look) => look.busy && look.answeredMs <= request.sentMs);
  const after = looks.filter((look) => look.busy && look.sentMs >= request.answeredMs);
  return before.some((b) => after.some((a) => a.lastCompleted === b.lastCompleted));
}

/** Puts 3,000 objects under `bulk/`, so that a run takes several batches (round: a fresh set). */
async function putBulk(s3: S3Client, round: number): Promise<void> {
  const bulk: string[] = [];
  for (let i = 0; i < 3000; i++) bulk.push(`bulk/${round}-${String(i).padStart(5, '0')}`);
  for (let i = 0; i < bulk.length; i += 100) {
    await Promise.all(
      bulk
        .slice(i, i + 100)
        .map((key) => s3.send(new PutObjectCommand({ Bucket: 'exp', Key: key, Body: 'x' }))),
    );
  }
}

/**
 * Starts a lifecycle run (SIGUSR2) and sends PUTs and GETs while it goes on; returns how many
 * were answered inside the run, and the run's completion time. Keys written are pushed to
 * `foregroundKeys`.
 */
async function overlapRunWithForeground(
  t: ExecutionContext,
  server: TestServer,
  s3: S3Client,
  previousRun: string,
  foregroundKeys: string[],
): Promise<{ inside: number; lastCompleted: string }> {
  server.process.kill('SIGUSR2');
  // Foreground requests are served while the run goes on: the worker is watched while PUTs and
  // GETs go on, and some request must fall between two looks that both find this run busy.
  // The requests start once the run is seen busy, so that they do not all queue behind it.
  const foreground: Interval[] = [];
  let runSeen: () => void = () => undefined;
  const runSeenBusy = new Promise<void>((resolve) => {
    runSeen = resolve;
  });
  let runOver = false;
  const [looks] = await Promise.all([
    watchLifecycleRun(server, previousRun, runSeen).finally(() => {
      runOver = true;
      runSeen();
    }),
    (async () => {
      await runSeenBusy;
      // Four streams of PUT then GET, so that several requests wait at each batch boundary.
      // They go on until the run is seen over (at least one round each, at most 100), so a
      // short run on a quiet machine is still overlapped.
      await Promise.all(
        [0, 1, 2, 3].map(async (stream) => {
          for (let i = stream; i < 400 && (i < 4 || !runOver); i += 4) {
            // Numbered across attempts, so that every attempt writes fresh keys.
            const key = `keep/fg-${String(foregroundKeys.length).padStart(4, '0')}`;
            foregroundKeys.push(key);
            foreground.push(
              await timed(() =>
                s3.send(new PutObjectCommand({ Bucket: 'exp', Key: key, Body: 'fg' })),
              ),
            );
            let body = '';
            foreground.push(
              await timed(async () => {
                const got = await s3.send(new GetObjectCommand({ Bucket: 'exp', Key: key }));
                body = (await got.Body?.transformToString()) ?? '';
              }),
            );
            t.is(body, 'fg');
          }
        }),
      );
    })(),
  ]);
  const inside = foreground.filter((request) => answeredWithinRun(request, looks));
  t.log(`${inside.length} of ${foreground.length} foreground requests answered inside the run`);
  const last = looks[looks.length - 1];
  return { inside: inside.length, lastCompleted: last?.lastCompleted ?? previousRun };
}

/** Lists every key of a bucket. */
async function keysOf(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) keys.push(object.Key ?? '');
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

function put(rules: LifecycleRule[], bucket: string): PutBucketLifecycleConfigurationCommand {
  return new PutBucketLifecycleConfigurationCommand({
    Bucket: bucket,
    LifecycleConfiguration: { Rules: rules },
  });
}

test('lifecycle configuration: round trip, delete, and AWS errors', async (t) => {
  const server = await TestServer.start();
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'cfg' }));
    const none = await s3Failure(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'cfg' })),
    );
    t.is(none.name, 'NoSuchLifecycleConfiguration');
    t.is(none.status, 404);
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 7 } },
      {
        ID: 'tagged',
        Status: 'Disabled',
        Filter: {
          And: {
            Prefix: 'tmp/',
            Tags: [{ Key: 'temp', Value: 'yes' }],
            ObjectSizeGreaterThan: 10,
            ObjectSizeLessThan: 1000,
          },
        },
        Expiration: { Date: new Date('2030-01-01T00:00:00Z') },
      },
      {
        ID: 'uploads',
        Status: 'Enabled',
        Filter: {},
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      },
    ];
    await s3.send(put(rules, 'cfg'));
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'cfg' }));
    t.deepEqual(got.Rules?.[0], rules[0]);
    t.deepEqual(got.Rules?.[1], rules[1]);
    t.is(got.Rules?.[2]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 2);

    const errors: Array<[LifecycleRule[], string, string?]> = [
      [
        [{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }],
        'InvalidArgument',
        "'Days' for Expiration action must be a positive integer",
      ],
      [
        [
          {
            ID: 'a',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            Expiration: { Date: new Date('2030-01-01T10:00:00Z') },
          },
        ],
        'InvalidArgument',
      ],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' } }], 'InvalidRequest'],
      [
        [
          { ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } },
          { ID: 'a', Status: 'Enabled', Filter: { Prefix: 'x' }, Expiration: { Days: 1 } },
        ],
        'InvalidArgument',
      ],
      [
        [
          {
            ID: 'a',
            Status: 'Enabled',
            Filter: { Tag: { Key: 'k', Value: 'v' } },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
        'InvalidRequest',
      ],
      [
        [
          {
            ID: 'a',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            Transitions: [{ Days: 1, StorageClass: 'STANDARD_IA' }],
          },
        ],
        'InvalidArgument',
        "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'",
      ],
    ];
    for (const [bad, code, message] of errors) {
      const failure = await s3Failure(s3.send(put(bad, 'cfg')));
      t.is(failure.name, code, JSON.stringify(bad));
      if (message !== undefined) t.is(failure.message, message);
    }
    // A failed PUT keeps the previous configuration.
    const still = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'cfg' }));
    t.is(still.Rules?.length, 3);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'cfg' }));
    const gone = await s3Failure(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'cfg' })),
    );
    t.is(gone.name, 'NoSuchLifecycleConfiguration');
  } finally {
    await server.destroy();
  }
});

test('expiration deletes matching objects when the rules run, and only those', async (t) => {
  const server = await TestServer.start({
    shards: 2,
    env: { HANGAR_CLOCK_OFFSET_MS: String(3 * DAY_MS) },
  });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'exp' }));
    const objects: Array<[string, number, string?]> = [
      ['logs/old', 10],
      ['logs/big', 5000],
      ['keep/one', 10],
      ['tagged/a', 10, 'temp=yes'],
      ['tagged/b', 10, 'temp=no'],
      ['sized/small', 50],
      ['sized/large', 5000],
      ['disabled/x', 10],
      ['later/x', 10],
      ['dated/x', 10],
    ];
    for (const [key, bytes, tagging] of objects) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'exp',
          Key: key,
          Body: randomBytesSeeded(bytes),
          Tagging: tagging,
        }),
      );
    }
    await putBulk(s3, 0);
    await s3.send(
      put(
        [
          {
            ID: 'logs',
            Status: 'Enabled',
            Filter: { And: { Prefix: 'logs/', ObjectSizeLessThan: 1000 } },
            Expiration: { Days: 1 },
          },
          {
            ID: 'tagged',
            Status: 'Enabled',
            Filter: { Tag: { Key: 'temp', Value: 'yes' } },
            Expiration: { Days: 2 },
          },
          {
            ID: 'sized',
            Status: 'Enabled',
            Filter: { And: { Prefix: 'sized/', ObjectSizeGreaterThan: 100 } },
            Expiration: { Days: 1 },
          },
          {
            ID: 'disabled',
            Status: 'Disabled',
            Filter: { Prefix: 'disabled/' },
            Expiration: { Days: 1 },
          },
          { ID: 'later', Status: 'Enabled', Filter: { Prefix: 'later/' }, Expiration: { Days: 5 } },
          {
            ID: 'dated',
            Status: 'Enabled',
            Filter: { Prefix: 'dated/' },
            Expiration: { Date: new Date('2020-01-01T00:00:00Z') },
          },
          { ID: 'bulk', Status: 'Enabled', Filter: { Prefix: 'bulk/' }, Expiration: { Days: 1 } },
        ],
        'exp',
      ),
    );
    const idle = await lifecycleWorker(server);
    t.false(idle.busy, 'the start-up run is over');
    // A run on a fast machine may end before any foreground request is answered inside it;
    // each further attempt expires a fresh set of bulk objects. A run that blocked foreground
    // requests would never show one inside it, so the retries do not hide that failure.
    const foregroundKeys: string[] = [];
    let lastCompleted = idle.lastCompleted;
    let inside = 0;
    for (let attempt = 0; attempt < 3 && inside === 0; attempt++) {
      if (attempt > 0) await putBulk(s3, attempt);
      const overlap = await overlapRunWithForeground(t, server, s3, lastCompleted, foregroundKeys);
      inside = overlap.inside;
      lastCompleted = overlap.lastCompleted;
    }
    t.true(inside > 0, 'no foreground request was seen answered while the run went on');
    const expected = [
      'disabled/x',
      'keep/one',
      ...foregroundKeys,
      'later/x',
      'logs/big',
      'sized/small',
      'tagged/b',
    ].sort();
    t.true(
      await eventuallyWithin(async () => (await keysOf(s3, 'exp')).join() === expected.join()),
      (await keysOf(s3, 'exp')).slice(0, 20).join(),
    );
  } finally {
    await server.destroy();
  }
});

test('AbortIncompleteMultipartUpload aborts old uploads and frees their blocks', async (t) => {
  const server = await TestServer.start({ env: { HANGAR_CLOCK_OFFSET_MS: String(3 * DAY_MS) } });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
    const old = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'up/a' }));
    await s3.send(
      new UploadPartCommand({
        Bucket: 'mpu',
        Key: 'up/a',
        UploadId: old.UploadId,
        PartNumber: 1,
        Body: randomBytesSeeded(2 * 1024 * 1024, 7),
      }),
    );
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'x/b' }));
    await s3.send(
      put(
        [
          {
            ID: 'abort',
            Status: 'Enabled',
            Filter: { Prefix: 'up/' },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
        'mpu',
      ),
    );
    server.process.kill('SIGUSR2');
    t.true(
      await eventuallyWithin(async () => {
        const list = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
        return (list.Uploads ?? []).length === 1;
      }),
    );
    const list = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    t.is(list.Uploads?.[0]?.UploadId, other.UploadId);
    t.true(await eventuallyWithin(async () => (await fsckReport(server.dataDir)).blockFiles === 0));
    t.deepEqual((await fsckReport(server.dataDir)).unreferencedBlocks, []);
  } finally {
    await server.destroy();
  }
});

test('x-amz-expiration tells when and by which rule an object will expire', async (t) => {
  const server = await TestServer.start();
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'exp' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'exp-src' }));
    await s3.send(
      put(
        [
          {
            ID: 'keep logs 30 days',
            Status: 'Enabled',
            Filter: { Prefix: 'logs/' },
            Expiration: { Days: 30 },
          },
          {
            ID: 'logs/tmp',
            Status: 'Enabled',
            Filter: { Prefix: 'logs/tmp/' },
            Expiration: { Days: 1 },
          },
          {
            ID: 'fixed',
            Status: 'Enabled',
            Filter: { Prefix: 'dated/' },
            Expiration: { Date: new Date('2031-06-01T00:00:00Z') },
          },
          { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'off/' }, Expiration: { Days: 1 } },
        ],
        'exp',
      ),
    );
    // Due at the first midnight UTC after last-modified + N days.
    const expected = (lastModified: Date, days: number, rule: string): string => {
      const due = Math.floor((lastModified.getTime() + days * DAY_MS) / DAY_MS) * DAY_MS + DAY_MS;
      return `expiry-date="${new Date(due).toUTCString()}", rule-id="${encodeURIComponent(rule)}"`;
    };

    const logs = await s3.send(new PutObjectCommand({ Bucket: 'exp', Key: 'logs/a', Body: 'a' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'exp', Key: 'logs/a' }));
    const logsExpiry = expected(head.LastModified ?? new Date(0), 30, 'keep logs 30 days');
    t.is(logs.Expiration, logsExpiry);
    t.is(head.Expiration, logsExpiry);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'exp', Key: 'logs/a' }));
    t.is(got.Expiration, logsExpiry);
    await got.Body?.transformToString();

    // Of two matching rules, the earlier expiry wins.
    await s3.send(new PutObjectCommand({ Bucket: 'exp', Key: 'logs/tmp/b', Body: 'b' }));
    const tmp = await s3.send(new HeadObjectCommand({ Bucket: 'exp', Key: 'logs/tmp/b' }));
    t.is(tmp.Expiration, expected(tmp.LastModified ?? new Date(0), 1, 'logs/tmp'));

    const dated = await s3.send(new PutObjectCommand({ Bucket: 'exp', Key: 'dated/x', Body: 'x' }));
    t.is(dated.Expiration, 'expiry-date="Sun, 01 Jun 2031 00:00:00 GMT", rule-id="fixed"');

    // No matching enabled rule, or no lifecycle configuration: no header.
    for (const key of ['other/y', 'off/z']) {
      const plain = await s3.send(new PutObjectCommand({ Bucket: 'exp', Key: key, Body: 'y' }));
      t.is(plain.Expiration, undefined, key);
      t.is(
        (await s3.send(new HeadObjectCommand({ Bucket: 'exp', Key: key }))).Expiration,
        undefined,
      );
    }
    const noConfig = await s3.send(
      new PutObjectCommand({ Bucket: 'exp-src', Key: 'logs/c', Body: 'c' }),
    );
    t.is(noConfig.Expiration, undefined);

    // CopyObject and CompleteMultipartUpload answer it for the new object.
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: 'exp', Key: 'logs/copy', CopySource: 'exp-src/logs/c' }),
    );
    const copyHead = await s3.send(new HeadObjectCommand({ Bucket: 'exp', Key: 'logs/copy' }));
    t.is(
      copied.Expiration,
      expected(copyHead.LastModified ?? new Date(0), 30, 'keep logs 30 days'),
    );
    const upload = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'exp', Key: 'logs/mp' }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: 'exp',
        Key: 'logs/mp',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'part',
      }),
    );
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'exp',
        Key: 'logs/mp',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const mpHead = await s3.send(new HeadObjectCommand({ Bucket: 'exp', Key: 'logs/mp' }));
    t.is(
      completed.Expiration,
      expected(mpHead.LastModified ?? new Date(0), 30, 'keep logs 30 days'),
    );

    // Removing the configuration removes the header.
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'exp' }));
    t.is(
      (await s3.send(new HeadObjectCommand({ Bucket: 'exp', Key: 'logs/a' }))).Expiration,
      undefined,
    );
  } finally {
    await server.destroy();
  }
});

/** Every version and delete marker of a bucket as `key id latest marker` lines, in order. */
async function versionLines(s3: S3Client, bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const lines = [
    ...(out.Versions ?? []).map((v) => ({
      key: v.Key,
      id: v.VersionId,
      latest: v.IsLatest,
      m: 'v',
    })),
    ...(out.DeleteMarkers ?? []).map((v) => ({
      key: v.Key,
      id: v.VersionId,
      latest: v.IsLatest,
      m: 'marker',
    })),
  ];
  return lines.map((l) => `${l.key} ${l.id} ${l.latest ? 'latest' : 'old'} ${l.m}`).sort();
}

test('versioned bucket: NoncurrentVersionExpiration, Expiration markers, ExpiredObjectDeleteMarker', async (t) => {
  const server = await TestServer.start({
    shards: 2,
    env: { HANGAR_CLOCK_OFFSET_MS: String(3 * DAY_MS) },
  });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'vlc' }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: 'vlc',
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const ids: Record<string, string[]> = {};
    const write = async (key: string, body: Buffer | string): Promise<void> => {
      const out = await s3.send(new PutObjectCommand({ Bucket: 'vlc', Key: key, Body: body }));
      ids[key] = [...(ids[key] ?? []), out.VersionId ?? ''];
    };
    for (let i = 0; i < 4; i++) await write('nc/a', randomBytesSeeded(100_000, i)); // in blocks
    await write('cur/b', 'current');
    await write('dm/c', 'soon deleted');
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'vlc', Key: 'dm/c' }));
    await write('keep/d', 'one');
    await write('keep/d', 'two');
    await s3.send(
      put(
        [
          {
            ID: 'nc',
            Status: 'Enabled',
            Filter: { Prefix: 'nc/' },
            NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
          },
          { ID: 'cur', Status: 'Enabled', Filter: { Prefix: 'cur/' }, Expiration: { Days: 1 } },
          {
            ID: 'dm',
            Status: 'Enabled',
            Filter: { Prefix: 'dm/' },
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          },
          {
            ID: 'dm-marker',
            Status: 'Enabled',
            Filter: { Prefix: 'dm/' },
            Expiration: { ExpiredObjectDeleteMarker: true },
          },
        ],
        'vlc',
      ),
    );
    const rules = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'vlc' }));
    t.deepEqual(rules.Rules?.find((rule) => rule.ID === 'nc')?.NoncurrentVersionExpiration, {
      NoncurrentDays: 1,
      NewerNoncurrentVersions: 1,
    });
    server.process.kill('SIGUSR2');
    const [a1, a2, a3, a4] = ids['nc/a'] ?? [];
    const [b1] = ids['cur/b'] ?? [];
    const [d1, d2] = ids['keep/d'] ?? [];
    const expected = [
      `nc/a ${a4} latest v`,
      `nc/a ${a3} old v`,
      `keep/d ${d2} latest v`,
      `keep/d ${d1} old v`,
      `cur/b ${b1} old v`,
    ];
    t.true(
      await eventuallyWithin(async () => {
        const lines = await versionLines(s3, 'vlc');
        return lines.length === 6 && expected.every((line) => lines.includes(line));
      }),
      (await versionLines(s3, 'vlc')).join('\n'),
    );
    const lines = await versionLines(s3, 'vlc');
    t.true(
      lines.some((line) => /^cur\/b \S+ latest marker$/.test(line)),
      'Expiration left a marker',
    );
    t.false(lines.some((line) => line.includes(a1 ?? '-') || line.includes(a2 ?? '-')));
    t.false(
      lines.some((line) => line.startsWith('dm/') || line.includes(marker.VersionId ?? '-')),
      'the noncurrent version expired, then the lone marker',
    );
    t.true(
      await eventuallyWithin(
        async () => (await fsckReport(server.dataDir)).unreferencedBlocks.length === 0,
      ),
    );
    const report = await fsckReport(server.dataDir);
    t.deepEqual(report.refcountMismatches, []);
    t.deepEqual(report.counterMismatches, []);
    t.deepEqual(report.missingBlocks, []);
  } finally {
    await server.destroy();
  }
});
