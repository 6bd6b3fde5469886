/**
 * Every admin endpoint: method + path → handler. Paths and names follow Garage's admin API v2
 * (`/v2/<Operation>`); openapi.json documents exactly these routes (a test checks both ways).
 */

import { readFileSync } from 'node:fs';
import { healthStatus } from '../health.js';
import type { AdminAuth, AdminHandler } from './context.js';
import { getBlockInfo, listBlockErrors, purgeBlocks, retryBlockResync } from './handlers/blocks.js';
import { getBucketPolicy } from './handlers/bucket-access.js';
import {
  addBucketAlias,
  allowBucketKey,
  cleanupIncompleteUploads,
  createBucket,
  deleteBucket,
  deleteBucketPolicy,
  denyBucketKey,
  getBucketInfo,
  listBuckets,
  putBucketPolicy,
  removeBucketAlias,
  updateBucket,
} from './handlers/buckets.js';
import { getClusterHealth, getClusterStatus } from './handlers/cluster.js';
import { getClusterModeStatus } from './handlers/cluster-mode.js';
import {
  createKey,
  deleteKey,
  getKeyInfo,
  importKey,
  listKeys,
  updateKey,
} from './handlers/keys.js';
import {
  cancelKmsKeyDeletion,
  createKmsKey,
  disableKmsKey,
  enableKmsKey,
  getKmsKeyInfo,
  listKmsKeys,
  rotateKmsKey,
  rotateSseMasterKey,
  scheduleKmsKeyDeletion,
} from './handlers/kms.js';
import { getClusterStatistics, getNodeInfo, getNodeStatistics } from './handlers/node.js';
import {
  createNotifyTarget,
  deleteNotifyTarget,
  listNotifyTargets,
} from './handlers/notify-targets.js';
import { readiness } from './handlers/readiness.js';
import { addRemote, getRemoteInfo, listRemotes, removeRemote } from './handlers/remotes.js';
import { moveObjectTier } from './handlers/tiers.js';
import {
  getWorkerInfo,
  getWorkerVariable,
  launchRepairOperation,
  listWorkers,
  setWorkerVariable,
} from './handlers/workers.js';
import { metricsContentType, metricsText } from './metrics.js';

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly auth: AdminAuth;
  readonly handler: AdminHandler;
}

