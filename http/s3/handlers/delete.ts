import { LIMITS } from '../../../engine/limits.js';
import { shardOf } from '../../../engine/pool/placement.js';
import type { DeleteOutcome, DeleteTarget } from '../../../engine/protocol/messages.js';
import { iamActionOf } from '../../access/actions.js';
import { prefetchAllIfJudged } from '../../access/object-facts.js';
import { allows } from '../auth.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { accessOf, type RequestContext, requireBucket, shardFor } from '../context.js';
import { S3Error } from '../errors.js';
import { notifyField } from '../notifications.js';
import { checkKeyLength } from '../object-key.js';
import { lockCheckOf } from '../object-lock.js';
import { replicatedDeleteNotify, replicatedMarkerField } from '../replica.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { checkVersionId, versioningField } from '../versioning.js';
import { parseXml, textOf, type XmlNode, type XmlValue } from '../xml.js';

/**
 * DeleteObject: 204 whether or not the key existed, as S3 answers. In a versioned bucket it
 * leaves a delete marker; with a versionId it removes that version for good. With If-Match
 * (2025 API; "*" matches any object), only the object with that ETag goes: 412 for another,
 * 404 for none (judged against the current object).
 */
export async function handleDeleteObject(
  ctx: RequestContext,
  bucketName: string,
  key: string,
  versionId: string | undefined,
): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  checkVersionId(versionId);
  const ifMatch = ctx.req.headers['if-match'];
  const target: DeleteTarget =
    versionId === undefined
      ? { key, ...replicatedMarkerField(ctx, bucket, key) }
      : { key, versionId };
  const deleted = await shardFor(ctx.state, bucket, key).call(
    {
      kind: 'DeleteObjects',
      bucketId: bucket.id,
      targets: [target],
      ...versioningField(ctx.state.catalog, bucket),
      lockCheck: lockCheckOf(ctx, bucket),
      ...(ifMatch !== undefined ? { ifMatch } : {}),
      ...replicatedDeleteNotify(ctx, bucket, key, notifyField(ctx, bucket)),
    },
    'Deleted',
  );
  const outcome = deleted.results[0];
  // A version under object lock: AWS answers 403 AccessDenied, whoever asks.
  if (outcome?.locked === true) throw new S3Error('AccessDenied');
  const headers: Array<[string, string]> = [];
  if (outcome?.deleteMarker === true) headers.push(['x-amz-delete-marker', 'true']);
  if (outcome?.versionId !== undefined) headers.push(['x-amz-version-id', outcome.versionId]);
  sendEmpty(ctx, 204, headers);
}

