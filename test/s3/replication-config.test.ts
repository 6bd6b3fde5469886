import {
  DeleteBucketReplicationCommand,
  GetBucketReplicationCommand,
  PutBucketReplicationCommand,
  PutObjectCommand,
  type ReplicationConfiguration,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { createKey, grant } from '../helpers/keys.js';
import { runBoto3 } from '../helpers/python.js';
import { addUnreachableRemote, headOrNone, ruleTo, setVersioning } from '../helpers/replication.js';
import {
  ADMIN_TOKEN,
  newBucket,
  runCli,
  s3Failure,
  useServer,
  useTempDir,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { errorOf } from '../helpers/xml-error.js';

// Put/Get/DeleteBucketReplication through the real server: AWS's document both ways, AWS's
// errors, and the operator's remotes behind destination ARNs (admin API).

const suite = useServer(test);
const DESTINATION = `replica-target-${process.pid}`;
const OTHER_DESTINATION = `replica-other-${process.pid}`;
const ROLE = 'arn:aws:iam::123456789012:role/replication';

test.serial.before(async (t) => {
  // A remote nobody listens at: configurations only need it to exist.
  const added = await addUnreachableRemote(suite.server, [
    DESTINATION,
    `arn:aws:s3:::${OTHER_DESTINATION}`,
  ]);
  t.is(added.status, 200, added.text);
});

async function versionedBucket(prefix: string): Promise<string> {
  const bucket = await newBucket(suite.s3, prefix);
  await setVersioning(suite.s3, bucket);
  return bucket;
}

function putConfig(bucket: string, configuration: ReplicationConfiguration) {
  return suite.s3.send(
    new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: configuration }),
  );
}

