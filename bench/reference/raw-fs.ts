/**
 * The raw disk reference: what the file system under the temp dir gives with no server at all.
 *
 *   node dist/bench/reference/raw-fs.js [--quick] [--dir DIR]      (prints one JSON document)
 *
 * - 4 KiB: create a new file, write 4 KiB, fsync, close; 64 at a time (ops/s). Then read those
 *   files back, 64 at a time (ops/s; from the page cache, as hangar's GETs mostly are).
 * - 64 KiB (c64) and 1 MiB (c16): create a new file, write, fsync, close, unlink (MiB/s).
 * - 64 MiB: write a new 64 MiB file and fsync it, 4 at a time (MiB/s); read them back (MiB/s).
 *
 * The runner starts it as a child with UV_THREADPOOL_SIZE=64, so that 64 concurrent fsyncs are
 * really concurrent (libuv's pool has 4 threads by default; hangar sizes its own to 32).
 */
import { mkdtemp, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RawFsFigure {
  name: string;
  unit: 'ops/s' | 'MiB/s';
  value: number;
  ops: number;
  seconds: number;
  p50Us: number;
  p99Us: number;
}

const SMALL = 4 * 1024;
const LARGE = 64 * 1024 * 1024;
const MIB = 1024 * 1024;

async function timed(
  concurrency: number,
  seconds: number,
  op: (worker: number, i: number) => Promise<void>,
): Promise<{ ops: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      await op(w, next++);
      latencies.push((performance.now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { ops: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

function figure(
  name: string,
  unit: 'ops/s' | 'MiB/s',
  bytes: number,
  r: { ops: number; seconds: number; latencies: number[] },
): RawFsFigure {
  const sorted = r.latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
  const perS = r.ops / r.seconds;
  return {
    name,
    unit,
    value: unit === 'ops/s' ? perS : (perS * bytes) / MIB,
    ops: r.ops,
    seconds: r.seconds,
    p50Us: pct(50),
    p99Us: pct(99),
  };
}

async function writeNew(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.write(data, 0, data.length, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The medium sizes of issue 13 (64 KiB at c64, 1 MiB at c16, as the bench's PUT workloads): new
 * files written and fsynced, removed as they go so that only the disk's bandwidth is measured.
 */
const MEDIUM = [
  { label: '64 KiB', bytes: 64 * 1024, concurrency: 64 },
  { label: '1 MiB', bytes: MIB, concurrency: 16 },
] as const;

async function writeMedium(
  dir: string,
  medium: (typeof MEDIUM)[number],
  seconds: number,
): Promise<RawFsFigure> {
  const data = new Uint8Array(medium.bytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const r = await timed(medium.concurrency, seconds, async (_w, i) => {
    const path = join(dir, `m${medium.bytes}-${i}`);
    await writeNew(path, data);
    await unlink(path);
  });
  return figure(
    `${medium.label} write+fsync (new file), c${medium.concurrency}`,
    'MiB/s',
    medium.bytes,
    r,
  );
}

export async function runRawFs(quick: boolean, base: string): Promise<RawFsFigure[]> {
  const dir = await mkdtemp(join(base, 'hangar-rawfs-'));
  const seconds = quick ? 2 : 5;
  const out: RawFsFigure[] = [];
  try {
    const small = new Uint8Array(SMALL).fill(0x61);
    const w4 = await timed(64, seconds, (_w, i) => writeNew(join(dir, `s${i}`), small));
    out.push(figure('4 KiB write+fsync (new file), c64', 'ops/s', SMALL, w4));
    const written = w4.ops;
    const r4 = await timed(64, seconds, async (_w, i) => {
      await readFile(join(dir, `s${i % written}`));
    });
    out.push(figure('4 KiB read, c64', 'ops/s', SMALL, r4));

    for (const medium of MEDIUM) out.push(await writeMedium(dir, medium, seconds));

    const large = new Uint8Array(LARGE);
    for (let i = 0; i < LARGE; i += 4096) large[i] = i & 0xff;
    const wl = await timed(4, seconds, async (w, i) => {
      const path = join(dir, `l${w}-${i}`);
      await writeNew(path, large);
      // Keep the disk from filling: only the last file of each worker stays.
      await unlink(join(dir, `l${w}-last`)).catch(() => undefined);
      await rename(path, join(dir, `l${w}-last`));
    });
    out.push(figure('64 MiB write+fsync (new file), c4', 'MiB/s', LARGE, wl));
    const buffers = Array.from({ length: 4 }, () => new Uint8Array(LARGE));
    const rl = await timed(4, seconds, async (w) => {
      const fh = await open(join(dir, `l${w}-last`), 'r');
      try {
        let at = 0;
        const buffer = buffers[w]!;
        while (at < LARGE) {
          const { bytesRead } = await fh.read(buffer, at, LARGE - at, at);
          if (bytesRead === 0) break;
          at += bytesRead;
        }
      } finally {
        await fh.close();
      }
    });
    out.push(figure('64 MiB read, c4', 'MiB/s', LARGE, rl));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

const argv = process.argv.slice(2);
if (process.argv[1]?.endsWith('raw-fs.js')) {
  const dirAt = argv.indexOf('--dir');
  const base = dirAt >= 0 ? (argv[dirAt + 1] ?? tmpdir()) : tmpdir();
  runRawFs(argv.includes('--quick'), base).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
