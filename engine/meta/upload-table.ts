import { createHash, randomFillSync } from 'node:crypto';
import { assert } from '../assert.js';
import { tierFieldOf } from '../blocks/block-key.js';
import type { Acl } from '../catalog/access.js';
import { combineCrcs, compositeChecksum } from '../checksums/checksums.js';
import { LIMITS } from '../limits.js';
import type {
  BlockRef,
  ChosenPart,
  EngineFailure,
  ObjectHeaders,
  ObjectLock,
  PartInfo,
  StoredChecksum,
  Tag,
  UploadChecksum,
  UploadInfo,
  UploadListEntry,
} from '../protocol/messages.js';
import { type ManagedKey, managedKeyTag } from '../sse/managed.js';
import type { StorageClass } from '../storage-classes.js';
import { type BlockTable, plainRefs } from './block-table.js';
import { bucketIdOf, objectKey, prefixEnd } from './keys.js';
import type { KvEnv, KvTable, KvTableOptions } from './kv.js';
import { listStart, type ObjectRecord } from './object-table.js';
import { collectPage, failed } from './outcome.js';
import { SeekCursor } from './seek-cursor.js';

/** An in-progress multipart upload, in the `uploads` table. */
export interface UploadRecord {
  key: string;
  uploadId: string;
  initiatedMs: number;
  headers: ObjectHeaders;
  checksum: UploadChecksum | null;
  /** SSE-C uploads: the MD5 of the customer key (the key itself is never stored). */
  sseKeyMd5?: string;
  /** SSE-S3 / SSE-KMS uploads: the data key every part is encrypted with, sealed. */
  sseManaged?: ManagedKey;
  /** Tags the completed object gets (CreateMultipartUpload's x-amz-tagging; absent: none). */
  tags?: Tag[];
  /** The object lock the completed object gets (CreateMultipartUpload's headers). */
  lock?: ObjectLock;
  /** The canonical id of the key that created the upload (absent: anonymous, or older). */
  initiator?: string;
  /** The completed object's owner and ACL (absent: the defaults, as ObjectRecord's). */
  owner?: string;
  acl?: Acl;
  /** The completed object's storage class (absent: STANDARD). */
  storageClass?: StorageClass;
  /** The tier every part's blocks go to (absent: "standard"; issue 18). */
  tier?: string;
}

/** One uploaded part, in the `parts` table; its blocks are reference-counted like an object's. */
export interface PartRecord {
  etag: string;
  bytes: number;
  lastModifiedMs: number;
  blocks: BlockRef[];
  checksum: StoredChecksum | null;
  /** Encrypted parts: the key's MD5 (SSE-C) or managedKeyTag (SSE-S3/KMS), and the part's IV. */
  /** macs: the part's segment tags (base64); absent in parts stored before them. partNumber:
   *  the number they bind (engine/sse/segment-mac.ts); absent in parts stored before that. */
  sse?: { keyMd5: string; iv: string; macs?: string; partNumber?: number };
}

/** What CreateMultipartUpload gives the upload: the object's headers, checksum, key, tags. */
export interface UploadSpec {
  headers: ObjectHeaders;
  checksum: UploadChecksum | null;
  sseKeyMd5: string | null;
  sseManaged?: ManagedKey;
  tags: Tag[];
  lock?: ObjectLock;
  initiator?: string;
  owner?: string;
  acl?: Acl;
  storageClass?: StorageClass;
  tier?: string;
}

export interface UploadListQuery {
  bucketId: string;
  prefix: string;
  delimiter: string;
  afterKey: string;
  afterUploadId: string;
  limit: number;
}

const UPLOAD_ID_BYTES = 16;
const PART_NUMBER_END = 0xffffffff;

/**
 * The `uploads` table (objectKey 0x00 uploadId → UploadRecord: a bucket's uploads list in key
 * then initiation order) and `parts` (uploadId partNumber(u32 BE) → PartRecord). Invariants: an
 * upload id is 32 hex digits (asserted by every key built); a part's blocks are counted in the
 * blocks table as long as its record exists (put and drop move them in the same transaction).
 */
