// Runs in an edge thread: the thread's append-only spool of server access log records.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
} from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../../engine/assert.js';
import { fsyncDir } from '../../engine/blocks/dir-sync.js';
import { LIMITS } from '../../engine/limits.js';
import { countDropped } from './metrics.js';

/**
 * A record waiting for delivery, one JSON line in the spool: where its log object goes (target
 * bucket, prefix, key format: S simple, E partitioned by event time, D by delivery time), the
 * bucket it describes, when it happened, and its formatted line.
 */
export interface SpoolEntry {
  readonly t: string;
  readonly p: string;
  readonly f: 'S' | 'E' | 'D';
  readonly s: string;
  readonly e: number;
  readonly l: string;
}

/** The live spool of edge thread `index`. */
export function spoolFileName(index: number): string {
  return `edge-${index}.spool`;
}

/** A spool closed for delivery at `atMs` (the log objects' delivery time). */
export function batchFileName(index: number, atMs: number): string {
  return `edge-${index}.${atMs}.batch`;
}

/**
 * Records are kept in memory for at most accessLogFlushIntervalMs (or until
 * accessLogFlushBytes gather), then appended to the spool and fdatasync'ed in one batch: from
 * then on they survive a crash. A record that would grow the spool past accessLogSpoolBytesMax
 * is dropped and counted. `rotate` closes the spool into a batch file for the delivery worker.
 * All file work runs on one lane, in order.
 */
export class AccessLogSpool {
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  private timer: NodeJS.Timeout | null = null;
  private lane: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly index: number,
    private file: FileHandle,
    private fileBytes: number,
    /** Records in the spool file, written by an earlier run included. */
    private fileRecords: number,
  ) {}

  /**
   * Opens (creates) the thread's spool under `dir`, keeping what an earlier run left in it.
   * A last line cut short by a crash is left as is: delivery skips lines that do not parse.
   */
  static async open(dir: string, index: number): Promise<AccessLogSpool> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, spoolFileName(index));
    const earlier = readExisting(path);
    const file = await open(path, 'a', 0o600);
    // A spool created now must not vanish with its directory entry on a power loss.
    await fsyncDir(dir);
    return new AccessLogSpool(dir, index, file, earlier.bytes, earlier.records);
  }

  /** Records not yet handed to a batch (in memory and in the spool file). */
  get records(): number {
    return this.pendingRecords + this.fileRecords;
  }

  /** Queues one record; false when the spool is full (the record is dropped). */
  add(entry: SpoolEntry): boolean {
    if (this.closed) return false;
    const line = `${JSON.stringify(entry)}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.fileBytes + this.pendingBytes + bytes > LIMITS.accessLogSpoolBytesMax) {
      countDropped(1);
      return false;
    }
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.pendingRecords++;
    if (this.pendingBytes >= LIMITS.accessLogFlushBytes) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), LIMITS.accessLogFlushIntervalMs);
    return true;
  }

  /** Appends and syncs what is in memory; resolves once it is durable. */
  flush(): Promise<void> {
    return this.onLane(() => this.writePending());
  }

  /**
   * Flushes, then renames a non-empty spool to a batch file (the directory synced) and starts
   * an empty one. Returns the batch's path, or null when there was nothing to deliver.
   */
  rotate(atMs: number): Promise<string | null> {
    return this.onLane(async () => {
      await this.writePending();
      if (this.fileRecords === 0 || this.closed) return null;
      await this.file.close();
      const batch = join(this.dir, batchFileName(this.index, atMs));
      await rename(join(this.dir, spoolFileName(this.index)), batch);
      this.file = await open(join(this.dir, spoolFileName(this.index)), 'a', 0o600);
      await fsyncDir(this.dir);
      this.fileBytes = 0;
      this.fileRecords = 0;
      return batch;
    });
  }

  /** Flushes what is in memory and closes the file (the server stops). */
  close(): Promise<void> {
    return this.onLane(async () => {
      await this.writePending();
      this.closed = true;
      await this.file.close();
    });
  }

  private onLane<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lane.then(work);
    this.lane = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async writePending(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0 || this.closed) return;
    const text = this.pending.join('');
    const records = this.pendingRecords;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    const bytes = Buffer.from(text);
    await this.file.write(bytes);
    await this.file.datasync();
    this.fileBytes += bytes.byteLength;
    this.fileRecords += records;
  }
}

function readExisting(path: string): { bytes: number; records: number } {
  try {
    const text = readFileSync(path);
    let records = 0;
    for (const byte of text) if (byte === 0x0a) records++;
    return { bytes: text.byteLength, records };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { bytes: 0, records: 0 };
    throw error;
  }
}

/**
 * Edge thread 0 adopts the spools of threads an earlier run had and this one has not (the edge
 * count went down): each becomes a batch file of thread 0, so its records are still delivered.
 */
export function adoptOrphanSpools(dir: string, edgeCount: number, nowMs: number): void {
  assert(edgeCount >= 1, 'at least one edge thread');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  let adopted = 0;
  for (const name of names) {
    const match = /^edge-(\d+)\.(spool|(\d+)\.batch)$/.exec(name);
    if (match === null || Number(match[1]) < edgeCount) continue;
    // Distinct times keep the adopted batches apart (and their log object keys stable).
    renameSync(join(dir, name), join(dir, batchFileName(0, nowMs + adopted++)));
  }
  if (adopted > 0) syncDirectorySync(dir);
}

function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