async function putRaw(
  bucket: string,
  xml: string,
): Promise<{ status: number; code: string; message: string }> {
  const answer = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?replication`,
    body: Buffer.from(xml),
  });
  return answer.status === 200 ? { status: 200, code: '', message: '' } : errorOf(answer);
}

test('GetBucketReplication without a configuration: ReplicationConfigurationNotFoundError', async (t) => {
  const bucket = await versionedBucket('repl-none');
  const failure = await s3Failure(
    suite.s3.send(new GetBucketReplicationCommand({ Bucket: bucket })),
  );
  t.is(failure.status, 404);
  t.is(failure.name, 'ReplicationConfigurationNotFoundError');
});

test('a V2 configuration round-trips: filters, priorities, storage class, delete markers', async (t) => {
  const bucket = await versionedBucket('repl-v2');
  const configuration: ReplicationConfiguration = {
    Role: ROLE,
    Rules: [
      {
        ID: 'logs',
        Priority: 2,
        Status: 'Enabled',
        Filter: {
          And: {
            Prefix: 'logs/',
            Tags: [
              { Key: 'kind', Value: 'audit' },
              { Key: 'keep', Value: 'yes' },
            ],
          },
        },
        DeleteMarkerReplication: { Status: 'Disabled' },
        Destination: { Bucket: `arn:aws:s3:::${DESTINATION}`, StorageClass: 'STANDARD_IA' },
      },
      {
        ID: 'everything',
        Priority: 1,
        Status: 'Disabled',
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        Destination: { Bucket: `arn:aws:s3:::${OTHER_DESTINATION}` },
      },
      {
        ID: 'one-tag',
        Priority: 3,
        Status: 'Enabled',
        Filter: { Tag: { Key: 'replicate', Value: 'true' } },
        DeleteMarkerReplication: { Status: 'Disabled' },
        Destination: { Bucket: `arn:aws:s3:::${DESTINATION}` },
      },
    ],
  };
  await putConfig(bucket, configuration);
  const got = await suite.s3.send(new GetBucketReplicationCommand({ Bucket: bucket }));
  t.deepEqual(got.ReplicationConfiguration, configuration);
  await suite.s3.send(new DeleteBucketReplicationCommand({ Bucket: bucket }));
  const gone = await s3Failure(suite.s3.send(new GetBucketReplicationCommand({ Bucket: bucket })));
  t.is(gone.name, 'ReplicationConfigurationNotFoundError');
  // Deleting what is not there is still 204, as on AWS.
  await suite.s3.send(new DeleteBucketReplicationCommand({ Bucket: bucket }));
});

test('a V1 configuration (top-level Prefix) round-trips', async (t) => {
  const bucket = await versionedBucket('repl-v1');
  const configuration: ReplicationConfiguration = {
    Role: ROLE,
    Rules: [
      {
        ID: 'v1',
        Prefix: 'photos/',
        Status: 'Enabled',
        Destination: { Bucket: `arn:aws:s3:::${DESTINATION}` },
      },
    ],
  };
  await putConfig(bucket, configuration);
  const got = await suite.s3.send(new GetBucketReplicationCommand({ Bucket: bucket }));
  t.deepEqual(got.ReplicationConfiguration, configuration);
});

test('the source must have versioning Enabled (never-versioned, then suspended)', async (t) => {
  const bucket = await newBucket(suite.s3, 'repl-unversioned');
  const rules = [ruleTo(DESTINATION)];
  const failure = await s3Failure(putConfig(bucket, { Role: ROLE, Rules: rules }));
  t.is(failure.status, 400);
  t.is(failure.name, 'InvalidRequest');
  t.is(
    failure.message,
    "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
  );
  await setVersioning(suite.s3, bucket, 'Suspended');
  const suspended = await s3Failure(putConfig(bucket, { Role: ROLE, Rules: rules }));
  t.is(suspended.name, 'InvalidRequest');
  // And a replicated bucket's versioning cannot be suspended.
  await setVersioning(suite.s3, bucket, 'Enabled');
  await putConfig(bucket, { Role: ROLE, Rules: rules });
  const locked = await s3Failure(setVersioning(suite.s3, bucket, 'Suspended'));
  t.is(locked.status, 409);
  t.is(locked.name, 'InvalidBucketState');
});

test('a destination no remote serves: InvalidRequest; a malformed ARN: InvalidArgument', async (t) => {
  const bucket = await versionedBucket('repl-unknown');
  const unknown = await s3Failure(
    putConfig(bucket, { Role: ROLE, Rules: [ruleTo(`nobody-serves-${process.pid}`)] }),
  );
  t.is(unknown.status, 400);
  t.is(unknown.name, 'InvalidRequest');
  t.is(unknown.message, 'Destination bucket must exist.');
  const rule = ruleTo(DESTINATION);
  const badArn = await s3Failure(
    putConfig(bucket, {
      Role: ROLE,
      Rules: [{ ...rule, Destination: { Bucket: `arn:aws:s3:eu-west-1::${DESTINATION}` } }],
    }),
  );
  t.is(badArn.name, 'InvalidArgument');
});

test('duplicate rule IDs and priorities: InvalidArgument', async (t) => {
  const bucket = await versionedBucket('repl-dupes');
  const sameId = await s3Failure(
    putConfig(bucket, {
      Role: ROLE,
      Rules: [ruleTo(DESTINATION, 'a/', 'x'), { ...ruleTo(DESTINATION, 'b/', 'x'), Priority: 2 }],
    }),
  );
  t.is(sameId.status, 400);
  t.is(sameId.name, 'InvalidArgument');
  const samePriority = await s3Failure(
    putConfig(bucket, {
      Role: ROLE,
      Rules: [ruleTo(DESTINATION, 'a/', 'x'), ruleTo(DESTINATION, 'b/', 'y')],
    }),
  );
  t.is(samePriority.name, 'InvalidArgument');
  t.regex(samePriority.message, /Priority must be unique/);
});

test('delete marker replication with a Tag filter: InvalidRequest', async (t) => {
  const bucket = await versionedBucket('repl-tagmarker');
  const failure = await s3Failure(
    putConfig(bucket, {
      Role: ROLE,
      Rules: [{ ...ruleTo(DESTINATION), Filter: { Tag: { Key: 'k', Value: 'v' } } }],
    }),
  );
  t.is(failure.name, 'InvalidRequest');
  t.regex(failure.message, /Delete marker replication is not supported/);
});

test('malformed documents: MalformedXML (schema, missing parts, too many rules)', async (t) => {
  const bucket = await versionedBucket('repl-malformed');
  const destination = `<Destination><Bucket>arn:aws:s3:::${DESTINATION}</Bucket></Destination>`;
  const cases = [
    '<ReplicationConfiguration><Rule>',
    '<ReplicationConfiguration></ReplicationConfiguration>',
    `<ReplicationConfiguration><Rule><Status>Enabled</Status><Prefix/></Rule></ReplicationConfiguration>`,
    `<ReplicationConfiguration><Rule><Status>On</Status><Prefix/>${destination}</Rule></ReplicationConfiguration>`,
    `<ReplicationConfiguration><Rule><Status>Enabled</Status><Prefix/>${destination}<Bogus/></Rule></ReplicationConfiguration>`,
    `<ReplicationConfiguration><Rule><Status>Enabled</Status><Prefix/><Destination><Bucket>arn:aws:s3:::${DESTINATION}</Bucket><StorageClass>COLD</StorageClass></Destination></Rule></ReplicationConfiguration>`,
    `<ReplicationConfiguration>${`<Rule><Status>Enabled</Status><Prefix/>${destination}</Rule>`.repeat(1001)}</ReplicationConfiguration>`,
  ];
  for (const xml of cases) {
    const answer = await putRaw(bucket, xml);
    t.is(answer.code, 'MalformedXML', xml.slice(0, 200));
    t.is(answer.status, 400);
  }
  const badPriority = await putRaw(
    bucket,
    `<ReplicationConfiguration><Rule><Priority>-1</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>${destination}</Rule></ReplicationConfiguration>`,
  );
  t.is(badPriority.code, 'InvalidArgument');
  const mixed = await putRaw(
    bucket,
    `<ReplicationConfiguration><Rule><ID>a</ID><Priority>1</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>${destination}</Rule><Rule><ID>b</ID><Status>Enabled</Status><Prefix>x</Prefix>${destination}</Rule></ReplicationConfiguration>`,
  );
  t.is(mixed.code, 'InvalidRequest', 'V1 and V2 rules do not mix');
});

test('only the bucket owner configures replication', async (t) => {
  const bucket = await versionedBucket('repl-owner');
  const writer = await createKey(suite.server, `repl-writer-${process.pid}`);
  await grant(suite.server, bucket, writer, 'read', 'write');
  const client = suite.server.client(writer);
  const failure = await s3Failure(
    client.send(
      new PutBucketReplicationCommand({
        Bucket: bucket,
        ReplicationConfiguration: { Role: ROLE, Rules: [ruleTo(DESTINATION)] },
      }),
    ),
  );
  t.is(failure.status, 403);
  t.is(failure.name, 'AccessDenied');
  const read = await s3Failure(client.send(new GetBucketReplicationCommand({ Bucket: bucket })));
  t.is(read.name, 'AccessDenied');
});

test('x-hangar-replica: REPLICA from a key allowed s3:ReplicateObject, AccessDenied otherwise', async (t) => {
  const bucket = await versionedBucket('repl-replica');
  const reader = await createKey(suite.server, `repl-reader-${process.pid}`);
  await grant(suite.server, bucket, reader, 'read');
  const refused = await signedFetchAs(bucket, 'refused', { 'x-hangar-replica': 'true' }, reader);
  t.is(refused, 403);
  const writer = await createKey(suite.server, `repl-replicator-${process.pid}`);
  await grant(suite.server, bucket, writer, 'read', 'write');
  t.is(await signedFetchAs(bucket, 'accepted', { 'x-hangar-replica': 'true' }, writer), 200);
  t.is((await headOrNone(suite.s3, bucket, 'accepted'))?.ReplicationStatus, 'REPLICA');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
  t.is((await headOrNone(suite.s3, bucket, 'plain'))?.ReplicationStatus, undefined);
  t.is(await signedFetchAs(bucket, 'odd', { 'x-hangar-replica': 'maybe' }, writer), 400);
});

/** A PutObject with extra headers, signed by `key` through the SDK (headers added unsigned-safe). */
async function signedFetchAs(
  bucket: string,
  key: string,
  headers: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<number> {
  const client = suite.server.client(credentials);
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers: Record<string, string> };
      Object.assign(request.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'extraHeaders' },
  );
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'replica bytes' }));
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  } finally {
    client.destroy();
  }
}

test('admin API: remotes are validated, listed without secrets, removed', async (t) => {
  const list = await adminCall(suite.server, 'GET', '/v2/ListRemotes');
  t.is(list.status, 200);
  t.false(list.text.includes('far-secret-key'));
  t.deepEqual(list.json[0].buckets, [DESTINATION, OTHER_DESTINATION]);
  const info = await adminCall(suite.server, 'GET', '/v2/GetRemoteInfo?name=far');
  t.is(info.json.endpoint, 'http://127.0.0.1:9');
  t.is(info.json.secretAccessKey, undefined);
  const badEndpoint = await adminCall(suite.server, 'POST', '/v2/AddRemote', {
    name: 'bad',
    endpoint: 'ftp://example.com',
    accessKeyId: 'K',
    secretAccessKey: 'S',
    buckets: ['some-bucket'],
  });
  t.is(badEndpoint.status, 400);
  const taken = await adminCall(suite.server, 'POST', '/v2/AddRemote', {
    name: 'second',
    endpoint: 'http://127.0.0.1:10',
    accessKeyId: 'K',
    secretAccessKey: 'S',
    buckets: [DESTINATION],
  });
  t.is(taken.status, 409);
  t.is(taken.json.code, 'BucketServed');
  const again = await adminCall(suite.server, 'POST', '/v2/AddRemote', {
    name: 'far',
    endpoint: 'http://127.0.0.1:10',
    accessKeyId: 'K',
    secretAccessKey: 'S',
    buckets: ['x-bucket'],
  });
  t.is(again.status, 409);
  t.is(again.json.code, 'RemoteExists');
  const temporary = await adminCall(suite.server, 'POST', '/v2/AddRemote', {
    name: 'temporary',
    endpoint: 'https://s3.example.com',
    accessKeyId: 'K',
    secretAccessKey: 'S',
    buckets: ['temp-bucket'],
  });
  t.is(temporary.status, 200, temporary.text);
  t.is(
    (await adminCall(suite.server, 'POST', '/v2/RemoveRemote', { name: 'temporary' })).status,
    200,
  );
  const missing = await adminCall(suite.server, 'POST', '/v2/RemoveRemote', { name: 'temporary' });
  t.is(missing.status, 404);
  t.is(missing.json.code, 'NoSuchRemote');
});

const work = useTempDir(test, 'hangar-repl-boto3-');

/** boto3 puts, reads back and deletes a configuration, and gets AWS's errors. */
const BOTO3_SCRIPT = `
import json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, bucket, destination = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
s3.create_bucket(Bucket=bucket)
def code(call):
    try:
        call()
        return None
    except ClientError as error:
        return error.response["Error"]["Code"]
rule = {"ID": "py", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "py/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": "arn:aws:s3:::" + destination, "StorageClass": "STANDARD"}}
config = {"Role": "arn:aws:iam::123456789012:role/py", "Rules": [rule]}
unversioned = code(lambda: s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config))
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
missing = code(lambda: s3.get_bucket_replication(Bucket=bucket))
s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
got = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
s3.delete_bucket_replication(Bucket=bucket)
after = code(lambda: s3.get_bucket_replication(Bucket=bucket))
print(json.dumps({"unversioned": unversioned, "missing": missing, "got": got, "after": after}))
`;

test('boto3 round-trips a replication configuration and gets AWS errors', async (t) => {
  const bucket = `repl-boto3-${process.pid}`;
  const { output, json: result } = await runBoto3(
    ['-c', BOTO3_SCRIPT, suite.server.endpoint, bucket, DESTINATION],
    work,
  );
  t.is(result['unversioned'], 'InvalidRequest', output);
  t.is(result['missing'], 'ReplicationConfigurationNotFoundError');
  t.is(result['after'], 'ReplicationConfigurationNotFoundError');
  t.deepEqual(result['got'], {
    Role: 'arn:aws:iam::123456789012:role/py',
    Rules: [
      {
        ID: 'py',
        Priority: 1,
        Status: 'Enabled',
        Filter: { Prefix: 'py/' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        Destination: { Bucket: `arn:aws:s3:::${DESTINATION}`, StorageClass: 'STANDARD' },
      },
    ],
  });
});

test('hangar remote add|list|info|remove, through the server and offline', async (t) => {
  const addArgs = [
    'remote',
    'add',
    'cli-remote',
    '--endpoint',
    'http://127.0.0.1:11',
    '--access-key',
    'CLIKEY',
    '--bucket',
    'cli-bucket-a',
    'arn:aws:s3:::cli-bucket-b',
    '--json',
  ];
  const added = await suite.server.cli(...addArgs);
  t.is(added.code, 2, 'no secret: a usage error');
  const withSecret = await runCli(['--data-dir', suite.server.dataDir, ...addArgs], {
    HANGAR_ADMIN_TOKEN: ADMIN_TOKEN,
    HANGAR_REMOTE_SECRET_KEY: 'cli-secret',
  });
  t.is(withSecret.code, 0, withSecret.stderr);
  t.deepEqual(JSON.parse(withSecret.stdout).buckets, ['cli-bucket-a', 'cli-bucket-b']);
  const listed = await suite.server.cli('remote', 'list');
  t.regex(listed.stdout, /cli-remote\s+http:\/\/127\.0\.0\.1:11/);
  t.false(listed.stdout.includes('cli-secret'));
  const info = await suite.server.cli('remote', 'info', 'cli-remote', '--json');
  t.is(JSON.parse(info.stdout).accessKeyId, 'CLIKEY');
  t.is((await suite.server.cli('remote', 'remove', 'cli-remote')).code, 0);
  t.is((await suite.server.cli('remote', 'remove', 'cli-remote')).code, 1);

  // Offline: on the catalog of a data directory no server runs on.
  const offline = ['--data-dir', offlineDir, 'remote'];
  const made = await runCli(
    [...offline, 'add', 'o', '--endpoint', 'https://s3.example.com', '--access-key', 'K'],
    { HANGAR_REMOTE_SECRET_KEY: 's' },
  );
  t.is(made.code, 2, 'no --bucket: a usage error');
  const good = await runCli(
    [
      ...offline,
      'add',
      'o',
      '--endpoint',
      'https://s3.example.com',
      '--access-key',
      'K',
      '--secret-key',
      's',
      '--bucket',
      'far-away',
    ],
    {},
  );
  t.is(good.code, 0, good.stderr);
  const bad = await runCli(
    [
      ...offline,
      'add',
      'p',
      '--endpoint',
      'nope',
      '--access-key',
      'K',
      '--secret-key',
      's',
      '--bucket',
      'x-y-z',
    ],
    {},
  );
  t.is(bad.code, 1);
  t.regex(bad.stderr, /endpoint/);
  const list = await runCli([...offline, 'list', '--json'], {});
  t.deepEqual(
    (JSON.parse(list.stdout) as Array<{ name: string }>).map((r) => r.name),
    ['o'],
  );
});

const offlineDir = useTempDir(test, 'hangar-remote-cli-');
