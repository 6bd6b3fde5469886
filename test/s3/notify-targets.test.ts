import {
  DeleteObjectCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { connect } from 'nats';
import { adminCall } from '../helpers/admin.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { startNats } from '../helpers/nats.js';
import {
  type EventRecord,
  queueArn,
  Receiver,
  SECRET,
  sleep,
  type TestEvent,
  targetsEnv,
  topicArn,
} from '../helpers/notify-receiver.js';
import { runBoto3 } from '../helpers/python.js';
import { newBucket, s3Failure, TestServer, useTempDir } from '../helpers/server.js';

/**
 * Admin-managed notification targets (CreateNotifyTarget / ListNotifyTargets /
 * DeleteNotifyTarget, `hangar notify target`), and the s3:TestEvent a configuration sends to each
 * target it newly names.
 */

let receiver: Receiver;
let server: TestServer;
let s3: S3Client;

test.before(async () => {
  receiver = await Receiver.start();
  server = await TestServer.start({ env: targetsEnv(receiver) });
  s3 = server.client();
});

test.after.always(async () => {
  await server?.destroy();
  await receiver?.close();
});

const hook = (path: string): string => `http://127.0.0.1:${receiver.port}${path}`;

async function configure(bucket: string, arns: readonly string[]): Promise<void> {
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: arns.map((arn, index) => ({
          Id: `q${index}`,
          QueueArn: arn,
          Events: [index === 0 ? 's3:ObjectCreated:*' : 's3:ObjectRemoved:*'],
        })),
      },
    }),
  );
}

test.serial('each newly named target gets one s3:TestEvent, signed like events', async (t) => {
  const bucket = await newBucket(s3, 'notify-test-event');
  const badBefore = receiver.badSignatures;
  await configure(bucket, [queueArn('signed'), queueArn('plain')]);
  const tests = await receiver.waitForTests(bucket, 2);
  t.deepEqual(
    receiver.testEvents
      .filter((event) => event.Bucket === bucket)
      .map((event) => event.path)
      .sort(),
    ['/plain', '/signed'],
  );
  for (const event of tests) {
    t.is(event.Service, 'Amazon S3');
    t.is(event.Event, 's3:TestEvent');
    t.regex(event.Time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    t.truthy(event.RequestId);
    t.truthy(event.HostId);
  }
  t.is(receiver.badSignatures, badBefore, 'the test event carries a valid HMAC signature');
  // The same targets again, then one more: only the new one is tested.
  await configure(bucket, [queueArn('signed'), queueArn('plain')]);
  await configure(bucket, [queueArn('signed'), queueArn('flaky')]);
  const after = await receiver.waitForTests(bucket, 3);
  await sleep(300);
  t.is(receiver.testEvents.filter((e) => e.Bucket === bucket).length, 3);
  t.is(after.filter((e) => e.Bucket === bucket).length, 3);
  t.deepEqual(
    receiver.testEvents.filter((e) => e.Bucket === bucket).map((e) => e.path),
    [...tests.map((e) => (e as TestEvent & { path: string }).path), '/flaky'],
  );
});

test.serial('an unknown target ARN is refused as AWS does, and nothing is sent', async (t) => {
  const bucket = await newBucket(s3, 'notify-unknown');
  const failure = await s3Failure(configure(bucket, [queueArn('nowhere')]));
  t.is(failure.name, 'InvalidArgument');
  t.regex(failure.message, /Unable to validate the following destination configurations/);
  t.is(failure.status, 400);
  await sleep(300);
  t.is(receiver.testEvents.filter((e) => e.Bucket === bucket).length, 0);
});

test.serial('PutObjectAcl sends s3:ObjectAcl:Put', async (t) => {
  const bucket = await newBucket(s3, 'notify-acl');
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          { Id: 'acl', QueueArn: queueArn('plain'), Events: ['s3:ObjectAcl:Put'] },
        ],
      },
    }),
  );
  const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  t.deepEqual(got.QueueConfigurations?.[0]?.Events, ['s3:ObjectAcl:Put']);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-me', Body: 'abc' }));
  await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl-me', ACL: 'private' }));
  const [event] = await receiver.waitFor(bucket, 1);
  t.is(event?.eventName, 'ObjectAcl:Put');
  t.is(event?.s3.object.key, 'acl-me');
  t.is(event?.s3.object.size, 3);
  t.is(event?.s3.configurationId, 'acl');
  await sleep(300);
  t.is(receiver.of(bucket).length, 1, 'the PUT itself matched no configuration');
});

