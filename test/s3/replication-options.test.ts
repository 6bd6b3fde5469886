import {
  GetBucketReplicationCommand,
  PutBucketReplicationCommand,
  type ReplicationConfiguration,
  type ReplicationRule,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { runBoto3 } from '../helpers/python.js';
import { addUnreachableRemote, ruleTo, setVersioning } from '../helpers/replication.js';
import { newBucket, s3Failure, useServer, useTempDir } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { errorOf } from '../helpers/xml-error.js';

// The optional elements of a replication rule through the real server: SourceSelectionCriteria
// (SseKmsEncryptedObjects, ReplicaModifications) and Destination AccessControlTranslation,
// EncryptionConfiguration, Metrics and ReplicationTime round-trip, and each rule tying them
// together answers AWS's error, with the AWS SDK v3 and boto3.

const suite = useServer(test);
const DESTINATION = `opts-target-${process.pid}`;
const ROLE = 'arn:aws:iam::123456789012:role/replication';
const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/replica-key';

test.serial.before(async (t) => {
  const added = await addUnreachableRemote(suite.server, [DESTINATION]);
  t.is(added.status, 200, added.text);
});

async function versionedBucket(prefix: string): Promise<string> {
  const bucket = await newBucket(suite.s3, prefix);
  await setVersioning(suite.s3, bucket);
  return bucket;
}

function putRules(bucket: string, rules: ReplicationRule[]) {
  return suite.s3.send(
    new PutBucketReplicationCommand({
      Bucket: bucket,
      ReplicationConfiguration: { Role: ROLE, Rules: rules },
    }),
  );
}

/** A rule with every optional element, as AWS's documentation examples write it. */
function fullRule(): ReplicationRule {
  return {
    ...ruleTo(DESTINATION, 'all/', 'full'),
    SourceSelectionCriteria: {
      SseKmsEncryptedObjects: { Status: 'Enabled' },
      ReplicaModifications: { Status: 'Enabled' },
    },
    Destination: {
      Bucket: `arn:aws:s3:::${DESTINATION}`,
      Account: '123456789012',
      StorageClass: 'STANDARD',
      AccessControlTranslation: { Owner: 'Destination' },
      EncryptionConfiguration: { ReplicaKmsKeyID: KEY_ARN },
      ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
      Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
    },
  };
}

test('every optional element round-trips through GetBucketReplication', async (t) => {
  const bucket = await versionedBucket('repl-opts');
  const metricsOnly: ReplicationRule = {
    ...ruleTo(DESTINATION, 'metrics/', 'metrics-only'),
    Priority: 2,
    Destination: { Bucket: `arn:aws:s3:::${DESTINATION}`, Metrics: { Status: 'Enabled' } },
  };
  const configuration: ReplicationConfiguration = { Role: ROLE, Rules: [fullRule(), metricsOnly] };
  await suite.s3.send(
    new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: configuration }),
  );
  const got = await suite.s3.send(new GetBucketReplicationCommand({ Bucket: bucket }));
  t.deepEqual(got.ReplicationConfiguration, configuration);
});

/** Each invalid rule, with the code AWS answers. */
function invalidRules(): Array<[string, ReplicationRule, string]> {
  const base = fullRule();
  const destination = base.Destination ?? { Bucket: '' };
  const { Account: _account, ...withoutAccount } = destination;
  const { EncryptionConfiguration: _key, ...withoutKey } = destination;
  const { Metrics: _metrics, ...withoutMetrics } = destination;
  return [
    [
      'AccessControlTranslation without Account',
      { ...base, Destination: withoutAccount },
      'InvalidRequest',
    ],
    [
      'ReplicaKmsKeyID without SseKmsEncryptedObjects',
      { ...base, SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } } },
      'InvalidRequest',
    ],
    [
      'ReplicaKmsKeyID with SseKmsEncryptedObjects Disabled',
      { ...base, SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Disabled' } } },
      'InvalidRequest',
    ],
    [
      'SseKmsEncryptedObjects without ReplicaKmsKeyID',
      { ...base, Destination: withoutKey },
      'InvalidRequest',
    ],
    ['ReplicationTime without Metrics', { ...base, Destination: withoutMetrics }, 'InvalidRequest'],
    [
      'ReplicationTime Enabled with Metrics Disabled',
      { ...base, Destination: { ...destination, Metrics: { Status: 'Disabled' } } },
      'InvalidRequest',
    ],
    [
      'ReplicationTime Enabled without an EventThreshold',
      { ...base, Destination: { ...destination, Metrics: { Status: 'Enabled' } } },
      'InvalidRequest',
    ],
    [
      'ReplicationTime Minutes other than 15',
      {
        ...base,
        Destination: {
          ...destination,
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 10 } },
        },
      },
      'InvalidArgument',
    ],
    [
      'Metrics EventThreshold other than 15',
      {
        ...base,
        Destination: {
          ...destination,
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 30 } },
        },
      },
      'InvalidArgument',
    ],
  ];
}

