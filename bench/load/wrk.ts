/**
 * Runs `wrk` with bench/load/requests.lua and returns what its done() hook printed. Installs
 * Debian's `wrk` when it is missing and we are root; otherwise stops with a message saying how.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** requests.lua lives in the source tree (tsc does not copy it to dist). */
export const LUA_SCRIPT = fileURLToPath(
  new URL('../../../bench/load/requests.lua', import.meta.url),
);

export interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** Responses per HTTP status (empty when statuses were not counted). */
  statuses: Record<string, number>;
  latency_us: {
    min: number;
    mean: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    p999: number;
  };
}

export function wrkVersion(): string | undefined {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (out.error !== undefined) return undefined;
  const text = `${out.stdout}${out.stderr}`;
  return /wrk (\S+)/.exec(text)?.[1] ?? 'unknown';
}

export function ensureWrk(): string {
  const found = wrkVersion();
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'wrk is not installed and we are not root: install it (`sudo apt-get install -y wrk`) and rerun.',
    );
  }
  process.stderr.write('wrk is missing: apt-get install -y wrk\n');
  try {
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  }
  const installed = wrkVersion();
  if (installed === undefined) throw new Error('apt-get install -y wrk did not install wrk');
  return installed;
}

export interface WrkRun {
  /** Base URL of the target, e.g. http://127.0.0.1:3900 (the request lines hold the paths). */
  url: string;
  requestsFile: string;
  connections: number;
  threads: number;
  durationS: number;
  timeoutS: number;
  /** Host header the presigned URLs were signed for. */
  hostHeader: string;
  bodyBytes: number;
  /** > 0: stamp every block of this size uniquely (defeats dedup). */
  uniqueBlockBytes: number;
  countStatuses: boolean;
}

export async function runWrk(run: WrkRun): Promise<{ result: WrkResult; output: string }> {
  const args = [
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    `--timeout`,
    `${run.timeoutS}s`,
    '-H',
    `Host: ${run.hostHeader}`,
    '-s',
    LUA_SCRIPT,
    run.url,
    '--',
    run.requestsFile,
    String(run.threads),
    String(run.bodyBytes),
    String(run.uniqueBlockBytes),
  ];
  const child = spawn('wrk', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRK_COUNT_STATUSES: run.countStatuses ? '1' : '0' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // wrk stops by itself after -d; a hung wrk (never seen) is killed well after that.
  const killer = setTimeout(
    () => child.kill('SIGKILL'),
    (run.durationS + run.timeoutS + 30) * 1000,
  );
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  const line = output.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk failed (exit ${code}): wrk ${args.join(' ')}\n${output}`);
  }
  return { result: JSON.parse(line.slice('WRKJSON '.length)) as WrkResult, output };
}
