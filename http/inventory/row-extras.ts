/**
 * The inventory fields that come neither from the version listing nor from the version's
 * record: its owner (the bucket's when the record names none), its ACL (one ObjectAcl shard
 * call per version, only when the configuration asks for ObjectAccessControlList) and when the
 * bucket's lifecycle rules will expire it (current versions; the rules read once per run).
 */
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { objectExpiry } from '../../engine/lifecycle.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { LifecycleRule, ObjectInfo } from '../../engine/protocol/messages.js';
import { bucketAccessOf } from '../access/access-record.js';
import { ownerOnlyAcl } from '../access/decide.js';
import { bucketOwnerId } from '../access/principal.js';
import type { ServerState } from '../s3/context.js';
import { engineLifecycleRules, type StoredLifecycleRule } from '../s3/lifecycle-config.js';
import type { InventoryConfig } from './config.js';
import { inventoryAclOf, type RowExtras, type VersionEntry } from './report.js';

export type ExtrasOf = (
  shard: ShardClient,
  entry: VersionEntry,
  info: ObjectInfo | null,
) => Promise<RowExtras>;

export function rowExtras(
  state: ServerState,
  source: BucketRecord,
  config: InventoryConfig,
): ExtrasOf {
  const ownerId = bucketOwnerId(source);
  const wantsAcl = config.optionalFields.includes('ObjectAccessControlList');
  const rules: LifecycleRule[] = config.optionalFields.includes('LifecycleExpirationDate')
    ? engineLifecycleRules(
        state.catalog.getBucketConfig<StoredLifecycleRule[]>(source, 'lifecycle') ?? [],
      )
    : [];
  // With BucketOwnerEnforced, ACLs are off: every object's is its bucket owner's (GetObjectAcl's).
  const enforced = bucketAccessOf(state.catalog, source).ownership === 'BucketOwnerEnforced';
  return async (shard, entry, info) => {
    const live = !entry.deleteMarker;
    const acl = wantsAcl && live ? await aclOf(shard, source, entry, enforced, ownerId) : null;
    const expiry =
      rules.length > 0 && live && entry.isLatest && info !== null
        ? objectExpiry(rules, entry.key, entry.bytes, info.tags, entry.lastModifiedMs)
        : null;
    return { ownerId, acl, expiresAtMs: expiry?.atMs ?? null };
  };
}

/** The version's ACL as the inventory writes it; null when the version is gone meanwhile. */
async function aclOf(
  shard: ShardClient,
  source: BucketRecord,
  entry: VersionEntry,
  enforced: boolean,
  bucketOwner: string,
): Promise<string | null> {
  if (enforced) return inventoryAclOf(ownerOnlyAcl(bucketOwner));
  try {
    const stored = await shard.call(
      {
        kind: 'ObjectAcl',
        bucketId: source.id,
        key: entry.key,
        ...(entry.isLatest ? {} : { versionId: entry.versionId }),
      },
      'Acl',
    );
    return inventoryAclOf(stored.acl ?? ownerOnlyAcl(stored.owner ?? bucketOwner));
  } catch {
    return null;
  }
}
