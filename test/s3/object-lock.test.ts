import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ObjectLockRetentionMode,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { FinalizeHandler, FinalizeHandlerArguments, MetadataBearer } from '@smithy/types';
import test, { type ExecutionContext } from 'ava';
import { adminCall } from '../helpers/admin.js';
import { eventually } from '../helpers/fsck.js';
import { createKey, grant } from '../helpers/keys.js';
import { newBucket, s3Failure, TestServer, useServer } from '../helpers/server.js';

// Two shards: DeleteObjects splits its entries by shard, each judged on its own shard.
const suite = useServer(test, { shards: 2 });

const DAY_MS = 24 * 60 * 60 * 1000;

let lockedCounter = 0;
/** A fresh bucket created with object lock enabled. */
async function lockedBucket(s3: S3Client, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++lockedCounter}`;
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  return name;
}

async function putLocked(
  s3: S3Client,
  bucket: string,
  key: string,
  mode: ObjectLockRetentionMode,
  untilMs: number,
): Promise<string> {
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${key} body`,
      ObjectLockMode: mode,
      ObjectLockRetainUntilDate: new Date(untilMs),
    }),
  );
  if (out.VersionId === undefined) throw new Error('a locked PUT names its version');
  return out.VersionId;
}

async function failsWith(
  t: ExecutionContext,
  promise: Promise<unknown>,
  status: number,
  code: string,
  what: string,
): Promise<string> {
  const failure = await s3Failure(promise);
  t.is(failure.status, status, `${what}: ${failure.name} ${failure.message}`);
  t.is(failure.name, code, what);
  return failure.message;
}

function deleteVersion(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string,
  bypass = false,
) {
  return s3.send(
    new DeleteObjectCommand({
      Bucket: bucket,
      Key: key,
      VersionId: versionId,
      ...(bypass ? { BypassGovernanceRetention: true } : {}),
    }),
  );
}

async function versionIds(s3: S3Client, bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map(
    (v) => `${v.Key}@${v.VersionId}`,
  );
}

// ---- bucket configuration ----

test('CreateBucket with object lock turns versioning on, and it cannot be suspended', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-create');
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  t.is(versioning.Status, 'Enabled');
  const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  t.deepEqual(config.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
  const message = await failsWith(
    t,
    s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Suspended' },
      }),
    ),
    409,
    'InvalidBucketState',
    'suspending a lock bucket',
  );
  t.regex(message, /Object Lock configuration is present/);
  // Enabled again is fine (nothing changes).
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
});

test('GetObjectLockConfiguration of a bucket without object lock is 404', async (t) => {
  const { s3 } = suite;
  const bucket = await newBucket(s3, 'lock-none');
  await failsWith(
    t,
    s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket })),
    404,
    'ObjectLockConfigurationNotFoundError',
    'no lock configuration',
  );
});

test('PutObjectLockConfiguration: default retention in days or years, AWS errors', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-config');
  const put = (rule: object | undefined, enabled = true) =>
    s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ...(enabled ? { ObjectLockEnabled: 'Enabled' as const } : {}),
          ...(rule !== undefined ? { Rule: { DefaultRetention: rule } } : {}),
        },
      }),
    );
  const get = async () =>
    (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket })))
      .ObjectLockConfiguration;
  await put({ Mode: 'GOVERNANCE', Days: 3 });
  t.deepEqual(await get(), {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3 } },
  });
  await put({ Mode: 'COMPLIANCE', Years: 2 });
  t.deepEqual(await get(), {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 2 } },
  });
  await failsWith(t, put({ Mode: 'GOVERNANCE', Days: 1, Years: 1 }), 400, 'MalformedXML', 'both');
  await failsWith(t, put({ Mode: 'GOVERNANCE' }), 400, 'MalformedXML', 'no period');
  await failsWith(t, put({ Mode: 'LOCKED', Days: 1 }), 400, 'MalformedXML', 'bad mode');
  await failsWith(t, put({ Mode: 'GOVERNANCE', Days: 0 }), 400, 'InvalidArgument', 'zero days');
  await failsWith(t, put({ Mode: 'GOVERNANCE', Years: 101 }), 400, 'InvalidArgument', '101 y');
  await failsWith(t, put(undefined, false), 400, 'MalformedXML', 'no ObjectLockEnabled');
  // The failures changed nothing; a configuration without Rule removes the default.
  t.deepEqual((await get())?.Rule, { DefaultRetention: { Mode: 'COMPLIANCE', Years: 2 } });
  await put(undefined);
  t.deepEqual(await get(), { ObjectLockEnabled: 'Enabled' });
});

