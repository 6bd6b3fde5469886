import {
  CreateBucketCommand,
  DeleteObjectTaggingCommand,
  DeletePublicAccessBlockCommand,
  GetObjectAclCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  type Grant,
  ListObjectVersionsCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type ReplicationRule,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { finishedRequests } from '../helpers/metrics.js';
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
import { newBucket, TestServer } from '../helpers/server.js';

// hangar → a second hangar process, for metadata changes after a version was replicated: the
// source's tag, ACL, retention and legal hold changes reach the replica; a replica's go back to
// its source only with ReplicaModifications; a mutual pair does not loop; a change queued before
// a kill -9 is still delivered.

const ROOT = ROOT_CREDENTIALS;
const SOURCE_ENV = { ...QUICK_REPLICATION_ENV, HANGAR_REPLICATION_ATTEMPTS_MAX: '80' };
const EXPECTED = REPLICATION_FAILURE_LOGS;
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const DAY_MS = 24 * 60 * 60 * 1000;

let source: TestServer;
let destination: TestServer;
let src: S3Client;
let dst: S3Client;

test.before(async () => {
  destination = await TestServer.start({ shards: 2, env: SOURCE_ENV, expectedLogErrors: EXPECTED });
  source = await TestServer.start({ shards: 2, env: SOURCE_ENV, expectedLogErrors: EXPECTED });
  src = source.client();
  dst = destination.client();
});

test.after.always(async () => {
  await source?.destroy();
  await destination?.destroy();
});

type Kind = 'plain' | 'acl' | 'lock';

/** A bucket as a pair needs it: versioned; ACLs enabled for 'acl' and 'lock' (Object Lock). */
async function bucketFor(s3: S3Client, prefix: string, kind: Kind): Promise<string> {
  let bucket: string;
  if (kind === 'lock') {
    bucket = `${prefix}-${process.pid}-lock`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  } else {
    bucket = await newBucket(s3, prefix);
    await setVersioning(s3, bucket);
  }
  if (kind !== 'plain') {
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      }),
    );
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  }
  return bucket;
}

/**
 * A source bucket replicating to a destination bucket; with `back`, the destination replicates
 * to the source too (a mutual pair), syncing replica modifications when `back.modifications`.
 */
async function pair(
  prefix: string,
  kind: Kind,
  back?: { modifications: boolean },
): Promise<{ from: string; to: string }> {
  const from = await bucketFor(src, `${prefix}-src`, kind);
  const to = await bucketFor(dst, `${prefix}-dst`, kind);
  await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
  await replicateTo(src, from, [ruleTo(to)]);
  if (back !== undefined) {
    await addRemote(destination, `remote-${from}`, source.endpoint, [from], ROOT);
    const rule: ReplicationRule = back.modifications
      ? {
          ...ruleTo(from),
          SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
        }
      : ruleTo(from);
    await replicateTo(dst, to, [rule]);
  }
  return { from, to };
}

/** Writes `key` at the source and waits until its replica is at the destination. */
async function replicated(from: string, to: string, key: string): Promise<void> {
  await src.send(new PutObjectCommand({ Bucket: from, Key: key, Body: `body of ${key}` }));
  await statusBecomes(src, from, key, 'COMPLETED');
  await eventually('the replica', () => headOrNone(dst, to, key));
}

async function tagsOf(s3: S3Client, bucket: string, key: string): Promise<string[]> {
  const { TagSet } = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return (TagSet ?? []).map((tag) => `${tag.Key}=${tag.Value}`).sort();
}

function tagsBecome(s3: S3Client, bucket: string, key: string, wanted: string[]): Promise<true> {
  return eventually(`${bucket}/${key} tagged ${wanted.join('&') || 'nothing'}`, async () =>
    JSON.stringify(await tagsOf(s3, bucket, key)) === JSON.stringify(wanted) ? true : undefined,
  );
}

function readsPublicly(grants: readonly Grant[] | undefined): boolean {
  return (grants ?? []).some((g) => g.Grantee?.URI === ALL_USERS && g.Permission === 'READ');
}

/** A version's legal hold: 'OFF' when it never had one (NoSuchObjectLockConfiguration). */
async function legalHoldOf(s3: S3Client, bucket: string, key: string): Promise<string> {
  try {
    const answer = await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: key }));
    return answer.LegalHold?.Status ?? 'OFF';
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchObjectLockConfiguration') {
      return 'OFF';
    }
    throw error;
  }
}