export class UploadTable {
  private readonly uploads: KvTable<UploadRecord, Buffer>;
  private readonly parts: KvTable<PartRecord, Buffer>;

  constructor(
    env: KvEnv,
    records: KvTableOptions,
    private readonly blocks: BlockTable,
  ) {
    this.uploads = env.openDB<UploadRecord, Buffer>({
      name: 'uploads',
      keyEncoding: 'binary',
      ...records,
    });
    this.parts = env.openDB<PartRecord, Buffer>({
      name: 'parts',
      keyEncoding: 'binary',
      ...records,
    });
  }

  async create(
    bucketId: string,
    key: string,
    spec: UploadSpec,
    nowMs: number,
  ): Promise<UploadRecord> {
    const uploadId = newUploadId(nowMs);
    const record: UploadRecord = {
      key,
      uploadId,
      initiatedMs: nowMs,
      headers: spec.headers,
      checksum: spec.checksum,
      ...(spec.sseKeyMd5 !== null ? { sseKeyMd5: spec.sseKeyMd5 } : {}),
      ...(spec.sseManaged !== undefined ? { sseManaged: spec.sseManaged } : {}),
      ...(spec.tags.length > 0 ? { tags: spec.tags } : {}),
      ...(spec.lock !== undefined ? { lock: spec.lock } : {}),
      ...(spec.initiator !== undefined ? { initiator: spec.initiator } : {}),
      ...(spec.storageClass !== undefined ? { storageClass: spec.storageClass } : {}),
      ...(spec.owner !== undefined ? { owner: spec.owner } : {}),
      ...(spec.acl !== undefined ? { acl: spec.acl } : {}),
      ...(spec.tier !== undefined ? { tier: spec.tier } : {}),
    };
    await this.uploads.put(uploadKey(bucketId, key, uploadId), record);
    return record;
  }

  get(bucketId: string, key: string, uploadId: string): UploadRecord | undefined {
    if (!isUploadId(uploadId)) return undefined;
    return this.uploads.get(uploadKey(bucketId, key, uploadId));
  }

  getEncoded(encoded: Buffer): UploadRecord | undefined {
    return this.uploads.get(encoded);
  }

  /**
   * Inside a transaction: writes the upload's record back unchanged. On a cluster store a part
   * upload does so: a Complete or Abort deleting the record meanwhile then conflicts with it
   * (PostgreSQL's first-updater-wins), where only reading the record would let the part land
   * after the upload is gone, its blocks referenced forever.
   */
  touch(bucketId: string, key: string, uploadId: string): void {
    const encoded = uploadKey(bucketId, key, uploadId);
    const record = this.uploads.get(encoded);
    if (record !== undefined) void this.uploads.put(encoded, record);
  }

  /** Inside a transaction: stores a part, replacing one of the same number; returns blocks freed. */
  putPart(uploadId: string, partNumber: number, part: PartRecord): string[] {
    const encoded = partKey(uploadId, partNumber);
    const previous = this.parts.get(encoded);
    this.parts.put(encoded, { ...part, blocks: plainRefs(part.blocks) });
    this.blocks.increfAll(part.blocks);
    return previous === undefined ? [] : this.blocks.decrefAll(previous.blocks);
  }

  getPart(uploadId: string, partNumber: number): PartRecord | undefined {
    return this.parts.get(partKey(uploadId, partNumber));
  }

  listParts(
    uploadId: string,
    afterPartNumber: number,
    limit: number,
  ): { parts: PartInfo[]; truncated: boolean } {
    const parts: PartInfo[] = [];
    const range = this.parts.getRange({
      start: partKey(uploadId, afterPartNumber + 1),
      end: partKey(uploadId, PART_NUMBER_END),
      limit: limit + 1,
    });
    for (const { key, value } of range) {
      parts.push({
        partNumber: key.readUInt32BE(UPLOAD_ID_BYTES),
        etag: value.etag,
        bytes: value.bytes,
        lastModifiedMs: value.lastModifiedMs,
        checksum: value.checksum ?? null,
      });
    }
    const truncated = parts.length > limit;
    if (truncated) parts.length = limit;
    return { parts, truncated };
  }

