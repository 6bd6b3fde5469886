import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  type FilterRuleName,
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  type NotificationConfigurationFilter,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test from 'ava';
import { connect } from 'nats';
import { adminCall, onNode } from '../helpers/admin.js';
import { startNats } from '../helpers/nats.js';
import {
  type EventRecord,
  lambdaArn,
  queueArn,
  Receiver,
  SECRET,
  sleep,
  targetsEnv,
  topicArn,
} from '../helpers/notify-receiver.js';
import { runBoto3 } from '../helpers/python.js';
import { newBucket, REGION, s3Failure, TestServer, useTempDir } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { errorOf } from '../helpers/xml-error.js';

let receiver: Receiver;
let server: TestServer;
let s3: S3Client;

test.before(async () => {
  receiver = await Receiver.start();
  server = await TestServer.start({
    shards: 2,
    env: targetsEnv(receiver),
    expectedLogErrors: [/event notification delivery failed/],
  });
  s3 = server.client();
});

test.after.always(async () => {
  await server?.destroy();
  await receiver?.close();
});

async function notified(prefix: string, configuration: NotificationConfiguration): Promise<string> {
  const bucket = await newBucket(s3, prefix);
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: configuration,
    }),
  );
  return bucket;
}

const ALL_EVENTS = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectTagging:*'] as const;

/** A key filter for "in/*.txt", with the rule names as sent (AWS answers them capitalised). */
function inTxtFilter(prefix: string, suffix: string): NotificationConfigurationFilter {
  return {
    Key: {
      FilterRules: [
        { Name: prefix as FilterRuleName, Value: 'in/' },
        { Name: suffix as FilterRuleName, Value: '.txt' },
      ],
    },
  };
}

test.serial('notification configurations round-trip with filters and ids', async (t) => {
  const bucket = await newBucket(s3, 'notify-config');
  const empty = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  t.is(empty.QueueConfigurations, undefined);
  t.is(empty.TopicConfigurations, undefined);
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Id: 'uploads',
            QueueArn: queueArn('signed'),
            Events: ['s3:ObjectCreated:*'],
            Filter: inTxtFilter('prefix', 'suffix'),
          },
        ],
        TopicConfigurations: [
          { Id: 'removals', TopicArn: topicArn('plain'), Events: ['s3:ObjectRemoved:Delete'] },
        ],
        LambdaFunctionConfigurations: [
          { LambdaFunctionArn: lambdaArn('signed'), Events: ['s3:ObjectTagging:Put'] },
        ],
      },
    }),
  );
  const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  t.deepEqual(got.QueueConfigurations, [
    {
      Id: 'uploads',
      QueueArn: queueArn('signed'),
      Events: ['s3:ObjectCreated:*'],
      Filter: inTxtFilter('Prefix', 'Suffix'),
    },
  ]);
  t.deepEqual(got.TopicConfigurations, [
    { Id: 'removals', TopicArn: topicArn('plain'), Events: ['s3:ObjectRemoved:Delete'] },
  ]);
  t.is(got.LambdaFunctionConfigurations?.length, 1);
  t.is(got.LambdaFunctionConfigurations?.[0]?.LambdaFunctionArn, lambdaArn('signed'));
  t.truthy(got.LambdaFunctionConfigurations?.[0]?.Id, 'a configuration without Id gets one');

  // An empty document removes the configuration.
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {},
    }),
  );
  const removed = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  t.is(removed.QueueConfigurations, undefined);
});