test('PutObjectLockConfiguration enables object lock only on a versioned bucket', async (t) => {
  const { s3 } = suite;
  const bucket = await newBucket(s3, 'lock-later');
  const enable = () =>
    s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' },
      }),
    );
  await failsWith(t, enable(), 409, 'InvalidBucketState', 'unversioned bucket');
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  await enable();
  const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  t.is(config.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
});

// ---- a version's lock: headers, retention, legal hold ----

test('lock headers on PutObject: stored, reported by HEAD/GET and GetObjectRetention', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-headers');
  const until = new Date(Date.now() + 3 * DAY_MS);
  until.setUTCMilliseconds(0);
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'k',
      Body: 'locked',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
      ObjectLockLegalHoldStatus: 'ON',
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ObjectLockMode, 'GOVERNANCE');
  t.is(head.ObjectLockRetainUntilDate?.getTime(), until.getTime());
  t.is(head.ObjectLockLegalHoldStatus, 'ON');
  const got = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: put.VersionId }),
  );
  t.is(got.ObjectLockMode, 'GOVERNANCE');
  t.is(await got.Body?.transformToString(), 'locked');
  const retention = await s3.send(
    new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: put.VersionId }),
  );
  t.deepEqual(retention.Retention, { Mode: 'GOVERNANCE', RetainUntilDate: until });
  const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'k' }));
  t.deepEqual(hold.LegalHold, { Status: 'ON' });
  // A version without a lock has no retention and no legal hold: 404.
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
  const plainHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(plainHead.ObjectLockMode, undefined);
  t.is(plainHead.ObjectLockLegalHoldStatus, undefined);
  await failsWith(
    t,
    s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'plain' })),
    404,
    'NoSuchObjectLockConfiguration',
    'no retention',
  );
  await failsWith(
    t,
    s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'plain' })),
    404,
    'NoSuchObjectLockConfiguration',
    'no legal hold',
  );
});

test('lock headers: AWS errors for bad or partial values and for buckets without lock', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-bad');
  const future = new Date(Date.now() + DAY_MS);
  const put = (input: object) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ...input }));
  await failsWith(t, put({ ObjectLockMode: 'GOVERNANCE' }), 400, 'InvalidArgument', 'no date');
  await failsWith(t, put({ ObjectLockRetainUntilDate: future }), 400, 'InvalidArgument', 'no mode');
  await failsWith(
    t,
    put({ ObjectLockMode: 'FOREVER', ObjectLockRetainUntilDate: future }),
    400,
    'InvalidArgument',
    'bad mode',
  );
  const past = await failsWith(
    t,
    put({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) }),
    400,
    'InvalidArgument',
    'past date',
  );
  t.regex(past, /must be in the future/);
  await failsWith(t, put({ ObjectLockLegalHoldStatus: 'MAYBE' }), 400, 'InvalidArgument', 'hold');
  const plain = await newBucket(s3, 'lock-bad-plain');
  const missing = await failsWith(
    t,
    s3.send(
      new PutObjectCommand({
        Bucket: plain,
        Key: 'k',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: future,
      }),
    ),
    400,
    'InvalidRequest',
    'bucket without lock',
  );
  t.regex(missing, /missing Object Lock Configuration/);
  await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x' }));
  await failsWith(
    t,
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: plain,
        Key: 'k',
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future },
      }),
    ),
    400,
    'InvalidRequest',
    'PutObjectRetention without lock',
  );
  await failsWith(
    t,
    s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: 'k' })),
    400,
    'InvalidRequest',
    'GetObjectLegalHold without lock',
  );
  t.deepEqual(await versionIds(s3, bucket), [], 'no refused PUT stored anything');
});

test('PutObject with lock headers needs Content-MD5 or a checksum', async (t) => {
  const { server } = suite;
  // WHEN_REQUIRED: the SDK adds no checksum to PutObject by itself.
  const bare = server.client(undefined, { requestChecksumCalculation: 'WHEN_REQUIRED' });
  const bucket = await lockedBucket(bare, 'lock-md5');
  const input = {
    Bucket: bucket,
    Key: 'k',
    Body: 'x',
    ObjectLockMode: 'GOVERNANCE' as const,
    ObjectLockRetainUntilDate: new Date(Date.now() + DAY_MS),
  };
  const message = await failsWith(
    t,
    bare.send(new PutObjectCommand(input)),
    400,
    'InvalidRequest',
    'no digest',
  );
  t.regex(message, /Content-MD5 OR x-amz-checksum-/);
  await bare.send(new PutObjectCommand({ ...input, ContentMD5: 'ndTkYSaMgDT1yFZOFVxnpg==' }));
  await bare.send(new PutObjectCommand({ ...input, ChecksumAlgorithm: 'CRC32' }));
  // Without lock headers nothing is required.
  await bare.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
  t.is((await versionIds(bare, bucket)).length, 3);
});

