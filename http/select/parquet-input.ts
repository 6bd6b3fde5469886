import { gunzipSync } from 'node:zlib';
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadata,
  parquetReadObjects,
} from 'hyparquet';
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { SqlValue } from './ast.js';
import type { InputRecord } from './evaluate.js';

/** Reads `[start, end)` of the stored object (one ranged read of hangar's verified blocks). */
export interface RangeReader {
  readonly byteLength: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

/** One row group's records, and what reading it cost (Stats' scanned and processed bytes). */
export interface RecordBatch {
  readonly records: InputRecord[];
  readonly scanned: number;
  readonly processed: number;
}

/** The column codecs AWS's Select reads (plus none); others are refused before any row. */
const CODECS: ReadonlySet<string> = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP']);
const FOOTER_TAIL_BYTES = 8;
const MAGIC = 0x31524150; // "PAR1", little-endian

/**
 * A Parquet object's rows, one row group at a time: the footer is read by two ranged reads
 * (its length, then it), each row group by one ranged read of the bytes its column chunks span,
 * decoded by hyparquet from that buffer. Memory holds the footer and one row group (compressed
 * bytes and decoded rows); a row group whose bytes (stored or decoded) pass
 * LIMITS.selectParquetRowGroupBytesMax is OverMaxParquetBlockSize, as AWS answers a row group
 * above its bound. Pulled lazily: a LIMIT or a gone client stops the reads.
 */
export async function* parquetBatches(reader: RangeReader): AsyncGenerator<RecordBatch> {
  const { metadata, footerBytes } = await readFooter(reader);
  checkCodecs(metadata);
  let rowStart = 0;
  let first = true;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    const span = groupSpan(group.columns);
    const decoded = Number(group.total_byte_size);
    if (
      span.end - span.start > LIMITS.selectParquetRowGroupBytesMax ||
      decoded > LIMITS.selectParquetRowGroupBytesMax
    )
      throw new S3Error('OverMaxParquetBlockSize');
    if (span.end > reader.byteLength || span.start < 0 || span.end < span.start)
      throw new S3Error('ParquetParsingError', 'A column chunk lies outside the object.');
    const bytes = await reader.read(span.start, span.end);
    const objects = await decodeRows(metadata, groupBuffer(reader.byteLength, span.start, bytes), {
      rowStart,
      rowEnd: rowStart + rows,
    });
    rowStart += rows;
    yield {
      records: objects.map((row) => ({ kind: 'json', value: sqlValueOf(row) })),
      scanned: bytes.byteLength + (first ? footerBytes : 0),
      processed: decoded,
    };
    first = false;
  }
}

async function readFooter(
  reader: RangeReader,
): Promise<{ metadata: FileMetaData; footerBytes: number }> {
  const size = reader.byteLength;
  if (size < 12) throw new S3Error('ParquetParsingError', 'The object is too short for Parquet.');
  const tail = await reader.read(size - FOOTER_TAIL_BYTES, size);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(4, true) !== MAGIC)
    throw new S3Error('ParquetParsingError', 'The object does not end with PAR1.');
  const length = view.getUint32(0, true);
  if (length > LIMITS.selectParquetFooterBytesMax)
    throw new S3Error(
      'OverMaxParquetBlockSize',
      `The Parquet footer is over ${LIMITS.selectParquetFooterBytesMax} bytes.`,
    );
  if (length > size - 12)
    throw new S3Error('ParquetParsingError', 'The Parquet footer is longer than the object.');
  const footer = await reader.read(size - FOOTER_TAIL_BYTES - length, size);
  try {
    // The tail was read twice (alone, then with the footer): Stats count the object's bytes once.
    return { metadata: parquetMetadata(footer), footerBytes: footer.byteLength };
  } catch (error) {
    throw parquetError(error);
  }
}

function checkCodecs(metadata: FileMetaData): void {
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const codec = column.meta_data?.codec;
      if (codec !== undefined && !CODECS.has(codec))
        throw new S3Error(
          'ParquetUnsupportedCompressionCodec',
          `Column codec ${codec} is not supported (UNCOMPRESSED, SNAPPY, GZIP are).`,
        );
    }
  }
}

/** The bytes a row group's column chunks span (dictionary page first when there is one). */
function groupSpan(columns: FileMetaData['row_groups'][number]['columns']): {
  start: number;
  end: number;
} {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const column of columns) {
    const meta = column.meta_data;
    if (meta === undefined) throw new S3Error('ParquetParsingError', 'A column has no metadata.');
    const from = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
    const first = Math.min(from, Number(meta.data_page_offset));
    start = Math.min(start, first);
    end = Math.max(end, first + Number(meta.total_compressed_size));
  }
  return columns.length === 0 ? { start: 0, end: 0 } : { start, end };
}

/**
 * The object as hyparquet sees it while it decodes one row group: slices inside the row
 * group's span come from the buffer read for it; hyparquet asks for nothing else (the footer is
 * already parsed), and a slice outside is a file whose chunk offsets lie.
 */
function groupBuffer(byteLength: number, spanStart: number, bytes: Uint8Array): AsyncBuffer {
  return {
    byteLength,
    slice(start: number, end = byteLength): ArrayBuffer {
      const from = start - spanStart;
      const to = end - spanStart;
      if (from < 0 || to > bytes.byteLength || from > to)
        throw new S3Error('ParquetParsingError', 'A page lies outside its column chunk.');
      return bytes.slice(from, to).buffer as ArrayBuffer;
    },
  };
}

async function decodeRows(
  metadata: FileMetaData,
  file: AsyncBuffer,
  rows: { rowStart: number; rowEnd: number },
): Promise<Array<Record<string, unknown>>> {
  try {
    return await parquetReadObjects({
      file,
      metadata,
      ...rows,
      compressors: { GZIP: (input) => new Uint8Array(gunzipSync(input)) },
    });
  } catch (error) {
    throw parquetError(error);
  }
}

function parquetError(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new S3Error('ParquetParsingError', `Parquet: ${detail}`);
}

/**
 * A decoded Parquet value as the SQL's: INT64 (bigint) as a number, bytes as UTF-8 text, lists
 * and structs as arrays and objects, dates and timestamps as timestamps.
 */
export function sqlValueOf(value: unknown, depth = 0): SqlValue {
  if (depth > LIMITS.selectJsonDepthMax)
    throw new S3Error('UnsupportedParquetType', 'A Parquet value nested too deeply.');
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')
    return value;
  if (value instanceof Date) return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map((item: unknown) => sqlValueOf(item, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, SqlValue> = {};
    for (const [name, item] of Object.entries(value)) out[name] = sqlValueOf(item, depth + 1);
    return out;
  }
  throw new S3Error('UnsupportedParquetType', `A Parquet value of type ${typeof value}.`);
}