/** DeleteObjects: up to 1000 keys (or versions), split by shard and deleted in parallel. */
export async function handleDeleteObjects(ctx: RequestContext, bucketName: string): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  const body = await readSignedBody(ctx);
  // S3 requires Content-MD5 or a checksum here, so a corrupted body cannot delete the wrong keys.
  requireBodyDigest(ctx.req.headers, body);
  const request = parseXml(body.toString('utf8'), 'Delete');
  const targets = deleteTargets(request['Object']);
  const quiet = textOf(request['Quiet'])?.trim().toLowerCase() === 'true';
  // Each key is decided on its own (a policy may deny some prefixes): refused keys are errors.
  const access = accessOf(ctx, bucket);
  // Cluster mode: the keys' records are read first when the decisions may look at them.
  const prefetch = prefetchAllIfJudged(ctx.state, bucket, access, targets);
  const facts = prefetch === null ? ctx.facts : { ...ctx.facts, prefetched: await prefetch };
  const allowed: DeleteTarget[] = [];
  const refused: DeleteTarget[] = [];
  for (const target of targets) {
    const mayDelete = allows(ctx.state, ctx.principal, facts, {
      action: iamActionOf('DeleteObject', target.versionId),
      grant: 'write',
      bucket,
      access,
      objectKey: target.key,
      versionId: target.versionId,
    });
    (mayDelete ? allowed : refused).push(target);
  }
  const byShard = new Map<number, DeleteTarget[]>();
  for (const target of allowed) {
    const shardId = shardOf(bucket.id, target.key, ctx.state.pool.size);
    byShard.set(shardId, [...(byShard.get(shardId) ?? []), target]);
  }
  const versioning = versioningField(ctx.state.catalog, bucket);
  const lockCheck = lockCheckOf(ctx, bucket);
  const notify = notifyField(ctx, bucket);
  const answers = await Promise.all(
    [...byShard].map(([shardId, shardTargets]) =>
      ctx.state.pool.client(shardId).call(
        {
          kind: 'DeleteObjects',
          bucketId: bucket.id,
          targets: shardTargets,
          ...versioning,
          lockCheck,
          ...notify,
        },
        'Deleted',
      ),
    ),
  );
  const shardTargets = [...byShard.values()];
  const outcomes = answers.flatMap((answer, i) =>
    answer.results.map((outcome, j) => ({ outcome, requested: shardTargets[i]?.[j]?.versionId })),
  );
  const deleted = outcomes
    .filter(({ outcome }) => outcome.locked !== true && outcome.failure === undefined)
    .map(({ outcome, requested }) => deletedXml(outcome, requested));
  // Errors are reported even in quiet mode, as S3 does.
  const errors = [
    ...refused.map((target) => lockedXml(target.key, target.versionId)),
    ...outcomes
      .filter(({ outcome }) => outcome.locked === true)
      .map(({ outcome, requested }) => lockedXml(outcome.key, requested)),
    ...outcomes.flatMap(({ outcome, requested }) =>
      outcome.failure === undefined
        ? []
        : [
            {
              Key: outcome.key,
              ...(requested !== undefined ? { VersionId: requested } : {}),
              Code: outcome.failure.code,
              Message: outcome.failure.message,
            },
          ],
    ),
  ];
  const result: XmlNode = {
    ...(quiet ? {} : { Deleted: deleted }),
    ...(errors.length > 0 ? { Error: errors } : {}),
  };
  sendXml(ctx, 'DeleteResult', result);
}

/** S3's Error element for an entry refused: by the decision, or as under object lock. */
function lockedXml(key: string, versionId: string | undefined): XmlNode {
  return {
    Key: key,
    ...(versionId !== undefined ? { VersionId: versionId } : {}),
    Code: 'AccessDenied',
    Message: 'Access Denied',
  };
}

/**
 * S3's Deleted element: a version named is reported as VersionId (with DeleteMarker and
 * DeleteMarkerVersionId when it was a marker); a marker created as DeleteMarkerVersionId.
 */
function deletedXml(outcome: DeleteOutcome, requested: string | undefined): XmlNode {
  const node: XmlNode = { Key: outcome.key };
  const marker = outcome.deleteMarker === true;
  if (requested !== undefined) node.VersionId = requested;
  if (marker) {
    node.DeleteMarker = true;
    if (outcome.versionId !== undefined) node.DeleteMarkerVersionId = outcome.versionId;
  }
  return node;
}

/** The keys of a DeleteObjects request's Object entries. */
export function objectKeys(objects: XmlValue): string[] {
  return deleteTargets(objects).map((target) => target.key);
}

/** The Object entries of a DeleteObjects request: keys, each with an optional VersionId. */
export function deleteTargets(objects: XmlValue): DeleteTarget[] {
  const list = Array.isArray(objects) ? objects : [];
  if (list.length === 0 || list.length > LIMITS.deleteObjectsKeysMax)
    throw new S3Error('MalformedXML');
  return list.map((entry) => {
    const fields = typeof entry === 'object' && !Array.isArray(entry) ? entry : {};
    const key = textOf(fields['Key']);
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    checkKeyLength(key);
    const versionId = textOf(fields['VersionId']);
    // AWS 2025: an entry's ETag makes its deletion conditional (a per-entry If-Match).
    const etag = textOf(fields['ETag']);
    if (versionId !== undefined) checkVersionId(versionId);
    return {
      key,
      ...(versionId === undefined ? {} : { versionId }),
      ...(etag === undefined ? {} : { etag }),
    };
  });
}
