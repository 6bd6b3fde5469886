/**
 * Parquet inventory data files, as AWS writes them: one row per version, columns in snake case
 * (`bucket`, `key`, `version_id`, ..., `lifecycle_expiration_date`) in AWS's order, keys as they
 * are (only CSV percent-encodes them), sizes and dates as INT64 (dates in milliseconds since the
 * epoch, as AWS's ORC and Parquet reports hold them), flags as BOOLEAN, the rest as UTF-8
 * strings; a field a version has no value for is null. Written by hyparquet-writer (Snappy).
 */
import type { ColumnSource } from 'hyparquet-writer';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { assert } from '../../engine/assert.js';
import type { ObjectInfo } from '../../engine/protocol/messages.js';
import type { InventoryConfig, OptionalField } from './config.js';
import { columnsOf, fieldValue, type RowExtras, type VersionEntry } from './report.js';

type Cell = string | bigint | boolean | null;
type ColumnType = 'STRING' | 'INT64' | 'BOOLEAN';

/** Each optional field's Parquet column: its name and type. */
const OPTIONAL_COLUMNS: Readonly<Record<OptionalField, readonly [string, ColumnType]>> = {
  Size: ['size', 'INT64'],
  LastModifiedDate: ['last_modified_date', 'INT64'],
  ETag: ['e_tag', 'STRING'],
  StorageClass: ['storage_class', 'STRING'],
  IsMultipartUploaded: ['is_multipart_uploaded', 'BOOLEAN'],
  ReplicationStatus: ['replication_status', 'STRING'],
  EncryptionStatus: ['encryption_status', 'STRING'],
  ObjectLockRetainUntilDate: ['object_lock_retain_until_date', 'INT64'],
  ObjectLockMode: ['object_lock_mode', 'STRING'],
  ObjectLockLegalHoldStatus: ['object_lock_legal_hold_status', 'STRING'],
  IntelligentTieringAccessTier: ['intelligent_tiering_access_tier', 'STRING'],
  BucketKeyStatus: ['bucket_key_status', 'STRING'],
  ChecksumAlgorithm: ['checksum_algorithm', 'STRING'],
  ObjectAccessControlList: ['object_access_control_list', 'STRING'],
  ObjectOwner: ['object_owner', 'STRING'],
  LifecycleExpirationDate: ['lifecycle_expiration_date', 'INT64'],
};

interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Always present (bucket, key): REQUIRED in the schema. */
  readonly required: boolean;
}

/** The report's columns: the fixed ones, then the configuration's optional fields. */
export function parquetColumns(config: InventoryConfig): Column[] {
  const fixed: Column[] = [
    { name: 'bucket', type: 'STRING', required: true },
    { name: 'key', type: 'STRING', required: true },
  ];
  if (config.includedVersions === 'All') {
    fixed.push(
      { name: 'version_id', type: 'STRING', required: false },
      { name: 'is_latest', type: 'BOOLEAN', required: true },
      { name: 'is_delete_marker', type: 'BOOLEAN', required: true },
    );
  }
  return [
    ...fixed,
    ...columnsOf(config).map((field) => {
      const [name, type] = OPTIONAL_COLUMNS[field];
      return { name, type, required: false };
    }),
  ];
}

/** The manifest's fileSchema for Parquet: the file's message type, as AWS gives it. */
export function parquetFileSchema(config: InventoryConfig): string {
  const fields = parquetColumns(config).map((column) => {
    const repetition = column.required ? 'required' : 'optional';
    const physical =
      column.type === 'STRING' ? 'binary' : column.type === 'INT64' ? 'int64' : 'boolean';
    const logical = column.type === 'STRING' ? ' (STRING)' : '';
    return `${repetition} ${physical} ${column.name}${logical};`;
  });
  return `message s3.inventory { ${fields.join(' ')} }`;
}

/** One version's cells, in parquetColumns' order. */
export function parquetRow(
  sourceBucket: string,
  config: InventoryConfig,
  entry: VersionEntry,
  info: ObjectInfo | null,
  extras: RowExtras,
): Cell[] {
  const cells: Cell[] = [sourceBucket, entry.key];
  if (config.includedVersions === 'All')
    cells.push(entry.versionId, entry.isLatest, entry.deleteMarker);
  for (const field of columnsOf(config)) cells.push(typedCell(field, entry, info, extras));
  return cells;
}

function typedCell(
  field: OptionalField,
  entry: VersionEntry,
  info: ObjectInfo | null,
  extras: RowExtras,
): Cell {
  const marker = entry.deleteMarker;
  switch (field) {
    case 'Size':
      return marker ? null : BigInt(entry.bytes);
    case 'LastModifiedDate':
      return BigInt(entry.lastModifiedMs);
    case 'IsMultipartUploaded':
      return marker ? null : entry.etag.includes('-');
    case 'ObjectLockRetainUntilDate': {
      const until = marker ? undefined : info?.lock?.retainUntilMs;
      return until === undefined ? null : BigInt(until);
    }
    case 'LifecycleExpirationDate':
      return marker || extras.expiresAtMs === null ? null : BigInt(extras.expiresAtMs);
    default: {
      const text = fieldValue(field, entry, info, extras);
      return text === '' ? null : text;
    }
  }
}

/** Bytes a row adds to a data file before encoding: its strings, 8 per number, 1 per flag. */
export function parquetRowBytes(cells: readonly Cell[]): number {
  let bytes = 0;
  for (const cell of cells) {
    if (typeof cell === 'string') bytes += 4 + Buffer.byteLength(cell);
    else bytes += typeof cell === 'bigint' ? 8 : 1;
  }
  return bytes;
}

/** The rows as one Parquet file (one row group). */
export function parquetFileOf(config: InventoryConfig, rows: readonly Cell[][]): Buffer {
  const columns = parquetColumns(config);
  const columnData: ColumnSource[] = columns.map((column, i) => {
    const data = rows.map((row) => row[i] ?? null);
    assert(!column.required || data.every((cell) => cell !== null), 'required columns are set');
    return { name: column.name, type: column.type, nullable: !column.required, data };
  });
  return Buffer.from(parquetWriteBuffer({ columnData, codec: 'SNAPPY' }));
}
