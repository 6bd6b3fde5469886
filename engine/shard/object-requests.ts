import { assert } from '../assert.js';
import { tierFieldOf } from '../blocks/block-key.js';
import { EngineFailureError } from '../errors.js';
import { infoOf, type ObjectRecord } from '../meta/store.js';
import type {
  DeleteOutcome,
  DeleteTarget,
  ShardRequest,
  ShardResult,
  WriteConditions,
} from '../protocol/messages.js';
import { DEFAULT_TIER } from '../storage-config.js';
import { guardAtCommit, type WriteGuard } from '../write-conditions.js';
import { aclFields, notifyOf, type ShardCore, withVersion } from './shard-core.js';
import { storageClassField } from './storage-class.js';
import { moveVersionTier } from './tier-requests.js';
import { recordToRead } from './version-lookup.js';

/*
 * A shard's changes and reads of single objects that stream no body: tags, ACLs, object lock,
 * block-sharing copies and deletes.
 */

// ---- tags ----

export function getTags(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'GetTags' }>,
): ShardResult {
  const record = recordToRead(core.meta, request.bucketId, request.key, request.versionId);
  const versionId = infoOf(request.key, record).versionId;
  return {
    kind: 'Tags',
    tags: record.tags ?? [],
    ...(versionId !== undefined ? { versionId } : {}),
  };
}

export async function setTags(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'SetTags' }>,
): Promise<ShardResult> {
  const { tags, record } = await core.meta.setTags(
    request.bucketId,
    request.key,
    request.tags,
    request.versionId,
    notifyOf(
      request.notify,
      request.tags.length > 0 ? 'ObjectTagging:Put' : 'ObjectTagging:Delete',
    ),
  );
  if (core.settings.durable) await core.meta.flushed();
  const versionId = infoOf(request.key, record).versionId;
  return { kind: 'Tags', tags, ...(versionId !== undefined ? { versionId } : {}) };
}

// ---- object ACLs ----

/** GetObjectAcl (no `acl`) or PutObjectAcl: the record's owner and ACL, after any change. */
export async function objectAcl(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'ObjectAcl' }>,
): Promise<ShardResult> {
  let record: ObjectRecord;
  if (request.acl === undefined) {
    record = await core.meta.read(() =>
      recordToRead(core.meta, request.bucketId, request.key, request.versionId),
    );
  } else {
    record = await core.meta.setAcl(
      request.bucketId,
      request.key,
      request.acl,
      request.versionId,
      request.expectedOwner,
      notifyOf(request.notify, 'ObjectAcl:Put'),
    );
    if (core.settings.durable) await core.meta.flushed();
  }
  const versionId = infoOf(request.key, record).versionId;
  return {
    kind: 'Acl',
    ...aclFields(record),
    ...(versionId !== undefined ? { versionId } : {}),
  };
}

// ---- object lock ----

export function getLock(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'GetLock' }>,
): ShardResult {
  const record = recordToRead(core.meta, request.bucketId, request.key, request.versionId);
  const versionId = infoOf(request.key, record).versionId;
  return {
    kind: 'Lock',
    lock: record.lock ?? {},
    ...(versionId !== undefined ? { versionId } : {}),
  };
}

export async function setLock(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'SetLock' }>,
): Promise<ShardResult> {
  const { lock, record } = await core.meta.setLock(
    request.bucketId,
    request.key,
    request.change,
    request.check,
    request.versionId,
    request.notify !== undefined ? { context: request.notify } : undefined,
  );
  if (core.settings.durable) await core.meta.flushed();
  const versionId = infoOf(request.key, record).versionId;
  return { kind: 'Lock', lock, ...(versionId !== undefined ? { versionId } : {}) };
}

// ---- copy, delete ----

