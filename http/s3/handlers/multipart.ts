import { assert } from '../../../engine/assert.js';
import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import {
  allowsType,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumHeaderOf,
  defaultType,
  parseChecksumAlgorithm,
} from '../../../engine/checksums/checksums.js';
import { LIMITS } from '../../../engine/limits.js';
import type {
  ChosenPart,
  ObjectLock,
  UploadChecksum,
  UploadInfo,
  UploadListEntry,
} from '../../../engine/protocol/messages.js';
import { summaryOf } from '../../../engine/sse/managed.js';
import { isManagedKey } from '../../../engine/sse-c.js';
import { bucketOwnerId } from '../../access/principal.js';
import { newObjectAclOf } from '../acl-on-write.js';
import { requireCopySourceAccess } from '../auth.js';
import { planPayload, uploadBody } from '../body-upload.js';
import { checksumElementOf, planChecksum } from '../checksum-headers.js';
import { checkPreconditions, withConditions, writeConditionsOf } from '../conditional.js';
import { type RequestContext, requireBucket, requireOtherBucket, shardFor } from '../context.js';
import type {
  ListMultipartUploadsEndpoint,
  ListPartsEndpoint,
  UploadIdEndpoint,
  UploadPartEndpoint,
} from '../endpoints.js';
import { S3Error } from '../errors.js';
import { expirationHeader } from '../expiration.js';
import { mergeShardPages } from '../merge.js';
import { notifyField } from '../notifications.js';
import { objectHeadersFrom } from '../object-headers.js';
import { checkKey } from '../object-key.js';
import { defaultRetention, lockField, lockFromHeaders } from '../object-lock.js';
import { type OwnerNames, ownerNamesOf } from '../owners.js';
import { quotaCheck } from '../quota.js';
import { relayBody } from '../relay.js';
import { replicaField } from '../replica.js';
import { sendEmpty, sendXml } from '../reply.js';
import { clientScheme } from '../scheme.js';
import { readSignedBody } from '../signed-body.js';
import { managedResponseHeaders, writeEncryption } from '../sse.js';
import { customerKeyOf, sseResponseHeaders } from '../sse-c.js';
import { shownStorageClass, storageClassFrom } from '../storage-class.js';
import { versionIdHeader, versioningField } from '../versioning.js';
import { isoTime, parseXml, textOf, type XmlNode, type XmlValue } from '../xml.js';
import { parseCopySource } from './copy.js';
import { openObject } from './object-get.js';
import { tagsFromHeader } from './tagging.js';

/** CreateMultipartUpload: the upload lives on the shard that will own the object. */
export async function handleCreateMultipartUpload(
  ctx: RequestContext,
  bucketName: string,
  key: string,
): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  checkKey(key);
  const checksum = uploadChecksumOf(ctx.req.headers);
  // One data key per upload (SSE-S3/KMS), sealed in the upload record: every part uses it.
  const sse = writeEncryption(ctx.state, bucket, ctx.req.headers, customerKeyOf(ctx.req.headers));
  const managed = sse !== null && isManagedKey(sse) ? sse.managed : null;
  const sseKeyMd5 = sse !== null && !isManagedKey(sse) ? sse.md5Base64 : null;
  const headers = objectHeadersFrom(ctx.req);
  const storageClass = storageClassFrom(ctx.req.headers['x-amz-storage-class']);
  const tags = tagsFromHeader(ctx.req.headers['x-amz-tagging']);
  // Applied when the upload completes; the bucket's default retention is computed then.
  const lock = lockField(lockFromHeaders(ctx.state, bucket, ctx.req.headers));
  // The owner and ACL are the creating request's, stored with the upload for its completion.
  const acl = newObjectAclOf(ctx, bucket);
  const created = await shardFor(ctx.state, bucket, key).call(
    {
      kind: 'CreateUpload',
      bucketId: bucket.id,
      key,
      headers,
      checksum,
      sseKeyMd5,
      ...(managed !== null ? { sseManaged: managed } : {}),
      tags,
      ...lock,
      ...acl,
      ...(ctx.principal.kind === 'key' ? { initiator: ctx.principal.canonicalId } : {}),
      ...storageClass,
    },
    'UploadCreated',
  );
  sendXml(
    ctx,
    'InitiateMultipartUploadResult',
    { Bucket: bucket.name, Key: key, UploadId: created.uploadId },
    [
      ...sseResponseHeaders(sseKeyMd5),
      ...managedResponseHeaders(
        ctx.state.config.s3.region,
        managed === null ? undefined : summaryOf(managed),
        true,
      ),
      ...(checksum === null
        ? []
        : ([
            ['x-amz-checksum-algorithm', checksum.algorithm],
            ['x-amz-checksum-type', checksum.type],
          ] as Array<[string, string]>)),
    ],
  );
}

