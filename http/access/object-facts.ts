import type { BucketAccess, ObjectAccess } from '../../engine/catalog/access.js';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import type { ObjectRecord } from '../../engine/meta/object-table.js';
import { shardOf } from '../../engine/pool/placement.js';
import type { ServerState } from '../s3/context.js';
import { S3Error } from '../s3/errors.js';
import { bucketAccessOf } from './access-record.js';
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
  /** Cluster mode: the records read before the decision (see prefetchObjectFacts). */
  prefetched?: PrefetchedObjects,
): ObjectFacts {
  let loaded = false;
  let record: ObjectRecord | undefined;
  const load = (): ObjectRecord | undefined => {
    if (!loaded) {
      loaded = true;
      record = readRecord(state, bucket, key, versionId, prefetched);
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
  prefetched: PrefetchedObjects | undefined,
): ObjectRecord | undefined {
  const readers = state.readers;
  if (readers === undefined) return undefined;
  const reader = readers[shardOf(bucket.id, key, readers.length)];
  if (reader?.remote === true) {
    const found = prefetched?.find(bucket.id, key, versionId);
    // Fail closed: a decision must never run on facts it could not read (a missing owner, ACL
    // or tag can allow what the real ones deny).
    if (found === undefined) {
      throw new S3Error(
        'NotImplemented',
        'In cluster mode, a decision on this object needs its ACL or tags, which this request does not read yet.',
      );
    }
    return found.record;
  }
  const current = reader?.object(bucket.id, key);
  if (versionId === undefined) return current;
  if (current !== undefined && (current.versionId ?? 'null') === versionId) return current;
  return reader?.version(bucket.id, key, versionId);
}

/**
 * Cluster mode: object records read before a decision, which is synchronous while the store
 * (PostgreSQL) is not. One per request; keyed by bucket id, key and version id.
 */
export class PrefetchedObjects {
  private readonly records = new Map<string, ObjectRecord | undefined>();

  set(bucketId: string, key: string, versionId: string | undefined, record?: ObjectRecord): void {
    this.records.set(keyOf(bucketId, key, versionId), record);
  }

  /** The record as read (record undefined: no such object), or undefined when not read. */
  find(
    bucketId: string,
    key: string,
    versionId: string | undefined,
  ): { record: ObjectRecord | undefined } | undefined {
    const name = keyOf(bucketId, key, versionId);
    return this.records.has(name) ? { record: this.records.get(name) } : undefined;
  }
}

function keyOf(bucketId: string, key: string, versionId: string | undefined): string {
  return JSON.stringify([bucketId, key, versionId ?? null]);
}

/** Whether this thread's object reads are network reads (cluster mode): decisions prefetch. */
export function objectReadsAreRemote(state: ServerState): boolean {
  return state.readers?.[0]?.remote === true;
}

/**
 * Reads the record a decision on (bucket, key, version) may look at into `into`: the current
 * version, or the named one (the current record when it is that one).
 */
export async function prefetchObjectFacts(
  state: ServerState,
  bucket: BucketRecord,
  key: string,
  versionId: string | undefined,
  into: PrefetchedObjects,
): Promise<void> {
  const readers = state.readers;
  if (readers === undefined) return;
  const reader = readers[shardOf(bucket.id, key, readers.length)];
  if (reader === undefined) return;
  const current = await reader.fetchObject(bucket.id, key);
  const record =
    versionId === undefined ||
    (current !== undefined && (current.versionId ?? 'null') === versionId)
      ? current
      : await reader.fetchVersion(bucket.id, key, versionId);
  into.set(bucket.id, key, versionId, record);
}

/** An object's tags as they are now, on either store (undefined: no such object). */
export async function fetchObjectTags(
  state: ServerState,
  bucket: BucketRecord,
  key: string,
): Promise<ReadonlyMap<string, string> | undefined> {
  const prefetched = new PrefetchedObjects();
  await prefetchObjectFacts(state, bucket, key, undefined, prefetched);
  return objectFactsOf(state, bucket, key, undefined, prefetched).tags();
}

/**
 * Cluster mode, before authorization: reads the record the decision on the request's own object
 * may need, when it may need one (the bucket has ACLs in use or a policy; a bucket under
 * BucketOwnerEnforced without a policy never looks at an object). Null, synchronously, when
 * nothing is to be read: embedded servers, bucket-level requests, DeleteObjects (which decides
 * each key itself), and buckets whose decisions never read objects.
 */
export function prefetchForDecision(
  state: ServerState,
  bucketName: string | null,
  key: string | null,
  endpoint: { readonly action: string; readonly versionId?: string | undefined },
): Promise<PrefetchedObjects> | null {
  if (!objectReadsAreRemote(state) || bucketName === null || key === null) return null;
  if (endpoint.action === 'DeleteObjects') return null;
  const bucket = state.catalog.getBucket(bucketName);
  if (bucket === undefined) return null;
  return prefetchIfJudged(
    state,
    bucket,
    bucketAccessOf(state.catalog, bucket),
    key,
    endpoint.versionId,
  );
}

/**
 * The object record a decision on (bucket, key) may look at, read now when it may (cluster
 * mode, and the bucket has ACLs in use or a policy); null, synchronously, when not.
 */
export function prefetchIfJudged(
  state: ServerState,
  bucket: BucketRecord,
  access: BucketAccess,
  key: string,
  versionId?: string,
): Promise<PrefetchedObjects> | null {
  return prefetchAllIfJudged(state, bucket, access, [{ key, versionId }]);
}

/** `prefetchIfJudged` for several objects of one bucket (DeleteObjects' keys), a few at a time. */
export function prefetchAllIfJudged(
  state: ServerState,
  bucket: BucketRecord,
  access: BucketAccess,
  objects: readonly { readonly key: string; readonly versionId?: string | undefined }[],
): Promise<PrefetchedObjects> | null {
  if (!objectReadsAreRemote(state)) return null;
  if (access.ownership === 'BucketOwnerEnforced' && access.policy === undefined) return null;
  const into = new PrefetchedObjects();
  const readAll = async (): Promise<PrefetchedObjects> => {
    for (let at = 0; at < objects.length; at += LIMITS.clusterFactsReadsInFlightMax) {
      const batch = objects.slice(at, at + LIMITS.clusterFactsReadsInFlightMax);
      await Promise.all(
        batch.map((o) => prefetchObjectFacts(state, bucket, o.key, o.versionId, into)),
      );
    }
    return into;
  };
  return readAll();
}
