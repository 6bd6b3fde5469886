/**
 * The speed yardstick: end-to-end load benchmark of hangar against the raw limit (a bare
 * uWebSockets.js server and the bare file system) and against peer S3 servers (Ceph RGW, s3rver, moto),
 * driven by wrk over presigned URLs. Writes bench/RESULTS.md.
 *
 *   node dist/bench/run.js [--quick] [--only WORKLOAD,...] [--targets TARGET,...] [--micro]
 *                          [--no-fs] [--out FILE]
 *
 * Scaling with threads: `--targets raw,hangar-e1s1,hangar-e1s2,hangar-e2s1,hangar-e2s2` runs
 * hangar with 1–2 edge threads × 1–2 shards beside the raw reference.
 *
 * Cluster mode (issue 19): `--targets raw,hangar,hangar-cluster,rgw-cluster` runs one hangar
 * gateway in cluster mode and radosgw over the same Ceph, on one local topology for the whole run
 * (load/bench-topology.ts: HANGAR_BENCH_CLUSTER_DIR, else started at port offset 100).
 *
 * `npm run bench` is the full run with the micro-benchmarks; `npm run bench:quick` the short one.
 * Every target is started fresh for every workload (own port, own temp dir) and stopped after;
 * targets alternate within each workload, so drift of the shared machine hits them alike.
 * A run that saw any non-2xx response or socket error is invalid: it is marked in the report,
 * and if it was hangar's or the raw reference's, the runner exits non-zero.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goalsTable } from './goals.js';
import { stopBenchTopology } from './load/bench-topology.js';
import { runHeadLoad } from './load/head-gen.js';
import { cpuSeconds, RssSampler } from './load/proc.js';
import {
  createBucket,
  PreloadTimeout,
  preload,
  presignToFile,
  probe,
  type RequestSpec,
} from './load/s3.js';
import { runSelectCase, SELECT_CASE, type SelectFigures, selectSection } from './load/select.js';
import {
  DEFAULT_TARGETS,
  type RunningTarget,
  startTarget,
  TARGET_NAMES,
  TARGETS,
  type TargetName,
  unavailable,
  versions,
} from './load/targets.js';
import { ensureWrk, runWrk, type WrkResult } from './load/wrk.js';
import { formatTable, runMicro } from './micro/run.js';
import type { RawFsFigure } from './reference/raw-fs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = fileURLToPath(new URL('../', import.meta.url));
const KIB = 1024;
const MIB = 1024 * 1024;
const SMALL = 4 * KIB;
const MEDIUM = 64 * KIB;
const LARGE = 64 * MIB;
/** hangar's default block size: the 64 MiB PUT stamps each block so none can be deduplicated. */
const BLOCK = MIB;

// ---- options ----

interface Options {
  quick: boolean;
  micro: boolean;
  fs: boolean;
  only: string[] | undefined;
  targets: TargetName[];
  out: string;
  command: string;
}

function parseArgs(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const v = argv[at + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const known = new Set(['--quick', '--micro', '--no-fs', '--only', '--targets', '--out']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!known.has(arg)) throw new Error(`unknown argument ${arg}`);
    if (arg === '--only' || arg === '--targets' || arg === '--out') i++;
  }
  const only = value('--only')
    ?.split(',')
    .filter((s) => s !== '');
  for (const w of only ?? []) {
    if (w !== SELECT_CASE && !WORKLOADS.some((x) => x.id === w)) {
      const have = [...WORKLOADS.map((x) => x.id), SELECT_CASE].join(' ');
      throw new Error(`unknown workload ${w} (have: ${have})`);
    }
  }
  const targetArg = value('--targets');
  const targets = (targetArg?.split(',').filter((s) => s !== '') ?? [...DEFAULT_TARGETS]).map(
    (t) => {
      if (!(TARGET_NAMES as readonly string[]).includes(t)) {
        throw new Error(`unknown target ${t} (have: ${TARGET_NAMES.join(' ')})`);
      }
      return t as TargetName;
    },
  );
  return {
    quick: argv.includes('--quick'),
    micro: argv.includes('--micro') || !argv.includes('--quick'),
    fs: !argv.includes('--no-fs'),
    only,
    targets,
    out: value('--out') ?? join(ROOT, 'bench/RESULTS.md'),
    command: ['node dist/bench/run.js', ...argv].join(' '),
  };
}

// ---- workloads ----

interface Ctx {
  quick: boolean;
  durationS: number;
  /** Preloaded object count the workload asked for, and how many the target actually got. */
  loaded: number;
}

interface Preload {
  count: (ctx: Ctx, target: TargetName, results: Measurement[]) => number;
  key: (i: number) => string;
  bytes: number;
  /** The workload can run on part of its preload (DELETE); otherwise a timeout skips it. */
  partialOk: boolean;
}

