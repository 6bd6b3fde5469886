// Runs in an edge thread: delivers the thread's spooled access log records as log objects.
import { createHash } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { assert } from '../../engine/assert.js';
import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import { ErrorRecord } from '../../engine/workers/worker.js';
import { HANGAR_ACCOUNT_ID } from '../access/principal.js';
import { type ServerState, shardFor } from '../s3/context.js';
import { fromEngineFailure } from '../s3/engine-errors.js';
import { newVersionLock } from '../s3/object-lock.js';
import { writeEncryption } from '../s3/sse.js';
import { versioningField } from '../s3/versioning.js';
import {
  type AccessLogStatus,
  countDelivered,
  countDeliveryFailure,
  countDropped,
} from './metrics.js';
import type { AccessLogSpool, SpoolEntry } from './spool.js';

/** The log objects one batch file becomes: their keys and bodies, grouped by target. */
interface LogObject {
  readonly targetBucket: string;
  readonly key: string;
  readonly body: Buffer;
  readonly records: number;
}

/**
 * Every accessLogDeliveryIntervalMs: closes the spool into a batch file (unless one is still
 * waiting), turns each batch into log objects and PUTs them into their target buckets straight
 * through the shards (never through the S3 port, so delivery writes are never logged), then
 * deletes the batch. A batch that fails is kept and retried whole at the next run; its object
 * keys are derived from the batch itself, so a retry rewrites the same keys with the same bytes
 * instead of duplicating records. Records whose target bucket is gone are dropped (counted).
 */
export class AccessLogDelivery {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Records in batch files read but not yet delivered (for the pending gauge). */
  batchRecords = 0;
  /** What ListWorkers shows (the metrics count the same, summed over the edge threads). */
  private readonly errors = new ErrorRecord();
  private deliveredRecords = 0;
  private deliveredObjects = 0;
  private droppedRecords = 0;

  constructor(
    private readonly state: ServerState,
    private readonly spool: AccessLogSpool,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.deliverNow(), LIMITS.accessLogDeliveryIntervalMs);
    this.timer.unref();
  }

  /**
   * Stops scheduling runs. A run in progress is not waited for (a shard that is down could hold
   * the stop): its batch stays on disk and is delivered again, to the same keys, after the
   * restart.
   */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
  }

  /** One delivery run (joins the one in progress). */
  deliverNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.deliver().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async deliver(): Promise<void> {
    try {
      let batches = await this.waitingBatches();
      if (batches.length === 0) {
        const batch = await this.spool.rotate(Date.now());
        batches = batch === null ? [] : [batch];
      }
      for (const batch of batches) {
        if (this.stopped) return;
        await this.deliverBatch(batch);
      }
      this.errors.succeeded();
    } catch (error) {
      // Cut by the server's stop (the shard lanes closed): the batch waits for the restart.
      if (this.stopped) return;
      countDeliveryFailure();
      this.errors.failed(error);
      this.state.logger.warn({ err: error }, 'access log delivery failed; retried next run');
    }
  }

  /** This thread's batch files, oldest first (a failed run leaves them for the next). */
  private async waitingBatches(): Promise<string[]> {
    const prefix = `edge-${this.spool.index}.`;
    const names = (await readdir(this.spool.dir)).filter(
      (name) => name.startsWith(prefix) && name.endsWith('.batch'),
    );
    return names.sort((a, b) => batchTime(a) - batchTime(b)).map((n) => join(this.spool.dir, n));
  }

  private async deliverBatch(path: string): Promise<void> {
    const deliveredMs = batchTime(path);
    const entries = parseBatch(await readFile(path));
    this.batchRecords = entries.length;
    const objects = logObjectsOf(entries, deliveredMs, this.state.config.s3.region, basename(path));
    for (const object of objects) {
      const bucket = this.state.catalog.getBucket(object.targetBucket);
      if (bucket === undefined) {
        countDropped(object.records);
        this.droppedRecords += object.records;
        continue;
      }
      await putLogObject(this.state, bucket, object.key, object.body);
      countDelivered(object.records);
      this.deliveredRecords += object.records;
      this.deliveredObjects++;
    }
    await unlink(path);
    this.batchRecords = 0;
  }

  /** This thread's delivery as ListWorkers shows it (summed over the threads by the main thread). */
  status(pendingRecords: number): AccessLogStatus {
    return {
      pendingRecords,
      deliveredRecords: this.deliveredRecords,
      deliveredObjects: this.deliveredObjects,
      droppedRecords: this.droppedRecords,
      errors: this.errors.errors,
      consecutiveErrors: this.errors.consecutiveErrors,
      lastError: this.errors.lastError,
    };
  }
}

