import { isBlockKey } from '../../../engine/blocks/block-key.js';
import { LIMITS } from '../../../engine/limits.js';
import type { BlockBacklink, BlockErrorInfo } from '../../../engine/protocol/messages.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest } from '../errors.js';
import { body, string } from '../validate.js';
import { onThisNode, thisNode } from './node-scope.js';

function blockHash(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isBlockKey(value)) {
    throw badRequest(
      `${field} must be a block hash (64 lowercase hex digits, behind "tier:" outside the default tier)`,
    );
  }
  return value;
}

/** A block error in Garage's BlockError shape, with hangar's shard, kind and message. */
function blockErrorJson(state: AdminState, shard: number, error: BlockErrorInfo): unknown {
  const now = Date.now();
  return {
    blockHash: error.hash,
    refcount: error.refs,
    errorCount: error.errorCount,
    lastTrySecsAgo: Math.max(0, Math.round((now - error.lastTryMs) / 1000)),
    // Blocks are checked again by the next scrub pass (or RetryBlockResync now); a cluster
    // gateway records none (its shards refuse local block maintenance).
    nextTryInSecs: Math.max(
      0,
      Math.round(((state.workers.localBlocks?.scrub.nextRunMs ?? now) - now) / 1000),
    ),
    shard,
    kind: error.kind,
    message: error.message,
    firstErrorAt: new Date(error.firstErrorMs).toISOString(),
  };
}

/** ListBlockErrors?node=: every block a scrub or a retry found corrupt or missing. */
export function listBlockErrors(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  return onThisNode(state, req, async () => {
    const perShard = await Promise.all(
      state.server.pool.clients.map(async (shard) => ({
        shard: shard.shardId,
        errors: (await shard.call({ kind: 'ListBlockErrors' }, 'BlockErrors')).errors,
      })),
    );
    return perShard.flatMap(({ shard, errors }) =>
      errors.map((error) => blockErrorJson(state, shard, error)),
    );
  });
}

/** Garage's BlockVersion for a reference (hangar has no versions: the object is its version). */
function versionJson(link: BlockBacklink): unknown {
  if (link.kind === 'object') {
    return {
      versionId: `${link.bucketId}/${link.key}`,
      deleted: false,
      garbageCollected: false,
      backlink: { object: { bucketId: link.bucketId, key: link.key } },
    };
  }
  return {
    versionId: `${link.uploadId}/${link.partNumber}`,
    deleted: false,
    garbageCollected: false,
    backlink: {
      upload: {
        uploadId: link.uploadId,
        uploadDeleted: false,
        uploadGarbageCollected: false,
        bucketId: link.bucketId,
        key: link.key,
      },
    },
  };
}

/** GetBlockInfo?node=: body { blockHash }: references, who holds them, the file, any error. */
export async function getBlockInfo(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  thisNode(state, req);
  const hash = blockHash(string(body(req.body, ['blockHash']), 'blockHash'), 'body.blockHash');
  const infos = await state.server.pool.callAll(
    { kind: 'GetBlockInfo', hash, limit: LIMITS.blockBacklinksMax },
    'BlockInfo',
  );
  const known = infos
    .map((info, shard) => ({ shard, info }))
    .filter(({ info }) => info.refs > 0 || info.onDisk || info.error !== null);
  if (known.length === 0) throw new AdminError(404, 'NoSuchBlock', `block ${hash} not found`);
  return onThisNode(state, req, () => ({
    blockHash: hash,
    refcount: known.reduce((sum, { info }) => sum + info.refs, 0),
    versions: known.flatMap(({ info }) => info.backlinks.map(versionJson)),
    bytes: known.find(({ info }) => info.bytes !== null)?.info.bytes ?? null,
    shards: known.map(({ shard, info }) => ({
      shard,
      refcount: info.refs,
      onDisk: info.onDisk,
      error: info.error === null ? null : blockErrorJson(state, shard, info.error),
    })),
  }));
}

/** RetryBlockResync?node=: body { all: true } or { blockHashes: [...] }: checks them again now. */
export async function retryBlockResync(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  thisNode(state, req);
  const b = body(req.body, ['all', 'blockHashes']);
  let hashes: string[] | null;
  if (b['all'] === true && b['blockHashes'] === undefined) hashes = null;
  else if (b['all'] === undefined && Array.isArray(b['blockHashes'])) {
    hashes = b['blockHashes'].map((h, i) => blockHash(h, `body.blockHashes[${i}]`));
  } else {
    throw badRequest('body must be {"all": true} or {"blockHashes": ["<hash>", ...]}');
  }
  const results = await state.server.pool.callAll({ kind: 'RetryBlocks', hashes }, 'Retried');
  return onThisNode(state, req, () => ({
    count: results.reduce((sum, r) => sum + r.checked, 0),
    fixed: results.reduce((sum, r) => sum + r.fixed, 0),
  }));
}

/**
 * PurgeBlocks?node=: body ["<hash>", ...]: deletes every object and aborts every upload that
 * references one of the blocks — for blocks that are lost for good. Irreversible.
 */
export async function purgeBlocks(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  thisNode(state, req);
  if (!Array.isArray(req.body) || req.body.length === 0) {
    throw badRequest('body must be a non-empty JSON array of block hashes');
  }
  const hashes = req.body.map((h, i) => blockHash(h, `body[${i}]`));
  const results = await state.server.pool.callAll({ kind: 'PurgeBlocks', hashes }, 'BlocksPurged');
  const objects = results.reduce((sum, r) => sum + r.objects, 0);
  state.server.logger.warn({ blocks: hashes, objects }, 'admin: blocks purged');
  return onThisNode(state, req, () => ({
    blocksPurged: hashes.length,
    objectsDeleted: objects,
    uploadsDeleted: results.reduce((sum, r) => sum + r.uploads, 0),
    versionsDeleted: objects,
  }));
}