/** A client whose requests lose Content-MD5 and every x-amz-checksum-* header before signing. */
function clientWithoutDigests(): S3Client {
  const client = suite.server.client(undefined, { requestChecksumCalculation: 'WHEN_REQUIRED' });
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<object, MetadataBearer>) =>
      async (args: FinalizeHandlerArguments<object>) => {
        const request = args.request as { headers?: Record<string, string> };
        for (const name of Object.keys(request.headers ?? {})) {
          const lower = name.toLowerCase();
          if (lower === 'content-md5' || lower.startsWith('x-amz-checksum-')) {
            delete request.headers?.[name];
          }
          if (lower === 'x-amz-sdk-checksum-algorithm') delete request.headers?.[name];
        }
        return next(args);
      },
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'stripDigests' },
  );
  return client;
}

test('the lock configuration, retention and legal hold PUTs need Content-MD5 or a checksum', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-digest');
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const bare = clientWithoutDigests();
  const calls: Array<[string, () => Promise<unknown>]> = [
    [
      'PutObjectLockConfiguration',
      () =>
        bare.send(
          new PutObjectLockConfigurationCommand({
            Bucket: bucket,
            ObjectLockConfiguration: {
              ObjectLockEnabled: 'Enabled',
              Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
            },
          }),
        ),
    ],
    [
      'PutObjectRetention',
      () =>
        bare.send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: 'k',
            VersionId: put.VersionId,
            Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + DAY_MS) },
          }),
        ),
    ],
    [
      'PutObjectLegalHold',
      () =>
        bare.send(
          new PutObjectLegalHoldCommand({
            Bucket: bucket,
            Key: 'k',
            VersionId: put.VersionId,
            LegalHold: { Status: 'ON' },
          }),
        ),
    ],
  ];
  for (const [name, call] of calls) {
    const message = await failsWith(t, call(), 400, 'InvalidRequest', name);
    t.regex(message, /Content-MD5/, name);
  }
  // Nothing changed: no default retention, no retention, no legal hold.
  const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  t.is(config.ObjectLockConfiguration?.Rule, undefined);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ObjectLockMode, undefined);
  t.is(head.ObjectLockLegalHoldStatus, undefined);
});

test('COMPLIANCE: no one deletes the version, root and bypass included; a marker is fine', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-compliance');
  const v1 = await putLocked(s3, bucket, 'k', 'COMPLIANCE', Date.now() + DAY_MS);
  await failsWith(t, deleteVersion(s3, bucket, 'k', v1), 403, 'AccessDenied', 'delete');
  await failsWith(t, deleteVersion(s3, bucket, 'k', v1, true), 403, 'AccessDenied', 'bypass');
  // A DeleteObject without versionId only adds a delete marker: allowed.
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.true(marker.DeleteMarker);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }));
  t.is(await got.Body?.transformToString(), 'k body');
  // The marker itself can be removed; the version stays.
  await deleteVersion(s3, bucket, 'k', marker.VersionId ?? '');
  t.deepEqual(await versionIds(s3, bucket), [`k@${v1}`]);
});

test('DeleteObjects reports locked versions as AccessDenied errors and deletes the rest', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-multi');
  const locked = await Promise.all(
    ['a', 'b', 'c', 'd'].map((key) =>
      putLocked(s3, bucket, key, 'COMPLIANCE', Date.now() + DAY_MS),
    ),
  );
  const free = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'free', Body: 'f' }));
  const answer = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      BypassGovernanceRetention: true,
      Delete: {
        Quiet: true,
        Objects: [
          ...['a', 'b', 'c', 'd'].map((key, i) => ({ Key: key, VersionId: locked[i] })),
          { Key: 'free', VersionId: free.VersionId },
        ],
      },
    }),
  );
  t.is(answer.Deleted, undefined, 'quiet');
  const errors = (answer.Errors ?? []).map((e) => `${e.Key}@${e.VersionId}:${e.Code}`).sort();
  t.deepEqual(
    errors,
    ['a', 'b', 'c', 'd'].map((key, i) => `${key}@${locked[i]}:AccessDenied`),
  );
  t.deepEqual(
    (await versionIds(s3, bucket)).sort(),
    ['a', 'b', 'c', 'd'].map((key, i) => `${key}@${locked[i]}`).sort(),
  );
});

