import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectTaggingCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { ReplicationEntry } from '../../engine/protocol/messages.js';

/**
 * Replica modification sync (SourceSelectionCriteria/ReplicaModifications): a 'tags' row carries
 * a replica's new tag set back to the bucket its rule names, which holds the replica's source.
 * Only the tags travel (PutObjectTagging, marked as a replica so the source does not send the
 * change back): the bytes are the source's already. The version it tags is the one with the
 * replica's version id when the destination has it (replication that keeps version ids), else
 * the destination's current version when its ETag is the replica's (the same bytes); a source
 * that has moved on since (another current version) has nothing to take.
 */

type SendOptions = { abortSignal: AbortSignal };
type Call = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/** Sends the replica's tags; returns 0 (no object bytes moved). */
export async function sendReplicaTags(
  source: S3Client,
  remote: S3Client,
  entry: ReplicationEntry,
  options: SendOptions,
  call: Call,
): Promise<number> {
  const version = { Bucket: entry.bucketName, Key: entry.key, VersionId: entry.versionId };
  const [tagging, replica] = await Promise.all([
    call('reading the replica tags', () =>
      source.send(new GetObjectTaggingCommand(version), options),
    ),
    call('reading the replica', () => source.send(new HeadObjectCommand(version), options)),
  ]);
  const target = await call('finding the source version', () =>
    sourceVersionOf(remote, entry, replica, options),
  );
  if (target === undefined) return 0;
  await call('put tags', () =>
    remote.send(
      new PutObjectTaggingCommand({
        Bucket: entry.destination,
        Key: entry.key,
        VersionId: target,
        Tagging: { TagSet: tagging.TagSet ?? [] },
      }),
      options,
    ),
  );
  return 0;
}

/** The destination's version id of the replica's source, or undefined when it has none. */
async function sourceVersionOf(
  remote: S3Client,
  entry: ReplicationEntry,
  replica: HeadObjectCommandOutput,
  options: SendOptions,
): Promise<string | undefined> {
  const same = await headOrNone(remote, entry.destination, entry.key, entry.versionId, options);
  if (same?.VersionId !== undefined) return same.VersionId;
  const current = await headOrNone(remote, entry.destination, entry.key, undefined, options);
  if (current === undefined || current.ETag !== replica.ETag) return undefined;
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
