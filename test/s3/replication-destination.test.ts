import { createHash } from 'node:crypto';
import {
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type ReplicationRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { onNode } from '../helpers/admin.js';
import { createKey, grant } from '../helpers/keys.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { queueArn, Receiver, targetsEnv } from '../helpers/notify-receiver.js';
import {
  addRemote,
  eventually,
  headOrNone,
  QUICK_REPLICATION_ENV,
  REPLICATION_FAILURE_LOGS,
  ROOT_CREDENTIALS,
  replicateTo,
  ruleTo,
  setVersioning,
  statusBecomes,
} from '../helpers/replication.js';
import { newBucket, randomBytesSeeded, TestServer } from '../helpers/server.js';
import { createKmsKey, getBytes, putKms } from '../helpers/sse.js';

// hangar → a second hangar process, for what a rule's optional elements do: SSE-KMS objects left
// out or replicated under the rule's replica key, replicas keeping their encryption, the owner
// override, replica modification sync, per-rule metrics, and RTC's events at a webhook.

const ROOT = ROOT_CREDENTIALS;
const SOURCE_ENV = {
  ...QUICK_REPLICATION_ENV,
  // A dead remote FAILS after these: about ten seconds, long enough to see it pending.
  HANGAR_REPLICATION_ATTEMPTS_MAX: '40',
  // RTC's 15 minutes, lowered so that every change is past the threshold at once.
  HANGAR_REPLICATION_TIME_THRESHOLD_MS: '1',
  // Lowered so that a 9 MiB object goes as a multipart upload of 5 MiB parts.
  HANGAR_REPLICATION_MULTIPART_THRESHOLD_BYTES: String(8 * 1024 * 1024),
  HANGAR_REPLICATION_PART_BYTES: String(5 * 1024 * 1024),
  // The SSE-C test writes its object over the test's plain HTTP.
  HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true',
};
const DESTINATION_ENV = { HANGAR_REPLICATION_POLL_MS: '50' };
const EXPECTED = REPLICATION_FAILURE_LOGS;

let receiver: Receiver;
let source: TestServer;
let destination: TestServer;
let src: S3Client;
let dst: S3Client;

test.before(async () => {
  receiver = await Receiver.start();
  destination = await TestServer.start({
    shards: 2,
    env: DESTINATION_ENV,
    expectedLogErrors: EXPECTED,
  });
  source = await TestServer.start({
    shards: 2,
    env: { ...SOURCE_ENV, ...targetsEnv(receiver) },
    expectedLogErrors: EXPECTED,
  });
  src = source.client();
  dst = destination.client();
});

test.after.always(async () => {
  await source?.destroy();
  await destination?.destroy();
  await receiver?.close();
});

/** A versioned source bucket and a versioned destination bucket its remote serves. */
async function pair(prefix: string, credentials = ROOT): Promise<{ from: string; to: string }> {
  const from = await newBucket(src, `${prefix}-src`);
  const to = await newBucket(dst, `${prefix}-dst`);
  await setVersioning(src, from);
  await setVersioning(dst, to);
  await addRemote(source, `remote-${to}`, destination.endpoint, [to], credentials);
  return { from, to };
}

test.serial('SSE-KMS objects are left out unless the rule selects them', async (t) => {
  const { from, to } = await pair('kms-off');
  await replicateTo(src, from, [ruleTo(to)]);
  const key = await createKmsKey(source);
  await putKms(src, from, 'secret', 'kms body', key.id);
  await src.send(
    new PutObjectCommand({
      Bucket: from,
      Key: 'plain',
      Body: 'sse-s3 body',
      ServerSideEncryption: 'AES256',
    }),
  );
  await statusBecomes(src, from, 'plain', 'COMPLETED');
  const replica = await headOrNone(dst, to, 'plain');
  t.is(replica?.ServerSideEncryption, 'AES256', 'an SSE-S3 replica stays SSE-S3');
  t.is((await getBytes(dst, to, 'plain')).toString(), 'sse-s3 body');
  const skipped = await headOrNone(src, from, 'secret');
  t.is(skipped?.ReplicationStatus, undefined, 'no status, as AWS leaves it');
  t.is(await headOrNone(dst, to, 'secret'), undefined);
});

test.serial(
  'with SseKmsEncryptedObjects the replica is SSE-KMS under ReplicaKmsKeyID',
  async (t) => {
    const { from, to } = await pair('kms-on');
    const sourceKey = await createKmsKey(source);
    const replicaKey = await createKmsKey(destination);
    const rule: ReplicationRule = {
      ...ruleTo(to),
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      Destination: {
        Bucket: `arn:aws:s3:::${to}`,
        EncryptionConfiguration: { ReplicaKmsKeyID: replicaKey.arn },
      },
    };
    await replicateTo(src, from, [rule]);
    const body = randomBytesSeeded(40_000, 31);
    await putKms(src, from, 'secret', body, sourceKey.id);
    // A multipart replica (CreateMultipartUpload) carries the same headers.
    const large = randomBytesSeeded(9 * 1024 * 1024, 32);
    await putKms(src, from, 'large', large, sourceKey.id);
    for (const [key, bytes] of [
      ['secret', body],
      ['large', large],
    ] as const) {
      await statusBecomes(src, from, key, 'COMPLETED');
      const replica = await headOrNone(dst, to, key);
      t.is(replica?.ServerSideEncryption, 'aws:kms', key);
      t.is(replica?.SSEKMSKeyId, replicaKey.arn, key);
      t.is(replica?.ReplicationStatus, 'REPLICA', key);
      t.true((await getBytes(dst, to, key)).equals(bytes), key);
    }
  },
);

test.serial(
  'AccessControlTranslation: the destination bucket owner owns the replica',
  async (t) => {
    const writer = await createKey(destination, `replicator-${process.pid}`);
    const from = await newBucket(src, 'owner-src');
    const to = await newBucket(dst, 'owner-dst');
    await setVersioning(src, from);
    await setVersioning(dst, to);
    await grant(destination, to, writer, 'read', 'write');
    await dst.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: to,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      }),
    );
    await addRemote(source, `remote-${to}`, destination.endpoint, [to], writer);
    const bucketOwner = (await dst.send(new GetBucketAclCommand({ Bucket: to }))).Owner?.ID;
    await replicateTo(src, from, [
      { ...ruleTo(to, 'mine/', 'writer-owns') },
      {
        ...ruleTo(to, 'theirs/', 'owner-override'),
        Priority: 2,
        Destination: {
          Bucket: `arn:aws:s3:::${to}`,
          Account: '000000000000',
          AccessControlTranslation: { Owner: 'Destination' },
        },
      },
    ]);
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'mine/a', Body: 'a' }));
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'theirs/b', Body: 'b' }));
    await statusBecomes(src, from, 'mine/a', 'COMPLETED');
    await statusBecomes(src, from, 'theirs/b', 'COMPLETED');
    const mine = await dst.send(new GetObjectAclCommand({ Bucket: to, Key: 'mine/a' }));
    const theirs = await dst.send(new GetObjectAclCommand({ Bucket: to, Key: 'theirs/b' }));
    t.not(mine.Owner?.ID, bucketOwner, 'without the override the writer owns its replica');
    t.is(theirs.Owner?.ID, bucketOwner);
  },
);