test('a lock moves with its version: demoted, then promoted back to current', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-moves');
  const locked = await putLocked(s3, bucket, 'k', 'COMPLIANCE', Date.now() + DAY_MS);
  const plain = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'new' }));
  // Now noncurrent (in the versions table): still locked.
  await failsWith(t, deleteVersion(s3, bucket, 'k', locked), 403, 'AccessDenied', 'noncurrent');
  await deleteVersion(s3, bucket, 'k', plain.VersionId ?? '');
  // Current again (back in the objects table): still locked, and HEAD says so.
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.VersionId, locked);
  t.is(head.ObjectLockMode, 'COMPLIANCE');
  const answer = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: {
        Objects: [
          { Key: 'k', VersionId: locked },
          { Key: 'gone', VersionId: 'null' },
        ],
      },
    }),
  );
  t.deepEqual(
    answer.Errors?.map((e) => [e.Key, e.VersionId, e.Code, e.Message]),
    [['k', locked, 'AccessDenied', 'Access Denied']],
  );
  t.deepEqual(
    answer.Deleted?.map((d) => [d.Key, d.VersionId]),
    [['gone', 'null']],
  );
  t.deepEqual(await versionIds(s3, bucket), [`k@${locked}`]);
});

test('GOVERNANCE yields to x-amz-bypass-governance-retention from an owner only', async (t) => {
  const { s3, server } = suite;
  const bucket = await lockedBucket(s3, 'lock-gov');
  const v1 = await putLocked(s3, bucket, 'k', 'GOVERNANCE', Date.now() + DAY_MS);
  const v2 = await putLocked(s3, bucket, 'k', 'GOVERNANCE', Date.now() + DAY_MS);
  await failsWith(t, deleteVersion(s3, bucket, 'k', v1), 403, 'AccessDenied', 'no bypass');
  const writer = await createKey(server, 'lock-writer');
  await grant(server, bucket, writer, 'read', 'write');
  const writerS3 = server.client(writer);
  await failsWith(
    t,
    deleteVersion(writerS3, bucket, 'k', v1, true),
    403,
    'AccessDenied',
    'bypass without the owner grant',
  );
  // DeleteObjects judges the bypass the same way: the entry is refused, nothing removed.
  const many = await writerS3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      BypassGovernanceRetention: true,
      Delete: { Objects: [{ Key: 'k', VersionId: v1 }] },
    }),
  );
  t.deepEqual(
    (many.Errors ?? []).map((e) => `${e.Key}@${e.VersionId}:${e.Code}`),
    [`k@${v1}:AccessDenied`],
  );
  t.is(many.Deleted, undefined);
  const owner = await createKey(server, 'lock-owner');
  await grant(server, bucket, owner, 'read', 'write', 'owner');
  await deleteVersion(server.client(owner), bucket, 'k', v1, true);
  // Root holds every grant: it may bypass GOVERNANCE too.
  await deleteVersion(s3, bucket, 'k', v2, true);
  t.deepEqual(await versionIds(s3, bucket), []);
});