test('each rule that ties the elements together answers AWS error (SDK v3)', async (t) => {
  const bucket = await versionedBucket('repl-opts-bad');
  for (const [what, rule, code] of invalidRules()) {
    const failure = await s3Failure(putRules(bucket, [rule]));
    t.is(failure.name, code, what);
    t.is(failure.status, 400, what);
  }
  // ReplicaModifications is the V2 schema's: a V1 rule (top-level Prefix) cannot have it.
  const v1: ReplicationRule = {
    ID: 'v1',
    Prefix: 'x',
    Status: 'Enabled',
    SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
    Destination: { Bucket: `arn:aws:s3:::${DESTINATION}` },
  };
  t.is((await s3Failure(putRules(bucket, [v1]))).name, 'InvalidRequest');
  // Nothing was stored by the failed puts.
  const none = await s3Failure(suite.s3.send(new GetBucketReplicationCommand({ Bucket: bucket })));
  t.is(none.name, 'ReplicationConfigurationNotFoundError');
});

test('schema errors: MalformedXML; DeleteReplication stays NotImplemented', async (t) => {
  const bucket = await versionedBucket('repl-opts-xml');
  const rule = (inner: string, destination = '') =>
    `<ReplicationConfiguration><Rule><ID>r</ID><Priority>1</Priority><Status>Enabled</Status><Filter/>${inner}<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::${DESTINATION}</Bucket><Account>123456789012</Account>${destination}</Destination></Rule></ReplicationConfiguration>`;
  const cases: Array<[string, string]> = [
    [rule('<SourceSelectionCriteria/>'), 'MalformedXML'],
    [
      rule(
        '<SourceSelectionCriteria><ReplicaModifications><Status>On</Status></ReplicaModifications></SourceSelectionCriteria>',
      ),
      'MalformedXML',
    ],
    [
      rule('', '<AccessControlTranslation><Owner>Requester</Owner></AccessControlTranslation>'),
      'MalformedXML',
    ],
    [
      rule(
        '',
        '<Metrics><Status>Enabled</Status><EventThreshold><Minutes>soon</Minutes></EventThreshold></Metrics>',
      ),
      'MalformedXML',
    ],
    [
      rule(
        '',
        '<Metrics><Status>Enabled</Status></Metrics><ReplicationTime><Status>Enabled</Status></ReplicationTime>',
      ),
      'MalformedXML',
    ],
    [rule('<DeleteReplication><Status>Enabled</Status></DeleteReplication>'), 'NotImplemented'],
  ];
  for (const [xml, code] of cases) {
    const answer = await signedFetch(suite.server.endpoint, {
      method: 'PUT',
      path: `/${bucket}?replication`,
      body: Buffer.from(xml),
    });
    t.is((await errorOf(answer)).code, code, xml);
  }
});

const work = useTempDir(test, 'hangar-repl-opts-boto3-');

/** boto3 puts the full rule, reads it back, and gets the errors of invalid rules. */
const BOTO3_SCRIPT = `
import json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, bucket, rules = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
s3.create_bucket(Bucket=bucket)
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
def code(rule):
    try:
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/py", "Rules": [rule]})
        return None
    except ClientError as error:
        return error.response["Error"]["Code"]
codes = [code(rule) for rule in rules["invalid"]]
s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={
    "Role": "arn:aws:iam::123456789012:role/py", "Rules": [rules["valid"]]})
got = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"][0]
print(json.dumps({"codes": codes, "got": got}))
`;

test('boto3: the full rule round-trips and invalid rules get AWS errors', async (t) => {
  const bucket = `repl-opts-boto3-${process.pid}`;
  const invalid = invalidRules();
  const rules = JSON.stringify({ valid: fullRule(), invalid: invalid.map(([, rule]) => rule) });
  const { output, json } = await runBoto3(
    ['-c', BOTO3_SCRIPT, suite.server.endpoint, bucket, rules],
    work,
  );
  const result = json as { codes?: string[]; got?: unknown };
  t.deepEqual(
    result.codes,
    invalid.map(([, , code]) => code),
    output,
  );
  t.deepEqual(result.got, fullRule());
});
