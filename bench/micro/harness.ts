/**
 * Shared plumbing of the micro-benchmarks: one tinybench `Bench` per group, the same time budget
 * everywhere, and results reduced to plain numbers. Every group holds exactly one reference task
 * (named with REF_PREFIX) measured in the same run, so that the report can give each subject as a
 * ratio to its reference: absolute figures move with the (shared, noisy) machine, ratios less.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';

export interface MicroResult {
  group: string;
  name: string;
  opsPerSec: number;
  meanNs: number;
  p99Ns: number;
  samples: number;
  /** For tasks that process a known number of bytes per operation. */
  mibPerSec?: number;
}

export interface MicroOptions {
  /** ~200 ms per task instead of ~1 s. */
  quick: boolean;
}

/** The reference task of each group is named with this prefix. */
export const REF_PREFIX = 'ref: ';
export const MIB = 1024 * 1024;

export function newBench(name: string, opts: MicroOptions): Bench {
  return new Bench({
    name,
    time: opts.quick ? 200 : 1000,
    warmupTime: opts.quick ? 50 : 200,
    iterations: opts.quick ? 8 : 32,
    throws: true,
  });
}

/**
 * Runs the bench and reduces each task to a MicroResult. `bytesPerOp` maps task names to the
 * bytes one operation processes (for MiB/s). ops/s is 1 / mean latency, consistent with meanNs
 * (tinybench's own throughput mean averages per-sample rates, which overweights fast outliers).
 */
export async function runGroup(
  group: string,
  bench: Bench,
  bytesPerOp: Readonly<Record<string, number>> = {},
): Promise<MicroResult[]> {
  await bench.run();
  return bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== 'completed') {
      const detail = result.state === 'errored' ? `: ${result.error.message}` : '';
      throw new Error(`${group} / ${task.name}: ${result.state}${detail}`);
    }
    const meanMs = result.latency.mean;
    const opsPerSec = meanMs > 0 ? 1000 / meanMs : 0;
    const bytes = bytesPerOp[task.name];
    return {
      group,
      name: task.name,
      opsPerSec,
      meanNs: meanMs * 1e6,
      p99Ns: result.latency.p99 * 1e6,
      samples: result.latency.samplesCount,
      ...(bytes !== undefined ? { mibPerSec: (opsPerSec * bytes) / MIB } : {}),
    };
  });
}

/** A fresh temp directory (under HANGAR_BENCH_TMP or the OS temp dir), removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(process.env.HANGAR_BENCH_TMP ?? tmpdir(), 'hangar-micro-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic filler bytes (xorshift), so runs compare and compressors cannot cheat. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`micro-bench self-check failed: ${message}`);
}
