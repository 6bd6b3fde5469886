/**
 * An inventory report's bytes, as AWS writes a CSV inventory: rows of quoted fields (keys
 * URL-encoded), gzip data files under `<prefix>/<source>/<config>/data/`, and per run a
 * `manifest.json` listing them (with each file's MD5) plus `manifest.checksum` (the manifest's
 * MD5), under `<prefix>/<source>/<config>/YYYY-MM-DDTHH-MMZ/`. The field values are shared with
 * Parquet reports (parquet-report.ts), which type them.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Acl } from '../../engine/catalog/access.js';
import type { ObjectInfo, VersionListEntry } from '../../engine/protocol/messages.js';
import { DEFAULT_STORAGE_CLASS } from '../../engine/storage-classes.js';
import { type InventoryConfig, OPTIONAL_FIELDS, type OptionalField } from './config.js';

export type VersionEntry = Extract<VersionListEntry, { kind: 'version' }>;

/**
 * What a row needs beyond the listing and the version's record, worked out by the worker: the
 * owner (absent from a record: the bucket's), the ACL as AWS's inventory writes it (base64 of
 * its JSON; null when not asked for), and when lifecycle rules will expire the version.
 */
export interface RowExtras {
  readonly ownerId: string;
  readonly acl: string | null;
  readonly expiresAtMs: number | null;
}

/** The optional fields whose values only the version's full record holds (one OpenObject). */
const NEEDS_INFO: ReadonlySet<OptionalField> = new Set([
  'ReplicationStatus',
  'EncryptionStatus',
  'ObjectLockRetainUntilDate',
  'ObjectLockMode',
  'ObjectLockLegalHoldStatus',
  'BucketKeyStatus',
  'ChecksumAlgorithm',
  // Lifecycle rules may filter on tags, which only the record holds.
  'LifecycleExpirationDate',
  // The archive access tier intelligent tiering moved a version to is in its record.
  'IntelligentTieringAccessTier',
]);

/** The configuration's optional fields in AWS's column order. */
export function columnsOf(config: InventoryConfig): OptionalField[] {
  return OPTIONAL_FIELDS.filter((f) => config.optionalFields.includes(f));
}

export function needsInfo(config: InventoryConfig): boolean {
  return config.optionalFields.some((f) => NEEDS_INFO.has(f));
}

/** The manifest's fileSchema: the fixed columns, then the optional ones. */
export function fileSchemaOf(config: InventoryConfig): string {
  const fixed =
    config.includedVersions === 'All'
      ? ['Bucket', 'Key', 'VersionId', 'IsLatest', 'IsDeleteMarker']
      : ['Bucket', 'Key'];
  return [...fixed, ...columnsOf(config)].join(', ');
}