async function versionCount(s3: S3Client, bucket: string, key: string): Promise<number> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return listed.Versions?.length ?? 0;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.serial("a source's tag change and tag deletion reach its replica", async (t) => {
  const { from, to } = await pair('meta-tags', 'plain');
  await replicated(from, to, 'doc');
  await src.send(
    new PutObjectTaggingCommand({
      Bucket: from,
      Key: 'doc',
      Tagging: { TagSet: [{ Key: 'state', Value: 'reviewed' }] },
    }),
  );
  t.is((await headOrNone(src, from, 'doc'))?.ReplicationStatus, 'COMPLETED', 'status kept');
  await tagsBecome(dst, to, 'doc', ['state=reviewed']);
  await src.send(new DeleteObjectTaggingCommand({ Bucket: from, Key: 'doc' }));
  await tagsBecome(dst, to, 'doc', []);
  t.is((await headOrNone(dst, to, 'doc'))?.ReplicationStatus, 'REPLICA');
  t.is(await versionCount(dst, to, 'doc'), 1, 'only metadata travelled, no new version');
});

test.serial('a tag change does not replicate a version that was never replicated', async (t) => {
  const { from, to } = await pair('meta-old', 'plain');
  // Only tagged objects replicate: an untagged one gets no status.
  await replicateTo(src, from, [
    {
      ...ruleTo(to),
      Filter: { Tag: { Key: 'ship', Value: 'yes' } },
      DeleteMarkerReplication: { Status: 'Disabled' },
    },
  ]);
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'late', Body: 'late' }));
  await src.send(
    new PutObjectCommand({ Bucket: from, Key: 'probe', Body: 'p', Tagging: 'ship=yes' }),
  );
  await statusBecomes(src, from, 'probe', 'COMPLETED');
  await src.send(
    new PutObjectTaggingCommand({
      Bucket: from,
      Key: 'late',
      Tagging: { TagSet: [{ Key: 'ship', Value: 'yes' }] },
    }),
  );
  await src.send(
    new PutObjectCommand({ Bucket: from, Key: 'probe2', Body: 'p', Tagging: 'ship=yes' }),
  );
  await statusBecomes(src, from, 'probe2', 'COMPLETED');
  await pause(300);
  t.is((await headOrNone(src, from, 'late'))?.ReplicationStatus, undefined);
  t.is(await headOrNone(dst, to, 'late'), undefined, 'as AWS: Batch Replication (repair) sends it');
});

test.serial("a source's ACL change reaches its replica", async (t) => {
  const { from, to } = await pair('meta-acl', 'acl');
  await replicated(from, to, 'doc');
  const before = await dst.send(new GetObjectAclCommand({ Bucket: to, Key: 'doc' }));
  t.false(readsPublicly(before.Grants));
  await src.send(new PutObjectAclCommand({ Bucket: from, Key: 'doc', ACL: 'public-read' }));
  await eventually('the public-read grant at the destination', async () => {
    const acl = await dst.send(new GetObjectAclCommand({ Bucket: to, Key: 'doc' }));
    return readsPublicly(acl.Grants) ? true : undefined;
  });
  t.is((await headOrNone(src, from, 'doc'))?.ReplicationStatus, 'COMPLETED');
  t.is((await headOrNone(dst, to, 'doc'))?.ReplicationStatus, 'REPLICA');
});

test.serial("a source's retention extension and legal hold reach its replica", async (t) => {
  const { from, to } = await pair('meta-lock', 'lock');
  const until = new Date(Math.ceil((Date.now() + DAY_MS) / 1000) * 1000);
  await src.send(
    new PutObjectCommand({
      Bucket: from,
      Key: 'doc',
      Body: 'kept',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
    }),
  );
  await statusBecomes(src, from, 'doc', 'COMPLETED');
  const later = new Date(until.getTime() + DAY_MS);
  await src.send(
    new PutObjectRetentionCommand({
      Bucket: from,
      Key: 'doc',
      Retention: { Mode: 'GOVERNANCE', RetainUntilDate: later },
    }),
  );
  await src.send(
    new PutObjectLegalHoldCommand({ Bucket: from, Key: 'doc', LegalHold: { Status: 'ON' } }),
  );
  await eventually('the extended retention at the destination', async () => {
    const got = await dst.send(new GetObjectRetentionCommand({ Bucket: to, Key: 'doc' }));
    return got.Retention?.RetainUntilDate?.getTime() === later.getTime() ? true : undefined;
  });
  await eventually('the legal hold at the destination', async () =>
    (await legalHoldOf(dst, to, 'doc')) === 'ON' ? true : undefined,
  );
  t.is((await headOrNone(dst, to, 'doc'))?.ReplicationStatus, 'REPLICA');
});

