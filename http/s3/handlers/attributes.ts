import { LIMITS } from '../../../engine/limits.js';
import type { ObjectInfo } from '../../../engine/protocol/messages.js';
import { checksumElementOf } from '../checksum-headers.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import type { VersionedObjectEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { httpDate } from '../object-headers.js';
import { sendXml } from '../reply.js';
import { customerKeyOf } from '../sse-c.js';
import { shownStorageClass } from '../storage-class.js';
import { checkVersionId, versionIdHeader } from '../versioning.js';
import type { XmlNode } from '../xml.js';
import { openObject } from './object-get.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/**
 * GetObjectAttributes: HeadObject and ListParts in one answer, only the root fields the
 * `x-amz-object-attributes` header names. As S3 answers it: the ETag unquoted; a COMPOSITE
 * checksum without its `-<parts>` suffix; ObjectParts only for multipart objects, and the parts
 * themselves (paginated like ListParts) only when the upload had a COMPOSITE checksum, otherwise
 * just the part count.
 */
export async function handleGetObjectAttributes(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  checkVersionId(e.versionId);
  const h = ctx.req.headers;
  const wanted = attributesOf(h['x-amz-object-attributes']);
  const maxParts = nonNegative(h['x-amz-max-parts'], 'x-amz-max-parts') ?? LIMITS.listPartsMax;
  const marker = nonNegative(h['x-amz-part-number-marker'], 'x-amz-part-number-marker') ?? 0;
  const bucket = requireBucket(ctx, e.bucket);
  const { info } = await openObject(
    ctx,
    shardFor(ctx.state, bucket, e.key),
    bucket.id,
    e.key,
    'info',
    customerKeyOf(h),
    {},
    e.versionId,
  );
  const body: XmlNode = {};
  if (wanted.has('ETag')) body['ETag'] = unquote(info.etag);
  if (wanted.has('Checksum') && info.checksum !== null) {
    const { algorithm, base64, type } = info.checksum;
    body['Checksum'] = {
      [checksumElementOf(algorithm)]: type === 'COMPOSITE' ? base64.replace(/-\d+$/, '') : base64,
      ChecksumType: type,
    };
  }
  if (wanted.has('ObjectParts') && info.partSizes !== null) {
    body['ObjectParts'] = objectParts(info, info.partSizes, marker, maxParts);
  }
  if (wanted.has('StorageClass')) body['StorageClass'] = shownStorageClass(info.storageClass);
  if (wanted.has('ObjectSize')) body['ObjectSize'] = info.bytes;
  sendXml(ctx, 'GetObjectAttributesResponse', body, [
    ['last-modified', httpDate(info.lastModifiedMs)],
    ...versionIdHeader(info.versionId),
  ]);
}

/** `ETag,Checksum,...` (the SDKs join the list with commas); an unknown or missing name is refused. */
function attributesOf(header: string | undefined): Set<Attribute> {
  const names = (header ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw invalidAttribute(header ?? '');
  const wanted = new Set<Attribute>();
  for (const name of names) {
    if (!(ATTRIBUTES as readonly string[]).includes(name)) throw invalidAttribute(name);
    wanted.add(name as Attribute);
  }
  return wanted;
}

function invalidAttribute(value: string): S3Error {
  return new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
    ArgumentName: 'x-amz-object-attributes',
    ArgumentValue: value,
  });
}

function nonNegative(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,9}$/.test(trimmed)) {
    throw new S3Error(
      'InvalidArgument',
      `Provided ${name} not an integer or within integer range`,
      {
        ArgumentName: name,
        ArgumentValue: value,
      },
    );
  }
  return Number(trimmed);
}

function objectParts(
  info: ObjectInfo,
  sizes: readonly number[],
  marker: number,
  maxParts: number,
): XmlNode {
  const listed = info.checksum?.type === 'COMPOSITE' && info.partChecksums !== null;
  if (!listed) return { PartsCount: sizes.length };
  const limit = Math.min(maxParts, LIMITS.listPartsMax);
  const first = Math.min(marker, sizes.length);
  const numbers = sizes.map((_, i) => i + 1).slice(first, first + limit);
  const truncated = first + numbers.length < sizes.length;
  const algorithm = info.checksum?.algorithm;
  const last = numbers[numbers.length - 1];
  return {
    PartsCount: sizes.length,
    PartNumberMarker: marker,
    ...(last !== undefined ? { NextPartNumberMarker: last } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: numbers.map((partNumber) => {
      const checksum = info.partChecksums?.[partNumber - 1];
      return {
        PartNumber: partNumber,
        Size: sizes[partNumber - 1] ?? 0,
        ...(algorithm !== undefined && checksum !== undefined && checksum !== ''
          ? { [checksumElementOf(algorithm)]: checksum }
          : {}),
      };
    }),
  };
}

function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}
