/**
 * Starting a benchmark target's server process and waiting until it serves: what every target of
 * targets.ts and cluster-targets.ts shares (no target-specific knowledge here).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetSpec } from './targets.js';

const DIST = fileURLToPath(new URL('../../', import.meta.url));

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RunningTarget {
  spec: TargetSpec;
  endpoint: string;
  port: number;
  /** The server's processes (CPU and memory are summed over them and their children). */
  pids(): number[];
  /** stdout and stderr so far (the tail of it). */
  log(): string;
  /** Whether the process has exited (a crash, when we did not stop it). */
  exited(): string | undefined;
  stop(): Promise<void>;
}

export const HANGAR_CREDENTIALS: Credentials = {
  accessKeyId: 'HKBENCHROOTKEY01',
  secretAccessKey: 'bench-root-secret-key-0123456789abcdef',
};

/** A free loopback port: the tests' helper (bound, read, released). */
export { freePort } from '../../test/helpers/daemon.js';

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const LOG_KEEP = 64 * 1024;

/** How long a server may take to serve once spawned (a cluster gateway gets longer). */
const READY_TIMEOUT_MS = 30_000;

export async function startProcess(
  spec: TargetSpec,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  dataDir: string | undefined,
  ready: RegExp | undefined,
  readyTimeoutMs = READY_TIMEOUT_MS,
): Promise<RunningTarget> {
  const child: ChildProcess = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (chunk: Buffer): void => {
    log += chunk.toString();
    if (log.length > LOG_KEEP * 2) log = log.slice(-LOG_KEEP);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitedWith: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedWith = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    });
  });
  const cleanup = (): void => {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitedWith !== undefined) {
      cleanup();
      throw new Error(`${spec.name} exited (${exitedWith}) before serving:\n${log}`);
    }
    if (ready !== undefined ? ready.test(log) : await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`${spec.name} did not start within ${readyTimeoutMs / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    spec,
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pids: () => [child.pid ?? 0],
    log: () => log,
    exited: () => exitedWith,
    stop: async () => {
      if (exitedWith === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exitedPromise;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}

/**
 * Experiments, not options of run.ts (a run with them measures something else):
 * - HANGAR_BENCH_PROFILE_DIR=DIR: hangar targets run under V8's CPU profiler, one .cpuprofile
 *   per thread (main, edges, shards) written to DIR when the target stops (profile-summary.ts);
 *   the profiler's own cost makes every figure of such a run meaningless.
 * - HANGAR_BENCH_NODE_ARGS="--flag ...": node options for hangar targets (GC and V8 settings).
 */
function experimentArgs(): string[] {
  const dir = process.env.HANGAR_BENCH_PROFILE_DIR;
  const extra = (process.env.HANGAR_BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  return [
    ...extra,
    ...(dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]),
  ];
}

/** `hangar server` on `port` with its data in `dataDir`, as every hangar target runs it. */
export function hangarServerArgs(dataDir: string, port: number): string[] {
  return [
    ...experimentArgs(),
    join(DIST, 'tools/hangar.js'),
    'server',
    '--data-dir',
    dataDir,
    '--s3-port',
    String(port),
    // The other ports are not measured: any free one, so concurrent runs never clash.
    '--web-port',
    '0',
    '--admin-port',
    '0',
    '--log-level',
    'warn',
  ];
}

export function hangarEnv(spec: TargetSpec): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HANGAR_ROOT_ACCESS_KEY: spec.credentials.accessKeyId,
    HANGAR_ROOT_SECRET_KEY: spec.credentials.secretAccessKey,
  };
}

/** The banner line hangar prints once it serves. */
export const HANGAR_READY = /serving S3 at/;
