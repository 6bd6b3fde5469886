import type { HeadObjectCommandOutput, PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { EncryptionKind } from '../../engine/meta/replication-queue.js';
import type { ReplicationEntry } from '../../engine/protocol/messages.js';
import type { StoredReplication, StoredReplicationRule } from '../s3/replication-config.js';

/**
 * What a rule's Destination asks of the replicas it writes, and the headers that say it on the
 * remote PutObject (or CreateMultipartUpload): their encryption and their owner. Kept apart from
 * sender.ts, which moves bytes; this only chooses headers.
 */

/** A rule's choices for its replicas (from the rule as configured when the row is sent). */
export interface DestinationChoices {
  /** EncryptionConfiguration/ReplicaKmsKeyID: SSE-KMS replicas are encrypted under this key. */
  replicaKmsKeyId?: string;
  /** AccessControlTranslation Owner=Destination: the destination bucket's owner owns replicas. */
  ownerOverride?: true;
}

/** The rule a queue row was queued by, as configured now (undefined: it was removed since). */
export function ruleOfEntry(
  catalog: Catalog,
  entry: Pick<ReplicationEntry, 'bucketId' | 'bucketName' | 'ruleId'>,
): StoredReplicationRule | undefined {
  const bucket = catalog.getBucket(entry.bucketName);
  // A bucket deleted and made again under the name is another bucket: not this row's rules.
  if (bucket === undefined || bucket.id !== entry.bucketId) return undefined;
  const stored = catalog.getBucketConfig<StoredReplication>(bucket, 'replication');
  return stored?.rules.find((rule) => rule.id === entry.ruleId);
}

export function destinationChoicesOf(rule: StoredReplicationRule | undefined): DestinationChoices {
  if (rule === undefined) return {};
  const { replicaKmsKeyId, ownerOverride } = rule.destination;
  return {
    ...(replicaKmsKeyId !== undefined ? { replicaKmsKeyId } : {}),
    ...(ownerOverride === 'Destination' ? { ownerOverride: true as const } : {}),
  };
}

/** What the source version's GET said about its encryption. */
type SourceEncryption = Pick<
  HeadObjectCommandOutput,
  'ServerSideEncryption' | 'SSEKMSKeyId' | 'BucketKeyEnabled' | 'SSECustomerAlgorithm'
>;

/**
 * The remote write's encryption and ACL headers. A replica keeps its source's encryption type
 * (SSE-S3 stays AES256, SSE-KMS and dual-layer stay KMS); an SSE-KMS replica is encrypted under
 * the rule's ReplicaKmsKeyID (the source's key lives in the source's keyring, not the
 * destination's), or under the destination's default key when the rule names none. With
 * AccessControlTranslation the replica is written `bucket-owner-full-control`: a hangar (or AWS)
 * destination whose ownership is BucketOwnerPreferred or BucketOwnerEnforced gives it to the
 * bucket owner; under ObjectWriter the bucket owner gets FULL_CONTROL of it.
 */
export function destinationHeaders(
  read: SourceEncryption,
  choices: DestinationChoices,
): Pick<
  PutObjectCommandInput,
  'ServerSideEncryption' | 'SSEKMSKeyId' | 'BucketKeyEnabled' | 'ACL'
> {
  const out: ReturnType<typeof destinationHeaders> = {};
  const type = read.ServerSideEncryption;
  if (type === 'AES256') out.ServerSideEncryption = 'AES256';
  if (type === 'aws:kms' || type === 'aws:kms:dsse') {
    out.ServerSideEncryption = type;
    if (choices.replicaKmsKeyId !== undefined) out.SSEKMSKeyId = choices.replicaKmsKeyId;
    if (read.BucketKeyEnabled === true) out.BucketKeyEnabled = true;
  }
  if (choices.ownerOverride === true) out.ACL = 'bucket-owner-full-control';
  return out;
}

/** The encryption kind a HEAD reports, as rule matching sees it (the repair pass). */
export function encryptionKindOfHead(head: SourceEncryption): EncryptionKind {
  if (head.SSECustomerAlgorithm !== undefined) return 'c';
  switch (head.ServerSideEncryption) {
    case 'AES256':
      return 's3';
    case 'aws:kms':
      return 'kms';
    case 'aws:kms:dsse':
      return 'dsse';
    default:
      return undefined;
  }
}

/**
 * Why hangar's own GET refused a version with 400: an SSE-C object is readable only with its
 * customer's key, which hangar never keeps, so it can never be replicated (see DECISIONS.md).
 */
export function unreadableSourceReason(detail: string): string {
  if (/Server Side Encryption|customer/i.test(detail)) {
    return `an SSE-C object: hangar keeps no customer key, so it cannot read the object to replicate it (${detail})`;
  }
  return `reading the source: ${detail}`;
}
