import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
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
import { headAt } from './sender.js';

export interface RepairResult {
  /** Current versions looked at. */
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
 * The repair pass over every bucket with replication rules: each current version (read through
 * hangar's own endpoint, like the worker's reads) that is not a replica and has no queued row is
 * queued again for each destination that lacks its key (a HEAD there answers 404), holds other
 * bytes under it (another size or MD5 ETag: sameBytes), or when its status is FAILED. Changes
 * lost before they were queued (a configuration added after the objects, a remote that was
 * wiped) and copies changed at the destination thus arrive again. The shard re-checks inside its transaction
 * (RequeueReplication), so a version queued meanwhile is not queued twice.
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

async function repairBucket(
  context: RepairContext,
  bucket: BucketRecord,
  rules: readonly ReplicationRule[],
): Promise<RepairResult> {
  const result: RepairResult = { checked: 0, requeued: 0 };
  let token: string | undefined;
  do {
    const page = await context.source.send(
      new ListObjectsV2Command({
        Bucket: bucket.name,
        MaxKeys: LIMITS.replicationRepairPageMax,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    const wanted: Requeue[] = [];
    for (const object of page.Contents ?? []) {
      if (context.stopped()) break;
      if (object.Key === undefined) continue;
      result.checked++;
      wanted.push(...(await missingAt(context, bucket, rules, object.Key)));
    }
    result.requeued += await requeue(context, bucket.id, wanted);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined && !context.stopped());
  return result;
}

/**
 * Whether the destination's copy holds the source's bytes, as far as HEADs can tell: the sizes
 * match, and the ETags too where both are a body's MD5 (single-part, no SSE-KMS/SSE-C on either
 * side). A multipart ETag depends on the part sizes, which differ between the source's upload
 * and the worker's own (multipart.ts): such a copy is compared by size only.
 */
export function sameBytes(
  source: HeadObjectCommandOutput,
  destination: HeadObjectCommandOutput | undefined,
): boolean {
  if (destination === undefined) return false;
  if (source.ContentLength !== destination.ContentLength) return false;
  const mine = md5EtagOf(source);
  const theirs = md5EtagOf(destination);
  return mine === undefined || theirs === undefined || mine === theirs;
}

/** The ETag when it is the body's MD5 (hex), else undefined. */
function md5EtagOf(head: HeadObjectCommandOutput): string | undefined {
  if (head.SSECustomerAlgorithm !== undefined || head.ServerSideEncryption === 'aws:kms') {
    return undefined;
  }
  return /^"([0-9a-f]{32})"$/.exec(head.ETag ?? '')?.[1];
}

/** The rows one key needs queued again: one per destination that lacks it or differs. */
async function missingAt(
  context: RepairContext,
  bucket: BucketRecord,
  rules: readonly ReplicationRule[],
  key: string,
): Promise<Requeue[]> {
  const head = await context.source.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
  const status = head.ReplicationStatus;
  if (status === 'REPLICA' || status === 'PENDING' || head.VersionId === undefined) return [];
  const tags = rules.some((rule) => rule.tags.length > 0) ? await tagsOf(context, bucket, key) : [];
  const wanted: Requeue[] = [];
  for (const rule of ReplicationQueue.targetsOf(rules, key, tags, encryptionKindOfHead(head))) {
    const remote = context.clientFor(rule.destination);
    if (remote === undefined) continue;
    const lacking =
      status === 'FAILED' || !sameBytes(head, await headAt(remote, rule.destination, key));
    if (!lacking) continue;
    wanted.push({
      op: 'put',
      bucketId: bucket.id,
      bucketName: bucket.name,
      key,
      versionId: head.VersionId,
      ruleId: rule.id,
      destination: rule.destination,
      ...(rule.storageClass !== undefined ? { storageClass: rule.storageClass } : {}),
    });
  }
  return wanted;
}

async function tagsOf(context: RepairContext, bucket: BucketRecord, key: string): Promise<Tag[]> {
  const tagging = await context.source.send(
    new GetObjectTaggingCommand({ Bucket: bucket.name, Key: key }),
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