test.serial('invalid notification configurations get AWS errors', async (t) => {
  const bucket = await newBucket(s3, 'notify-invalid');
  const put = (configuration: NotificationConfiguration) =>
    s3Failure(
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: configuration,
        }),
      ),
    );
  const unknown = await put({
    QueueConfigurations: [{ QueueArn: queueArn('nobody'), Events: ['s3:ObjectCreated:*'] }],
  });
  t.is(unknown.status, 400);
  t.is(unknown.name, 'InvalidArgument');
  t.regex(unknown.message, /Unable to validate the following destination configurations/);
  const wrongService = await put({
    TopicConfigurations: [{ TopicArn: queueArn('signed'), Events: ['s3:ObjectCreated:*'] }],
  });
  t.is(wrongService.name, 'InvalidArgument', 'an SQS ARN in a TopicConfiguration names nothing');
  const overlap = await put({
    QueueConfigurations: [
      { QueueArn: queueArn('signed'), Events: ['s3:ObjectCreated:*'] },
      {
        QueueArn: queueArn('plain'),
        Events: ['s3:ObjectCreated:Put'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } },
      },
    ],
  });
  t.is(overlap.name, 'InvalidArgument');
  t.regex(overlap.message, /Configurations overlap/);
  const badEvent = await put({
    QueueConfigurations: [
      { QueueArn: queueArn('signed'), Events: ['s3:Nothing:*' as 's3:ObjectCreated:*'] },
    ],
  });
  t.is(badEvent.name, 'InvalidArgument');
  // Disjoint filters on one event type are fine.
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            QueueArn: queueArn('signed'),
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } },
          },
          {
            QueueArn: queueArn('plain'),
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'b/' }] } },
          },
        ],
      },
    }),
  );
  const malformed = await signedFetch(server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?notification`,
    body: Buffer.from('<NotificationConfiguration><QueueConfiguration><Queue>'),
  });
  const error = await errorOf(malformed);
  t.is(error.status, 400);
  t.is(error.code, 'MalformedXML');
  const noArn = await signedFetch(server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?notification`,
    body: Buffer.from(
      '<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>',
    ),
  });
  t.is((await errorOf(noArn)).code, 'MalformedXML');
});

test.serial('every kind of change sends its event in AWS format, signed', async (t) => {
  const bucket = await notified('notify-events', {
    QueueConfigurations: [{ Id: 'all', QueueArn: queueArn('signed'), Events: [...ALL_EVENTS] }],
  });
  const put = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'dir/a b.txt', Body: 'hello' }),
  );
  await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'copy.txt', CopySource: `${bucket}/dir/a b.txt` }),
  );
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'mp.bin',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: Buffer.alloc(1000, 7),
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'mp.bin',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  await s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'copy.txt',
      Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] },
    }),
  );
  await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'copy.txt' }));
  const { url, fields } = await createPresignedPost(
    s3 as unknown as Parameters<typeof createPresignedPost>[0],
    { Bucket: bucket, Key: 'posted.txt', Expires: 60 },
  );
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob(['form body']), 'posted.txt');
  const posted = await fetch(url, { method: 'POST', body: form });
  t.is(posted.status, 204, await posted.text());
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'copy.txt' }));
  // Deleting what does not exist removes nothing: no event.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-there' }));

  const events = await receiver.waitFor(bucket, 7);
  const names = events.map((event) => `${event.eventName} ${event.s3.object.key}`).sort();
  t.deepEqual(names, [
    'ObjectCreated:CompleteMultipartUpload mp.bin',
    'ObjectCreated:Copy copy.txt',
    'ObjectCreated:Post posted.txt',
    'ObjectCreated:Put dir%2Fa+b.txt',
    'ObjectRemoved:Delete copy.txt',
    'ObjectTagging:Delete copy.txt',
    'ObjectTagging:Put copy.txt',
  ]);
  t.is(receiver.badSignatures, 0, 'every body carries its HMAC-SHA256');
  const created = events.find((event) => event.eventName === 'ObjectCreated:Put');
  t.truthy(created);
  if (created === undefined) return;
  t.is(created.eventVersion, '2.1');
  t.is(created.eventSource, 'aws:s3');
  t.is(created.awsRegion, REGION);
  t.false(Number.isNaN(Date.parse(created.eventTime)));
  t.is(created.s3.s3SchemaVersion, '1.0');
  t.is(created.s3.configurationId, 'all');
  t.is(created.s3.bucket.name, bucket);
  t.is(created.s3.bucket.arn, `arn:aws:s3:::${bucket}`);
  t.regex(created.s3.bucket.ownerIdentity.principalId, /^[0-9a-f]{64}$/);
  t.regex(created.userIdentity.principalId, /^[0-9a-f]{64}$/);
  t.is(created.requestParameters.sourceIPAddress, '127.0.0.1');
  t.is(created.responseElements['x-amz-request-id'], put.$metadata.requestId);
  t.is(created.s3.object.size, 5);
  t.is(created.s3.object.eTag, put.ETag?.replaceAll('"', ''));
  // Upper-case hex that sorts in the order of the changes (AWS compares sequencers as strings):
  // time and counter, then in cluster mode the writing gateway's tag (engine/meta/sequencer.ts).
  t.regex(created.s3.object.sequencer, /^[0-9A-F]{20}(?:[0-9A-F]{8})?$/);
  const sequencers = events.map((event) => event.s3.object.sequencer);
  t.is(new Set(sequencers).size, sequencers.length, 'sequencers are unique');
});

