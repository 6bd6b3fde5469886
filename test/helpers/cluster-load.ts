import { createHash, randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { eventually } from './replication.js';

/**
 * Client-side load and checks for the cluster tests (test/cluster/s3-cluster.test.ts,
 * test/cluster-core/): PUTs retried across gateways the way a client behind a load balancer
 * retries, a record of what was acknowledged, and read-back of every acknowledged byte.
 */

/** One acknowledged PUT: what a later read must return byte for byte. */
export interface Acked {
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  /** performance-clock time of the 200 (ms). */
  readonly at: number;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What an SDK error says about the HTTP exchange (0: no answer, e.g. a refused connection). */
export function failureOf(error: unknown): { status: number; name: string; message: string } {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return {
    status: e.$metadata?.httpStatusCode ?? 0,
    name: e.name ?? 'Error',
    message: e.message ?? String(error),
  };
}

/**
 * Whether a failed PUT may be retried: no answer at all (a dead gateway, a reset connection, a
 * timeout), 5xx (503 during a failover, 500), 408, 429, and 409 ConditionalRequestConflict (AWS
 * asks the client to retry). Any other 4xx is the request's own fault: retrying hides a bug.
 */
export function retryable(error: unknown): boolean {
  const { status, name } = failureOf(error);
  if (status === 0 || status >= 500 || status === 408 || status === 429) return true;
  return status === 409 && name === 'ConditionalRequestConflict';
}

/** Delay between two attempts of one PUT. */
const RETRY_DELAY_MS = 250;

/**
 * Sends `put` through `clients[start]`, then, while failures are retryable, through the next
 * client round-robin, until `deadlineMs` (performance clock). Returns the answer and the index of
 * the client that gave it; rethrows a non-retryable failure, or the last one at the deadline.
 */
export async function withRetries<T>(
  clients: readonly S3Client[],
  start: number,
  deadlineMs: number,
  send: (client: S3Client) => Promise<T>,
): Promise<{ value: T; client: number; attempts: number }> {
  let attempts = 0;
  for (let i = start; ; i++) {
    const index = i % clients.length;
    const client = clients[index];
    if (client === undefined) throw new Error('withRetries: no clients');
    attempts += 1;
    try {
      return { value: await send(client), client: index, attempts };
    } catch (error) {
      if (!retryable(error) || performance.now() + RETRY_DELAY_MS > deadlineMs) throw error;
      // The next gateway at once; a pause only once every gateway failed in turn.
      if ((i - start) % clients.length === clients.length - 1) await sleep(RETRY_DELAY_MS);
    }
  }
}

/** Body sizes of a write load: inline objects, single-block and multi-block (1 MiB blocks). */
export function randomObjectSize(): number {
  const roll = Math.random();
  if (roll < 0.4) return Math.floor(Math.random() * 1025); // inline (0..1 KiB)
  if (roll < 0.85) return 4096 + Math.floor(Math.random() * 252 * 1024);
  return 1024 * 1024 + Math.floor(Math.random() * 2 * 1024 * 1024);
}

export interface WriteLoadOptions {
  /** The gateways' clients; writer w starts at client w % n and moves on after a failure. */
  readonly clients: () => readonly S3Client[];
  readonly bucket: string;
  readonly writers: number;
  readonly prefix: string;
  /** How long one PUT may be retried before the load counts it as given up. */
  readonly putDeadlineMs: number;
  readonly size?: () => number;
  /** A pause after each acknowledged PUT, per writer (default none): bounds the data written. */
  readonly pauseMs?: number;
}

/**
 * Concurrent writers of fresh keys (random bytes, random sizes) until stopped. Every PUT is
 * retried until acknowledged or its deadline passes; `acked` is what the cluster promised,
 * `gaveUp` the PUTs no gateway acknowledged in time (a failure of availability, not of safety).
 */
export class WriteLoad {
  readonly acked = new Map<string, Acked>();
  readonly gaveUp: { key: string; error: string }[] = [];
  /** Attempts that failed and were retried, by the failure's name and status. */
  readonly retried = new Map<string, number>();
  private stopping = false;
  private running: Promise<void>[] = [];
  private sequence = 0;

  constructor(private readonly options: WriteLoadOptions) {}

  start(): void {
    this.running = Array.from({ length: this.options.writers }, (_, w) => this.writer(w));
  }

  /** Stops after the PUTs in flight settle (each within its deadline). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Acknowledgements after `from` (performance clock). */
  ackedAfter(from: number): number {
    let count = 0;
    for (const acked of this.acked.values()) if (acked.at > from) count += 1;
    return count;
  }

  /** The longest time between two consecutive acknowledgements after `from` (ms). */
  longestGapAfter(from: number): number {
    const times = [from, ...[...this.acked.values()].map((a) => a.at).filter((at) => at > from)];
    times.sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < times.length; i++)
      gap = Math.max(gap, (times[i] ?? 0) - (times[i - 1] ?? 0));
    return gap;
  }

  private async writer(w: number): Promise<void> {
    let next = w;
    while (!this.stopping) {
      const key = `${this.options.prefix}/${w}/${String(this.sequence++).padStart(6, '0')}`;
      const body = randomBytes((this.options.size ?? randomObjectSize)());
      const clients = this.options.clients();
      try {
        const { client } = await withRetries(
          clients,
          next,
          performance.now() + this.options.putDeadlineMs,
          (s3) => this.attempt(s3, key, body),
        );
        next = client;
        this.acked.set(key, {
          key,
          size: body.length,
          sha256: sha256(body),
          at: performance.now(),
        });
        if (this.options.pauseMs !== undefined) await sleep(this.options.pauseMs);
      } catch (error) {
        const { status, name, message } = failureOf(error);
        this.gaveUp.push({ key, error: `${status} ${name}: ${message}` });
        next += 1;
      }
    }
  }

  private async attempt(s3: S3Client, key: string, body: Buffer): Promise<void> {
    try {
      await s3.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body }));
    } catch (error) {
      const { status, name } = failureOf(error);
      const label = `${status} ${name}`;
      this.retried.set(label, (this.retried.get(label) ?? 0) + 1);
      throw error;
    }
  }
}