/** `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload, as AWS allows them. */
function uploadChecksumOf(headers: Readonly<Record<string, string>>): UploadChecksum | null {
  const algorithmHeader = headers['x-amz-checksum-algorithm'];
  const typeHeader = headers['x-amz-checksum-type']?.trim().toUpperCase();
  if (algorithmHeader === undefined) {
    if (typeHeader !== undefined)
      throw new S3Error(
        'InvalidRequest',
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    return null;
  }
  const algorithm = parseChecksumAlgorithm(algorithmHeader);
  if (algorithm === null)
    throw new S3Error(
      'InvalidRequest',
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    );
  if (typeHeader !== undefined && typeHeader !== 'COMPOSITE' && typeHeader !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  const type = typeHeader ?? defaultType(algorithm);
  if (!allowsType(algorithm, type)) {
    throw new S3Error(
      'InvalidRequest',
      `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }
  return { algorithm, type };
}

/** UploadPart: streams the body into a part of the upload; answers with the part's ETag. */
export async function handleUploadPart(ctx: RequestContext, e: UploadPartEndpoint): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const plan = planPayload(ctx);
  const sse = customerKeyOf(ctx.req.headers);
  const result = await uploadBody(
    ctx,
    shardFor(ctx.state, bucket, e.key),
    {
      kind: 'PutBegin',
      bucketId: bucket.id,
      key: e.key,
      headers: { userMeta: {} },
      declaredBytes: plan.declaredBytes,
      payloadSha256: plan.expect.sha256Hex !== undefined,
      part: { uploadId: e.uploadId, partNumber: e.partNumber },
      checksumAlgorithm: plan.checksum.algorithm,
      sse,
    },
    plan,
  );
  assert(result.kind === 'PartStored', 'an UploadPart stores a part');
  const checksum = result.part.checksum;
  const reply: Array<[string, string]> = [
    ['etag', result.part.etag],
    ...sseResponseHeaders(sse?.md5Base64 ?? null),
    ...managedResponseHeaders(ctx.state.config.s3.region, result.part.sseManaged),
  ];
  if (checksum !== null) reply.push([checksumHeaderOf(checksum.algorithm), checksum.base64]);
  sendEmpty(ctx, 200, reply);
}

/**
 * UploadPartCopy: the source range streams from the source shard to the upload's shard; each
 * buffer is transferred onward and returned to the source for reuse, so the HTTP thread copies
 * no byte and holds at most one window.
 */
export async function handleUploadPartCopy(
  ctx: RequestContext,
  e: UploadPartEndpoint,
): Promise<void> {
  const target = requireBucket(ctx, e.bucket);
  const source = parseCopySource(ctx.req.headers['x-amz-copy-source'] ?? '');
  const sourceBucket = await requireOtherBucket(ctx, source.bucket);
  await requireCopySourceAccess(ctx, sourceBucket, source.key, source.versionId);
  const sourceShard = shardFor(ctx.state, sourceBucket, source.key);
  const opened = await openObject(
    ctx,
    sourceShard,
    sourceBucket.id,
    source.key,
    'relay',
    customerKeyOf(ctx.req.headers, true),
    {},
    source.versionId,
  );
  let relayed = false;
  try {
    const h = ctx.req.headers;
    checkPreconditions(
      opened.info,
      {
        ifMatch: h['x-amz-copy-source-if-match'],
        ifNoneMatch: h['x-amz-copy-source-if-none-match'],
        ifModifiedSince: h['x-amz-copy-source-if-modified-since'],
        ifUnmodifiedSince: h['x-amz-copy-source-if-unmodified-since'],
      },
      true,
    );
    const range = copySourceRange(h['x-amz-copy-source-range'], opened.info.bytes);
    const sse = customerKeyOf(ctx.req.headers);
    const checksumAlgorithm = await uploadAlgorithm(ctx, target, e);
    relayed = true;
    const result = await relayBody(
      ctx,
      { shard: sourceShard, reqId: opened.reqId, ...range },
      shardFor(ctx.state, target, e.key),
      {
        kind: 'PutBegin',
        bucketId: target.id,
        key: e.key,
        headers: { userMeta: {} },
        declaredBytes: range.end - range.start,
        payloadSha256: false,
        part: { uploadId: e.uploadId, partNumber: e.partNumber },
        checksumAlgorithm,
        sse,
      },
    );
    assert(result.kind === 'PartStored', 'an UploadPartCopy stores a part');
    const part = result.part;
    sendXml(
      ctx,
      'CopyPartResult',
      {
        LastModified: isoTime(part.lastModifiedMs),
        ETag: part.etag,
        ...(part.checksum !== null
          ? { [checksumElementOf(part.checksum.algorithm)]: part.checksum.base64 }
          : {}),
      },
      [
        ...sseResponseHeaders(sse?.md5Base64 ?? null),
        ...managedResponseHeaders(ctx.state.config.s3.region, part.sseManaged),
      ],
    );
  } finally {
    if (!relayed) sourceShard.cancel(opened.reqId);
  }
}

/** The upload's checksum algorithm, which S3 computes itself for a copied part. */
async function uploadAlgorithm(
  ctx: RequestContext,
  bucket: BucketRecord,
  e: UploadPartEndpoint,
): Promise<ChecksumAlgorithm | null> {
  const listed = await shardFor(ctx.state, bucket, e.key).call(
    {
      kind: 'ListParts',
      bucketId: bucket.id,
      key: e.key,
      uploadId: e.uploadId,
      afterPartNumber: 0,
      limit: 0,
    },
    'Parts',
  );
  return listed.upload.checksum?.algorithm ?? null;
}

/** `x-amz-copy-source-range: bytes=first-last`, inclusive; the whole object when absent. */
function copySourceRange(header: string | undefined, size: number): { start: number; end: number } {
  if (header === undefined) return { start: 0, end: size };
  const match = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  if (match === null) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: header },
    );
  }
  const start = Number(match[1]);
  const last = Number(match[2]);
  if (last < start || last >= size) {
    throw new S3Error(
      'InvalidRange',
      undefined,
      { ActualObjectSize: String(size) },
      { 'content-range': `bytes */${size}` },
    );
  }
  return { start, end: last + 1 };
}

/** CompleteMultipartUpload: the shard assembles the object from the parts' blocks. */
export async function handleCompleteMultipartUpload(
  ctx: RequestContext,
  e: UploadIdEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const body = await readSignedBody(ctx);
  const parts = partsOf(parseXml(body.toString('utf8'), 'CompleteMultipartUpload')['Part']);
  const asserted = planChecksum(ctx.req.headers, false);
  const conditions = writeConditionsOf(ctx.req.headers);
  const shard = shardFor(ctx.state, bucket, e.key);
  const quota = await quotaCheck(ctx.state, bucket.id, shard);
  const completed = await shard.call(
    {
      ...(quota !== undefined ? { quota } : {}),
      kind: 'CompleteUpload',
      bucketId: bucket.id,
      key: e.key,
      uploadId: e.uploadId,
      parts,
      fullObjectBase64: asserted.headerValue,
      ...versioningField(ctx.state.catalog, bucket),
      ...defaultLockField(defaultRetention(ctx.state, bucket)),
      ...withConditions(conditions),
      ...notifyField(ctx, bucket),
      ...replicaField(ctx, bucket, e.key),
    },
    'Put',
  );
  const checksum = completed.info.checksum;
  sendXml(
    ctx,
    'CompleteMultipartUploadResult',
    {
      Location: `${clientScheme(ctx.state.config, ctx.req.headers)}://${ctx.req.headers['host'] ?? ctx.state.config.s3.host}/${bucket.name}/${encodeURIComponent(e.key)}`,
      Bucket: bucket.name,
      Key: e.key,
      ETag: completed.info.etag,
      ...(checksum !== null
        ? { [checksumElementOf(checksum.algorithm)]: checksum.base64, ChecksumType: checksum.type }
        : {}),
    },
    [
      ...expirationHeader(ctx.state.catalog, bucket, completed.info),
      ...versionIdHeader(completed.info.versionId),
      ...managedResponseHeaders(ctx.state.config.s3.region, completed.info.sseManaged),
    ],
  );
}

export function partsOf(value: XmlValue): ChosenPart[] {
  const list = Array.isArray(value) ? value : [];
  if (list.length === 0 || list.length > LIMITS.multipartPartNumberMax)
    throw new S3Error('MalformedXML');
  return list.map((entry) => {
    const node = typeof entry === 'object' && !Array.isArray(entry) ? entry : {};
    const number = Number(textOf(node['PartNumber'])?.trim());
    const etag = textOf(node['ETag'])?.trim();
    if (!Number.isInteger(number) || etag === undefined) throw new S3Error('MalformedXML');
    if (number < 1 || number > LIMITS.multipartPartNumberMax) {
      throw new S3Error(
        'InvalidArgument',
        `Part number must be an integer between 1 and ${LIMITS.multipartPartNumberMax}, inclusive`,
        { ArgumentName: 'partNumber', ArgumentValue: String(number) },
      );
    }
    return { partNumber: number, etag, checksums: partChecksumsOf(node) };
  });
}

/** The Checksum<ALG> elements a client listed for a part. */
function partChecksumsOf(node: XmlNode): ChosenPart['checksums'] {
  const checksums: ChosenPart['checksums'] = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = textOf(node[checksumElementOf(algorithm)])?.trim();
    if (value !== undefined && value !== '') checksums[algorithm] = value;
  }
  return checksums;
}

export async function handleAbortMultipartUpload(
  ctx: RequestContext,
  e: UploadIdEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  await shardFor(ctx.state, bucket, e.key).call(
    { kind: 'AbortUpload', bucketId: bucket.id, key: e.key, uploadId: e.uploadId },
    'Aborted',
  );
  sendEmpty(ctx, 204);
}

/** ListParts, paginated by part-number-marker. */
export async function handleListParts(ctx: RequestContext, e: ListPartsEndpoint): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const maxParts = Math.min(e.maxParts ?? LIMITS.listPartsMax, LIMITS.listPartsMax);
  const marker = e.partNumberMarker ?? 0;
  const listed = await shardFor(ctx.state, bucket, e.key).call(
    {
      kind: 'ListParts',
      bucketId: bucket.id,
      key: e.key,
      uploadId: e.uploadId,
      afterPartNumber: marker,
      limit: maxParts,
    },
    'Parts',
  );
  const last = listed.parts[listed.parts.length - 1];
  sendXml(ctx, 'ListPartsResult', {
    Bucket: bucket.name,
    Key: e.key,
    UploadId: e.uploadId,
    ...uploadPeople(bucket, listed.upload, ownerNamesOf(ctx)),
    StorageClass: shownStorageClass(listed.upload.storageClass),
    PartNumberMarker: marker,
    ...(listed.truncated && last !== undefined ? { NextPartNumberMarker: last.partNumber } : {}),
    MaxParts: e.maxParts ?? LIMITS.listPartsMax,
    IsTruncated: listed.truncated,
    ...(listed.upload.checksum !== null
      ? {
          ChecksumAlgorithm: listed.upload.checksum.algorithm,
          ChecksumType: listed.upload.checksum.type,
        }
      : {}),
    Part: listed.parts.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: isoTime(part.lastModifiedMs),
      ETag: part.etag,
      Size: part.bytes,
      ...(part.checksum !== null
        ? { [checksumElementOf(part.checksum.algorithm)]: part.checksum.base64 }
        : {}),
    })),
  });
}