test.serial('versioned deletes send DeleteMarkerCreated and Delete with version ids', async (t) => {
  const bucket = await notified('notify-versions', {
    TopicConfigurations: [{ TopicArn: topicArn('plain'), Events: ['s3:ObjectRemoved:*'] }],
  });
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: 'x' }));
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'v' }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'v', VersionId: put.VersionId }));
  const events = await receiver.waitFor(bucket, 2);
  const byName = new Map(events.map((event) => [event.eventName, event]));
  t.is(byName.get('ObjectRemoved:DeleteMarkerCreated')?.s3.object.versionId, marker.VersionId);
  t.is(byName.get('ObjectRemoved:Delete')?.s3.object.versionId, put.VersionId);
  t.is(events.length, 2, 'the PUT is not subscribed');
});

test.serial('prefix and suffix filters choose the events', async (t) => {
  const bucket = await notified('notify-filter', {
    QueueConfigurations: [
      {
        Id: 'json-logs',
        QueueArn: queueArn('plain'),
        Events: ['s3:ObjectCreated:Put'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'prefix', Value: 'logs/' },
              { Name: 'suffix', Value: '.json' },
            ],
          },
        },
      },
    ],
  });
  for (const key of ['logs/a.txt', 'other/b.json', 'logs.json', 'logs/c.json', 'logs/d.json']) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  }
  await receiver.waitFor(bucket, 2);
  // Give any wrongly recorded event the time of several delivery passes to show up.
  await sleep(1000);
  t.deepEqual(
    receiver
      .of(bucket)
      .map((event) => event.s3.object.key)
      .sort(),
    ['logs%2Fc.json', 'logs%2Fd.json'],
  );
});

test.serial('a target down for a while gets every event once it is back', async (t) => {
  const bucket = await notified('notify-retry', {
    QueueConfigurations: [{ QueueArn: queueArn('flaky'), Events: ['s3:ObjectCreated:*'] }],
  });
  await receiver.waitForTests(bucket, 1);
  receiver.down.add('/flaky');
  const rejectedBefore = receiver.rejected;
  for (let i = 0; i < 5; i++) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: 'x' }));
  }
  const until = Date.now() + 10_000;
  while (receiver.rejected < rejectedBefore + 3 && Date.now() < until) await sleep(50);
  t.true(receiver.rejected >= rejectedBefore + 3, 'the worker retried');
  t.is(receiver.of(bucket).length, 0);
  const workers = await onNode(server, 'POST', 'ListWorkers', {});
  const worker = (workers.node as Array<{ name: string; queueLength: number | null }>).find(
    (w) => w.name === 'Event notification delivery',
  );
  t.truthy(worker, 'ListWorkers shows the delivery worker');
  receiver.down.delete('/flaky');
  const events = await receiver.waitFor(bucket, 5, 70_000);
  t.deepEqual(events.map((event) => event.s3.object.key).sort(), ['k0', 'k1', 'k2', 'k3', 'k4']);
  const metrics = await adminCall(server, 'GET', '/metrics');
  t.regex(metrics.text, /hangar_notify_events_delivered_total\{target="flaky"\} 6/);
  t.regex(metrics.text, /hangar_notify_delivery_failures_total\{target="flaky"\} [1-9]/);
  t.regex(metrics.text, /hangar_notify_events_pending \d+/);
});