test.serial(
  "a replica's ACL and lock changes go back with ReplicaModifications, not without",
  async (t) => {
    const synced = await pair('meta-back', 'lock', { modifications: true });
    const unsynced = await pair('meta-noback', 'lock', { modifications: false });
    for (const { from, to } of [synced, unsynced]) {
      await replicated(from, to, 'doc');
      await dst.send(new PutObjectAclCommand({ Bucket: to, Key: 'doc', ACL: 'public-read' }));
      await dst.send(
        new PutObjectLegalHoldCommand({ Bucket: to, Key: 'doc', LegalHold: { Status: 'ON' } }),
      );
    }
    await eventually('the legal hold back at the source', async () =>
      (await legalHoldOf(src, synced.from, 'doc')) === 'ON' ? true : undefined,
    );
    const acl = await src.send(new GetObjectAclCommand({ Bucket: synced.from, Key: 'doc' }));
    t.true(readsPublicly(acl.Grants), 'the ACL went back too');
    t.is((await headOrNone(src, synced.from, 'doc'))?.ReplicationStatus, 'COMPLETED');
    // Without ReplicaModifications: a later original replicates back, the changes do not.
    const { from, to } = unsynced;
    await dst.send(new PutObjectCommand({ Bucket: to, Key: 'probe', Body: 'p' }));
    await statusBecomes(dst, to, 'probe', 'COMPLETED');
    await pause(300);
    t.is(await legalHoldOf(src, from, 'doc'), 'OFF');
    const kept = await src.send(new GetObjectAclCommand({ Bucket: from, Key: 'doc' }));
    t.false(readsPublicly(kept.Grants));
  },
);

test.serial('a mutual pair passes a metadata change once, with no loop', async (t) => {
  const { from, to } = await pair('meta-loop', 'plain', { modifications: true });
  await replicated(from, to, 'doc');
  const sourceTagging = await finishedRequests(source, 'PutObjectTagging');
  const destinationTagging = await finishedRequests(destination, 'PutObjectTagging');
  await src.send(
    new PutObjectTaggingCommand({
      Bucket: from,
      Key: 'doc',
      Tagging: { TagSet: [{ Key: 'round', Value: 'one' }] },
    }),
  );
  await tagsBecome(dst, to, 'doc', ['round=one']);
  await pause(1000);
  t.is(await finishedRequests(source, 'PutObjectTagging'), sourceTagging + 1, "the client's only");
  t.is(
    await finishedRequests(destination, 'PutObjectTagging'),
    destinationTagging + 1,
    'one replicated change, not sent back',
  );
  t.is(await versionCount(src, from, 'doc'), 1);
  t.is(await versionCount(dst, to, 'doc'), 1);
});

test.serial('kill -9 after a change, before its delivery: the change still arrives', async (t) => {
  const { from, to } = await pair('meta-crash', 'plain');
  await replicated(from, to, 'doc');
  await destination.stop();
  await src.send(
    new PutObjectTaggingCommand({
      Bucket: from,
      Key: 'doc',
      Tagging: { TagSet: [{ Key: 'durable', Value: 'yes' }] },
    }),
  );
  await source.kill();
  source = await TestServer.start({
    shards: 2,
    dataDir: source.dataDir,
    env: SOURCE_ENV,
    expectedLogErrors: EXPECTED,
  });
  src = source.client();
  destination = await TestServer.start({
    shards: 2,
    dataDir: destination.dataDir,
    port: destination.port,
    env: SOURCE_ENV,
    expectedLogErrors: EXPECTED,
  });
  dst = destination.client();
  await tagsBecome(dst, to, 'doc', ['durable=yes']);
  t.is((await headOrNone(src, from, 'doc'))?.ReplicationStatus, 'COMPLETED');
});