test.serial("ReplicaModifications: a replica's new tags go back to its source", async (t) => {
  const { from, to } = await pair('replica-mods');
  await replicateTo(src, from, [ruleTo(to)]);
  // Back from the destination to the source, syncing replica modifications.
  await addRemote(destination, `remote-${from}`, source.endpoint, [from], ROOT);
  await replicateTo(dst, to, [
    {
      ...ruleTo(from),
      SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
    },
  ]);
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'doc', Body: 'two-way' }));
  await statusBecomes(src, from, 'doc', 'COMPLETED');
  await eventually('the replica', () => headOrNone(dst, to, 'doc'));
  await dst.send(
    new PutObjectTaggingCommand({
      Bucket: to,
      Key: 'doc',
      Tagging: { TagSet: [{ Key: 'reviewed', Value: 'yes' }] },
    }),
  );
  const tags = await eventually('the tags at the source', async () => {
    const got = await src.send(new GetObjectTaggingCommand({ Bucket: from, Key: 'doc' }));
    return (got.TagSet?.length ?? 0) > 0 ? got.TagSet : undefined;
  });
  t.deepEqual(tags, [{ Key: 'reviewed', Value: 'yes' }]);
  // The source took the tags as a replica's: it does not send them back as a new version.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const versions = await dst.send(new ListObjectVersionsCommand({ Bucket: to, Prefix: 'doc' }));
  t.is(versions.Versions?.length, 1);
  const head = await headOrNone(dst, to, 'doc');
  t.is(head?.ReplicationStatus, 'REPLICA');
});