interface Workload {
  id: string;
  title: string;
  unit: 'ops/s' | 'MiB/s';
  connections: number;
  threads: number;
  objectBytes: number;
  /** PUT body size (0: no PUTs). */
  bodyBytes: number;
  uniqueBlocks: boolean;
  countStatuses: boolean;
  timeoutS: number;
  /** Seconds per run: [quick, full]. 64 MiB requests take seconds each, so they get longer runs. */
  seconds: [number, number];
  preload?: Preload;
  requests: (ctx: Ctx, target: TargetName) => RequestSpec[];
  /** Requests depend on the target (its preload): presign per target. */
  perTarget?: boolean;
  /** Driven by head-gen.ts instead of wrk. */
  head?: boolean;
  notes: string;
}

const GET_POOL = 10_000;
const LIST_KEYS = 100_000;
const LARGE_POOL = 8;
const smallKey = (i: number): string => `small/${String(i).padStart(6, '0')}`;
const listKey = (i: number): string => `list/${String(i).padStart(7, '0')}`;

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** DELETE preloads what the target's own PUT rate suggests it can delete in the run, ×1.5. */
function deletePreloadCount(ctx: Ctx, target: TargetName, results: Measurement[]): number {
  const put = results.find((m) => m.workload === 'put-4k' && m.target === target && m.wrk);
  const rate = put?.wrk === undefined ? 5_000 : put.wrk.requests / (put.wrk.duration_us / 1e6);
  return Math.round(Math.min(300_000, Math.max(5_000, rate * ctx.durationS * 1.5)));
}

/**
 * PUT and GET of one medium size (issue 13: the bulk of CI caches). PUT bodies are stamped per
 * request so no store can deduplicate them; GETs cycle over `pool` preloaded objects.
 */
function mediumWorkloads(
  label: string,
  bytes: number,
  connections: number,
  pool: number,
): Workload[] {
  const size = label === '1m' ? '1 MiB' : '64 KiB';
  const key = (i: number): string => `medium-${label}/${String(i).padStart(6, '0')}`;
  const common = {
    unit: 'MiB/s' as const,
    connections,
    threads: 2,
    objectBytes: bytes,
    // Counting every status makes wrk buffer bodies: 1 MiB GETs count errors only.
    countStatuses: bytes < MIB,
    timeoutS: 30,
    seconds: [5, 10] as [number, number],
  };
  return [
    {
      ...common,
      id: `put-${label}`,
      title: `PUT ${size} durable, c${connections}`,
      bodyBytes: bytes,
      uniqueBlocks: true,
      requests: () => range(pool * 10, (i) => ({ method: 'PUT', key: `put-${label}/${i}` })),
      notes: 'new keys; every body carries a unique stamp (no dedup)',
    },
    {
      ...common,
      id: `get-${label}`,
      title: `GET ${size}, c${connections}`,
      bodyBytes: 0,
      uniqueBlocks: false,
      preload: { count: () => pool, key, bytes, partialOk: false },
      requests: () => range(pool, (i) => ({ method: 'GET', key: key(i) })),
      notes: `cycles over ${pool.toLocaleString('en-US')} preloaded objects`,
    },
  ];
}

