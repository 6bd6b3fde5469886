import type { RequestContext } from './context.js';
import { endpointName } from './endpoints.js';
import { S3Error } from './errors.js';
import { handleGetBucketAccelerate, handlePutBucketAccelerate } from './handlers/accelerate.js';
import {
  handleGetBucketAcl,
  handleGetObjectAcl,
  handlePutBucketAcl,
  handlePutObjectAcl,
} from './handlers/acl.js';
import { analyticsHandlers } from './handlers/analytics.js';
import { handleGetObjectAttributes } from './handlers/attributes.js';
import {
  handleCreateBucket,
  handleDeleteBucket,
  handleGetBucketLocation,
  handleHeadBucket,
  handleListBuckets,
} from './handlers/bucket.js';
import { handleCopyObject } from './handlers/copy.js';
import {
  handleDeleteBucketCors,
  handleGetBucketCors,
  handlePutBucketCors,
} from './handlers/cors.js';
import { handleDeleteObject, handleDeleteObjects } from './handlers/delete.js';
import {
  handleDeleteBucketEncryption,
  handleGetBucketEncryption,
  handlePutBucketEncryption,
} from './handlers/encryption.js';
import { intelligentTieringHandlers } from './handlers/intelligent-tiering.js';
import { inventoryHandlers } from './handlers/inventory.js';
import {
  handleDeleteBucketLifecycle,
  handleGetBucketLifecycle,
  handlePutBucketLifecycle,
} from './handlers/lifecycle.js';
import { handleListObjects, handleListObjectsV2 } from './handlers/list.js';
import { handleGetBucketLogging, handlePutBucketLogging } from './handlers/logging.js';
import { metricsHandlers } from './handlers/metrics.js';
import {
  handleAbortMultipartUpload,
  handleCompleteMultipartUpload,
  handleCreateMultipartUpload,
  handleListMultipartUploads,
  handleListParts,
  handleUploadPart,
  handleUploadPartCopy,
} from './handlers/multipart.js';
import {
  handleGetBucketNotification,
  handlePutBucketNotification,
} from './handlers/notification.js';
import { handleGetObject } from './handlers/object-get.js';
import {
  handleGetObjectLegalHold,
  handleGetObjectLockConfiguration,
  handleGetObjectRetention,
  handlePutObjectLegalHold,
  handlePutObjectLockConfiguration,
  handlePutObjectRetention,
} from './handlers/object-lock.js';
import { handlePutObject } from './handlers/object-put.js';
import {
  handleDeleteBucketOwnershipControls,
  handleGetBucketOwnershipControls,
  handlePutBucketOwnershipControls,
} from './handlers/ownership.js';
import {
  handleDeleteBucketPolicy,
  handleGetBucketPolicy,
  handleGetBucketPolicyStatus,
  handlePutBucketPolicy,
} from './handlers/policy.js';
import {
  handleDeletePublicAccessBlock,
  handleGetPublicAccessBlock,
  handlePutPublicAccessBlock,
} from './handlers/public-access.js';
import {
  handleDeleteBucketReplication,
  handleGetBucketReplication,
  handlePutBucketReplication,
} from './handlers/replication.js';
import {
  handleGetBucketRequestPayment,
  handlePutBucketRequestPayment,
} from './handlers/request-payment.js';
import { handleRestoreObject } from './handlers/restore.js';
import { handleSelectObjectContent } from './handlers/select.js';
import {
  handleDeleteBucketTagging,
  handleDeleteObjectTagging,
  handleGetBucketTagging,
  handleGetObjectTagging,
  handlePutBucketTagging,
  handlePutObjectTagging,
} from './handlers/tagging.js';
import { handleGetObjectTorrent } from './handlers/torrent.js';
import {
  handleGetBucketVersioning,
  handleListObjectVersions,
  handlePutBucketVersioning,
} from './handlers/versioning.js';
import {
  handleDeleteBucketWebsite,
  handleGetBucketWebsite,
  handlePutBucketWebsite,
} from './handlers/website.js';

/**
 * The one switch from S3 action to handler. Every action the router knows and hangar does not
 * implement yet answers 501 NotImplemented, never a wrong 200.
 */
