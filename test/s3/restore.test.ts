import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
  type StorageClass,
  type Tier,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { createKey, grant } from '../helpers/keys.js';
import {
  type EventRecord,
  queueArn,
  Receiver,
  sleep,
  targetsEnv,
} from '../helpers/notify-receiver.js';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  TestServer,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Every tier's delay on the shared server (HANGAR_RESTORE_DELAY_MS). */
const DELAY_MS = 2_000;

let receiver: Receiver;
let server: TestServer;
let s3: S3Client;

test.before(async () => {
  receiver = await Receiver.start();
  server = await TestServer.start({
    env: { ...targetsEnv(receiver), HANGAR_RESTORE_DELAY_MS: String(DELAY_MS) },
  });
  s3 = server.client();
});

test.after.always(async () => {
  await server?.destroy();
  await receiver?.close();
});

async function putArchived(
  bucket: string,
  key: string,
  body: string | Buffer = 'archived body',
  storageClass = 'GLACIER',
  client = s3,
) {
  return client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      StorageClass: storageClass as StorageClass,
    }),
  );
}

async function restore(
  bucket: string,
  key: string,
  days = 1,
  options: { versionId?: string; tier?: Tier; client?: S3Client } = {},
) {
  return (options.client ?? s3).send(
    new RestoreObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(options.versionId !== undefined ? { VersionId: options.versionId } : {}),
      RestoreRequest: { Days: days, GlacierJobParameters: { Tier: options.tier ?? 'Standard' } },
    }),
  );
}

async function restoreHeader(bucket: string, key: string, versionId?: string, client = s3) {
  const head = await client.send(
    new HeadObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(versionId ? { VersionId: versionId } : {}),
    }),
  );
  return head.Restore;
}

/** Polls HEAD until the restore is done (x-amz-restore ongoing-request="false"). */
async function restored(bucket: string, key: string, versionId?: string, client = s3, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const header = await restoreHeader(bucket, key, versionId, client);
    if (header?.startsWith('ongoing-request="false"')) return header;
    if (Date.now() > until) throw new Error(`${key}: still ${header}`);
    await sleep(50);
  }
}

/** AWS's expiry: completion + days, rounded up to the next midnight UTC. */
function expiryOf(completedMs: number, days: number): string {
  return new Date(
    Math.floor((completedMs + days * DAY_MS) / DAY_MS) * DAY_MS + DAY_MS,
  ).toUTCString();
}

function expiryDateOf(header: string): string | undefined {
  return /expiry-date="([^"]+)"/.exec(header)?.[1];
}