  /** A bucket's unfinished uploads, their parts and the parts' bytes (uploads are few). */
  usage(bucketId: string): { uploads: number; uploadParts: number; uploadBytes: number } {
    const bounds = { start: objectKey(bucketId, ''), end: prefixEnd(bucketId, '') };
    let uploads = 0;
    let uploadParts = 0;
    let uploadBytes = 0;
    for (const { value } of this.uploads.getRange(bounds)) {
      uploads++;
      for (const { value: part } of this.parts.getRange(partsOf(value.uploadId))) {
        uploadParts++;
        uploadBytes += part.bytes;
      }
    }
    return { uploads, uploadParts, uploadBytes };
  }

  /** Checks the client's part list against the stored parts and builds the object record. */
  assemble(
    upload: UploadRecord,
    chosen: readonly ChosenPart[],
    fullObjectBase64: string | null,
  ): { record: Omit<ObjectRecord, 'lastModifiedMs' | 'headers'> } | { failure: EngineFailure } {
    const parts: PartRecord[] = [];
    for (const [index, wanted] of chosen.entries()) {
      const part = this.chosenPart(
        upload,
        wanted,
        chosen[index - 1]?.partNumber ?? 0,
        index === chosen.length - 1,
      );
      if ('failure' in part) return part;
      parts.push(part);
    }
    const checksum = assembledChecksum(upload.checksum, parts, fullObjectBase64);
    if (checksum !== null && 'failure' in checksum) return checksum;
    const md5s = parts.map((part) => Buffer.from(unquote(part.etag), 'hex'));
    const record: Omit<ObjectRecord, 'lastModifiedMs' | 'headers'> = {
      bytes: parts.reduce((sum, part) => sum + part.bytes, 0),
      etag: `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`,
      checksum,
      blocks: parts.flatMap((part) => part.blocks),
      inline: null,
      partSizes: parts.map((part) => part.bytes),
      ...tierFieldOf(parts.flatMap((part) => part.blocks)),
    };
    if (upload.checksum !== null)
      record.partChecksums = parts.map((part) => part.checksum?.base64 ?? '');
    const partKey =
      upload.sseManaged !== undefined ? managedKeyTag(upload.sseManaged) : upload.sseKeyMd5;
    if (partKey !== undefined) {
      const ivs = parts.map((part) =>
        part.sse !== undefined && part.sse.keyMd5 === partKey ? part.sse.iv : '',
      );
      if (ivs.includes(''))
        return failed(
          'InvalidRequest',
          "Every part of an encrypted upload must be encrypted with the upload's key.",
        );
      // Tags for all parts or none: parts stored before tags make the object read as before.
      const macs = parts.map((part) => part.sse?.macs);
      const tagged = macs.every((tags) => tags !== undefined) ? { macs: macs as string[] } : {};
      // The numbers the parts' tags bind (0: a part tagged before they were), for the reader.
      const numbers = parts.map((part) => part.sse?.partNumber ?? 0);
      const numbered =
        'macs' in tagged && numbers.some((number) => number !== 0) ? { partNumbers: numbers } : {};
      record.sse =
        upload.sseManaged !== undefined
          ? { ...upload.sseManaged, ivs, ...tagged, ...numbered }
          : { keyMd5: partKey, ivs, ...tagged, ...numbered };
    }
    return { record };
  }