test.serial(
  'admin API targets: created, used without restart, listed without secrets, removed',
  async (t) => {
    const created = await adminCall(server, 'POST', '/v2/CreateNotifyTarget', {
      name: 'dyn-hook',
      url: hook('/signed'),
      hmacSecret: SECRET,
    });
    t.is(created.status, 200, created.text);
    t.is(created.json.source, 'admin');
    t.is(created.json.signed, true);
    t.false(created.text.includes(SECRET));

    const listed = await adminCall(server, 'GET', '/v2/ListNotifyTargets');
    t.is(listed.status, 200);
    t.false(listed.text.includes(SECRET));
    const names = (listed.json as Array<{ name: string; source: string }>).map(
      (target) => `${target.source}:${target.name}`,
    );
    t.deepEqual(names, ['config:signed', 'config:plain', 'config:flaky', 'admin:dyn-hook']);

    const bucket = await newBucket(s3, 'notify-dyn');
    const badBefore = receiver.badSignatures;
    await configure(bucket, [queueArn('dyn-hook')]);
    await receiver.waitForTests(bucket, 1);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dyn', Body: 'x' }));
    const [event] = await receiver.waitFor(bucket, 1);
    t.is(event?.eventName, 'ObjectCreated:Put');
    t.is(event?.s3.configurationId, 'q0');
    t.is(receiver.badSignatures, badBefore);

    const removed = await adminCall(server, 'POST', '/v2/DeleteNotifyTarget', { name: 'dyn-hook' });
    t.is(removed.status, 200, removed.text);
    const refused = await s3Failure(configure(bucket, [queueArn('dyn-hook')]));
    t.is(refused.name, 'InvalidArgument');
    const again = await adminCall(server, 'POST', '/v2/DeleteNotifyTarget', { name: 'dyn-hook' });
    t.is(again.status, 404);
    t.is(again.json.code, 'NoSuchNotifyTarget');
  },
);

test.serial('admin API targets: bad input and config names are refused', async (t) => {
  const cases: Array<[unknown, number, string]> = [
    [{ name: 'signed', url: hook('/x') }, 409, 'NotifyTargetExists'],
    [{ name: 'bad name', url: hook('/x') }, 400, 'InvalidRequest'],
    [{ name: 'ftp', url: 'ftp://example.com/' }, 400, 'InvalidRequest'],
    [{ name: 'frag', url: `${hook('/x')}#hmac=s` }, 400, 'InvalidRequest'],
    [{ name: 'long', url: `${hook('/')}${'a'.repeat(3000)}` }, 400, 'InvalidRequest'],
    [{ name: 'nats-s', url: 'nats://127.0.0.1:4222/s', hmacSecret: 'x' }, 400, 'InvalidRequest'],
    [{ name: 'nosub', url: 'nats://127.0.0.1:4222/' }, 400, 'InvalidRequest'],
    [{ name: 'extra', url: hook('/x'), token: 'x' }, 400, 'InvalidRequest'],
    [{ url: hook('/x') }, 400, 'InvalidRequest'],
  ];
  for (const [body, status, code] of cases) {
    const answer = await adminCall(server, 'POST', '/v2/CreateNotifyTarget', body);
    t.is(answer.status, status, `${JSON.stringify(body)}: ${answer.text}`);
    t.is(answer.json?.code, code, JSON.stringify(body));
  }
  const twice = { name: 'twice', url: hook('/plain') };
  t.is((await adminCall(server, 'POST', '/v2/CreateNotifyTarget', twice)).status, 200);
  const dup = await adminCall(server, 'POST', '/v2/CreateNotifyTarget', twice);
  t.is(dup.status, 409);
  const config = await adminCall(server, 'POST', '/v2/DeleteNotifyTarget', { name: 'plain' });
  t.is(config.status, 409);
  t.is(config.json.code, 'NotifyTargetInConfig');
  t.is((await adminCall(server, 'POST', '/v2/DeleteNotifyTarget', { name: 'twice' })).status, 200);
  const anonymous = await adminCall(server, 'GET', '/v2/ListNotifyTargets', undefined, null);
  t.is(anonymous.status, 403);
});

