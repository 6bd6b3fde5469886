import type { AclPermission } from '../../engine/catalog/access.js';
import type { Endpoint, S3Action } from '../s3/endpoints.js';

/**
 * The IAM action (as a bucket policy names it) an S3 request needs, and which ACL permission on
 * which resource grants it: AWS's tables "Amazon S3 actions" and "Mapping of ACL permissions and
 * access policy permissions". Most actions are `s3:<Action>`; the exceptions are listed here.
 */
const IAM_ACTION_EXCEPTIONS: Partial<Record<S3Action, string>> = {
  ListBuckets: 's3:ListAllMyBuckets',
  HeadBucket: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  ListParts: 's3:ListMultipartUploadParts',
  HeadObject: 's3:GetObject',
  CopyObject: 's3:PutObject',
  PostObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  DeleteObjects: 's3:DeleteObject',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  DeleteBucketTagging: 's3:PutBucketTagging',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  GetBucketNotificationConfiguration: 's3:GetBucketNotification',
  PutBucketNotificationConfiguration: 's3:PutBucketNotification',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketReplication: 's3:GetReplicationConfiguration',
  PutBucketReplication: 's3:PutReplicationConfiguration',
  DeleteBucketReplication: 's3:PutReplicationConfiguration',
  GetBucketAccelerateConfiguration: 's3:GetAccelerateConfiguration',
  PutBucketAccelerateConfiguration: 's3:PutAccelerateConfiguration',
  GetBucketAnalyticsConfiguration: 's3:GetAnalyticsConfiguration',
  PutBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
  DeleteBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
  ListBucketAnalyticsConfigurations: 's3:GetAnalyticsConfiguration',
  GetBucketInventoryConfiguration: 's3:GetInventoryConfiguration',
  PutBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
  DeleteBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
  ListBucketInventoryConfigurations: 's3:GetInventoryConfiguration',
  GetBucketMetricsConfiguration: 's3:GetMetricsConfiguration',
  PutBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
  DeleteBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
  ListBucketMetricsConfigurations: 's3:GetMetricsConfiguration',
  GetBucketIntelligentTieringConfiguration: 's3:GetIntelligentTieringConfiguration',
  PutBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
  DeleteBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
  ListBucketIntelligentTieringConfigurations: 's3:GetIntelligentTieringConfiguration',
  GetBucketLogging: 's3:GetBucketLogging',
  PutBucketLogging: 's3:PutBucketLogging',
  GetBucketRequestPayment: 's3:GetBucketRequestPayment',
  PutBucketRequestPayment: 's3:PutBucketRequestPayment',
  SelectObjectContent: 's3:GetObject',
  CreateSession: 's3:CreateSession',
};

/** Actions whose IAM name gains "Version" when the request names a version (s3:GetObjectVersion). */
const VERSIONED_IAM_ACTION: Partial<Record<string, string>> = {
  's3:GetObject': 's3:GetObjectVersion',
  's3:DeleteObject': 's3:DeleteObjectVersion',
  's3:GetObjectAcl': 's3:GetObjectVersionAcl',
  's3:PutObjectAcl': 's3:PutObjectVersionAcl',
  's3:GetObjectTagging': 's3:GetObjectVersionTagging',
  's3:PutObjectTagging': 's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging': 's3:DeleteObjectVersionTagging',
  's3:GetObjectAttributes': 's3:GetObjectVersionAttributes',
  's3:GetObjectTorrent': 's3:GetObjectVersionTorrent',
};

const iamActions = new Map<S3Action, string>();

/** The IAM action of an S3 action, with or without a version named. */
export function iamActionOf(action: S3Action, versionId?: string): string {
  // Every request asks: the name is built once per action, not once per request.
  let plain = iamActions.get(action);
  if (plain === undefined) {
    plain = IAM_ACTION_EXCEPTIONS[action] ?? `s3:${action}`;
    iamActions.set(action, plain);
  }
  if (versionId === undefined) return plain;
  return VERSIONED_IAM_ACTION[plain] ?? plain;
}

/** The IAM action a routed request needs. */
export function iamActionOfEndpoint(endpoint: Endpoint): string {
  const versionId = 'versionId' in endpoint ? endpoint.versionId : undefined;
  return iamActionOf(endpoint.action, versionId);
}

/**
 * Which ACL grants an IAM action, and on what: a bucket ACL permission (READ lists, WRITE writes
 * and deletes objects, READ_ACP / WRITE_ACP read and write the bucket ACL), or an object ACL
 * permission (READ reads the object, READ_ACP / WRITE_ACP its ACL). Every other action is the
 * bucket owner's alone (and whoever a policy or key grant allows).
 */
export type AclRequirement =
  | { readonly on: 'bucket'; readonly permission: AclPermission }
  | { readonly on: 'object'; readonly permission: AclPermission }
  | null;

const ACL_REQUIREMENTS: Readonly<Record<string, AclRequirement>> = {
  's3:ListBucket': { on: 'bucket', permission: 'READ' },
  's3:ListBucketVersions': { on: 'bucket', permission: 'READ' },
  's3:ListBucketMultipartUploads': { on: 'bucket', permission: 'READ' },
  's3:PutObject': { on: 'bucket', permission: 'WRITE' },
  's3:DeleteObject': { on: 'bucket', permission: 'WRITE' },
  's3:AbortMultipartUpload': { on: 'bucket', permission: 'WRITE' },
  's3:ListMultipartUploadParts': { on: 'bucket', permission: 'WRITE' },
  's3:GetBucketAcl': { on: 'bucket', permission: 'READ_ACP' },
  's3:PutBucketAcl': { on: 'bucket', permission: 'WRITE_ACP' },
  's3:GetObject': { on: 'object', permission: 'READ' },
  's3:GetObjectVersion': { on: 'object', permission: 'READ' },
  's3:GetObjectTorrent': { on: 'object', permission: 'READ' },
  's3:GetObjectVersionTorrent': { on: 'object', permission: 'READ' },
  's3:GetObjectAcl': { on: 'object', permission: 'READ_ACP' },
  's3:GetObjectVersionAcl': { on: 'object', permission: 'READ_ACP' },
  's3:PutObjectAcl': { on: 'object', permission: 'WRITE_ACP' },
  's3:PutObjectVersionAcl': { on: 'object', permission: 'WRITE_ACP' },
};

export function aclRequirementOf(iamAction: string): AclRequirement {
  return ACL_REQUIREMENTS[iamAction] ?? null;
}