export async function dispatch(ctx: RequestContext): Promise<void> {
  const e = ctx.routed.endpoint;
  switch (e.action) {
    case 'ListBuckets':
      return handleListBuckets(ctx);
    case 'CreateBucket':
      return handleCreateBucket(ctx, e.bucket);
    case 'DeleteBucket':
      return handleDeleteBucket(ctx, e.bucket);
    case 'HeadBucket':
      return handleHeadBucket(ctx, e.bucket);
    case 'GetBucketLocation':
      return handleGetBucketLocation(ctx, e.bucket);
    case 'PutBucketReplication':
      return handlePutBucketReplication(ctx, e.bucket);
    case 'GetBucketReplication':
      return handleGetBucketReplication(ctx, e.bucket);
    case 'DeleteBucketReplication':
      return handleDeleteBucketReplication(ctx, e.bucket);
    case 'PutBucketNotificationConfiguration':
      return handlePutBucketNotification(ctx, e.bucket);
    case 'GetBucketNotificationConfiguration':
      return handleGetBucketNotification(ctx, e.bucket);
    case 'PutBucketCors':
      return handlePutBucketCors(ctx, e.bucket);
    case 'GetBucketCors':
      return handleGetBucketCors(ctx, e.bucket);
    case 'DeleteBucketCors':
      return handleDeleteBucketCors(ctx, e.bucket);
    case 'PutBucketWebsite':
      return handlePutBucketWebsite(ctx, e.bucket);
    case 'GetBucketWebsite':
      return handleGetBucketWebsite(ctx, e.bucket);
    case 'DeleteBucketWebsite':
      return handleDeleteBucketWebsite(ctx, e.bucket);
    case 'PutBucketLifecycleConfiguration':
      return handlePutBucketLifecycle(ctx, e.bucket);
    case 'GetBucketLifecycleConfiguration':
      return handleGetBucketLifecycle(ctx, e.bucket);
    case 'DeleteBucketLifecycle':
      return handleDeleteBucketLifecycle(ctx, e.bucket);
    case 'PutBucketPolicy':
      return handlePutBucketPolicy(ctx, e.bucket);
    case 'GetBucketPolicy':
      return handleGetBucketPolicy(ctx, e.bucket);
    case 'DeleteBucketPolicy':
      return handleDeleteBucketPolicy(ctx, e.bucket);
    case 'GetBucketPolicyStatus':
      return handleGetBucketPolicyStatus(ctx, e.bucket);
    case 'PutPublicAccessBlock':
      return handlePutPublicAccessBlock(ctx, e.bucket);
    case 'GetPublicAccessBlock':
      return handleGetPublicAccessBlock(ctx, e.bucket);
    case 'DeletePublicAccessBlock':
      return handleDeletePublicAccessBlock(ctx, e.bucket);
    case 'PutBucketEncryption':
      return handlePutBucketEncryption(ctx, e.bucket);
    case 'GetBucketEncryption':
      return handleGetBucketEncryption(ctx, e.bucket);
    case 'DeleteBucketEncryption':
      return handleDeleteBucketEncryption(ctx, e.bucket);
    case 'PutBucketAccelerateConfiguration':
      return handlePutBucketAccelerate(ctx, e.bucket);
    case 'GetBucketAccelerateConfiguration':
      return handleGetBucketAccelerate(ctx, e.bucket);
    case 'PutBucketRequestPayment':
      return handlePutBucketRequestPayment(ctx, e.bucket);
    case 'GetBucketRequestPayment':
      return handleGetBucketRequestPayment(ctx, e.bucket);
    case 'PutBucketAnalyticsConfiguration':
      return analyticsHandlers.put(ctx, e.bucket, e.id);
    case 'GetBucketAnalyticsConfiguration':
      return analyticsHandlers.get(ctx, e.bucket, e.id);
    case 'DeleteBucketAnalyticsConfiguration':
      return analyticsHandlers.delete(ctx, e.bucket, e.id);
    case 'ListBucketAnalyticsConfigurations':
      return analyticsHandlers.list(ctx, e.bucket, e.continuationToken);
    case 'PutBucketIntelligentTieringConfiguration':
      return intelligentTieringHandlers.put(ctx, e.bucket, e.id);
    case 'GetBucketIntelligentTieringConfiguration':
      return intelligentTieringHandlers.get(ctx, e.bucket, e.id);
    case 'DeleteBucketIntelligentTieringConfiguration':
      return intelligentTieringHandlers.delete(ctx, e.bucket, e.id);
    case 'ListBucketIntelligentTieringConfigurations':
      return intelligentTieringHandlers.list(ctx, e.bucket, e.continuationToken);
    case 'PutBucketMetricsConfiguration':
      return metricsHandlers.put(ctx, e.bucket, e.id);
    case 'GetBucketMetricsConfiguration':
      return metricsHandlers.get(ctx, e.bucket, e.id);
    case 'DeleteBucketMetricsConfiguration':
      return metricsHandlers.delete(ctx, e.bucket, e.id);
    case 'ListBucketMetricsConfigurations':
      return metricsHandlers.list(ctx, e.bucket, e.continuationToken);
    case 'PutBucketLogging':
      return handlePutBucketLogging(ctx, e.bucket);
    case 'GetBucketLogging':
      return handleGetBucketLogging(ctx, e.bucket);
    case 'PutObject':
      return handlePutObject(ctx, e.bucket, e.key);
    case 'CopyObject':
      return handleCopyObject(ctx, e.bucket, e.key);
    case 'GetObject':
    case 'HeadObject':
      return handleGetObject(ctx, e);
    case 'PutBucketInventoryConfiguration':
      return inventoryHandlers.put(ctx, e.bucket, e.id);
    case 'GetBucketInventoryConfiguration':
      return inventoryHandlers.get(ctx, e.bucket, e.id);
    case 'DeleteBucketInventoryConfiguration':
      return inventoryHandlers.delete(ctx, e.bucket, e.id);
    case 'ListBucketInventoryConfigurations':
      return inventoryHandlers.list(ctx, e.bucket, e.continuationToken);
    case 'GetObjectTorrent':
      return handleGetObjectTorrent(ctx, e);
    case 'GetObjectAttributes':
      return handleGetObjectAttributes(ctx, e);
    case 'DeleteObject':
      return handleDeleteObject(ctx, e.bucket, e.key, e.versionId);
    case 'PutBucketVersioning':
      return handlePutBucketVersioning(ctx, e.bucket);
    case 'GetBucketVersioning':
      return handleGetBucketVersioning(ctx, e.bucket);
    case 'PutObjectLockConfiguration':
      return handlePutObjectLockConfiguration(ctx, e.bucket);
    case 'GetObjectLockConfiguration':
      return handleGetObjectLockConfiguration(ctx, e.bucket);
    case 'PutObjectRetention':
      return handlePutObjectRetention(ctx, e);
    case 'GetObjectRetention':
      return handleGetObjectRetention(ctx, e);
    case 'PutObjectLegalHold':
      return handlePutObjectLegalHold(ctx, e);
    case 'GetObjectLegalHold':
      return handleGetObjectLegalHold(ctx, e);
    case 'ListObjectVersions':
      return handleListObjectVersions(ctx, e);
    case 'DeleteObjects':
      return handleDeleteObjects(ctx, e.bucket);
    case 'ListObjects':
      return handleListObjects(ctx, e);
    case 'ListObjectsV2':
      return handleListObjectsV2(ctx, e);
    case 'CreateMultipartUpload':
      return handleCreateMultipartUpload(ctx, e.bucket, e.key);
    case 'UploadPart':
      return handleUploadPart(ctx, e);
    case 'UploadPartCopy':
      return handleUploadPartCopy(ctx, e);
    case 'CompleteMultipartUpload':
      return handleCompleteMultipartUpload(ctx, e);
    case 'AbortMultipartUpload':
      return handleAbortMultipartUpload(ctx, e);
    case 'ListParts':
      return handleListParts(ctx, e);
    case 'ListMultipartUploads':
      return handleListMultipartUploads(ctx, e);
    case 'PutObjectTagging':
      return handlePutObjectTagging(ctx, e);
    case 'GetObjectTagging':
      return handleGetObjectTagging(ctx, e);
    case 'DeleteObjectTagging':
      return handleDeleteObjectTagging(ctx, e);
    case 'PutBucketTagging':
      return handlePutBucketTagging(ctx, e.bucket);
    case 'GetBucketTagging':
      return handleGetBucketTagging(ctx, e.bucket);
    case 'DeleteBucketTagging':
      return handleDeleteBucketTagging(ctx, e.bucket);
    case 'GetBucketAcl':
      return handleGetBucketAcl(ctx, e.bucket);
    case 'PutBucketAcl':
      return handlePutBucketAcl(ctx, e.bucket);
    case 'GetObjectAcl':
      return handleGetObjectAcl(ctx, e);
    case 'PutObjectAcl':
      return handlePutObjectAcl(ctx, e);
    case 'GetBucketOwnershipControls':
      return handleGetBucketOwnershipControls(ctx, e.bucket);
    case 'PutBucketOwnershipControls':
      return handlePutBucketOwnershipControls(ctx, e.bucket);
    case 'DeleteBucketOwnershipControls':
      return handleDeleteBucketOwnershipControls(ctx, e.bucket);
    case 'SelectObjectContent':
      return handleSelectObjectContent(ctx, e);
    case 'RestoreObject':
      return handleRestoreObject(ctx, e);
    default:
      throw new S3Error('NotImplemented', `${endpointName(e)} is not implemented by hangar yet.`);
  }
}
