import {
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectAclCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { MetadataFacet, ReplicationEntry } from '../../engine/protocol/messages.js';

/**
 * A 'meta' row: a version's metadata changed after it was replicated (or a replica's changed,
 * with ReplicaModifications), and only the changed facets travel to the bucket the row's rule
 * names: its tags (PutObjectTagging), its ACL (PutObjectAcl) and its object lock
 * (PutObjectRetention, PutObjectLegalHold), each marked as a replica so that the other side
 * does not send the change back. The bytes are there already. The version it changes is the one
 * with the row's version id when the destination has it (hangar peers keep version ids), else
 * the destination's current version when its ETag is this version's (the same bytes); a
 * destination that has moved on since (another current version) has nothing to take. The ACL
 * does not travel under AccessControlTranslation (the destination's owner owns the replicas).
 */

type SendOptions = { abortSignal: AbortSignal };
type Call = <T>(what: string, call: () => Promise<T>) => Promise<T>;
type Version = { Bucket: string; Key: string; VersionId: string };

/** Sends the row's changed facets; returns 0 (no object bytes moved). */
export async function sendMetadata(
  source: S3Client,
  remote: S3Client,
  entry: ReplicationEntry,
  choices: { ownerOverride?: true },
  options: SendOptions,
  call: Call,
): Promise<number> {
  const facets = new Set<MetadataFacet>(entry.op === 'tags' ? ['tags'] : (entry.facets ?? []));
  if (choices.ownerOverride === true) facets.delete('acl');
  if (facets.size === 0) return 0;
  const version = { Bucket: entry.bucketName, Key: entry.key, VersionId: entry.versionId };
  const head = await call('reading the version', () =>
    source.send(new HeadObjectCommand(version), options),
  );
  const target = await call('finding the destination version', () =>
    destinationVersionOf(remote, entry, head, options),
  );
  if (target === undefined) return 0;
  const there = { Bucket: entry.destination, Key: entry.key, VersionId: target };
  if (facets.has('tags')) await sendTags(source, remote, version, there, options, call);
  if (facets.has('acl')) await sendAcl(source, remote, version, there, options, call);
  if (facets.has('lock')) await sendLock(remote, head, there, options, call);
  return 0;
}

async function sendTags(
  source: S3Client,
  remote: S3Client,
  version: Version,
  there: Version,
  options: SendOptions,
  call: Call,
): Promise<void> {
  const tagging = await call('reading the tags', () =>
    source.send(new GetObjectTaggingCommand(version), options),
  );
  await call('put tags', () =>
    remote.send(
      new PutObjectTaggingCommand({ ...there, Tagging: { TagSet: tagging.TagSet ?? [] } }),
      options,
    ),
  );
}

async function sendAcl(
  source: S3Client,
  remote: S3Client,
  version: Version,
  there: Version,
  options: SendOptions,
  call: Call,
): Promise<void> {
  const acl = await call('reading the ACL', () =>
    source.send(new GetObjectAclCommand(version), options),
  );
  await call('put ACL', () =>
    remote.send(
      new PutObjectAclCommand({
        ...there,
        AccessControlPolicy: { Owner: acl.Owner, Grants: acl.Grants ?? [] },
      }),
      options,
    ),
  );
}

/**
 * The version's retention (when it has one: a retention is only ever removed by bypassing
 * GOVERNANCE, which a replica does not claim) and its legal hold, as its HEAD reports them.
 */
async function sendLock(
  remote: S3Client,
  head: HeadObjectCommandOutput,
  there: Version,
  options: SendOptions,
  call: Call,
): Promise<void> {
  const mode = head.ObjectLockMode;
  const until = head.ObjectLockRetainUntilDate;
  if (mode !== undefined && until !== undefined) {
    await call('put retention', () =>
      remote.send(
        new PutObjectRetentionCommand({
          ...there,
          Retention: { Mode: mode, RetainUntilDate: until },
        }),
        options,
      ),
    );
  }
  await call('put legal hold', () =>
    remote.send(
      new PutObjectLegalHoldCommand({
        ...there,
        LegalHold: { Status: head.ObjectLockLegalHoldStatus ?? 'OFF' },
      }),
      options,
    ),
  );
}

/** The destination's version of the row's version, or undefined when it has none. */
async function destinationVersionOf(
  remote: S3Client,
  entry: ReplicationEntry,
  version: HeadObjectCommandOutput,
  options: SendOptions,
): Promise<string | undefined> {
  const same = await headOrNone(remote, entry.destination, entry.key, entry.versionId, options);
  if (same?.VersionId !== undefined) return same.VersionId;
  const current = await headOrNone(remote, entry.destination, entry.key, undefined, options);
  if (current === undefined || current.ETag !== version.ETag) return undefined;
  return current.VersionId ?? 'null';
}

async function headOrNone(
  remote: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
  options: SendOptions,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await remote.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
      }),
      options,
    );
  } catch (error) {
    // 404: no such version; 400: a version id the destination cannot even parse as its own.
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : 0;
    if (status === 404 || status === 400) return undefined;
    throw error;
  }
}
