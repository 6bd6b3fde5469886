import type { ObjectAccess } from '../../engine/catalog/access.js';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import type { ObjectRecord } from '../../engine/meta/object-table.js';
import { shardOf } from '../../engine/pool/placement.js';
import type { ServerState } from '../s3/context.js';
import { bucketOwnerId } from './principal.js';

/**
 * The object a decision may need to look at (its owner and ACL, its tags for
 * s3:ExistingObjectTag), read from the edge thread's view of its shard on first use and at
 * most once per request.
 */
export interface ObjectFacts {
  readonly access: () => ObjectAccess | undefined;
  readonly tags: () => ReadonlyMap<string, string> | undefined;
  /** The record, if the decision read it (undefined inside: no such object); null if not. */
  readonly read: () => { readonly record: ObjectRecord | undefined } | null;
}

export function objectFactsOf(
  state: ServerState,
  bucket: BucketRecord,
  key: string,
  versionId: string | undefined,
): ObjectFacts {
  let loaded = false;
  let record: ObjectRecord | undefined;
  const load = (): ObjectRecord | undefined => {
    if (!loaded) {
      loaded = true;
      record = readRecord(state, bucket, key, versionId);
    }
    return record;
  };
  return {
    access: () => {
      const found = load();
      if (found === undefined) return undefined;
      const owner = found.owner ?? bucketOwnerId(bucket);
      return found.acl === undefined ? { owner } : { owner, acl: found.acl };
    },
    tags: () => {
      const found = load();
      if (found === undefined) return undefined;
      return new Map((found.tags ?? []).map((tag) => [tag.key, tag.value]));
    },
    read: () => (loaded ? { record } : null),
  };
}

function readRecord(
  state: ServerState,
  bucket: BucketRecord,
  key: string,
  versionId: string | undefined,
): ObjectRecord | undefined {
  const readers = state.readers;
  if (readers === undefined) return undefined;
  const reader = readers[shardOf(bucket.id, key, readers.length)];
  const current = reader?.object(bucket.id, key);
  if (versionId === undefined) return current;
  if (current !== undefined && (current.versionId ?? 'null') === versionId) return current;
  return reader?.version(bucket.id, key, versionId);
}