test.serial('the admin API shows the targets and their ARNs, never secrets', async (t) => {
  const info = await onNode(server, 'GET', 'GetNodeInfo');
  const targets = (info.node as { notificationTargets: Array<Record<string, unknown>> })
    .notificationTargets;
  const signed = targets.find((target) => target.name === 'signed');
  t.is(signed?.kind, 'webhook');
  t.is(signed?.signed, true);
  t.deepEqual(signed?.arns, [queueArn('signed'), topicArn('signed'), lambdaArn('signed')]);
  t.false(info.text.includes(SECRET));
});

test.serial('events committed before a kill -9 are delivered after the restart', async (t) => {
  const own = await Receiver.start();
  own.down.add('/flaky');
  const env = targetsEnv(own);
  let crashing = await TestServer.start({
    shards: 2,
    env,
    expectedLogErrors: [/event notification delivery failed/],
  });
  try {
    const client = crashing.client();
    const bucket = await newBucket(client, 'notify-crash');
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: queueArn('flaky'), Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    for (let i = 0; i < 4; i++) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `crash-${i}`, Body: 'x' }));
    }
    const until = Date.now() + 10_000;
    while (own.rejected === 0 && Date.now() < until) await sleep(50);
    t.true(own.rejected > 0, 'delivery was attempted and refused before the crash');
    const dataDir = crashing.dataDir;
    await crashing.kill();
    own.down.delete('/flaky');
    crashing = await TestServer.start({ shards: 2, dataDir, env });
    const events = await own.waitFor(bucket, 4);
    t.deepEqual(events.map((event) => event.s3.object.key).sort(), [
      'crash-0',
      'crash-1',
      'crash-2',
      'crash-3',
    ]);
  } finally {
    await crashing.destroy();
    await own.close();
  }
});

test.serial('a NATS target receives the events on its subject', async (t) => {
  const nats = await startNats();
  const subscriber = await connect({ servers: `127.0.0.1:${nats.port}` });
  const received: EventRecord[] = [];
  const tests: string[] = [];
  const subscription = subscriber.subscribe('hangar.events');
  const reading = (async () => {
    for await (const message of subscription) {
      const parsed = JSON.parse(Buffer.from(message.data).toString('utf8')) as {
        Records?: EventRecord[];
        Event?: string;
      };
      // The configuration's s3:TestEvent comes first (test/s3/notify-targets.test.ts).
      if (parsed.Records === undefined) tests.push(parsed.Event ?? '');
      else received.push(...parsed.Records);
    }
  })();
  await subscriber.flush();
  const natsServer = await TestServer.start({
    shards: 2,
    env: { HANGAR_NOTIFY_TARGETS: `bus=nats://127.0.0.1:${nats.port}/hangar.events` },
  });
  try {
    const client = natsServer.client();
    const bucket = await newBucket(client, 'notify-nats');
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          TopicConfigurations: [
            {
              Id: 'bus',
              TopicArn: topicArn('bus'),
              Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
            },
          ],
        },
      }),
    );
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'n1', Body: 'nats' }));
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'n1' }));
    const until = Date.now() + 15_000;
    while (received.length < 2 && Date.now() < until) await sleep(50);
    t.deepEqual(
      received
        .map((event) => `${event.eventName} ${event.s3.bucket.name}/${event.s3.object.key}`)
        .sort(),
      [`ObjectCreated:Put ${bucket}/n1`, `ObjectRemoved:Delete ${bucket}/n1`],
    );
    t.is(received[0]?.s3.configurationId, 'bus');
    t.deepEqual(tests, ['s3:TestEvent']);
  } finally {
    await natsServer.destroy();
    subscription.unsubscribe();
    await subscriber.close();
    await reading;
    await nats.stop();
  }
});