test.serial(
  'metrics and RTC events: per-rule figures on /metrics, events at a webhook',
  async (t) => {
    const { from, to } = await pair('rtc');
    // A second destination nobody serves at: its change stays pending, then FAILS.
    const dead = `rtc-dead-${process.pid}`;
    await addRemote(source, 'remote-dead', 'http://127.0.0.1:9', [dead], ROOT);
    const rtc = (bucket: string, id: string, priority: number): ReplicationRule => ({
      ...ruleTo(bucket, '', id),
      Priority: priority,
      Destination: {
        Bucket: `arn:aws:s3:::${bucket}`,
        ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
        Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
      },
    });
    await src.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: from,
        NotificationConfiguration: {
          QueueConfigurations: [
            { QueueArn: queueArn('plain'), Events: ['s3:Replication:*' as never] },
          ],
        },
      }),
    );
    await replicateTo(src, from, [rtc(to, 'fast', 1), rtc(dead, 'stuck', 2)]);
    const body = randomBytesSeeded(12_345, 77);
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'tracked', Body: body }));

    const pending = await eventually('the stuck rule pending on /metrics', async () => {
      const samples = await scrapeMetrics(source);
      const labels = { bucket: from, rule: 'stuck' };
      const ops = metricValue(samples, 'hangar_replication_rule_pending_operations', labels);
      return ops > 0
        ? { ops, bytes: metricValue(samples, 'hangar_replication_rule_pending_bytes', labels) }
        : undefined;
    });
    t.deepEqual(pending, { ops: 1, bytes: body.length });

    const events = await eventually(
      'the replication events',
      async () => {
        const names = receiver.of(from).map((event) => event.eventName);
        const wanted = [
          'Replication:OperationReplicatedAfterThreshold',
          'Replication:OperationMissedThreshold',
          'Replication:OperationFailedReplication',
        ];
        return wanted.every((name) => names.includes(name)) ? receiver.of(from) : undefined;
      },
      45_000,
    );
    const after = events.find(
      (e) => e.eventName === 'Replication:OperationReplicatedAfterThreshold',
    );
    t.is(after?.s3.object.key, 'tracked');
    const data = (after as unknown as { replicationEventData: Record<string, string> })
      .replicationEventData;
    t.is(data['replicationRuleId'], 'fast');
    t.is(data['destinationBucket'], `arn:aws:s3:::${to}`);
    const failed = events.find((e) => e.eventName === 'Replication:OperationFailedReplication');
    const failure = (failed as unknown as { replicationEventData: Record<string, string> })
      .replicationEventData;
    t.is(failure['replicationRuleId'], 'stuck');
    t.truthy(failure['failureReason']);

    const samples = await scrapeMetrics(source);
    const fast = { bucket: from, rule: 'fast' };
    t.true(metricValue(samples, 'hangar_replication_rule_latency_seconds_count', fast) >= 1);
    t.is(metricValue(samples, 'hangar_replication_rule_pending_operations', fast), 0);
    t.is(
      metricValue(samples, 'hangar_replication_rule_operations_failed_total', {
        bucket: from,
        rule: 'stuck',
      }),
      1,
    );
    t.is(
      metricValue(samples, 'hangar_replication_rule_pending_operations', {
        bucket: from,
        rule: 'stuck',
      }),
      0,
    );
  },
);

test.serial('an SSE-C object ends FAILED, its reason recorded', async (t) => {
  const { from, to } = await pair('sse-c');
  await replicateTo(src, from, [ruleTo(to)]);
  const customerKey = randomBytesSeeded(32, 5);
  const keyMd5 = createHash('md5').update(customerKey).digest('base64');
  const sseC = {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: customerKey.toString('base64'),
    SSECustomerKeyMD5: keyMd5,
  };
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'customer', Body: 'c', ...sseC }));
  const failed = await eventually('FAILED', async () => {
    const head = await src.send(new HeadObjectCommand({ Bucket: from, Key: 'customer', ...sseC }));
    return head.ReplicationStatus === 'FAILED' ? head : undefined;
  });
  t.is(failed.ReplicationStatus, 'FAILED');
  const workers = await onNode(source, 'POST', 'ListWorkers', {});
  const worker = (
    workers.node as Array<{ name: string; lastError: { message: string } | null }>
  ).find((w) => w.name === 'Bucket replication');
  t.regex(worker?.lastError?.message ?? '', /SSE-C object/);
  t.is(await headOrNone(dst, to, 'customer'), undefined);
});

test.serial(
  'past the tracking window a change sends OperationNotTracked, then nothing',
  async (t) => {
    // A source whose RTC stops tracking a change at once: its first look at a row is too late.
    const untracking = await TestServer.start({
      shards: 1,
      env: {
        ...SOURCE_ENV,
        ...targetsEnv(receiver),
        HANGAR_REPLICATION_TRACKING_WINDOW_MS: '1',
      },
      expectedLogErrors: EXPECTED,
    });
    try {
      const s3 = untracking.client();
      const from = await newBucket(s3, 'untracked-src');
      const to = await newBucket(dst, 'untracked-dst');
      await setVersioning(s3, from);
      await setVersioning(dst, to);
      await addRemote(untracking, `remote-${to}`, destination.endpoint, [to], ROOT);
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: from,
          NotificationConfiguration: {
            QueueConfigurations: [
              { QueueArn: queueArn('plain'), Events: ['s3:Replication:*' as never] },
            ],
          },
        }),
      );
      await replicateTo(s3, from, [
        {
          ...ruleTo(to),
          Destination: {
            Bucket: `arn:aws:s3:::${to}`,
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
            Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
          },
        },
      ]);
      await s3.send(new PutObjectCommand({ Bucket: from, Key: 'late', Body: 'late' }));
      await statusBecomes(s3, from, 'late', 'COMPLETED');
      const events = await receiver.waitFor(from, 1);
      // Anything else would have been recorded before or with the settle: give delivery a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
      t.deepEqual(
        receiver.of(from).map((event) => event.eventName),
        ['Replication:OperationNotTracked'],
      );
      t.is(events[0]?.s3.object.key, 'late');
    } finally {
      await untracking.destroy();
    }
  },
);