/** Runs `work` over `items`, `parallel` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  parallel: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}

/** The keys whose bytes, read through `s3`, differ from what was acknowledged (or fail). */
export async function unreadable(
  s3: S3Client,
  bucket: string,
  acked: Iterable<Acked>,
): Promise<string[]> {
  const bad: string[] = [];
  await inParallel([...acked], 6, async (object) => {
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
      const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
      if (bytes.length !== object.size || sha256(bytes) !== object.sha256) {
        bad.push(`${object.key}: ${bytes.length} bytes, not the ${object.size} acknowledged`);
      }
    } catch (error) {
      const { status, name } = failureOf(error);
      bad.push(`${object.key}: ${status} ${name}`);
    }
  });
  return bad.sort();
}

export interface Listed {
  readonly size: number;
  readonly etag: string;
}

/** Every object of the bucket through ListObjectsV2, page by page (1000 keys at most each). */
export async function listAll(s3: S3Client, bucket: string): Promise<Map<string, Listed>> {
  const listed = new Map<string, Listed>();
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    for (const object of out.Contents ?? []) {
      listed.set(object.Key ?? '', { size: object.Size ?? -1, etag: object.ETag ?? '' });
    }
    if (out.IsTruncated !== true) return listed;
    token = out.NextContinuationToken;
    if (token === undefined) throw new Error('a truncated listing without a continuation token');
  }
  throw new Error('more than 1000 listing pages');
}

/** How long a bucket created through one gateway may take to be known to every other one. */
export const BUCKET_VISIBLE_BOUND_MS = 10_000;

/** Waits until HeadBucket answers 200 through every client; throws naming the lagging one. */
export async function bucketEverywhere(
  clients: readonly S3Client[],
  bucket: string,
): Promise<void> {
  for (const [i, s3] of clients.entries()) {
    await eventually(
      `bucket ${bucket} through gateway client ${i + 1}`,
      async () => {
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
        return true;
      },
      BUCKET_VISIBLE_BOUND_MS,
    );
  }
}