export async function copyFrom(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'CopyFrom' }>,
): Promise<ShardResult> {
  const source = request.source;
  // Encrypted objects are copied by streaming (decrypt, re-encrypt), never by sharing blocks.
  assert(
    source.info.sseKeyMd5 === null && source.info.sseManaged === undefined,
    'block-sharing copies are of unencrypted objects',
  );
  for (const block of source.blocks) core.ledger.pin(block.hash);
  try {
    if (source.shardId !== core.settings.shardId) {
      for (const [index, block] of source.blocks.entries()) {
        const path = source.blockPaths[index];
        assert(path !== undefined, 'every source block has a path');
        await core.ledger.adoptBlock(block.hash, path, block.bytes);
      }
    }
    const record = {
      bytes: source.info.bytes,
      etag: source.info.etag,
      lastModifiedMs: Date.now(),
      headers: request.headers,
      checksum: source.info.checksum,
      blocks: source.blocks,
      inline: source.inlineBody,
      // Blocks are shared, not copied: the copy lives in the source's tier (block-key.ts).
      ...tierFieldOf(source.blocks),
      ...(source.info.partSizes !== null ? { partSizes: source.info.partSizes } : {}),
      ...(source.info.partChecksums !== null ? { partChecksums: source.info.partChecksums } : {}),
      ...(request.tags.length > 0 ? { tags: request.tags } : {}),
      ...(request.lock !== undefined ? { lock: request.lock } : {}),
      ...aclFields(request),
      ...storageClassField(request.storageClass),
    };
    const { freed, versionId } = await core.meta.writeObject(
      request.bucketId,
      request.key,
      record,
      request.quota ?? null,
      request.versioning,
      guardOf(request.conditions),
      notifyOf(request.notify, 'ObjectCreated:Copy'),
    );
    if (core.settings.durable) await core.meta.flushed();
    core.freeAll(freed);
    await moveCopyToClassTier(core, request, record.tier, versionId);
    return { kind: 'Put', info: withVersion(infoOf(request.key, record), versionId) };
  } finally {
    for (const block of source.blocks) core.ledger.unpin(block.hash);
  }
}

/**
 * A copy shares its source's blocks, so it is written in the source's tier; when its class
 * maps to another tier, its blocks then move there (MoveVersionTier: durable copies, one
 * flushed swap) before the copy is answered.
 */
async function moveCopyToClassTier(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'CopyFrom' }>,
  copiedTier: string | undefined,
  versionId: string | undefined,
): Promise<void> {
  if (request.source.blocks.length === 0) return;
  const tier = core.blocks.tierOf(request.storageClass);
  if (tier === (copiedTier ?? DEFAULT_TIER)) return;
  await moveVersionTier(core, {
    kind: 'MoveVersionTier',
    reqId: 0,
    bucketId: request.bucketId,
    key: request.key,
    ...(versionId === undefined ? {} : { versionId }),
    tier,
  });
}

export async function deleteObjects(
  core: ShardCore,
  request: Extract<ShardRequest, { kind: 'DeleteObjects' }>,
): Promise<ShardResult> {
  const nowMs = Date.now();
  assert(
    request.ifMatch === undefined || request.targets.length === 1,
    'If-Match names one object',
  );
  const guard = guardOf(request.ifMatch !== undefined ? { ifMatch: request.ifMatch } : undefined);
  const outcomes = await Promise.all(
    request.targets.map((target) =>
      core.meta
        .deleteTarget(
          request.bucketId,
          target,
          request.versioning,
          nowMs,
          target.etag === undefined ? guard : guardOf({ ifMatch: target.etag }),
          request.lockCheck ?? { nowMs, bypassGovernance: false },
          notifyOf(request.notify, 'ObjectRemoved:Delete'),
        )
        .catch((error: unknown) => entryConditionFailed(target, error)),
    ),
  );
  if (core.settings.durable) await core.meta.flushed();
  for (const outcome of outcomes) core.freeAll(outcome.freed);
  return { kind: 'Deleted', results: outcomes.map((outcome) => outcome.outcome) };
}

/**
 * A DeleteObjects entry whose own ETag condition failed is that entry's error, not the
 * request's: the other entries are still deleted (as AWS answers).
 */
function entryConditionFailed(
  target: DeleteTarget,
  error: unknown,
): { outcome: DeleteOutcome; freed: string[] } {
  if (target.etag === undefined || !(error instanceof EngineFailureError)) throw error;
  const { code } = error.failure;
  if (code !== 'PreconditionFailed' && code !== 'NoSuchKey') throw error;
  return {
    outcome: {
      key: target.key,
      existed: false,
      ...(target.versionId === undefined ? {} : { versionId: target.versionId }),
      failure: error.failure,
    },
    freed: [],
  };
}

/** The commit-time guard of a copy or delete's conditions (null: unconditional). */
function guardOf(conditions: WriteConditions | undefined): WriteGuard | null {
  return conditions === undefined ? null : guardAtCommit(conditions);
}