test('retention changes: COMPLIANCE only extends; GOVERNANCE shortens with the bypass', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-change');
  const base = Date.now() + 2 * DAY_MS;
  const setRetention = (
    versionId: string,
    mode: ObjectLockRetentionMode | undefined,
    untilMs: number | undefined,
    bypass = false,
  ) =>
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: versionId,
        Retention: {
          ...(mode !== undefined ? { Mode: mode } : {}),
          ...(untilMs !== undefined ? { RetainUntilDate: new Date(untilMs) } : {}),
        },
        ...(bypass ? { BypassGovernanceRetention: true } : {}),
      }),
    );
  const retention = async (versionId: string) =>
    (
      await s3.send(
        new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId }),
      )
    ).Retention;

  const compliance = await putLocked(s3, bucket, 'k', 'COMPLIANCE', base);
  await setRetention(compliance, 'COMPLIANCE', base + DAY_MS);
  t.is((await retention(compliance))?.RetainUntilDate?.getTime(), base + DAY_MS);
  await failsWith(t, setRetention(compliance, 'COMPLIANCE', base), 403, 'AccessDenied', 'shorten');
  await failsWith(
    t,
    setRetention(compliance, 'GOVERNANCE', base + 2 * DAY_MS, true),
    403,
    'AccessDenied',
    'COMPLIANCE to GOVERNANCE',
  );
  await failsWith(
    t,
    setRetention(compliance, undefined, undefined, true),
    403,
    'AccessDenied',
    'rm',
  );
  t.deepEqual(await retention(compliance), {
    Mode: 'COMPLIANCE',
    RetainUntilDate: new Date(base + DAY_MS),
  });

  const governance = await putLocked(s3, bucket, 'k', 'GOVERNANCE', base);
  await setRetention(governance, 'GOVERNANCE', base + DAY_MS);
  await failsWith(t, setRetention(governance, 'GOVERNANCE', base), 403, 'AccessDenied', 'shorten');
  await failsWith(
    t,
    setRetention(governance, 'COMPLIANCE', base + 2 * DAY_MS),
    403,
    'AccessDenied',
    'GOVERNANCE to COMPLIANCE without bypass',
  );
  await setRetention(governance, 'GOVERNANCE', base, true);
  t.is((await retention(governance))?.RetainUntilDate?.getTime(), base);
  await setRetention(governance, undefined, undefined, true);
  await failsWith(
    t,
    s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: governance })),
    404,
    'NoSuchObjectLockConfiguration',
    'removed',
  );
  await deleteVersion(s3, bucket, 'k', governance);

  await failsWith(
    t,
    setRetention(compliance, 'COMPLIANCE', Date.now() - DAY_MS),
    400,
    'InvalidArgument',
    'a date in the past',
  );
  await failsWith(
    t,
    setRetention(compliance, 'COMPLIANCE', undefined),
    400,
    'MalformedXML',
    'half',
  );
});

test('legal hold: blocks deletion whatever the bypass, until it is OFF', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-hold');
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'held' }));
  const versionId = put.VersionId ?? '';
  const hold = (status: 'ON' | 'OFF') =>
    s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: versionId,
        LegalHold: { Status: status },
      }),
    );
  await hold('ON');
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  t.is(head.ObjectLockLegalHoldStatus, 'ON');
  await failsWith(t, deleteVersion(s3, bucket, 'k', versionId, true), 403, 'AccessDenied', 'held');
  await hold('OFF');
  const got = await s3.send(
    new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'k', VersionId: versionId }),
  );
  t.deepEqual(got.LegalHold, { Status: 'OFF' });
  t.is(
    (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).ObjectLockLegalHoldStatus,
    'OFF',
  );
  await deleteVersion(s3, bucket, 'k', versionId);
  t.deepEqual(await versionIds(s3, bucket), []);
  await failsWith(
    t,
    s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: bucket,
        Key: 'k',
        VersionId: versionId,
        LegalHold: { Status: 'ON' },
      }),
    ),
    404,
    'NoSuchVersion',
    'a removed version',
  );
});