/** ListMultipartUploads: every shard's page, merged by key (UTF-8 order) then upload id. */
export async function handleListMultipartUploads(
  ctx: RequestContext,
  e: ListMultipartUploadsEndpoint,
): Promise<void> {
  const bucket = requireBucket(ctx, e.bucket);
  const limit = Math.min(e.maxUploads ?? LIMITS.listUploadsMax, LIMITS.listUploadsMax);
  const query = {
    bucketId: bucket.id,
    prefix: e.prefix ?? '',
    delimiter: e.delimiter ?? '',
    afterKey: e.keyMarker ?? '',
    afterUploadId: e.keyMarker !== undefined ? (e.uploadIdMarker ?? '') : '',
    limit,
  };
  const pages =
    limit === 0 ? [] : await ctx.state.pool.callAll({ kind: 'ListUploads', ...query }, 'Uploads');
  const merged = mergeShardPages(
    pages.map((page) => page.entries),
    uploadSortBytes,
  );
  const entries = merged.slice(0, limit);
  const truncated = merged.length > limit || pages.some((page) => page.truncated);
  const encode = e.encodingType === 'url' ? encodeURIComponent : (text: string) => text;
  const names = ownerNamesOf(ctx);
  const last = entries[entries.length - 1];
  const body: XmlNode = {
    Bucket: bucket.name,
    KeyMarker: encode(e.keyMarker ?? ''),
    UploadIdMarker: e.uploadIdMarker ?? '',
    ...(truncated && last !== undefined ? nextMarkers(last, encode) : {}),
    ...(query.delimiter !== '' ? { Delimiter: encode(query.delimiter) } : {}),
    Prefix: encode(query.prefix),
    MaxUploads: e.maxUploads ?? LIMITS.listUploadsMax,
    ...(e.encodingType !== undefined ? { EncodingType: e.encodingType } : {}),
    IsTruncated: truncated,
    Upload: entries.flatMap((entry) =>
      entry.kind === 'upload' ? [uploadNode(bucket, entry.upload, names, encode)] : [],
    ),
    CommonPrefixes: entries.flatMap((entry) =>
      entry.kind === 'prefix' ? [{ Prefix: encode(entry.prefix) }] : [],
    ),
  };
  sendXml(ctx, 'ListMultipartUploadsResult', body);
}