const WORKLOADS: readonly Workload[] = [
  {
    id: 'put-4k',
    title: 'PUT 4 KiB, c64',
    unit: 'ops/s',
    connections: 64,
    threads: 2,
    objectBytes: SMALL,
    bodyBytes: SMALL,
    uniqueBlocks: false,
    countStatuses: true,
    timeoutS: 10,
    seconds: [3, 10],
    requests: (ctx) =>
      range(ctx.quick ? 60_000 : 200_000, (i) => ({ method: 'PUT', key: `put/${i}` })),
    notes: 'new keys; wrk cycles through the presigned list, so requests past its length overwrite',
  },
  {
    id: 'get-4k',
    title: 'GET 4 KiB, c64',
    unit: 'ops/s',
    connections: 64,
    threads: 2,
    objectBytes: SMALL,
    bodyBytes: 0,
    uniqueBlocks: false,
    countStatuses: true,
    timeoutS: 10,
    seconds: [3, 10],
    preload: { count: () => GET_POOL, key: smallKey, bytes: SMALL, partialOk: false },
    requests: () => range(GET_POOL, (i) => ({ method: 'GET', key: smallKey(i) })),
    notes: `cycles over ${GET_POOL.toLocaleString('en-US')} preloaded objects`,
  },
  {
    id: 'head-4k',
    title: 'HEAD 4 KiB, c64',
    unit: 'ops/s',
    connections: 64,
    threads: 1,
    objectBytes: SMALL,
    bodyBytes: 0,
    uniqueBlocks: false,
    countStatuses: true,
    timeoutS: 10,
    seconds: [3, 10],
    preload: { count: () => GET_POOL, key: smallKey, bytes: SMALL, partialOk: false },
    requests: () => range(GET_POOL, (i) => ({ method: 'HEAD', key: smallKey(i) })),
    head: true,
    notes:
      "driven by bench/load/head-gen.ts (one Node thread in the runner), not wrk: wrk's parser waits for a HEAD response's Content-Length bytes. Its ceiling is the raw row",
  },
  {
    id: 'delete-4k',
    title: 'DeleteObject 4 KiB, c64',
    unit: 'ops/s',
    connections: 64,
    threads: 2,
    objectBytes: SMALL,
    bodyBytes: 0,
    uniqueBlocks: false,
    countStatuses: true,
    timeoutS: 10,
    seconds: [3, 10],
    preload: { count: deletePreloadCount, key: (i) => `del/${i}`, bytes: SMALL, partialOk: true },
    requests: (ctx) =>
      range(ctx.loaded > 0 ? ctx.loaded : 100_000, (i) => ({ method: 'DELETE', key: `del/${i}` })),
    perTarget: true,
    notes:
      "each preloaded key is deleted once; past them wrk cycles and deletes absent keys (204 too): 'real deletes' says how many removed an object",
  },
  {
    id: 'list-100k',
    title: 'ListObjectsV2 (1000-key pages of 100k keys), c8',
    unit: 'ops/s',
    connections: 8,
    threads: 2,
    objectBytes: 0,
    bodyBytes: 0,
    uniqueBlocks: false,
    countStatuses: true,
    timeoutS: 30,
    seconds: [3, 10],
    preload: { count: () => LIST_KEYS, key: listKey, bytes: 0, partialOk: false },
    requests: () =>
      range(LIST_KEYS - 1000, (i) => ({
        method: 'LIST',
        key: listKey((i * 7919) % (LIST_KEYS - 1000)),
      })),
    notes:
      'start-after cycles over 99,000 points of 100,000 0-byte keys, so every page is full (1000 keys); ops/s = pages/s',
  },
  {
    id: 'put-64m',
    title: 'PUT 64 MiB, c4',
    unit: 'MiB/s',
    connections: 4,
    threads: 2,
    objectBytes: LARGE,
    bodyBytes: LARGE,
    uniqueBlocks: true,
    countStatuses: true,
    timeoutS: 60,
    seconds: [8, 20],
    requests: () => range(16, (i) => ({ method: 'PUT', key: `large/put-${i}` })),
    notes:
      'every 1 MiB block of every body carries a unique stamp (no dedup); 16 keys, overwritten in turn',
  },
  {
    id: 'get-64m',
    title: 'GET 64 MiB, c4',
    unit: 'MiB/s',
    connections: 4,
    threads: 2,
    objectBytes: LARGE,
    bodyBytes: 0,
    uniqueBlocks: false,
    countStatuses: false,
    timeoutS: 60,
    seconds: [8, 20],
    preload: {
      count: () => LARGE_POOL,
      key: (i) => `large/get-${i}`,
      bytes: LARGE,
      partialOk: false,
    },
    requests: () => range(LARGE_POOL, (i) => ({ method: 'GET', key: `large/get-${i}` })),
    notes: `cycles over ${LARGE_POOL} preloaded objects; wrk counts statuses > 399 only (counting all would make it buffer bodies)`,
  },
  ...mediumWorkloads('64k', MEDIUM, 64, 2_000),
  ...mediumWorkloads('1m', MIB, 16, 200),
  {
    id: 'mixed-4k',
    title: 'mixed 80% GET / 20% PUT 4 KiB, c64',
    unit: 'ops/s',
    connections: 64,
    threads: 2,
    objectBytes: SMALL,
    bodyBytes: SMALL,
    uniqueBlocks: false,
    countStatuses: true,
    timeoutS: 10,
    seconds: [3, 10],
    preload: { count: () => GET_POOL, key: smallKey, bytes: SMALL, partialOk: false },
    requests: (ctx) =>
      range(ctx.quick ? 50_000 : 150_000, (i) =>
        i % 5 === 4
          ? { method: 'PUT', key: `mixed/${i}` }
          : { method: 'GET', key: smallKey((i * 7) % GET_POOL) },
      ),
    notes: `GETs over ${GET_POOL.toLocaleString('en-US')} preloaded objects, PUTs of new keys`,
  },
];

// ---- measuring ----