test('RestoreObject: 202, ongoing, 409 while in progress, then readable until its expiry-date', async (t) => {
  const bucket = await newBucket(s3, 'restore-flow');
  await putArchived(bucket, 'small');
  const before = Date.now();
  const started = await restore(bucket, 'small', 2);
  t.is(started.$metadata.httpStatusCode, 202);
  t.is(await restoreHeader(bucket, 'small'), 'ongoing-request="true"');
  const reading = await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small' })));
  t.is(reading.name, 'InvalidObjectState', 'not readable while the restore runs');
  const again = await s3Failure(restore(bucket, 'small', 2));
  t.is(again.status, 409);
  t.is(again.name, 'RestoreAlreadyInProgress');
  const header = await restored(bucket, 'small');
  const after = Date.now();
  t.true(after - before >= DELAY_MS, 'the restore took its delay');
  t.true(
    [expiryOf(before + DELAY_MS, 2), expiryOf(after, 2)].includes(expiryDateOf(header) ?? ''),
    header,
  );
  t.regex(
    header,
    /^ongoing-request="false", expiry-date="[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} 00:00:00 GMT"$/,
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small' }));
  t.is(got.StorageClass, 'GLACIER', 'a restored object keeps its class');
  t.is(got.Restore, header);
  t.is(await got.Body?.transformToString(), 'archived body');
  // Restoring a restored object again moves its expiry (200 OK).
  const extended = await restore(bucket, 'small', 30);
  t.is(extended.$metadata.httpStatusCode, 200);
  const later = await restoreHeader(bucket, 'small');
  t.true(
    [expiryOf(after, 30), expiryOf(Date.now(), 30)].includes(expiryDateOf(later ?? '') ?? ''),
    later,
  );
});

test('a restored object in blocks streams from its archive blocks; copies and class changes work', async (t) => {
  const bucket = await newBucket(s3, 'restore-blocks');
  const body = randomBytesSeeded(3 * 1024 * 1024, 7);
  await putArchived(bucket, 'large', body, 'DEEP_ARCHIVE');
  await restore(bucket, 'large', 1, { tier: 'Bulk' });
  await restored(bucket, 'large');
  t.true((await objectBytes(s3, bucket, 'large')).equals(body));
  const ranged = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'large', Range: 'bytes=100-199' }),
  );
  t.true(
    Buffer.from((await ranged.Body?.transformToByteArray()) ?? []).equals(body.subarray(100, 200)),
  );
  await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/large` }),
  );
  t.true((await objectBytes(s3, bucket, 'copy')).equals(body));
  // AWS's way to keep a restored object: copy it onto itself in another class.
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'large',
      CopySource: `${bucket}/large`,
      StorageClass: 'STANDARD',
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large' }));
  t.is(head.StorageClass, undefined);
  t.is(head.Restore, undefined, 'the new STANDARD version has no restore');
  t.true((await objectBytes(s3, bucket, 'large')).equals(body));
});

test('RestoreObject errors: not archived, no such key or version, malformed bodies, SELECT', async (t) => {
  const bucket = await newBucket(s3, 'restore-errors');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'standard', Body: 'x' }));
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'ir', Body: 'x', StorageClass: 'GLACIER_IR' }),
  );
  await putArchived(bucket, 'cold');
  for (const key of ['standard', 'ir']) {
    const failure = await s3Failure(restore(bucket, key));
    t.is(failure.status, 403, key);
    t.is(failure.name, 'InvalidObjectState');
  }
  const missing = await s3Failure(restore(bucket, 'missing'));
  t.is(missing.status, 404);
  t.is(missing.name, 'NoSuchKey');
  const noVersion = await s3Failure(
    restore(bucket, 'cold', 1, { versionId: '0123456789abcdef0123456789abcdef' }),
  );
  t.is(noVersion.status, 404);
  const post = (body: string) =>
    signedFetch(server.endpoint, {
      method: 'POST',
      path: `/${bucket}/cold?restore`,
      body: Buffer.from(body),
    });
  for (const body of [
    '',
    'not xml',
    '<RestoreRequest></RestoreRequest>',
    '<RestoreRequest><Days>0</Days></RestoreRequest>',
    '<RestoreRequest><Days>-1</Days></RestoreRequest>',
    '<RestoreRequest><Days>1.5</Days></RestoreRequest>',
    '<RestoreRequest><Days>1</Days><Days>2</Days></RestoreRequest>',
    '<RestoreRequest><Days>1</Days><GlacierJobParameters><Tier>Fast</Tier></GlacierJobParameters></RestoreRequest>',
    '<RestoreRequest><Days>1</Days><GlacierJobParameters></GlacierJobParameters></RestoreRequest>',
    '<RestoreRequest><Days>1</Days><Colour>red</Colour></RestoreRequest>',
    '<Other><Days>1</Days></Other>',
  ]) {
    const response = await post(body);
    t.is(response.status, 400, body);
    t.regex(await response.text(), /<Code>MalformedXML<\/Code>/, body);
  }
  const select = await post(
    '<RestoreRequest><Type>SELECT</Type><Tier>Standard</Tier><SelectParameters><Expression>SELECT * FROM S3Object</Expression></SelectParameters></RestoreRequest>',
  );
  t.is(select.status, 501);
  t.regex(await select.text(), /<Code>NotImplemented<\/Code>/);
  t.is(await restoreHeader(bucket, 'cold'), undefined, 'no failed request started a restore');
  // Tier defaults to Standard; a top-level Tier is accepted.
  const plain = await post('<RestoreRequest><Days>1</Days></RestoreRequest>');
  t.is(plain.status, 202, await plain.text());
});

test('a versioned bucket: restore one version by its id', async (t) => {
  const bucket = await newBucket(s3, 'restore-versions');
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const older = await putArchived(bucket, 'k', 'older');
  const newer = await putArchived(bucket, 'k', 'newer');
  const olderId = older.VersionId ?? '';
  await restore(bucket, 'k', 1, { versionId: olderId, tier: 'Expedited' });
  await restored(bucket, 'k', olderId);
  t.is(await restoreHeader(bucket, 'k', newer.VersionId), undefined);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: olderId }));
  t.is(await got.Body?.transformToString(), 'older');
  t.is(got.VersionId, olderId);
  const current = await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
  t.is(current.name, 'InvalidObjectState');
  // The current version is restored on its own.
  t.is((await restore(bucket, 'k')).$metadata.httpStatusCode, 202);
  await restored(bucket, 'k');
  t.is(
    await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))
    ).Body?.transformToString(),
    'newer',
  );
});

/** A new bucket whose s3:ObjectRestore:* events go to the receiver's plain webhook. */
async function restoreNotifiedBucket(client: S3Client, prefix: string): Promise<string> {
  const bucket = await newBucket(client, prefix);
  await client.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: queueArn('plain'), Events: ['s3:ObjectRestore:*'] }],
      },
    }),
  );
  return bucket;
}

function restoreEvents(events: EventRecord[]): string[] {
  return events.map((event) => event.eventName).filter((name) => name.startsWith('ObjectRestore'));
}

test('ObjectRestore:Post and :Completed reach a webhook; Completed carries the expiry', async (t) => {
  const bucket = await restoreNotifiedBucket(s3, 'restore-events');
  await putArchived(bucket, 'k');
  await restore(bucket, 'k', 3);
  const header = await restored(bucket, 'k');
  const events = await receiver.waitFor(bucket, 2);
  t.deepEqual(restoreEvents(events), ['ObjectRestore:Post', 'ObjectRestore:Completed']);
  const completed = events[1] as EventRecord & {
    glacierEventData?: { restoreEventData: Record<string, string> };
  };
  t.is(completed.s3.object.key, 'k');
  t.deepEqual(completed.glacierEventData?.restoreEventData, {
    lifecycleRestorationExpiryTime: new Date(expiryDateOf(header) ?? '').toISOString(),
    lifecycleRestoreStorageClass: 'GLACIER',
  });
});

test('per-tier delays, then expiry days later: archived again, ObjectRestore:Delete', async (t) => {
  t.timeout(90_000);
  // A second server on its own data dir with the default delays (Expedited 1 s, Bulk 10 s).
  const first = await TestServer.start({ env: targetsEnv(receiver) });
  try {
    const client = first.client();
    const bucket = await restoreNotifiedBucket(client, 'restore-expiry');
    await putArchived(bucket, 'fast', 'fast body', 'GLACIER', client);
    await putArchived(bucket, 'slow', 'slow body', 'GLACIER', client);
    await restore(bucket, 'fast', 1, { tier: 'Expedited', client });
    await restore(bucket, 'slow', 1, { tier: 'Bulk', client });
    await restored(bucket, 'fast', undefined, client, 5_000);
    t.is(
      await restoreHeader(bucket, 'slow', undefined, client),
      'ongoing-request="true"',
      'Bulk takes longer',
    );
    await first.stop();
    // Three days later (the clock offset): the restore has expired.
    const later = await TestServer.start({
      dataDir: first.dataDir,
      env: { ...targetsEnv(receiver), HANGAR_CLOCK_OFFSET_MS: String(3 * DAY_MS) },
    });
    try {
      const client2 = later.client();
      t.is(await restoreHeader(bucket, 'fast', undefined, client2), undefined);
      const refused = await s3Failure(
        client2.send(new GetObjectCommand({ Bucket: bucket, Key: 'fast' })),
      );
      t.is(refused.name, 'InvalidObjectState', 'archived again');
      const events = await receiver.waitFor(bucket, 6, 20_000);
      const names = restoreEvents(events);
      t.is(names.filter((name) => name === 'ObjectRestore:Delete').length, 2, names.join());
      // The Bulk restore completed (its delay passed while the server was down) and expired too.
      t.is(names.filter((name) => name === 'ObjectRestore:Completed').length, 2, names.join());
      // Restored again after expiry: a fresh restore (202).
      t.is((await restore(bucket, 'fast', 1, { client: client2 })).$metadata.httpStatusCode, 202);
    } finally {
      await later.destroy();
    }
  } finally {
    await first.destroy();
  }
});

test('ListObjectsV2 and ListObjectVersions show RestoreStatus when asked (x-amz-optional-object-attributes)', async (t) => {
  const bucket = await newBucket(s3, 'restore-list');
  await putArchived(bucket, 'a-restored');
  await putArchived(bucket, 'b-restoring', 'x', 'DEEP_ARCHIVE');
  await putArchived(bucket, 'c-cold');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'd-standard', Body: 'x' }));
  await restore(bucket, 'a-restored', 1, { tier: 'Expedited' });
  const header = await restored(bucket, 'a-restored');
  // The shared server's delay is short: a 'restoring' object needs the restore to be fresh.
  await restore(bucket, 'b-restoring');
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, OptionalObjectAttributes: ['RestoreStatus'] }),
  );
  const expiry = new Date(expiryDateOf(header) ?? '');
  const byKey = Object.fromEntries((listed.Contents ?? []).map((o) => [o.Key, o.RestoreStatus]));
  t.deepEqual(byKey['a-restored'], { IsRestoreInProgress: false, RestoreExpiryDate: expiry });
  const restoring = byKey['b-restoring'];
  // Unless the restore already completed meanwhile (DELAY_MS), it is in progress.
  t.true(restoring?.IsRestoreInProgress === true || restoring?.RestoreExpiryDate !== undefined);
  t.is(byKey['c-cold'], undefined);
  t.is(byKey['d-standard'], undefined);
  const plain = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  t.true((plain.Contents ?? []).every((o) => o.RestoreStatus === undefined));
  const versions = await s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, OptionalObjectAttributes: ['RestoreStatus'] }),
  );
  const version = (versions.Versions ?? []).find((v) => v.Key === 'a-restored');
  t.deepEqual(version?.RestoreStatus, { IsRestoreInProgress: false, RestoreExpiryDate: expiry });
  const bad = await signedFetch(server.endpoint, {
    method: 'GET',
    path: `/${bucket}?list-type=2`,
    headers: { 'x-amz-optional-object-attributes': 'Colour' },
  });
  t.is(bad.status, 400);
  t.regex(await bad.text(), /<Code>InvalidArgument<\/Code>/);
});

/** A bucket policy of one statement about s3:RestoreObject on the keys `keys`. */
async function restorePolicy(
  bucket: string,
  effect: 'Allow' | 'Deny',
  principal: unknown,
  keys: string,
): Promise<void> {
  const statement = {
    Effect: effect,
    Principal: principal,
    Action: 's3:RestoreObject',
    Resource: `arn:aws:s3:::${bucket}/${keys}`,
  };
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
    }),
  );
}

test('bucket policies name RestoreObject as s3:RestoreObject', async (t) => {
  const bucket = await newBucket(s3, 'restore-policy');
  await putArchived(bucket, 'allowed/k');
  await putArchived(bucket, 'denied/k');
  const key = await createKey(server, 'restorer');
  const client = server.client(key);
  // No grant, no policy: refused.
  t.is((await s3Failure(restore(bucket, 'allowed/k', 1, { client }))).name, 'AccessDenied');
  await restorePolicy(
    bucket,
    'Allow',
    { AWS: `arn:aws:iam::000000000000:user/${key.accessKeyId}` },
    'allowed/*',
  );
  t.is((await restore(bucket, 'allowed/k', 1, { client })).$metadata.httpStatusCode, 202);
  t.is((await s3Failure(restore(bucket, 'denied/k', 1, { client }))).name, 'AccessDenied');
  // A write grant allows it, but an explicit Deny of s3:RestoreObject wins.
  await grant(server, bucket, key, 'read', 'write');
  await restorePolicy(bucket, 'Deny', '*', 'denied/*');
  t.is((await s3Failure(restore(bucket, 'denied/k', 1, { client }))).name, 'AccessDenied');
  t.is(await restoreHeader(bucket, 'denied/k'), undefined);
});