function nextMarkers(last: UploadListEntry, encode: (text: string) => string): XmlNode {
  if (last.kind === 'prefix') return { NextKeyMarker: encode(last.prefix) };
  return { NextKeyMarker: encode(last.upload.key), NextUploadIdMarker: last.upload.uploadId };
}

function uploadNode(
  bucket: BucketRecord,
  upload: UploadInfo,
  names: OwnerNames,
  encode: (text: string) => string,
): XmlNode {
  return {
    Key: encode(upload.key),
    UploadId: upload.uploadId,
    ...uploadPeople(bucket, upload, names),
    StorageClass: shownStorageClass(upload.storageClass),
    Initiated: isoTime(upload.initiatedMs),
  };
}

/**
 * An upload's Initiator (the key that created it; an anonymous or older upload: the bucket
 * owner) and Owner (the owner its object will have, decided at CreateMultipartUpload by the
 * bucket's ownership and the upload's ACL: absent, the bucket owner), as canonical ids.
 */
function uploadPeople(bucket: BucketRecord, upload: UploadInfo, names: OwnerNames): XmlNode {
  const bucketOwner = bucketOwnerId(bucket);
  const initiator = upload.initiator ?? bucketOwner;
  const owner = upload.owner ?? bucketOwner;
  return { Initiator: names.node(initiator), Owner: names.node(owner) };
}

/** Upload entries sort by key bytes, then upload id (initiation order). */
function uploadSortBytes(entry: UploadListEntry): Buffer {
  if (entry.kind === 'prefix') return Buffer.from(entry.prefix, 'utf8');
  return Buffer.concat([
    Buffer.from(entry.upload.key, 'utf8'),
    Buffer.from([0]),
    Buffer.from(entry.upload.uploadId, 'hex'),
  ]);
}

function defaultLockField(lock: ObjectLock | undefined): { defaultLock?: ObjectLock } {
  return lock === undefined ? {} : { defaultLock: lock };
}
