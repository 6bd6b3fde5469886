import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import { ReplicationQueue } from '../../engine/meta/replication-queue.js';
import { shardOf } from '../../engine/pool/placement.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { ReplicationEntry, ReplicationRule, Tag } from '../../engine/protocol/messages.js';
import { replicationRulesOf } from '../s3/replication-config.js';
import { encryptionKindOfHead } from './destination.js';
import { comparableEtagOf, headAt } from './sender.js';

export interface RepairResult {
  /** Versions looked at. */
  checked: number;
  /** Rows queued again (a version may go to several destinations). */
  requeued: number;
}

export interface RepairContext {
  catalog: Catalog;
  shards: readonly ShardClient[];
  source: S3Client;
  clientFor(bucket: string): S3Client | undefined;
  stopped(): boolean;
}

type Requeue = Omit<ReplicationEntry, 'id' | 'createdMs'>;

/**
 * The repair pass over every bucket with replication rules: each version (read through hangar's
 * own endpoint, like the worker's reads) that is not a replica and has no queued row is queued
 * again for each destination that lacks it or holds other bytes for it (another size or ETag:
 * sameBytes), or when its status is FAILED. Changes lost before they were queued (a
 * configuration added after the objects, a remote that was wiped) and copies changed at the
 * destination thus arrive again. The shard re-checks inside its transaction
 * (RequeueReplication), so a version queued meanwhile is not queued twice.
 *
 * Which destination copy a version is compared with: at a destination that keeps the source's
 * version ids (a hangar destination does, x-hangar-source-version-id), its version of the same
 * id, for current and noncurrent versions alike. A destination with ids of its own (Ceph RGW,
 * AWS) cannot tell which of its versions is which source version, and sending an old version
 * again would make it current there: only the current version is compared, with the
 * destination's current version of the key. Delete markers are not compared (the repair queues
 * versions, as AWS's batch replication of existing objects does).
 */
export async function repairBuckets(context: RepairContext): Promise<RepairResult> {
  const total: RepairResult = { checked: 0, requeued: 0 };
  for (const bucket of context.catalog.listBuckets()) {
    if (context.stopped()) break;
    const rules = replicationRulesOf(context.catalog, bucket);
    if (rules === undefined) continue;
    const result = await repairBucket(context, bucket, rules);
    total.checked += result.checked;
    total.requeued += result.requeued;
  }
  return total;
}

/** A version the source listed, as the comparison needs it. */
interface ListedVersion {
  key: string;
  versionId: string;
  current: boolean;
}

/** Per destination: the last key whose current version showed the destination keeps ids. */
type CarriedIds = Map<string, string>;

async function repairBucket(
  context: RepairContext,
  bucket: BucketRecord,
  rules: readonly ReplicationRule[],
): Promise<RepairResult> {
  const result: RepairResult = { checked: 0, requeued: 0 };
  const carried: CarriedIds = new Map();
  let marker: { KeyMarker: string; VersionIdMarker: string } | undefined;
  do {
    const page = await context.source.send(
      new ListObjectVersionsCommand({
        Bucket: bucket.name,
        MaxKeys: LIMITS.replicationRepairPageMax,
        ...(marker ?? {}),
      }),
    );
    const wanted: Requeue[] = [];
    for (const listed of page.Versions ?? []) {
      if (context.stopped()) break;
      if (listed.Key === undefined || listed.VersionId === undefined) continue;
      result.checked++;
      const version = {
        key: listed.Key,
        versionId: listed.VersionId,
        current: listed.IsLatest === true,
      };
      wanted.push(...(await missingAt(context, { bucket, rules, carried }, version)));
    }
    result.requeued += await requeue(context, bucket.id, wanted);
    marker =
      page.IsTruncated === true
        ? { KeyMarker: page.NextKeyMarker ?? '', VersionIdMarker: page.NextVersionIdMarker ?? '' }
        : undefined;
  } while (marker !== undefined && !context.stopped());
  return result;
}

/**
 * Whether the destination's copy holds the source's bytes, as far as HEADs can tell: the sizes
 * match, and the ETags too where both are MD5-based (a body's MD5, or a multipart upload's MD5 of
 * its parts' MD5s, which the worker reproduces by sending the source's part layout; no
 * SSE-KMS/SSE-C on either side).
 */
