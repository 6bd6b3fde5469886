import { engineFailure } from '../errors.js';
import { infoOf, uploadInfoOf } from '../meta/store.js';
import type { ShardRequest, ShardResult } from '../protocol/messages.js';
import { DEFAULT_TIER } from '../storage-config.js';
import { aclFields, notifyOf, type ShardCore, withVersion } from './shard-core.js';
import { storageClassField } from './storage-class.js';

/* A shard's multipart uploads (their parts stream in as PUTs: put-requests.ts). */

export async function createUpload(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'CreateUpload' }>,
): Promise<ShardResult> {
  const upload = await core.meta.createUpload(
    request.bucketId,
    request.key,
    {
      headers: request.headers,
      checksum: request.checksum,
      sseKeyMd5: request.sseKeyMd5,
      ...(request.sseManaged !== undefined ? { sseManaged: request.sseManaged } : {}),
      tags: request.tags,
      ...(request.lock !== undefined ? { lock: request.lock } : {}),
      ...(request.initiator !== undefined ? { initiator: request.initiator } : {}),
      ...storageClassField(request.storageClass),
      ...aclFields(request),
      ...tierField(core.blocks.tierOf(request.storageClass)),
    },
    Date.now(),
  );
  if (core.settings.durable) await core.meta.flushed();
  return { kind: 'UploadCreated', uploadId: upload.uploadId };
}

export async function completeUpload(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'CompleteUpload' }>,
): Promise<ShardResult> {
  const { record, freed, versionId } = await core.meta.completeUpload(
    request.bucketId,
    request.key,
    request.uploadId,
    request.parts,
    request.fullObjectBase64,
    Date.now(),
    request.quota ?? null,
    request.conditions ?? null,
    request.versioning,
    request.defaultLock,
    notifyOf(request.notify, 'ObjectCreated:CompleteMultipartUpload'),
    request.replica === true,
    request.replicaVersionId ?? null,
  );
  if (core.settings.durable) await core.meta.flushed();
  core.freeAll(freed);
  return { kind: 'Put', info: withVersion(infoOf(request.key, record), versionId) };
}

export async function abortUpload(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'AbortUpload' }>,
): Promise<ShardResult> {
  const freed = await core.meta.abortUpload(request.bucketId, request.key, request.uploadId);
  if (core.settings.durable) await core.meta.flushed();
  core.freeAll(freed);
  return { kind: 'Aborted' };
}

export function listParts(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'ListParts' }>,
): ShardResult {
  const upload = core.meta.getUpload(request.bucketId, request.key, request.uploadId);
  if (upload === undefined)
    throw engineFailure('NoSuchUpload', 'The specified upload does not exist.');
  return {
    kind: 'Parts',
    upload: uploadInfoOf(upload),
    ...core.meta.listParts(request.uploadId, request.afterPartNumber, request.limit),
  };
}

/** A record's `tier` field: absent for the default tier. */
function tierField(tier: string): { tier?: string } {
  return tier === DEFAULT_TIER ? {} : { tier };
}