/** The OpenAPI document, read once (it sits next to the sources: ../../../http/admin/). */
let openApiText: string | null = null;
export function openApiDocument(): string {
  openApiText ??= readFileSync(
    new URL('../../../http/admin/openapi.json', import.meta.url),
    'utf8',
  );
  return openApiText;
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/health',
    auth: 'none',
    handler: () => {
      const health = healthStatus();
      return { status: health.status === 'ok' ? 200 : 503, json: health };
    },
  },
  { method: 'GET', path: '/ready', auth: 'none', handler: readiness },
  {
    method: 'GET',
    path: '/metrics',
    auth: 'metrics',
    handler: async () => ({ contentType: metricsContentType, text: await metricsText() }),
  },
  {
    method: 'GET',
    path: '/v2/openapi.json',
    auth: 'admin',
    handler: () => ({ contentType: 'application/json', text: openApiDocument() }),
  },
  { method: 'GET', path: '/v2/GetClusterStatus', auth: 'admin', handler: getClusterStatus },
  { method: 'GET', path: '/v2/GetClusterHealth', auth: 'admin', handler: getClusterHealth },
  {
    method: 'GET',
    path: '/v2/GetClusterStatistics',
    auth: 'admin',
    handler: getClusterStatistics,
  },
  {
    method: 'GET',
    path: '/v2/GetClusterModeStatus',
    auth: 'admin',
    handler: getClusterModeStatus,
  },
  { method: 'GET', path: '/v2/GetNodeInfo', auth: 'admin', handler: getNodeInfo },
  { method: 'GET', path: '/v2/GetNodeStatistics', auth: 'admin', handler: getNodeStatistics },
  { method: 'GET', path: '/v2/ListKeys', auth: 'admin', handler: listKeys },
  { method: 'GET', path: '/v2/GetKeyInfo', auth: 'admin', handler: getKeyInfo },
  { method: 'POST', path: '/v2/CreateKey', auth: 'admin', handler: createKey },
  { method: 'POST', path: '/v2/ImportKey', auth: 'admin', handler: importKey },
  { method: 'POST', path: '/v2/UpdateKey', auth: 'admin', handler: updateKey },
  { method: 'POST', path: '/v2/DeleteKey', auth: 'admin', handler: deleteKey },
  { method: 'GET', path: '/v2/ListKmsKeys', auth: 'admin', handler: listKmsKeys },
  { method: 'GET', path: '/v2/GetKmsKeyInfo', auth: 'admin', handler: getKmsKeyInfo },
  { method: 'POST', path: '/v2/CreateKmsKey', auth: 'admin', handler: createKmsKey },
  { method: 'POST', path: '/v2/RotateKmsKey', auth: 'admin', handler: rotateKmsKey },
  { method: 'POST', path: '/v2/EnableKmsKey', auth: 'admin', handler: enableKmsKey },
  { method: 'POST', path: '/v2/DisableKmsKey', auth: 'admin', handler: disableKmsKey },
  {
    method: 'POST',
    path: '/v2/ScheduleKmsKeyDeletion',
    auth: 'admin',
    handler: scheduleKmsKeyDeletion,
  },
  {
    method: 'POST',
    path: '/v2/CancelKmsKeyDeletion',
    auth: 'admin',
    handler: cancelKmsKeyDeletion,
  },
  { method: 'POST', path: '/v2/RotateSseMasterKey', auth: 'admin', handler: rotateSseMasterKey },
  { method: 'GET', path: '/v2/ListRemotes', auth: 'admin', handler: listRemotes },
  { method: 'GET', path: '/v2/GetRemoteInfo', auth: 'admin', handler: getRemoteInfo },
  { method: 'POST', path: '/v2/AddRemote', auth: 'admin', handler: addRemote },
  { method: 'POST', path: '/v2/RemoveRemote', auth: 'admin', handler: removeRemote },
  { method: 'GET', path: '/v2/ListNotifyTargets', auth: 'admin', handler: listNotifyTargets },
  { method: 'POST', path: '/v2/CreateNotifyTarget', auth: 'admin', handler: createNotifyTarget },
  { method: 'POST', path: '/v2/DeleteNotifyTarget', auth: 'admin', handler: deleteNotifyTarget },
  { method: 'GET', path: '/v2/ListBuckets', auth: 'admin', handler: listBuckets },
  { method: 'GET', path: '/v2/GetBucketInfo', auth: 'admin', handler: getBucketInfo },
  { method: 'POST', path: '/v2/CreateBucket', auth: 'admin', handler: createBucket },
  { method: 'POST', path: '/v2/UpdateBucket', auth: 'admin', handler: updateBucket },
  { method: 'POST', path: '/v2/DeleteBucket', auth: 'admin', handler: deleteBucket },
  {
    method: 'POST',
    path: '/v2/CleanupIncompleteUploads',
    auth: 'admin',
    handler: cleanupIncompleteUploads,
  },
  { method: 'GET', path: '/v2/GetBucketPolicy', auth: 'admin', handler: getBucketPolicy },
  { method: 'POST', path: '/v2/PutBucketPolicy', auth: 'admin', handler: putBucketPolicy },
  { method: 'POST', path: '/v2/DeleteBucketPolicy', auth: 'admin', handler: deleteBucketPolicy },
  { method: 'POST', path: '/v2/AllowBucketKey', auth: 'admin', handler: allowBucketKey },
  { method: 'POST', path: '/v2/DenyBucketKey', auth: 'admin', handler: denyBucketKey },
  { method: 'POST', path: '/v2/AddBucketAlias', auth: 'admin', handler: addBucketAlias },
  { method: 'POST', path: '/v2/RemoveBucketAlias', auth: 'admin', handler: removeBucketAlias },
  {
    method: 'POST',
    path: '/v2/LaunchRepairOperation',
    auth: 'admin',
    handler: launchRepairOperation,
  },
  { method: 'POST', path: '/v2/ListWorkers', auth: 'admin', handler: listWorkers },
  { method: 'POST', path: '/v2/GetWorkerInfo', auth: 'admin', handler: getWorkerInfo },
  { method: 'POST', path: '/v2/GetWorkerVariable', auth: 'admin', handler: getWorkerVariable },
  { method: 'POST', path: '/v2/SetWorkerVariable', auth: 'admin', handler: setWorkerVariable },
  { method: 'GET', path: '/v2/ListBlockErrors', auth: 'admin', handler: listBlockErrors },
  { method: 'POST', path: '/v2/GetBlockInfo', auth: 'admin', handler: getBlockInfo },
  { method: 'POST', path: '/v2/RetryBlockResync', auth: 'admin', handler: retryBlockResync },
  { method: 'POST', path: '/v2/PurgeBlocks', auth: 'admin', handler: purgeBlocks },
  { method: 'POST', path: '/v2/MoveObjectTier', auth: 'admin', handler: moveObjectTier },
];