export function sameBytes(
  source: HeadObjectCommandOutput,
  destination: HeadObjectCommandOutput | undefined,
): boolean {
  if (destination === undefined) return false;
  if (source.ContentLength !== destination.ContentLength) return false;
  const mine = comparableEtagOf(source);
  const theirs = comparableEtagOf(destination);
  return mine === undefined || theirs === undefined || mine === theirs;
}

/** The rows one version needs queued again: one per destination that lacks it or differs. */
async function missingAt(
  context: RepairContext,
  where: { bucket: BucketRecord; rules: readonly ReplicationRule[]; carried: CarriedIds },
  version: ListedVersion,
): Promise<Requeue[]> {
  const { bucket, rules, carried } = where;
  const { key, versionId } = version;
  const head = await context.source.send(
    new HeadObjectCommand({ Bucket: bucket.name, Key: key, VersionId: versionId }),
  );
  const status = head.ReplicationStatus;
  if (status === 'REPLICA' || status === 'PENDING') return [];
  const tags = rules.some((rule) => rule.tags.length > 0)
    ? await tagsOf(context, bucket, key, versionId)
    : [];
  const wanted: Requeue[] = [];
  for (const rule of ReplicationQueue.targetsOf(rules, key, tags, encryptionKindOfHead(head))) {
    const remote = context.clientFor(rule.destination);
    if (remote === undefined) continue;
    const copy = await destinationCopy(remote, rule.destination, version, carried);
    if (copy === 'unknown') continue;
    if (status !== 'FAILED' && sameBytes(head, copy)) continue;
    wanted.push({
      op: 'put',
      bucketId: bucket.id,
      bucketName: bucket.name,
      key,
      versionId,
      ruleId: rule.id,
      destination: rule.destination,
      ...(rule.storageClass !== undefined ? { storageClass: rule.storageClass } : {}),
    });
  }
  return wanted;
}

/**
 * The destination's copy of `version` (undefined: it has none), or 'unknown' for a noncurrent
 * version it lacks when it is not known to keep the source's version ids. First by id: a
 * destination that keeps ids holds the version under it, current or not (a newer version
 * written at the destination itself hides it without replacing it, as on AWS). Else the current
 * version is compared with the destination's current one. A key's versions come newest first:
 * once one is found under its id, the key's older versions are looked up by id too, and one the
 * destination lacks is lacking indeed.
 */
async function destinationCopy(
  remote: S3Client,
  destination: string,
  version: ListedVersion,
  carried: CarriedIds,
): Promise<HeadObjectCommandOutput | undefined | 'unknown'> {
  const { key, versionId } = version;
  // The null version (written while versioning was suspended) has no id that travels.
  const byId = versionId === 'null' ? undefined : await headAt(remote, destination, key, versionId);
  if (byId !== undefined && byId.VersionId === versionId) {
    carried.set(destination, key);
    return byId;
  }
  if (version.current) return headAt(remote, destination, key);
  return carried.get(destination) === key ? undefined : 'unknown';
}

async function tagsOf(
  context: RepairContext,
  bucket: BucketRecord,
  key: string,
  versionId: string,
): Promise<Tag[]> {
  const tagging = await context.source.send(
    new GetObjectTaggingCommand({ Bucket: bucket.name, Key: key, VersionId: versionId }),
  );
  return (tagging.TagSet ?? []).map((tag) => ({ key: tag.Key ?? '', value: tag.Value ?? '' }));
}

/** Queues the rows on their keys' shards; returns how many the shards added. */
async function requeue(
  context: RepairContext,
  bucketId: string,
  wanted: readonly Requeue[],
): Promise<number> {
  const byShard = new Map<number, Requeue[]>();
  for (const entry of wanted) {
    const shardId = shardOf(bucketId, entry.key, context.shards.length);
    byShard.set(shardId, [...(byShard.get(shardId) ?? []), entry]);
  }
  let added = 0;
  for (const [shardId, entries] of byShard) {
    const shard = context.shards[shardId];
    if (shard === undefined) continue;
    const queued = await shard.call({ kind: 'RequeueReplication', entries }, 'ReplicationQueued');
    added += queued.added;
  }
  return added;
}