test.serial('lifecycle expirations send LifecycleExpiration events', async (t) => {
  const expiring = await TestServer.start({
    env: { ...targetsEnv(receiver), HANGAR_CLOCK_OFFSET_MS: String(3 * 24 * 3600 * 1000) },
  });
  try {
    const client = expiring.client();
    const bucket = await newBucket(client, 'notify-lifecycle');
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            { Id: 'expiry', QueueArn: queueArn('plain'), Events: ['s3:LifecycleExpiration:*'] },
          ],
        },
      }),
    );
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'old/a', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep/b', Body: 'x' }));
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'old', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 1 } },
          ],
        },
      }),
    );
    expiring.process.kill('SIGUSR2');
    const [event] = await receiver.waitFor(bucket, 1);
    t.is(event?.eventName, 'LifecycleExpiration:Delete');
    t.is(event?.s3.object.key, 'old%2Fa');
    t.is(event?.userIdentity.principalId, 'AmazonS3');
    t.is(event?.s3.configurationId, 'expiry');
  } finally {
    await expiring.destroy();
  }
});

test.serial('lifecycle transitions send LifecycleTransition events', async (t) => {
  const moving = await TestServer.start({
    env: { ...targetsEnv(receiver), HANGAR_CLOCK_OFFSET_MS: String(3 * 24 * 3600 * 1000) },
  });
  try {
    const client = moving.client();
    const bucket = await newBucket(client, 'notify-transition');
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            { Id: 'moves', QueueArn: queueArn('plain'), Events: ['s3:LifecycleTransition'] },
          ],
        },
      }),
    );
    const put = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'cold/a', Body: Buffer.alloc(200 * 1024, 1) }),
    );
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'cold',
              Status: 'Enabled',
              Filter: { Prefix: 'cold/' },
              Transitions: [{ Days: 1, StorageClass: 'GLACIER' }],
            },
          ],
        },
      }),
    );
    moving.process.kill('SIGUSR2');
    const [event] = await receiver.waitFor(bucket, 1);
    t.is(event?.eventName, 'LifecycleTransition');
    t.is(event?.s3.object.key, 'cold%2Fa');
    t.is(event?.s3.object.eTag, put.ETag?.replaceAll('"', ''));
    t.is(event?.userIdentity.principalId, 'AmazonS3');
  } finally {
    await moving.destroy();
  }
});

const work = useTempDir(test, 'hangar-notify-boto3-');

/** boto3 puts and reads back a configuration, and gets AWS's error for an unknown target. */
const BOTO3_SCRIPT = `
import json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, bucket, arn = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
s3.create_bucket(Bucket=bucket)
s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
    "QueueConfigurations": [{"Id": "py", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}}}]})
got = s3.get_bucket_notification_configuration(Bucket=bucket)
try:
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn + "-missing", "Events": ["s3:ObjectCreated:*"]}]})
    refused = None
except ClientError as error:
    refused = error.response["Error"]["Code"]
print(json.dumps({"queues": got.get("QueueConfigurations"), "refused": refused}))
`;

test.serial('boto3 round-trips a notification configuration', async (t) => {
  const bucket = `notify-boto3-${process.pid}`;
  const { output: stdout, json } = await runBoto3(
    ['-c', BOTO3_SCRIPT, server.endpoint, bucket, queueArn('signed')],
    work,
  );
  const result = json as { queues?: unknown; refused?: string };
  t.deepEqual(
    result.queues,
    [
      {
        Id: 'py',
        QueueArn: queueArn('signed'),
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'Suffix', Value: '.csv' }] } },
      },
    ],
    stdout,
  );
  t.is(result.refused, 'InvalidArgument');
});