/** A key as the CSV holds it: percent-encoded as a URI path ('/' kept). */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function quoted(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function encryptionStatus(info: ObjectInfo): string {
  if (info.sseKeyMd5 !== null) return 'SSE-C';
  switch (info.sseManaged?.kind) {
    case 's3':
      return 'SSE-S3';
    case 'kms':
      return 'SSE-KMS';
    case 'dsse':
      return 'DSSE-KMS';
    default:
      return 'NOT-SSE';
  }
}

/** One optional field's value ('' when the version has none, as AWS leaves it empty). */
export function fieldValue(
  field: OptionalField,
  entry: VersionEntry,
  info: ObjectInfo | null,
  extras: RowExtras,
): string {
  if (entry.deleteMarker) return field === 'LastModifiedDate' ? isoOf(entry.lastModifiedMs) : '';
  switch (field) {
    case 'Size':
      return String(entry.bytes);
    case 'LastModifiedDate':
      return isoOf(entry.lastModifiedMs);
    case 'ETag':
      return entry.etag.replaceAll('"', '');
    case 'StorageClass':
      return entry.storageClass ?? DEFAULT_STORAGE_CLASS;
    case 'IsMultipartUploaded':
      // A multipart upload's ETag is the MD5 of its parts' MD5s, suffixed with the part count.
      return String(entry.etag.includes('-'));
    case 'ReplicationStatus':
      return info?.replication ?? '';
    case 'EncryptionStatus':
      return info === null ? '' : encryptionStatus(info);
    case 'ObjectLockRetainUntilDate':
      return info?.lock?.retainUntilMs === undefined ? '' : isoOf(info.lock.retainUntilMs);
    case 'ObjectLockMode':
      return info?.lock?.mode ?? '';
    case 'ObjectLockLegalHoldStatus':
      return info?.lock?.legalHold === undefined ? '' : info.lock.legalHold ? 'ON' : 'OFF';
    case 'BucketKeyStatus':
      return info?.sseManaged?.kind === 'kms'
        ? info.sseManaged.bucketKey === true
          ? 'ENABLED'
          : 'DISABLED'
        : '';
    case 'ChecksumAlgorithm':
      return info?.checksum?.algorithm ?? '';
    case 'ObjectOwner':
      return entry.owner ?? extras.ownerId;
    case 'ObjectAccessControlList':
      return extras.acl ?? '';
    case 'LifecycleExpirationDate':
      return extras.expiresAtMs === null ? '' : isoOf(extras.expiresAtMs);
    case 'IntelligentTieringAccessTier':
      // INTELLIGENT_TIERING only (AWS leaves it empty for other classes): the archive access
      // tier the tiering worker moved it to, else the frequent tier hangar reads it from.
      if (entry.storageClass !== 'INTELLIGENT_TIERING') return '';
      return info?.accessTier ?? 'FREQUENT_ACCESS';
  }
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** One CSV line (with its newline) for a version. */
export function csvRow(
  sourceBucket: string,
  config: InventoryConfig,
  entry: VersionEntry,
  info: ObjectInfo | null,
  extras: RowExtras,
): string {
  const values = [sourceBucket, encodeKey(entry.key)];
  if (config.includedVersions === 'All') {
    values.push(entry.versionId, String(entry.isLatest), String(entry.deleteMarker));
  }
  for (const field of columnsOf(config)) values.push(fieldValue(field, entry, info, extras));
  return `${values.map(quoted).join(',')}\n`;
}

/** `<prefix>/<source>/<config>/` (no prefix: `<source>/<config>/`), AWS's layout. */
export function reportBase(config: InventoryConfig, sourceBucket: string): string {
  const prefix = config.destination.prefix;
  const head = prefix === undefined || prefix === '' ? '' : `${prefix.replace(/\/+$/, '')}/`;
  return `${head}${sourceBucket}/${config.id}/`;
}

/** YYYY-MM-DDTHH-MMZ, the run's folder name. */
export function runStamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace(':', '-')}Z`;
}

export interface DataFile {
  key: string;
  body: Buffer;
  md5: string;
}

/** A data file's key and gzipped bytes; its name is derived from the run, so a resumed run
 *  rewrites the same key instead of adding one. */
export function dataFile(base: string, runId: string, index: number, csv: string): DataFile {
  return namedDataFile(base, runId, index, 'csv.gz', gzipSync(Buffer.from(csv, 'utf8')));
}

/** A data file named from its run and index (with the format's extension), and its MD5. */
export function namedDataFile(
  base: string,
  runId: string,
  index: number,
  extension: string,
  body: Buffer,
): DataFile {
  const name = createHash('sha256').update(`${runId}\n${index}`).digest('hex').slice(0, 32);
  return { key: `${base}data/${name}.${extension}`, body, md5: md5Hex(body) };
}

export function manifestOf(
  config: InventoryConfig,
  sourceBucket: string,
  createdMs: number,
  files: readonly DataFile[],
  fileSchema: string = fileSchemaOf(config),
): Buffer {
  const manifest = {
    sourceBucket,
    destinationBucket: `arn:aws:s3:::${config.destination.bucket}`,
    version: '2016-11-30',
    creationTimestamp: String(createdMs),
    fileFormat: config.destination.format,
    fileSchema,
    files: files.map((f) => ({ key: f.key, size: f.body.byteLength, MD5checksum: f.md5 })),
  };
  return Buffer.from(JSON.stringify(manifest, null, 2));
}

export function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * An ACL as AWS's inventory writes its ObjectAccessControlList field: the base64 of a JSON
 * document `{"version":"2022-11-10","status":"AVAILABLE","grants":[...]}`, each grant a
 * CanonicalUser (`canonicalId`) or a Group (`uri`) with its permission.
 */
export function inventoryAclOf(acl: Acl): string {
  const grants = acl.grants.map(({ grantee, permission }) =>
    grantee.type === 'CanonicalUser'
      ? { canonicalId: grantee.id, permission, type: 'CanonicalUser' }
      : { permission, type: 'Group', uri: grantee.uri },
  );
  const json = JSON.stringify({ version: '2022-11-10', status: 'AVAILABLE', grants });
  return Buffer.from(json, 'utf8').toString('base64');
}
