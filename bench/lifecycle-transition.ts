/**
 * Lifecycle transition benchmark: how long one lifecycle run takes to move N objects to another
 * storage class (Transition), against two references measured in the same run on the same
 * machine: the same server's lifecycle run EXPIRING N objects, and the bare file system
 * renaming N files (the least a physical move per object could cost).
 *
 *   npm run bench:transition                 # N = 10,000
 *   node dist/bench/lifecycle-transition.js [--count N] [--shards S] [--json]
 *
 * One fresh hangar server (its lifecycle clock 40 days ahead, HANGAR_CLOCK_OFFSET_MS); N 1 KiB
 * objects in each of two buckets; a run (SIGUSR2) with only the transition rule, then a run with
 * only the expiration rule, each timed from the signal to the worker's completed run (admin
 * ListWorkers, polled every 10 ms). The counts the worker reports are checked: a run that did
 * not move or expire all N objects fails the benchmark. Does not write bench/RESULTS.md.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  HeadObjectCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { timedLifecycleRun } from '../test/helpers/lifecycle-run.js';
import { TestServer } from '../test/helpers/server.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const OBJECT_BYTES = 1024;
const PUT_CONCURRENCY = 32;

interface Options {
  count: number;
  shards: number;
  json: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { count: 10_000, shards: 2, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: node dist/bench/lifecycle-transition.js [--count N (10000)] [--shards S (2)] [--json]',
      );
      process.exit(0);
    } else if (arg === '--count' || arg === '--shards') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} wants a positive integer`);
      if (arg === '--count') options.count = value;
      else options.shards = value;
    } else if (arg === '--json') {
      options.json = true;
    } else {
      throw new Error(`unknown argument ${arg} (--help)`);
    }
  }
  return options;
}

/** N objects of 1 KiB, PUT_CONCURRENCY at a time. */
async function preload(s3: S3Client, bucket: string, count: number): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const body = Buffer.alloc(OBJECT_BYTES, 7);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(i), Body: body }));
    }
  };
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker));
}

function keyOf(i: number): string {
  return `obj/${String(i).padStart(6, '0')}`;
}

function rules(action: 'transition' | 'expire'): LifecycleRule[] {
  // The size filter lets 1 KiB objects transition (the 128 KiB default minimum is the rule's
  // to override), so both runs judge every object alike.
  const filter = { ObjectSizeGreaterThan: 0 };
  return action === 'transition'
    ? [
        {
          ID: 'move',
          Status: 'Enabled',
          Filter: filter,
          Transitions: [{ Days: 30, StorageClass: 'GLACIER' }],
        },
      ]
    : [{ ID: 'expire', Status: 'Enabled', Filter: filter, Expiration: { Days: 30 } }];
}

/** One lifecycle run, timed from SIGUSR2 to its completion (polled every 10 ms). */
function timedRun(server: TestServer): Promise<{ seconds: number; line: string }> {
  return timedLifecycleRun(server, 10, 30 * 60_000);
}

function countIn(line: string, what: RegExp): number {
  return Number(what.exec(line)?.[1] ?? Number.NaN);
}

/** The bare file system: N 1 KiB files renamed into another directory (one fs rename each). */
function rawRenameSeconds(count: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-bench-rename-'));
  try {
    const from = join(dir, 'from');
    const to = join(dir, 'to');
    mkdirSync(from);
    mkdirSync(to);
    const body = Buffer.alloc(OBJECT_BYTES, 7);
    for (let i = 0; i < count; i++) writeFileSync(join(from, String(i)), body);
    const start = performance.now();
    for (let i = 0; i < count; i++) renameSync(join(from, String(i)), join(to, String(i)));
    return (performance.now() - start) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const server = await TestServer.start({
    shards: options.shards,
    env: { HANGAR_CLOCK_OFFSET_MS: String(40 * DAY_MS) },
  });
  try {
    const s3 = server.client();
    const loadStart = performance.now();
    await Promise.all([
      preload(s3, 'transit', options.count),
      preload(s3, 'expire', options.count),
    ]);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'transit',
        LifecycleConfiguration: { Rules: rules('transition') },
      }),
    );
    const transition = await timedRun(server);
    const moved = countIn(transition.line, /(\d+) transitioned/);
    const sample = await s3.send(
      new HeadObjectCommand({ Bucket: 'transit', Key: keyOf(options.count - 1) }),
    );
    if (moved !== options.count || sample.StorageClass !== 'GLACIER') {
      throw new Error(`the transition run moved ${moved} of ${options.count}: ${transition.line}`);
    }

    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'transit' }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'expire',
        LifecycleConfiguration: { Rules: rules('expire') },
      }),
    );
    const expiration = await timedRun(server);
    const expired = countIn(expiration.line, /(\d+) objects expired/);
    if (expired !== options.count) {
      throw new Error(
        `the expiration run expired ${expired} of ${options.count}: ${expiration.line}`,
      );
    }
    const renameSeconds = rawRenameSeconds(options.count);
    report(options, loadSeconds, transition.seconds, expiration.seconds, renameSeconds);
  } finally {
    await server.destroy();
  }
}

function report(
  options: Options,
  loadSeconds: number,
  transitionSeconds: number,
  expirationSeconds: number,
  renameSeconds: number,
): void {
  const rate = (seconds: number): number => Math.round(options.count / seconds);
  const figures = {
    count: options.count,
    shards: options.shards,
    preloadSeconds: round(loadSeconds),
    transition: { seconds: round(transitionSeconds), objectsPerSecond: rate(transitionSeconds) },
    expiration: { seconds: round(expirationSeconds), objectsPerSecond: rate(expirationSeconds) },
    rawRename: { seconds: round(renameSeconds), filesPerSecond: rate(renameSeconds) },
    transitionOverExpiration: round(transitionSeconds / expirationSeconds),
    transitionOverRawRename: round(transitionSeconds / renameSeconds),
  };
  if (options.json) {
    console.log(JSON.stringify(figures));
    return;
  }
  console.log(`lifecycle transition of ${options.count} objects (${options.shards} shards)`);
  console.log('| run | seconds | objects/s | time vs transition |');
  console.log('|---|---:|---:|---:|');
  const row = (name: string, seconds: number): void =>
    console.log(
      `| ${name} | ${round(seconds)} | ${rate(seconds)} | ${round(seconds / transitionSeconds)}x |`,
    );
  row('lifecycle Transition → GLACIER', transitionSeconds);
  row('lifecycle Expiration (same run machinery)', expirationSeconds);
  row('raw fs rename (reference)', renameSeconds);
  console.log(
    `transition / expiration: ${figures.transitionOverExpiration}; transition / raw rename: ${figures.transitionOverRawRename}`,
  );
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