  /** One listed part: in order, uploaded, ETag and checksums matching, big enough unless last. */
  private chosenPart(
    upload: UploadRecord,
    wanted: ChosenPart,
    previousNumber: number,
    last: boolean,
  ): PartRecord | { failure: EngineFailure } {
    if (wanted.partNumber <= previousNumber) {
      return failed(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
    const part = this.parts.get(partKey(upload.uploadId, wanted.partNumber));
    if (part === undefined || unquote(part.etag) !== unquote(wanted.etag)) {
      return failed(
        'InvalidPart',
        `Part ${wanted.partNumber} was not uploaded or its ETag does not match.`,
      );
    }
    // A checksum the client lists is compared with the part's own, when the part has one of
    // that algorithm (clients list checksums they computed even when they did not send them).
    for (const [algorithm, value] of Object.entries(wanted.checksums)) {
      if (part.checksum?.algorithm === algorithm && part.checksum.base64 !== value) {
        return failed(
          'InvalidPart',
          `The ${algorithm} checksum of part ${wanted.partNumber} does not match the part's.`,
        );
      }
    }
    if (!last && part.bytes < LIMITS.multipartPartBytesMin) {
      return failed(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
    }
    return part;
  }

  /** Inside a transaction: removes an upload and its parts, returning blocks freed. */
  drop(bucketId: string, key: string, uploadId: string): string[] {
    const freed: string[] = [];
    for (const { key: encoded, value } of this.parts.getRange(partsOf(uploadId))) {
      freed.push(...this.blocks.decrefAll(value.blocks));
      this.parts.remove(encoded);
    }
    this.uploads.remove(uploadKey(bucketId, key, uploadId));
    return freed;
  }

  /** One page of in-progress uploads, ordered by key then initiation, with prefix rollup. */
  list(query: UploadListQuery): { entries: UploadListEntry[]; truncated: boolean } {
    // One cursor for the page: its starts only grow (seek-cursor.ts).
    const uploads = new SeekCursor((start, end) => this.uploads.getRange({ start, end }));
    return collectPage(
      this.listStartOf(query),
      prefixEnd(query.bucketId, query.prefix),
      query.limit,
      (start, end) => this.nextEntry(query, uploads, start, end),
    );
  }

  private listStartOf(query: UploadListQuery): Buffer {
    const atPrefix = objectKey(query.bucketId, query.prefix);
    if (query.afterKey === '') return atPrefix;
    const start = this.afterMarker(query);
    return Buffer.compare(start, atPrefix) > 0 ? start : atPrefix;
  }

  /**
   * Where listing resumes after (key-marker, upload-id-marker): after that upload; or, with no
   * upload id, after every upload of key-marker (S3's rule), or after a rolled-up prefix.
   */
  private afterMarker(query: UploadListQuery): Buffer {
    if (query.afterUploadId !== '' && isUploadId(query.afterUploadId)) {
      return Buffer.concat([
        uploadKey(query.bucketId, query.afterKey, query.afterUploadId),
        Buffer.from([0]),
      ]);
    }
    const rollup = listStart({ ...query, after: query.afterKey });
    // Upload keys are <key> 0x00 <id>: <key> 0x01 is past every upload of the key itself.
    const pastKey = Buffer.concat([objectKey(query.bucketId, query.afterKey), Buffer.from([1])]);
    return Buffer.compare(rollup, pastKey) > 0 ? rollup : pastKey;
  }

  private nextEntry(
    query: UploadListQuery,
    uploads: SeekCursor<UploadRecord>,
    start: Buffer,
    end: Buffer,
  ): { entry: UploadListEntry; resumeAt: Buffer } | undefined {
    const row = uploads.first(start, end);
    if (row === undefined) return undefined;
    const { key: encoded, value } = row;
    const cut =
      query.delimiter === '' ? -1 : value.key.indexOf(query.delimiter, query.prefix.length);
    if (cut >= 0) {
      const prefix = value.key.slice(0, cut + query.delimiter.length);
      return { entry: { kind: 'prefix', prefix }, resumeAt: prefixEnd(query.bucketId, prefix) };
    }
    return {
      entry: { kind: 'upload', upload: uploadInfoOf(value) },
      resumeAt: Buffer.concat([Buffer.from(encoded), Buffer.from([0])]),
    };
  }

  /** Every upload record (bucket id, record) in key order: the whole table, for operator scans. */
  *all(): Iterable<{ bucketId: string; encoded: Buffer; upload: UploadRecord }> {
    for (const { key, value } of this.uploads.getRange({})) {
      yield { bucketId: bucketIdOf(key), encoded: Buffer.from(key), upload: value };
    }
  }

  /** Up to `limit` upload records of a range (a lifecycle or cleanup batch). */
  range(options: { start: Buffer; end: Buffer; limit: number }): Iterable<{
    key: Buffer;
    value: UploadRecord;
  }> {
    return this.uploads.getRange(options);
  }

  /** Every part record: upload id, part number, record (operator scans). */
  *allParts(): Iterable<{ uploadId: string; partNumber: number; part: PartRecord }> {
    for (const { key, value } of this.parts.getRange({})) {
      const encoded = Buffer.from(key);
      yield {
        uploadId: uploadIdOfPart(encoded),
        partNumber: encoded.readUInt32BE(UPLOAD_ID_BYTES),
        part: value,
      };
    }
  }
}

export function uploadInfoOf(record: UploadRecord): UploadInfo {
  return {
    key: record.key,
    uploadId: record.uploadId,
    initiatedMs: record.initiatedMs,
    headers: record.headers,
    checksum: record.checksum ?? null,
    sseKeyMd5: record.sseKeyMd5 ?? null,
    ...(record.initiator !== undefined ? { initiator: record.initiator } : {}),
    ...(record.owner !== undefined ? { owner: record.owner } : {}),
    ...(record.storageClass !== undefined ? { storageClass: record.storageClass } : {}),
  };
}

/** Upload ids: 8 bytes of initiation time then 8 random bytes, hex: sorting them sorts by time. */
function newUploadId(nowMs: number): string {
  const id = Buffer.alloc(UPLOAD_ID_BYTES);
  id.writeBigUInt64BE(BigInt(nowMs), 0);
  randomFillSync(id, 8, 8);
  return id.toString('hex');
}

function isUploadId(uploadId: string): boolean {
  return /^[0-9a-f]{32}$/.test(uploadId);
}

/** Upload records sit under the object's key, so a bucket's uploads list in key order. */
function uploadKey(bucketId: string, key: string, uploadId: string): Buffer {
  assert(isUploadId(uploadId), 'upload ids are 32 hex digits');
  return Buffer.concat([objectKey(bucketId, key), Buffer.from([0]), Buffer.from(uploadId, 'hex')]);
}

/** The key range of every part of an upload. */
function partsOf(uploadId: string): { start: Buffer; end: Buffer } {
  return { start: partKey(uploadId, 0), end: partKey(uploadId, PART_NUMBER_END) };
}

/** The upload id a part key starts with. */
function uploadIdOfPart(encoded: Uint8Array): string {
  return Buffer.from(encoded.buffer, encoded.byteOffset, UPLOAD_ID_BYTES).toString('hex');
}

function partKey(uploadId: string, partNumber: number): Buffer {
  const encoded = Buffer.alloc(UPLOAD_ID_BYTES + 4);
  encoded.write(uploadId, 0, 'hex');
  encoded.writeUInt32BE(partNumber, UPLOAD_ID_BYTES);
  return encoded;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1');
}

/**
 * The object checksum of a completed upload: COMPOSITE (the checksum of the part checksums) or
 * FULL_OBJECT (the parts' CRCs combined), per the upload's algorithm and type. Every part must
 * carry the upload's algorithm; a client-asserted full-object value must match.
 */
function assembledChecksum(
  wanted: UploadRecord['checksum'],
  parts: readonly PartRecord[],
  fullObjectBase64: string | null,
): StoredChecksum | { failure: EngineFailure } | null {
  if (wanted === null) return null;
  const digests: Buffer[] = [];
  for (const part of parts) {
    if (part.checksum?.algorithm !== wanted.algorithm) {
      return failed(
        'InvalidRequest',
        `The upload was created using a ${wanted.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for one or more parts.`,
      );
    }
    digests.push(Buffer.from(part.checksum.base64, 'base64'));
  }
  const base64 =
    wanted.type === 'COMPOSITE'
      ? compositeChecksum(wanted.algorithm, digests)
      : combineCrcs(
          wanted.algorithm,
          parts.map((part, i) => ({ digest: digests[i] ?? Buffer.alloc(0), bytes: part.bytes })),
        ).toString('base64');
  if (fullObjectBase64 !== null && fullObjectBase64 !== base64) {
    return failed(
      'BadDigest',
      `The ${wanted.algorithm} you specified did not match the calculated checksum.`,
    );
  }
  return { algorithm: wanted.algorithm, base64, type: wanted.type };
}

export function noSuchUpload(): { failure: EngineFailure } {
  return failed(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );
}