/** The delivery time a batch file's name carries (edge-N.<ms>.batch). */
function batchTime(path: string): number {
  const match = /\.(\d+)\.batch$/.exec(path);
  assert(match !== null, 'batch files are named edge-N.<ms>.batch');
  return Number(match[1]);
}

/** The batch's records; a line a crash cut short does not parse and is skipped. */
function parseBatch(bytes: Buffer): SpoolEntry[] {
  const entries: SpoolEntry[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      entries.push(JSON.parse(line) as SpoolEntry);
    } catch {
      // An append cut by a crash before its fdatasync: the record was never acknowledged.
    }
  }
  return entries;
}

/** Groups a batch's records by log object and cuts each group to objects of bounded size. */
export function logObjectsOf(
  entries: readonly SpoolEntry[],
  deliveredMs: number,
  region: string,
  batchId: string,
): LogObject[] {
  const groups = new Map<string, { prefix: string; target: string; lines: string[] }>();
  for (const entry of entries) {
    const prefix = keyPrefixOf(entry, deliveredMs, region);
    const id = `${entry.t}\n${prefix}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = { prefix, target: entry.t, lines: [] };
      groups.set(id, group);
    }
    group.lines.push(entry.l);
  }
  const objects: LogObject[] = [];
  for (const [id, group] of groups) {
    chunksOf(group.lines).forEach((lines, part) => {
      const unique = createHash('sha256')
        .update(`${batchId}\n${id}\n${part}`)
        .digest('hex')
        .slice(0, 16)
        .toUpperCase();
      objects.push({
        targetBucket: group.target,
        key: `${group.prefix}${stamp(deliveredMs)}-${unique}`,
        body: Buffer.from(`${lines.join('\n')}\n`),
        records: lines.length,
      });
    });
  }
  return objects;
}

/**
 * The key up to the time stamp. SimplePrefix: the target prefix. PartitionedPrefix:
 * [prefix][account]/[region]/[source bucket]/[YYYY]/[MM]/[DD]/, the day being the record's
 * (EventTime) or the delivery's (DeliveryTime).
 */
function keyPrefixOf(entry: SpoolEntry, deliveredMs: number, region: string): string {
  if (entry.f === 'S') return entry.p;
  const day = new Date(entry.f === 'E' ? entry.e : deliveredMs).toISOString().slice(0, 10);
  return `${entry.p}${HANGAR_ACCOUNT_ID}/${region}/${entry.s}/${day.replaceAll('-', '/')}/`;
}

/** YYYY-mm-DD-HH-MM-SS, UTC. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');
}

/** Lines cut into runs of at most accessLogObjectBytesMax bytes (a longer line is cut). */
function chunksOf(lines: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const whole of lines) {
    // Records are ASCII (formatRecord escapes the rest): characters are bytes.
    const line = whole.slice(0, LIMITS.accessLogObjectBytesMax - 1);
    const size = line.length + 1;
    if (bytes + size > LIMITS.accessLogObjectBytesMax && current.length > 0) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Writes one log object as a PutObject with no headers of its own would: the target bucket's
 * default encryption, versioning and default retention apply; the bucket owner owns it. The
 * whole body travels with its PutBegin (at most accessLogObjectBytesMax <= chunkBytes).
 * Inventory reports (http/inventory/) are written the same way.
 */
export function putLogObject(
  state: ServerState,
  bucket: BucketRecord,
  key: string,
  body: Buffer,
  contentType = 'text/plain',
): Promise<void> {
  assert(body.byteLength <= LIMITS.chunkBytes, 'a log object travels whole with its PutBegin');
  const shard = shardFor(state, bucket, key);
  const lock = newVersionLock(state, bucket, undefined);
  const bytes = new Uint8Array(body);
  return new Promise((resolve, reject) => {
    try {
      shard.open(
        {
          kind: 'PutBegin',
          bucketId: bucket.id,
          key,
          headers: { contentType, userMeta: {} },
          declaredBytes: bytes.byteLength,
          payloadSha256: false,
          part: null,
          checksumAlgorithm: null,
          sse: writeEncryption(state, bucket, {}, null),
          ...versioningField(state.catalog, bucket),
          ...(lock === undefined ? {} : { lock }),
          end: { expect: {} },
        },
        {
          onReply: (reply) => {
            if (reply.kind === 'Failed') reject(fromEngineFailure(reply.failure));
            else if (reply.kind === 'Done') resolve();
          },
        },
        bytes.buffer,
      );
    } catch (error) {
      reject(error);
    }
  });
}
