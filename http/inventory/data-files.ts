/**
 * The data files of one inventory run, in the configuration's format: rows go in one at a time
 * and leave as data files of at most LIMITS.inventoryDataFileCsvBytesMax bytes of rows (before
 * gzip for CSV, before encoding for Parquet), each written as it fills, so a run holds one data
 * file whatever the bucket's size. Each file must travel whole with one PutBegin (chunkBytes).
 */
import { LIMITS } from '../../engine/limits.js';
import type { ObjectInfo } from '../../engine/protocol/messages.js';
import type { InventoryConfig } from './config.js';
import { parquetFileOf, parquetFileSchema, parquetRow, parquetRowBytes } from './parquet-report.js';
import {
  csvRow,
  type DataFile,
  dataFile,
  fileSchemaOf,
  namedDataFile,
  type RowExtras,
  type VersionEntry,
} from './report.js';

export interface DataFileSink {
  /** The manifest's fileSchema for these files. */
  readonly fileSchema: string;
  /** Adds one version's row; resolves once a data file it completed is written. */
  add(entry: VersionEntry, info: ObjectInfo | null, extras: RowExtras): Promise<void>;
  /** Writes the last data file; every file written, in order. */
  finish(): Promise<DataFile[]>;
}

/** Writes one data file to the destination. */
export type WriteDataFile = (file: DataFile, contentType: string) => Promise<void>;

interface RunFiles {
  readonly config: InventoryConfig;
  readonly sourceBucket: string;
  /** `<prefix>/<source>/<config>/` */
  readonly base: string;
  /** Names the data files (a resumed run rewrites the same keys). */
  readonly runId: string;
  readonly write: WriteDataFile;
}

export function dataFileSink(run: RunFiles): DataFileSink {
  return run.config.destination.format === 'Parquet' ? parquetSink(run) : csvSink(run);
}

function csvSink(run: RunFiles): DataFileSink {
  const files: DataFile[] = [];
  let csv = '';
  const flush = async (): Promise<void> => {
    const file = dataFile(run.base, run.runId, files.length, csv);
    await run.write(file, 'application/x-gzip');
    files.push(file);
    csv = '';
  };
  return {
    fileSchema: fileSchemaOf(run.config),
    async add(entry, info, extras) {
      const row = csvRow(run.sourceBucket, run.config, entry, info, extras);
      if (csv.length + row.length > LIMITS.inventoryDataFileCsvBytesMax) await flush();
      csv += row;
    },
    async finish() {
      if (csv !== '') await flush();
      return files;
    },
  };
}

function parquetSink(run: RunFiles): DataFileSink {
  const files: DataFile[] = [];
  let rows: ReturnType<typeof parquetRow>[] = [];
  let bytes = 0;
  /** Encodes `batch` as one file; one that came out over chunkBytes is split in two. */
  const writeRows = async (batch: typeof rows): Promise<void> => {
    const body = parquetFileOf(run.config, batch);
    if (body.byteLength > LIMITS.chunkBytes && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await writeRows(batch.slice(0, half));
      await writeRows(batch.slice(half));
      return;
    }
    const file = namedDataFile(run.base, run.runId, files.length, 'parquet', body);
    await run.write(file, 'application/octet-stream');
    files.push(file);
  };
  const flush = async (): Promise<void> => {
    const batch = rows;
    rows = [];
    bytes = 0;
    await writeRows(batch);
  };
  return {
    fileSchema: parquetFileSchema(run.config),
    async add(entry, info, extras) {
      const row = parquetRow(run.sourceBucket, run.config, entry, info, extras);
      const size = parquetRowBytes(row);
      if (rows.length > 0 && bytes + size > LIMITS.inventoryDataFileCsvBytesMax) await flush();
      rows.push(row);
      bytes += size;
    },
    async finish() {
      if (rows.length > 0) await flush();
      return files;
    },
  };
}