interface Measurement {
  workload: string;
  target: TargetName;
  /** Set when measured (even if invalid). */
  wrk?: WrkResult;
  cpuS?: number;
  peakRssBytes?: number;
  /** Peak RssAnon: VmRSS without the file pages mapped in (LMDB's data files). */
  peakAnonBytes?: number;
  /** The machine's 1-minute load average at the end of the run (others share the machine). */
  load?: number;
  /** Why there is no figure. */
  skipped?: string;
  /** Why the figure does not count (errors, non-2xx, crash). */
  invalid?: string;
  notes: string[];
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function throughput(w: Workload, r: WrkResult): number {
  // Large GETs: the bytes wrk received (a run holds few 64 MiB responses, and the ones still in
  // flight at the end would be lost by counting whole responses).
  if (w.unit === 'MiB/s' && w.bodyBytes === 0) return r.bytes / MIB / (r.duration_us / 1e6);
  const perS = r.requests / (r.duration_us / 1e6);
  return w.unit === 'MiB/s' ? (perS * w.objectBytes) / MIB : perS;
}

function badResponses(r: WrkResult): string | undefined {
  const bad = Object.entries(r.statuses).filter(([s]) => Number(s) < 200 || Number(s) > 299);
  const e = r.errors;
  const parts: string[] = [];
  if (bad.length > 0) parts.push(`statuses ${bad.map(([s, n]) => `${s}×${n}`).join(', ')}`);
  if (e.status > 0 && bad.length === 0) parts.push(`${e.status} responses with status > 399`);
  for (const k of ['connect', 'read', 'write', 'timeout'] as const) {
    if (e[k] > 0) parts.push(`${e[k]} ${k} errors`);
  }
  if (r.requests === 0) parts.push('no request completed');
  return parts.length === 0 ? undefined : parts.join('; ');
}

async function measure(
  w: Workload,
  name: TargetName,
  opts: Options,
  tmp: string,
  presigned: Map<string, string>,
  results: Measurement[],
): Promise<Measurement> {
  const m: Measurement = { workload: w.id, target: name, notes: [] };
  const spec = TARGETS[name];
  const durationS = opts.quick ? w.seconds[0] : w.seconds[1];
  const preloadTimeoutS = spec.preloadTimeoutS ?? (opts.quick ? 60 : 120);
  const ctx: Ctx = { quick: opts.quick, durationS, loaded: 0 };
  let target: RunningTarget;
  try {
    target = await startTarget(name);
  } catch (error) {
    m.skipped = `did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    m.invalid = m.skipped;
    return m;
  }
  try {
    if (!spec.stateless) {
      await createBucket(target.endpoint, spec.credentials);
      if (w.preload !== undefined) {
        const want = w.preload.count(ctx, name, results);
        const t0 = performance.now();
        const body = new Uint8Array(w.preload.bytes);
        for (let i = 0; i < body.length; i += 512) body[i] = (i / 512) & 0xff;
        const concurrency = w.preload.bytes >= MIB ? 4 : 64;
        try {
          await preload(
            target.port,
            spec.credentials,
            want,
            w.preload.key,
            body,
            concurrency,
            preloadTimeoutS,
          );
          ctx.loaded = want;
        } catch (error) {
          if (!(error instanceof PreloadTimeout)) throw error;
          ctx.loaded = error.done;
          if (!w.preload.partialOk) {
            m.skipped = `not measured (preload timed out: ${error.done.toLocaleString('en-US')} of ${want.toLocaleString('en-US')} objects in ${preloadTimeoutS} s)`;
            return m;
          }
          m.notes.push(`preload timed out at ${error.done} of ${want} objects`);
        }
        const s = (performance.now() - t0) / 1000;
        log(
          `  ${name}: preloaded ${ctx.loaded} objects in ${s.toFixed(1)} s (${Math.round(ctx.loaded / s)}/s)`,
        );
      }
    }
    // Presigned lines depend on the credentials (and for some workloads on the target's preload).
    const cacheKey = `${w.id}|${spec.credentials.accessKeyId}${w.perTarget ? `|${name}|${ctx.loaded}` : ''}`;
    let file = presigned.get(cacheKey);
    if (file === undefined) {
      file = join(tmp, `${w.id}-${presigned.size}.txt`);
      const requests = w.requests(ctx, name);
      await presignToFile(file, spec.credentials, requests);
      presigned.set(cacheKey, file);
    }
    const logBefore = target.log().length;
    const cpu0 = cpuSeconds(target.pids());
    const sampler = new RssSampler(target.pids());
    let result: WrkResult;
    try {
      result = w.head
        ? await runHeadLoad({
            port: target.port,
            hostHeader: '127.0.0.1',
            requestsFile: file,
            connections: w.connections,
            durationS,
            timeoutS: w.timeoutS,
          })
        : (
            await runWrk({
              url: target.endpoint,
              requestsFile: file,
              connections: w.connections,
              threads: w.threads,
              durationS,
              timeoutS: w.timeoutS,
              hostHeader: '127.0.0.1',
              bodyBytes: w.bodyBytes,
              uniqueBlockBytes: w.uniqueBlocks ? BLOCK : 0,
              countStatuses: w.countStatuses,
            })
          ).result;
    } finally {
      const rss = sampler.stop();
      m.peakRssBytes = rss.peak;
      m.peakAnonBytes = rss.peakAnon;
    }
    m.cpuS = cpuSeconds(target.pids()) - cpu0;
    m.load = loadavg()[0] ?? 0;
    m.wrk = result;
    if (w.id === 'delete-4k' && !spec.stateless) {
      m.notes.push(
        `real deletes: ${Math.min(result.requests, ctx.loaded).toLocaleString('en-US')} of ${result.requests.toLocaleString('en-US')} requests`,
      );
    }
    if (w.id === 'put-4k' && !spec.stateless) {
      const distinct = opts.quick ? 60_000 : 200_000;
      if (result.requests > distinct)
        m.notes.push(`${result.requests - distinct} of the PUTs overwrote keys`);
    }
    const bad = badResponses(result);
    const crashed = target.exited();
    const serverLog = target.log().slice(logBefore).trim();
    if (crashed !== undefined) {
      m.invalid = `server died (${crashed}) during the run${bad === undefined ? '' : `; ${bad}`}`;
    } else if (bad !== undefined) {
      m.invalid = bad;
      if (!spec.stateless) {
        const key = w.preload?.key(0) ?? 'small/000000';
        m.notes.push(`probe after the run: ${await probe(target.endpoint, spec.credentials, key)}`);
      }
    }
    if (m.invalid !== undefined && serverLog !== '') {
      m.notes.push(`server log during the run (tail):\n${serverLog.slice(-3000)}`);
    } else if (serverLog !== '' && spec.role === 'hangar') {
      m.notes.push(`server log during the run (tail):\n${serverLog.slice(-1500)}`);
    }
    return m;
  } catch (error) {
    m.invalid = `runner error: ${error instanceof Error ? error.message : String(error)}`;
    m.notes.push(`server log (tail):\n${target.log().slice(-3000)}`);
    return m;
  } finally {
    await target.stop();
  }
}

// ---- report ----

function fmtNum(v: number, digits = 0): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v >= 10 ? Math.max(digits, 1) : 2);
}

function fmtUs(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e5 ? 0 : 1)} ms`;
  return `${Math.round(us)} µs`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '–';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

function figureOf(w: Workload, results: Measurement[], target: TargetName): number | undefined {
  const m = results.find((x) => x.workload === w.id && x.target === target);
  return m?.wrk !== undefined && m.invalid === undefined ? throughput(w, m.wrk) : undefined;
}

function bestPeer(
  w: Workload,
  results: Measurement[],
): { name: TargetName; value: number } | undefined {
  let best: { name: TargetName; value: number } | undefined;
  for (const name of TARGET_NAMES) {
    if (TARGETS[name].role !== 'peer') continue;
    const v = figureOf(w, results, name);
    if (v !== undefined && (best === undefined || v > best.value)) best = { name, value: v };
  }
  return best;
}

function workloadTable(w: Workload, results: Measurement[], targets: TargetName[]): string {
  const raw = figureOf(w, results, 'raw');
  const peer = bestPeer(w, results);
  const rows = [
    `### ${w.title}`,
    '',
    `${w.notes}.`,
    '',
    `| target | ${w.unit} | × raw | × best peer${peer === undefined ? '' : ` (${peer.name})`} | p50 | p99 | p99.9 | requests | non-2xx / errors | server CPU s | ${w.unit === 'MiB/s' ? 'CPU s/GiB' : 'CPU µs/op'} | peak RSS MiB | peak anon MiB | load |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  const notes: string[] = [];
  const generatorBound: string[] = [];
  for (const name of targets) {
    const m = results.find((x) => x.workload === w.id && x.target === name);
    if (m === undefined) continue;
    if (m.wrk === undefined) {
      rows.push(`| ${name} | ${m.skipped ?? m.invalid ?? 'not measured'} | | | | | | | | | | | |`);
    } else {
      const r = m.wrk;
      const v = throughput(w, r);
      const shown = m.invalid === undefined ? fmtNum(v) : `INVALID (${fmtNum(v)})`;
      const seconds = r.duration_us / 1e6;
      const cpuPerOp =
        m.cpuS === undefined || v === 0
          ? undefined
          : w.unit === 'MiB/s'
            ? m.cpuS / ((v * seconds) / 1024)
            : (m.cpuS * 1e6) / (v * seconds);
      if (name !== 'raw' && m.invalid === undefined && raw !== undefined && v >= 0.8 * raw) {
        generatorBound.push(name);
      }
      rows.push(
        `| ${name} | ${shown} | ${name === 'raw' ? 'ref' : ratio(m.invalid === undefined ? v : undefined, raw)} | ${TARGETS[name].role === 'peer' && peer?.name === name ? 'ref' : ratio(m.invalid === undefined ? v : undefined, peer?.value)} | ${fmtUs(r.latency_us.p50)} | ${fmtUs(r.latency_us.p99)} | ${fmtUs(r.latency_us.p999)} | ${r.requests.toLocaleString('en-US')} | ${m.invalid ?? '0'} | ${m.cpuS?.toFixed(2) ?? '–'} | ${cpuPerOp === undefined ? '–' : fmtNum(cpuPerOp)} | ${m.peakRssBytes === undefined ? '–' : fmtNum(m.peakRssBytes / MIB)} | ${m.peakAnonBytes === undefined ? '–' : fmtNum(m.peakAnonBytes / MIB)} | ${m.load?.toFixed(1) ?? '–'} |`,
      );
    }
    for (const note of m.notes) {
      notes.push(
        note.includes('\n')
          ? `- ${name}: ${note.split('\n')[0]}\n\n  \`\`\`\n${note
              .split('\n')
              .slice(1)
              .map((l) => `  ${l}`)
              .join('\n')}\n  \`\`\``
          : `- ${name}: ${note}`,
      );
    }
  }
  if (generatorBound.length > 0) {
    notes.unshift(
      `- **${generatorBound.join(', ')} within 20% of the raw limit (or above it)**: here the load generator and the shared machine, not the server, bound the figure; the ratio says little.`,
    );
  }
  if (notes.length > 0) rows.push('', ...notes);
  return rows.join('\n');
}

function summaryTable(
  results: Measurement[],
  workloads: readonly Workload[],
  targets: TargetName[],
): string {
  const rows = [
    `| workload | unit | ${targets.join(' | ')} | hangar × raw | hangar × best peer |`,
    `|---|---|${targets.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const w of workloads) {
    const cells = targets.map((t) => {
      const m = results.find((x) => x.workload === w.id && x.target === t);
      if (m === undefined) return '';
      if (m.wrk === undefined) return m.skipped?.startsWith('not measured') ? 'n/m' : 'failed';
      return m.invalid === undefined ? fmtNum(throughput(w, m.wrk)) : 'INVALID';
    });
    const h = figureOf(w, results, 'hangar');
    rows.push(
      `| ${w.title} | ${w.unit} | ${cells.join(' | ')} | ${ratio(h, figureOf(w, results, 'raw'))} | ${ratio(h, bestPeer(w, results)?.value)} |`,
    );
  }
  return rows.join('\n');
}

function goalInputs(results: Measurement[], fsFigures: RawFsFigure[] | undefined) {
  const byId = (id: string): Workload | undefined => WORKLOADS.find((x) => x.id === id);
  return {
    figure: (id: string, target: 'hangar' | 'raw'): number | undefined => {
      const w = byId(id);
      return w === undefined ? undefined : figureOf(w, results, target);
    },
    fs: (prefix: string): number | undefined =>
      fsFigures?.find((f) => f.name.startsWith(prefix))?.value,
    peakAnonMiB: (): { mib: number; workload: string } | undefined => {
      let peak: { mib: number; workload: string } | undefined;
      for (const m of results) {
        if (m.target !== 'hangar' || m.peakAnonBytes === undefined) continue;
        const mib = m.peakAnonBytes / MIB;
        if (peak === undefined || mib > peak.mib) {
          peak = { mib, workload: byId(m.workload)?.title ?? m.workload };
        }
      }
      return peak;
    },
  };
}

function historyLine(results: Measurement[], quick: boolean, commit: string): string {
  const w = (id: string): Workload => WORKLOADS.find((x) => x.id === id)!;
  const part = (id: string, label: string, withPeer: boolean): string | undefined => {
    const h = figureOf(w(id), results, 'hangar');
    if (h === undefined) return undefined;
    const raw = ratio(h, figureOf(w(id), results, 'raw'));
    const peer = bestPeer(w(id), results);
    return `${label} ${fmtNum(h)} ${w(id).unit} (${raw} raw${withPeer ? `, ${ratio(h, peer?.value)} ${peer?.name ?? 'peer'}` : ''})`;
  };
  const parts = [
    part('get-4k', '4 KiB GET', true),
    part('put-4k', '4 KiB PUT', true),
    part('put-64m', '64 MiB PUT', false),
    part('get-64m', '64 MiB GET', false),
  ].filter((p) => p !== undefined);
  const rss = results
    .filter((m) => m.target === 'hangar' && m.peakRssBytes !== undefined)
    .reduce((a, m) => Math.max(a, m.peakRssBytes ?? 0), 0);
  const anon = results
    .filter((m) => m.target === 'hangar' && m.peakAnonBytes !== undefined)
    .reduce((a, m) => Math.max(a, m.peakAnonBytes ?? 0), 0);
  if (rss > 0)
    parts.push(`hangar peak RSS ${fmtNum(rss / MIB)} MiB (anon ${fmtNum(anon / MIB)} MiB)`);
  const invalid = results.filter((m) => m.invalid !== undefined).length;
  if (invalid > 0) parts.push(`${invalid} invalid runs`);
  return `- ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${commit}, ${quick ? 'quick' : 'full'}: ${parts.length === 0 ? 'no hangar figures' : parts.join('; ')}`;
}

const HISTORY_HEADING = '## History';

function previousHistory(file: string): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(`\n${HISTORY_HEADING}\n`);
  if (at < 0) return [];
  return text
    .slice(at + HISTORY_HEADING.length + 2)
    .split('\n')
    .filter((l) => l.startsWith('- '));
}

function sh(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(): string[] {
  const fsStat = statfsSync(tmpdir());
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores (shared, noisy machine: compare ratios, not absolute figures)`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${release()}`,
    `- disk free under ${tmpdir()}: ${((fsStat.bavail * fsStat.bsize) / 2 ** 30).toFixed(1)} GiB (${sh('findmnt', ['-no', 'FSTYPE', '-T', tmpdir()])})`,
  ];
}

async function runRawFs(quick: boolean): Promise<RawFsFigure[]> {
  const child = spawn(
    process.execPath,
    [join(DIST, 'bench/reference/raw-fs.js'), ...(quick ? ['--quick'] : [])],
    {
      env: { ...process.env, UV_THREADPOOL_SIZE: '64' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`raw-fs exited ${code}`);
  return JSON.parse(out) as RawFsFigure[];
}

function fsTable(figures: RawFsFigure[]): string {
  return [
    '| task | figure | p50 | p99 | ops |',
    '|---|---:|---:|---:|---:|',
    ...figures.map(
      (f) =>
        `| ${f.name} | ${fmtNum(f.value)} ${f.unit} | ${fmtUs(f.p50Us)} | ${fmtUs(f.p99Us)} | ${f.ops.toLocaleString('en-US')} |`,
    ),
  ].join('\n');
}

// ---- main ----

async function main(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv);
  const wrkVersion = ensureWrk();
  const workloads = WORKLOADS.filter((w) => opts.only === undefined || opts.only.includes(w.id));
  const targets: TargetName[] = [];
  const skippedTargets: string[] = [];
  for (const t of opts.targets) {
    const why = unavailable(t);
    if (why === undefined) targets.push(t);
    else skippedTargets.push(`${t}: ${why}`);
  }
  if (!existsSync(join(DIST, 'tools/hangar.js'))) throw new Error('build first: npx tsc -b');
  const started = new Date();
  const tmp = await mkdtemp(join(tmpdir(), 'hangar-bench-urls-'));
  const results: Measurement[] = [];
  const presigned = new Map<string, string>();
  let fsFigures: RawFsFigure[] | undefined;
  let selectFigures: SelectFigures | undefined;
  try {
    log(
      `${opts.quick ? 'quick' : 'full'} run: ${workloads.map((w) => w.id).join(' ')} on ${targets.join(' ')}`,
    );
    if (opts.fs) {
      log('raw fs reference');
      fsFigures = await runRawFs(opts.quick);
    }
    for (const w of workloads) {
      log(`${w.title}`);
      for (const t of targets) {
        const m = await measure(w, t, opts, tmp, presigned, results);
        results.push(m);
        const figure =
          m.wrk === undefined
            ? (m.skipped ?? m.invalid ?? '?')
            : `${fmtNum(throughput(w, m.wrk))} ${w.unit}, p99 ${fmtUs(m.wrk.latency_us.p99)}, CPU ${m.cpuS?.toFixed(2)} s`;
        log(`  ${t}: ${figure}${m.invalid === undefined ? '' : `  INVALID: ${m.invalid}`}`);
      }
    }
    if (
      targets.includes('hangar') &&
      (opts.only === undefined || opts.only.includes(SELECT_CASE))
    ) {
      log('Select throughput (hangar)');
      selectFigures = await runSelectCase(opts.quick);
      log(
        `  hangar: GetObject ${fmtNum(selectFigures.getMiBs)} MiB/s, Select ${fmtNum(selectFigures.selectMiBs, 1)} MiB/s${selectFigures.invalid === undefined ? '' : `  INVALID: ${selectFigures.invalid}`}`,
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await stopBenchTopology();
  }

  let microTable: string | undefined;
  if (opts.micro) {
    log('micro-benchmarks');
    microTable = formatTable(await runMicro({ quick: opts.quick }));
  }

  const commit = `${sh('git', ['rev-parse', '--short', 'HEAD'])}${sh('git', ['status', '--porcelain']) === '' ? '' : '+dirty'}`;
  const v = versions();
  const history = [...previousHistory(opts.out), historyLine(results, opts.quick, commit)];
  const invalid = results.filter((m) => m.invalid !== undefined);
  const doc = [
    '# hangar load benchmark',
    '',
    'Written by `bench/run.ts` (`npm run bench`, `npm run bench:quick`). The History section at the end is kept across runs; everything else is replaced.',
    '',
    `- command: \`${opts.command}\``,
    `- date: ${started.toISOString()} (took ${Math.round((Date.now() - started.getTime()) / 1000)} s), mode: ${opts.quick ? 'quick (3 s per run, 8 s for 64 MiB)' : 'full (10 s per run, 20 s for 64 MiB)'}`,
    ...machine(),
    `- versions: node ${process.version}, hangar ${commit}, wrk ${wrkVersion}, s3rver ${v['s3rver']}, moto ${v['moto']}, uWebSockets.js ${v['uWebSockets.js']}`,
    '',
    '## How',
    '',
    '- Load: `wrk` with `bench/load/requests.lua`, cycling through presigned path-style URLs (1 h expiry, generated with `@aws-sdk/s3-request-presigner`); 2 wrk threads unless said otherwise. Every response status is counted; any non-2xx, socket error or timeout makes the run INVALID.',
    '- Every target is started fresh for every workload on a free loopback port with its own temp dir, preloaded (PUTs over presigned URLs, 64 at a time, node:http), measured, and stopped. A preload has a time limit (60 s quick, 120 s full; 600 s for the cluster targets); a target that misses it is reported "not measured". Within a workload the targets run in turn, so drift of the shared machine hits all of them.',
    '- Targets:',
    ...targets.map((t) => `  - ${t}: ${TARGETS[t].describe}`),
    ...skippedTargets.map((s) => `  - not run: ${s}`),
    '- Server CPU s: utime+stime of the server process (and its children) over the run, from /proc/PID/stat. Peak RSS: VmRSS of the same, sampled every 50 ms during the run; peak anon: its RssAnon (VmRSS less the file pages mapped into the process, for hangar mostly the memory-mapped LMDB data files, which grow with the data set and are reclaimable page cache). The load generator shares the 2 cores with the server: the raw row is the ceiling the generator allows.',
    '- × raw / × best peer: the throughput as a ratio to the raw limit and to the fastest peer (ceph-rgw, s3rver, moto) in the same run. CPU µs/op (s/GiB): server CPU per operation (per GiB moved). load: the 1-minute load average at the end of the run; well above 2, other work shared the 2 cores and every figure of that run is low.',
    '- ops/s = completed requests / run time; 64 MiB PUT MiB/s likewise (a short run loses the requests still in flight); 64 MiB GET MiB/s = bytes received / run time.',
    '',
    '## Summary',
    '',
    summaryTable(results, workloads, targets),
    '',
    'n/m: not measured (preload timed out); INVALID: errors or non-2xx responses (see the workload table).',
    '',
    ...(targets.includes('hangar')
      ? [
          '## Goals of issue 13',
          '',
          'Ratios from this run; "before" is the quick run of d79c126 (the last before the issue\'s work).',
          '',
          goalsTable(goalInputs(results, fsFigures)),
          '',
        ]
      : []),
    ...(invalid.length > 0
      ? [
          '## INVALID runs',
          '',
          ...invalid.map((m) => `- ${m.workload} on ${m.target}: ${m.invalid}`),
          '',
        ]
      : []),
    '## Workloads',
    '',
    ...workloads.flatMap((w) => [workloadTable(w, results, targets), '']),
    ...(selectFigures === undefined ? [] : selectSection(selectFigures)),
    ...(fsFigures === undefined
      ? []
      : [
          '## Raw file system reference',
          '',
          `\`bench/reference/raw-fs.ts\` in its own process (UV_THREADPOOL_SIZE=64), files under ${tmpdir()}; reads come from the page cache.`,
          '',
          fsTable(fsFigures),
          '',
        ]),
    ...(microTable === undefined
      ? []
      : [
          '## Micro-benchmarks',
          '',
          '`bench/micro/run.ts` (× ref: mean time over the reference task of its group).',
          '',
          microTable,
          '',
        ]),
    HISTORY_HEADING,
    '',
    ...history,
    '',
  ].join('\n');
  await writeFile(opts.out, doc);
  log(`wrote ${opts.out}`);
  process.stdout.write(`\n${summaryTable(results, workloads, targets)}\n\n`);
  if (selectFigures?.invalid !== undefined) {
    process.stderr.write(`\nINVALID BENCHMARK: Select throughput: ${selectFigures.invalid}\n`);
    process.exitCode = 1;
  }
  if (invalid.length > 0) {
    // hangar's or the raw reference's errors make the benchmark itself invalid (a 403 means the
    // setup is wrong); a peer's errors are its own failure, reported but not fatal.
    const fatal = invalid.filter((m) => TARGETS[m.target].role !== 'peer');
    process.stderr.write(
      `\n${fatal.length > 0 ? 'INVALID BENCHMARK' : 'WARNING: peers failed'}: ${invalid.length} run(s) saw errors or non-2xx responses:\n${invalid.map((m) => `  ${m.workload} on ${m.target}: ${m.invalid}`).join('\n')}\n`,
    );
    if (fatal.length > 0) process.exitCode = 1;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
