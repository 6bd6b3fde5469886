/**
 * Runs the micro-benchmarks (bench/micro/*.bench.ts) and prints one markdown table; every group
 * pairs its subjects with a reference task measured in the same run ("× ref" = mean time of the
 * task / mean time of the reference: 2.0 means twice as slow as the reference).
 *
 *   node dist/bench/micro/run.js [--quick] [--json FILE] [subject ...]
 *
 * Subjects: sigv4 chunked xml hash actor lmdb blocks verify authorize sse-mac zstd (default: all). `--quick` gives each task
 * ~200 ms instead of ~1 s. HANGAR_BENCH_TMP picks where the disk benchmarks write (default: the
 * OS temp dir; put it on the disk you care about, not on tmpfs).
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { type MicroOptions, type MicroResult, REF_PREFIX } from './harness.js';

export type { MicroOptions, MicroResult } from './harness.js';
export { REF_PREFIX } from './harness.js';

type Subject = () => Promise<{ run: (opts: MicroOptions) => Promise<MicroResult[]> }>;

/** Loaded lazily, so that running one subject does not load the others' dependencies. */
const SUBJECTS: Readonly<Record<string, Subject>> = {
  sigv4: () => import('./sigv4.bench.js'),
  chunked: () => import('./chunked.bench.js'),
  xml: () => import('./xml.bench.js'),
  hash: () => import('./hash.bench.js'),
  actor: () => import('./actor.bench.js'),
  lmdb: () => import('./lmdb.bench.js'),
  blocks: () => import('./blocks.bench.js'),
  verify: () => import('./verify.bench.js'),
  authorize: () => import('./authorize.bench.js'),
  'sse-mac': () => import('./sse-mac.bench.js'),
  zstd: () => import('./zstd.bench.js'),
};

export const MICRO_SUBJECTS: readonly string[] = Object.keys(SUBJECTS);

export interface RunMicroOptions extends MicroOptions {
  /** Subject names to run (default: all); unknown names throw. */
  only?: readonly string[];
}

export async function runMicro(options: RunMicroOptions): Promise<MicroResult[]> {
  const names =
    options.only !== undefined && options.only.length > 0 ? options.only : MICRO_SUBJECTS;
  const unknown = names.filter((name) => SUBJECTS[name] === undefined);
  if (unknown.length > 0) {
    throw new Error(
      `unknown micro-benchmark ${unknown.join(', ')} (have: ${MICRO_SUBJECTS.join(' ')})`,
    );
  }
  const results: MicroResult[] = [];
  for (const name of names) {
    const load = SUBJECTS[name]!;
    results.push(...(await (await load()).run({ quick: options.quick })));
  }
  return results;
}

/** Mean time of each result over its group's reference (undefined for the reference itself). */
export function ratioToReference(
  result: MicroResult,
  all: readonly MicroResult[],
): number | undefined {
  if (result.name.startsWith(REF_PREFIX)) return undefined;
  const ref = all.find((r) => r.group === result.group && r.name.startsWith(REF_PREFIX));
  return ref === undefined || ref.meanNs === 0 ? undefined : result.meanNs / ref.meanNs;
}

function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

function formatOps(ops: number): string {
  return ops >= 100 ? Math.round(ops).toLocaleString('en-US') : ops.toFixed(1);
}

/** A markdown table of the results, one row per task. */
export function formatTable(results: readonly MicroResult[]): string {
  const rows = [
    '| group | task | ops/s | mean | p99 | MiB/s | × ref | samples |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ratio = ratioToReference(r, results);
    rows.push(
      `| ${r.group} | ${r.name} | ${formatOps(r.opsPerSec)} | ${formatNs(r.meanNs)} | ${formatNs(r.p99Ns)} | ${r.mibPerSec === undefined ? '' : Math.round(r.mibPerSec).toLocaleString('en-US')} | ${ratio === undefined ? 'ref' : ratio.toFixed(2)} | ${r.samples} |`,
    );
  }
  return rows.join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const jsonAt = argv.indexOf('--json');
  const jsonPath = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  if (jsonAt >= 0 && jsonPath === undefined) throw new Error('--json needs a file name');
  const only = argv.filter((arg, i) => !arg.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
  const results = await runMicro({ quick, only });
  process.stdout.write(
    `micro-benchmarks (${quick ? 'quick' : 'full'}), node ${process.version}, ${new Date().toISOString()}\n\n${formatTable(results)}\n`,
  );
  if (jsonPath !== undefined) await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