test.serial('a NATS target added at run time gets the test event and the events', async (t) => {
  const nats = await startNats();
  const subscriber = await connect({ servers: `127.0.0.1:${nats.port}` });
  const messages: Array<{ Records?: EventRecord[]; Event?: string; Bucket?: string }> = [];
  const subscription = subscriber.subscribe('hangar.dyn');
  const reading = (async () => {
    for await (const message of subscription) {
      messages.push(JSON.parse(Buffer.from(message.data).toString('utf8')));
    }
  })();
  await subscriber.flush();
  try {
    const created = await adminCall(server, 'POST', '/v2/CreateNotifyTarget', {
      name: 'dyn-bus',
      url: `nats://127.0.0.1:${nats.port}/hangar.dyn`,
    });
    t.is(created.status, 200, created.text);
    t.is(created.json.kind, 'nats');
    t.is(created.json.subject, 'hangar.dyn');
    const bucket = await newBucket(s3, 'notify-dyn-nats');
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          TopicConfigurations: [{ TopicArn: topicArn('dyn-bus'), Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bus', Body: 'x' }));
    const until = Date.now() + 15_000;
    while (messages.length < 2 && Date.now() < until) await sleep(50);
    // Unordered, as S3's events: the test event and the object's come from different outboxes.
    const testEvent = messages.find((message) => message.Event === 's3:TestEvent');
    const objectEvent = messages.find((message) => message.Records !== undefined);
    t.is(testEvent?.Bucket, bucket);
    t.is(objectEvent?.Records?.[0]?.eventName, 'ObjectCreated:Put');
    t.is(objectEvent?.Records?.[0]?.s3.object.key, 'bus');
  } finally {
    await adminCall(server, 'POST', '/v2/DeleteNotifyTarget', { name: 'dyn-bus' });
    subscription.unsubscribe();
    await subscriber.close();
    await reading;
    await nats.stop();
  }
});

/** Collects what a NATS subject receives (JSON bodies), as `auth` (none: anonymous). */
async function natsInbox(
  port: number,
  subject: string,
  auth: { user: string; pass: string } | { token: string },
): Promise<{
  messages: Array<{ Records?: EventRecord[]; Event?: string }>;
  close: () => Promise<void>;
}> {
  const subscriber = await connect({ servers: `127.0.0.1:${port}`, ...auth });
  const messages: Array<{ Records?: EventRecord[]; Event?: string }> = [];
  const subscription = subscriber.subscribe(subject);
  const reading = (async () => {
    for await (const message of subscription) {
      messages.push(JSON.parse(Buffer.from(message.data).toString('utf8')));
    }
  })();
  await subscriber.flush();
  return {
    messages,
    close: async () => {
      subscription.unsubscribe();
      await subscriber.close();
      await reading;
    },
  };
}

test.serial(
  "NATS targets connect with the URL's user:password or token, shown nowhere",
  async (t) => {
    // A password with characters a URL must percent-encode: decoded before it reaches NATS.
    const userAuth = { user: 'hangar-events', pass: 'p@ss/w0rd:secret' };
    const tokenAuth = { token: 'tok-5e3c7a9b1d' };
    const byUser = await startNats(userAuth);
    const byToken = await startNats(tokenAuth);
    const userInbox = await natsInbox(byUser.port, 'hangar.auth', userAuth);
    const tokenInbox = await natsInbox(byToken.port, 'hangar.auth', tokenAuth);
    const password = encodeURIComponent(userAuth.pass);
    try {
      for (const [name, url] of [
        ['bus-user', `nats://${userAuth.user}:${password}@127.0.0.1:${byUser.port}/hangar.auth`],
        ['bus-token', `nats://${tokenAuth.token}@127.0.0.1:${byToken.port}/hangar.auth`],
      ] as const) {
        const created = await adminCall(server, 'POST', '/v2/CreateNotifyTarget', { name, url });
        t.is(created.status, 200, created.text);
      }
      const listed = await adminCall(server, 'GET', '/v2/ListNotifyTargets');
      const byName = new Map(
        (listed.json as Array<{ name: string; url: string }>).map((row) => [row.name, row.url]),
      );
      t.is(byName.get('bus-user'), `nats://127.0.0.1:${byUser.port}`);
      t.is(byName.get('bus-token'), `nats://127.0.0.1:${byToken.port}`);
      const bucket = await newBucket(s3, 'notify-nats-auth');
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: {
            TopicConfigurations: [
              { TopicArn: topicArn('bus-user'), Events: ['s3:ObjectCreated:*'] },
              { TopicArn: topicArn('bus-token'), Events: ['s3:ObjectRemoved:*'] },
            ],
          },
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'authed', Body: 'x' }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'authed' }));
      const until = Date.now() + 15_000;
      const done = () => userInbox.messages.length >= 2 && tokenInbox.messages.length >= 2;
      while (!done() && Date.now() < until) await sleep(50);
      // S3 events carry no order (the test event and the object's come from different shards'
      // outboxes): each inbox must hold both, in either order.
      for (const inbox of [userInbox, tokenInbox]) {
        t.true(inbox.messages.some((message) => message.Event === 's3:TestEvent'));
        t.true(inbox.messages.some((message) => message.Records?.[0]?.s3.object.key === 'authed'));
      }
      for (const secret of [userAuth.pass, password, tokenAuth.token]) {
        t.false(listed.text.includes(secret), 'no credential in the admin listing');
        t.false(server.log.includes(secret), 'no credential in the server log');
      }
    } finally {
      for (const name of ['bus-user', 'bus-token']) {
        await adminCall(server, 'POST', '/v2/DeleteNotifyTarget', { name });
      }
      await userInbox.close();
      await tokenInbox.close();
      await byUser.stop();
      await byToken.stop();
    }
  },
);