test('default retention applies to PutObject, CopyObject and multipart uploads', async (t) => {
  const { s3 } = suite;
  const bucket = await lockedBucket(s3, 'lock-default');
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } },
      },
    }),
  );
  const before = Date.now();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put', Body: 'x' }));
  await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/put` }),
  );
  const explicitUntil = new Date(Date.now() + 9 * DAY_MS);
  explicitUntil.setUTCMilliseconds(0);
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'copy-own',
      CopySource: `${bucket}/put`,
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: explicitUntil,
    }),
  );
  const upload = async (key: string, input: object) => {
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...input }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: 'part',
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
  };
  await upload('mpu', {});
  await upload('mpu-own', {
    ObjectLockMode: 'COMPLIANCE',
    ObjectLockRetainUntilDate: explicitUntil,
    ObjectLockLegalHoldStatus: 'ON',
  });
  await upload('mpu-hold', { ObjectLockLegalHoldStatus: 'ON' });
  const after = Date.now();
  const lockOf = async (key: string) => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      mode: head.ObjectLockMode,
      until: head.ObjectLockRetainUntilDate?.getTime() ?? 0,
      hold: head.ObjectLockLegalHoldStatus,
    };
  };
  for (const key of ['put', 'copy', 'mpu', 'mpu-hold']) {
    const lock = await lockOf(key);
    t.is(lock.mode, 'GOVERNANCE', key);
    // Second precision on the wire: the date is the write time + 2 days, within the test.
    t.true(lock.until >= before + 2 * DAY_MS - 1000 && lock.until <= after + 2 * DAY_MS, key);
  }
  t.is((await lockOf('mpu-hold')).hold, 'ON');
  t.is((await lockOf('put')).hold, undefined);
  for (const key of ['copy-own', 'mpu-own']) {
    const lock = await lockOf(key);
    t.is(lock.mode, 'COMPLIANCE', key);
    t.is(lock.until, explicitUntil.getTime(), key);
  }
  t.is((await lockOf('mpu-own')).hold, 'ON');
});

test('the admin API refuses to delete a bucket holding locked versions', async (t) => {
  const { s3, server } = suite;
  const bucket = await lockedBucket(s3, 'lock-admin');
  await putLocked(s3, bucket, 'k', 'COMPLIANCE', Date.now() + DAY_MS);
  const info = await adminCall(server, 'GET', `/v2/GetBucketInfo?globalAlias=${bucket}`);
  const refused = await adminCall(server, 'POST', `/v2/DeleteBucket?id=${info.json.id}`);
  t.is(refused.status, 409);
  t.is(refused.json.code, 'BucketNotEmpty');
  t.is((await versionIds(s3, bucket)).length, 1);
});

// ---- retention under the injectable clock ----

test('retention passes with the clock: deletion and lifecycle then proceed, legal hold stays', async (t) => {
  const first = await TestServer.start();
  let second: TestServer | undefined;
  try {
    const s3 = first.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'clock', ObjectLockEnabledForBucket: true }));
    const short = await putLocked(s3, 'clock', 'short', 'COMPLIANCE', Date.now() + DAY_MS);
    const long = await putLocked(s3, 'clock', 'long', 'COMPLIANCE', Date.now() + 10 * DAY_MS);
    const held = await s3.send(
      new PutObjectCommand({
        Bucket: 'clock',
        Key: 'held',
        Body: 'h',
        ObjectLockLegalHoldStatus: 'ON',
      }),
    );
    // Noncurrent versions for lifecycle: one locked past the clock, one unlocked.
    const oldLocked = await putLocked(s3, 'clock', 'lc', 'GOVERNANCE', Date.now() + 10 * DAY_MS);
    await s3.send(new PutObjectCommand({ Bucket: 'clock', Key: 'lc', Body: 'old free' }));
    const current = await s3.send(
      new PutObjectCommand({ Bucket: 'clock', Key: 'lc', Body: 'new' }),
    );
    await failsWith(t, deleteVersion(s3, 'clock', 'short', short), 403, 'AccessDenied', 'now');
    await first.stop();

    // Three days later: the one-day retention has passed, the ten-day one has not.
    second = await TestServer.start({
      dataDir: first.dataDir,
      env: { HANGAR_CLOCK_OFFSET_MS: String(3 * DAY_MS) },
    });
    const later = second.client();
    // A date two days ahead of the real clock is in the past of the server's clock.
    await failsWith(
      t,
      later.send(
        new PutObjectRetentionCommand({
          Bucket: 'clock',
          Key: 'long',
          VersionId: long,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 2 * DAY_MS) },
        }),
      ),
      400,
      'InvalidArgument',
      'a date before the server clock',
    );
    await deleteVersion(later, 'clock', 'short', short);
    await failsWith(t, deleteVersion(later, 'clock', 'long', long), 403, 'AccessDenied', 'long');
    await failsWith(
      t,
      deleteVersion(later, 'clock', 'held', held.VersionId ?? '', true),
      403,
      'AccessDenied',
      'legal hold has no date',
    );
    // A retention that has passed can be set anew without the bypass, even shorter than before.
    await later.send(
      new PutObjectRetentionCommand({
        Bucket: 'clock',
        Key: 'held',
        VersionId: held.VersionId,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 4 * DAY_MS) },
      }),
    );
    await later.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'clock',
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'noncurrent',
              Status: 'Enabled',
              Filter: { Prefix: 'lc' },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
          ],
        },
      }),
    );
    second.process.kill('SIGUSR2');
    const expected = [`lc@${current.VersionId}`, `lc@${oldLocked}`];
    const lcVersions = async () =>
      (await versionIds(later, 'clock')).filter((id) => id.startsWith('lc@'));
    t.true(
      await eventually(async () => (await lcVersions()).join() === expected.join(), 20_000, 100),
    );
    t.deepEqual(await lcVersions(), expected, 'lifecycle expired the free version, not the locked');
  } finally {
    await second?.destroy();
    await first.destroy();
  }
});