test.serial('hangar notify target add, list and remove through the running server', async (t) => {
  const add = await server.cli(
    'notify',
    'target',
    'add',
    'cli-hook',
    hook('/plain'),
    '--hmac-secret',
    'cli-secret',
    '--json',
  );
  t.is(add.code, 0, add.stderr);
  const list = await server.cli('notify', 'target', 'list', '--json');
  t.is(list.code, 0, list.stderr);
  t.false(list.stdout.includes('cli-secret'));
  const row = (JSON.parse(list.stdout) as Array<{ name: string; signed: boolean }>).find(
    (target) => target.name === 'cli-hook',
  );
  t.is(row?.signed, true);
  const human = await server.cli('notify', 'target', 'list');
  t.regex(human.stdout, /cli-hook\s+webhook\s+admin/);
  const conflict = await server.cli('notify', 'target', 'add', 'plain', hook('/plain'));
  t.not(conflict.code, 0);
  t.regex(conflict.stderr, /config file/);
  const remove = await server.cli('notify', 'target', 'remove', 'cli-hook');
  t.is(remove.code, 0, remove.stderr);
  const after = await server.cli('notify', 'target', 'list', '--json');
  t.false(after.stdout.includes('cli-hook'));
});

const work = useTempDir(test, 'hangar-notify-targets-boto3-');

/** boto3: a configuration naming an admin-made target, read back; an unknown one refused. */
const BOTO3_SCRIPT = `
import json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, bucket, arn = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
s3.create_bucket(Bucket=bucket)
s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
    "LambdaFunctionConfigurations": [{"Id": "fn", "LambdaFunctionArn": arn,
        "Events": ["s3:ObjectRemoved:*"]}]})
got = s3.get_bucket_notification_configuration(Bucket=bucket)
try:
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": arn.replace(":lambda:", ":sns:").replace(
            "function:", "") + "-gone", "Events": ["s3:ObjectCreated:*"]}]})
    refused = None
except ClientError as error:
    refused = [error.response["Error"]["Code"], error.response["Error"]["Message"]]
print(json.dumps({"fns": got.get("LambdaFunctionConfigurations"), "refused": refused}))
`;

test.serial(
  'boto3: an admin-made target named by its Lambda ARN; an unknown one refused',
  async (t) => {
    const created = await adminCall(server, 'POST', '/v2/CreateNotifyTarget', {
      name: 'py-hook',
      url: hook('/plain'),
    });
    t.is(created.status, 200, created.text);
    const arn = (created.json.arns as string[])[2] ?? '';
    t.regex(arn, /^arn:aws:lambda:us-east-1:000000000000:function:py-hook$/);
    const bucket = `notify-targets-boto3-${process.pid}`;
    const { output: stdout, json } = await runBoto3(
      ['-c', BOTO3_SCRIPT, server.endpoint, bucket, arn],
      work,
    );
    const result = json as { fns?: unknown; refused?: [string, string] };
    t.deepEqual(
      result.fns,
      [{ Id: 'fn', LambdaFunctionArn: arn, Events: ['s3:ObjectRemoved:*'] }],
      stdout,
    );
    t.is(result.refused?.[0], 'InvalidArgument');
    t.regex(
      result.refused?.[1] ?? '',
      /Unable to validate the following destination configurations/,
    );
    const [test0] = await receiver.waitForTests(bucket, 1);
    t.is(test0?.Event, 's3:TestEvent');
  },
);

test.serial('removing the only target gives its waiting events up, counted failed', async (t) => {
  const own = await Receiver.start();
  own.down.add('/gone');
  // No config targets: once the stored one is removed, the worker has none at all.
  const alone = await TestServer.start({
    expectedLogErrors: [/event notification delivery failed/, /event notification dropped/],
  });
  try {
    const client = alone.client();
    const created = await adminCall(alone, 'POST', '/v2/CreateNotifyTarget', {
      name: 'gone',
      url: `http://127.0.0.1:${own.port}/gone`,
    });
    t.is(created.status, 200, created.text);
    const bucket = await newBucket(client, 'notify-gone');
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: queueArn('gone'), Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'waits', Body: 'x' }));
    const until = Date.now() + 10_000;
    while (own.rejected === 0 && Date.now() < until) await sleep(50);
    t.true(own.rejected > 0, 'delivery was tried and refused');
    const removed = await adminCall(alone, 'POST', '/v2/DeleteNotifyTarget', { name: 'gone' });
    t.is(removed.status, 200, removed.text);
    let failed = 0;
    let pending = -1;
    const deadline = Date.now() + 70_000;
    while ((failed < 2 || pending !== 0) && Date.now() < deadline) {
      const samples = await scrapeMetrics(alone);
      failed = metricValue(samples, 'hangar_notify_events_failed_total', { target: 'gone' });
      pending = metricValue(samples, 'hangar_notify_events_pending');
      await sleep(100);
    }
    t.is(failed, 2, 'the test event and the PUT event were given up');
    t.is(pending, 0);
    t.is(own.events.length, 0);
  } finally {
    await alone.destroy();
    await own.close();
  }
});
