import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ExecutionContext, TestFn } from 'ava';
import { clusterBackendArgs, TEST_GATEWAY_ENV, testBackend } from './cluster-backend.js';

/** The compiled CLI, started exactly as a user starts it. */
export const HANGAR_BIN = fileURLToPath(new URL('../../tools/hangar.js', import.meta.url));

export const ROOT_ACCESS_KEY = 'HKTESTROOTKEY0001';
export const ROOT_SECRET_KEY = 'test-root-secret-key-0123456789abcdef';
export const REGION = 'us-east-1';
/** The admin API token every TestServer gets (unless `adminToken: null`). */
/** How long a test waits for a server's banner: start-up takes ~1 s, far more on a loaded CI. */
const START_TIMEOUT_S = 60;

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface ServerOptions {
  dataDir?: string;
  shards?: number;
  /** Listen address and port (default 127.0.0.1 and a free port). */
  host?: string;
  port?: number;
  env?: Record<string, string>;
  args?: string[];
  /** The admin API's bearer token (default ADMIN_TOKEN); null leaves the admin API disabled. */
  adminToken?: string | null;
  /** 'https' when `args`/`env` configure TLS (the endpoints then name https); default 'http'. */
  scheme?: 'http' | 'https';
  /** --log-level (default warn); null gives none, so a config file's log_level counts. */
  logLevel?: string | null;
  /** A command the server runs under (its program and arguments come after), e.g. strace. */
  wrapper?: string[];
  /**
   * Server log lines this test provokes on purpose (e.g. a shard it kills): lines matching one
   * of these are not counted as failures by the log check (see `logProblems`).
   */
  expectedLogErrors?: RegExp[];
  /**
   * Start exactly as these options say, whatever HANGAR_TEST_BACKEND asks: for servers whose
   * caller configures cluster mode itself (test/helpers/cluster.ts).
   */
  asGiven?: boolean;
}

/**
 * A real hangar server in a child process on a free port, with fixed root credentials. Tests
 * talk to it over HTTP only. `kill()` is SIGKILL (crash tests); `stop()` is a clean SIGTERM.
 */
export class TestServer {
  private constructor(
    readonly process: ChildProcess,
    readonly endpoint: string,
    readonly port: number,
    readonly dataDir: string,
    /** The static website endpoint's port (Host header `<bucket>.web.localhost`). */
    readonly webPort: number,
    /** The admin API's port, and its token (null: admin API disabled). */
    readonly adminPort: number,
    readonly adminToken: string | null,
    private output: string[],
    private readonly streams: { stdout: string[]; stderr: string[] },
    private readonly expectedLogErrors: readonly RegExp[],
    /** Whether stdout carries JSON log lines only (log_format json, or auto on a pipe). */
    private readonly jsonLogs: boolean,
    /** The scheme every port speaks. */
    readonly scheme: 'http' | 'https' = 'http',
  ) {
    // 'close', not 'exit': the log check must see what is still in the pipes at the exit.
    this.closed = new Promise((resolve) =>
      process.once('close', (code, signal) => {
        if (!this.stopRequested)
          this.unexpectedExit = `hangar exited by itself (code ${code}, signal ${signal})`;
        resolve();
      }),
    );
  }

  /** Set by stop() and kill(): an exit before either is a crash the log check reports. */
  private stopRequested = false;
  private unexpectedExit: string | null = null;

  /** Settles once the child has exited and its output pipes are drained. */
  private readonly closed: Promise<void>;

  static async start(options: ServerOptions = {}): Promise<TestServer> {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'hangar-test-'));
    const host = options.host ?? '127.0.0.1';
    const adminToken = options.adminToken === undefined ? ADMIN_TOKEN : options.adminToken;
    // Port 0 everywhere: the server binds a free port itself and says which in its banner, so no
    // other process can take the port between a probe and the bind.
    const args = [
      HANGAR_BIN,
      'server',
      '--data-dir',
      dataDir,
      '--s3-host',
      host,
      '--s3-port',
      String(options.port ?? 0),
      '--web-port',
      '0',
      '--admin-port',
      '0',
    ];
    const logLevel = options.logLevel === undefined ? 'warn' : options.logLevel;
    if (logLevel !== null) args.push('--log-level', logLevel);
    if (options.shards !== undefined) args.push('--shards', String(options.shards));
    args.push(...(options.args ?? []));
    // "One suite, two backends": under HANGAR_TEST_BACKEND=cluster the same test drives a gateway
    // of a fresh cluster on the running local topology (test/helpers/cluster-backend.ts).
    const asGateway = options.asGiven !== true && testBackend() === 'cluster';
    if (asGateway) args.push(...(await clusterBackendArgs(dataDir, options.args ?? [])));
    const [program, ...wrapperArgs] = [...(options.wrapper ?? []), process.execPath];
    const child = spawn(program ?? process.execPath, [...wrapperArgs, ...args], {
      env: {
        ...process.env,
        HANGAR_ROOT_ACCESS_KEY: ROOT_ACCESS_KEY,
        HANGAR_ROOT_SECRET_KEY: ROOT_SECRET_KEY,
        HANGAR_S3_ROOT_DOMAINS: 's3.localhost',
        HANGAR_WEB_ROOT_DOMAINS: 'web.localhost',
        // Every metadata read the shards make is checked to be where a cluster store could
        // fetch it (engine/meta/kv-strict.ts): the embedded suite guards cluster mode's seam.
        HANGAR_KV_STRICT: '1',
        ...(adminToken === null ? {} : { HANGAR_ADMIN_TOKEN: adminToken }),
        ...(asGateway ? TEST_GATEWAY_ENV : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const scheme = options.scheme ?? 'http';
    const streams = { stdout: [] as string[], stderr: [] as string[] };
    const jsonLogs = logFormatOf(options) !== 'pretty';
    // The banner comes after the listeners are up: on stderr beside JSON logs, else on stdout.
    const bannerStream = jsonLogs ? streams.stderr : streams.stdout;
    // The start-up deadline is cleared once the server serves (or fails): left armed, it would
    // SIGKILL every server still running 60 s after its start, in the middle of its file's tests.
    let startTimer: NodeJS.Timeout | undefined;
    const ports = await new Promise<BannerPorts>((resolve, reject) => {
      const collect = (into: string[]) => (chunk: Buffer) => {
        output.push(chunk.toString());
        into.push(chunk.toString());
        const banner = bannerPorts(bannerStream.join(''));
        if (banner !== null) resolve(banner);
      };
      child.stdout?.on('data', collect(streams.stdout));
      child.stderr?.on('data', collect(streams.stderr));
      // 'close', not 'exit': the failure message may still be in the pipes when the child exits.
      child.once('close', (code) =>
        reject(new Error(`hangar exited (${code}) before serving:\n${output.join('')}`)),
      );
      // A server that never serves is killed: left running, it would hold the test worker
      // (and so the whole suite) open after the test has failed.
      startTimer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`hangar did not start in ${START_TIMEOUT_S} s:\n${output.join('')}`));
      }, START_TIMEOUT_S * 1000).unref();
    }).finally(() => clearTimeout(startTimer));
    return new TestServer(
      child,
      `${scheme}://${host}:${ports.s3}`,
      ports.s3,
      dataDir,
      ports.web,
      ports.admin,
      adminToken,
      output,
      streams,
      options.expectedLogErrors ?? [],
      jsonLogs,
      scheme,
    );
  }

  /** The admin API's base URL. */
  get adminEndpoint(): string {
    return `${this.scheme}://127.0.0.1:${this.adminPort}`;
  }

  get log(): string {
    return this.output.join('');
  }

  /** What the server wrote to stdout, and to stderr, so far. */
  get stdout(): string {
    return this.streams.stdout.join('');
  }

  get stderr(): string {
    return this.streams.stderr.join('');
  }

  /** An SDK client with the root key (or the given credentials), path-style unless asked. */
  client(
    credentials = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY },
    extra: Partial<S3ClientConfig> = {},
  ): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials,
      maxAttempts: 1,
      ...extra,
    });
  }

  /** A virtual-hosted-style client: `<bucket>.s3.localhost`, resolved to this server. */
  vhostClient(
    credentials = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY },
  ): S3Client {
    const agent = new Agent({
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all)
          (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
            { address: '127.0.0.1', family: 4 },
          ]);
        else (callback as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
      },
    });
    return new S3Client({
      endpoint: `http://s3.localhost:${this.port}`,
      region: REGION,
      forcePathStyle: false,
      credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
  }

  /**
   * Runs the CLI against this server's data directory, with the admin token in its environment:
   * while the server runs, key and bucket commands go through its admin API.
   */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return runCli(
      ['--data-dir', this.dataDir, ...args],
      this.adminToken === null ? {} : { HANGAR_ADMIN_TOKEN: this.adminToken },
    );
  }

  /** Whether the child has exited, by a code or by a signal (then exitCode stays null). */
  private get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /**
   * What the server logged that no test may pass with: at level warn and above (pino JSON on
   * stdout) an assertion failure, an uncaught exception or unhandled rejection, or a dead shard
   * actor; and on stderr (where Node writes what escapes every handler) the same, or the banner
   * of a crash; with JSON logs, a stdout line that is not JSON (human text belongs on stderr);
   * and an exit that neither stop() nor kill() asked for. Lines matching the `expectedLogErrors`
   * option are left out. (The start-up banner on stderr is none of these.)
   */
  logProblems(): string[] {
    const stdout = this.streams.stdout.join('');
    const stdoutProblems = stdout
      .split('\n')
      .filter((line) => FORBIDDEN_LOG.test(line) && (pinoLevel(line) ?? PINO_WARN) >= PINO_WARN);
    const notJson = this.jsonLogs ? nonJsonLines(stdout) : [];
    const stderr = this.streams.stderr.join('');
    const stderrProblems = stderr.split('\n').filter((line) => FORBIDDEN_LOG.test(line));
    // A crash: what escaped every handler is in the lines before Node's banner.
    const crash = NODE_CRASH.test(stderr) ? [stderr.slice(-4000)] : [];
    const exit = this.unexpectedExit === null ? [] : [this.unexpectedExit];
    return [...stdoutProblems, ...notJson, ...stderrProblems, ...crash, ...exit].filter(
      (line) => !this.expectedLogErrors.some((pattern) => pattern.test(line)),
    );
  }

  /** Throws (failing the test or hook that stopped the server) when `logProblems` finds any. */
  private assertCleanLog(): void {
    if (this.logChecked) return;
    this.logChecked = true;
    const problems = this.logProblems();
    if (problems.length > 0) {
      throw new Error(
        `the hangar server logged ${problems.length} failure line(s) no test expected (a test that provokes one on purpose passes expectedLogErrors):\n` +
          problems.map((line) => line.slice(0, 4000)).join('\n'),
      );
    }
  }

  private logChecked = false;

  /** Clean SIGTERM; then fails if the server logged an assertion failure or an uncaught error. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (!this.exited) {
      this.process.kill('SIGTERM');
      // A clean stop that hangs is a bug the test should see, not a hung suite.
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 15_000);
      await this.closed;
      clearTimeout(timer);
    }
    this.assertCleanLog();
  }

  /**
   * Sends `signal` as a service manager would (a stop the test asked for). Returns at once; the
   * promise settles with how the process ended, its pipes drained. `stop()` then runs the log check.
   */
  sendSignal(
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.stopRequested = true;
    this.process.kill(signal);
    return this.closed.then(() => ({
      code: this.process.exitCode,
      signal: this.process.signalCode,
    }));
  }

  /** SIGKILL (crash tests); then the same log check as `stop`. */
  async kill(): Promise<void> {
    this.stopRequested = true;
    if (!this.exited) this.process.kill('SIGKILL');
    await this.closed;
    this.assertCleanLog();
  }

  async destroy(): Promise<void> {
    try {
      await this.kill();
    } finally {
      try {
        // A cluster-mode test server's blocks, schemas and keys live in the shared engines.
        // Imported here: the etcd client takes a second to load, which embedded runs never pay.
        if (testBackend() === 'cluster') {
          await (await import('./cluster-engines.js')).dropTestCluster(this.dataDir);
        }
      } finally {
        rmSync(this.dataDir, { recursive: true, force: true });
      }
    }
  }
}

/** pino's level number for warn; error is 50 and fatal 60. */
const PINO_WARN = 40;
/** What a server log line must never say (unless a test declares it expected). */
const FORBIDDEN_LOG =
  /AssertionError|ERR_ASSERTION|uncaught|unhandled ?(promise )?rejection|shard actor died/i;
/** What Node prints when an error escapes every handler and the process dies of it. */
const NODE_CRASH = /^Node\.js v\d+\.\d+\.\d+$/m;

/** The level of a pino JSON log line, or null for a line that is not one. */
function pinoLevel(line: string): number | null {
  if (!line.startsWith('{')) return null;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' ? level : null;
  } catch {
    return null;
  }
}

/** The log format `options` give the server ('auto' when they name none). */
function logFormatOf(options: ServerOptions): string {
  const args = options.args ?? [];
  const flag = args.indexOf('--log-format');
  return (flag >= 0 ? args[flag + 1] : options.env?.['HANGAR_LOG_FORMAT']) ?? 'auto';
}

/** The complete stdout lines that are not JSON objects (a last line a kill cut short is not one). */
function nonJsonLines(stdout: string): string[] {
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line !== '' && pinoLevel(line) === null)
    .map((line) => `not a JSON log line on stdout: ${line}`);
}

interface BannerPorts {
  s3: number;
  web: number;
  admin: number;
}

/** The ports the server's start-up banner (tools/hangar.ts printBanner) names, once all are out. */
function bannerPorts(text: string): BannerPorts | null {
  const s3 = /hangar is serving S3 at https?:\/\/\S+:(\d+) /.exec(text);
  const web = /hangar is serving websites at https?:\/\/\S+:(\d+) /.exec(text);
  const admin = /hangar is serving the admin API at https?:\/\/\S+:(\d+)/.exec(text);
  if (s3 === null || web === null || admin === null) return null;
  return { s3: Number(s3[1]), web: Number(web[1]), admin: Number(admin[1]) };
}

/** Runs the CLI with `args`; `env` is added to this process's environment. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HANGAR_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // 'close', not 'exit': the output streams may still hold unread bytes when the child exits.
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function randomBytesSeeded(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Expects `promise` to reject with an S3 service error; returns it for assertions. */
export async function s3Failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number; message: string; raw: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return {
      name: e.name,
      status: e.$metadata?.httpStatusCode ?? 0,
      message: e.message,
      raw: error,
    };
  }
  throw new Error('expected the S3 request to fail, but it succeeded');
}

/**
 * Asserts that nothing is stored at `key`: a HEAD answers 404 NotFound, exactly (another failure,
 * an access error or a 500, says nothing about what was stored).
 */
export async function assertNoObject(
  t: ExecutionContext,
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<void> {
  const failure = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  t.is(failure.status, 404, `${bucket}/${key}: HEAD answered ${failure.status} ${failure.name}`);
  t.is(failure.name, 'NotFound', `${bucket}/${key}`);
}

/** The whole body of an object, read with `s3`. */
export async function objectBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
}

/** Reads a streamed body until it ends or breaks: the bytes that arrived, and how it ended. */
export async function drainBody(body: Readable): Promise<{ bytes: Buffer; broke: boolean }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return { bytes: Buffer.concat(chunks), broke: false };
  } catch {
    return { bytes: Buffer.concat(chunks), broke: true };
  }
}

export interface ServerSuite {
  /** The file's server; read it only once `test.before` has run (in hooks and tests). */
  readonly server: TestServer;
  /** A root-key, path-style SDK client for it (`server.client()`). */
  readonly s3: S3Client;
}

/**
 * The usual preamble of a test file: starts one TestServer (with `options`) before the file's
 * tests and destroys it after them all, failures included. Hooks the file registers after this
 * call run after the server has started.
 */
export function useServer<Context>(
  test: TestFn<Context>,
  options: ServerOptions = {},
): ServerSuite {
  let server: TestServer | undefined;
  let s3: S3Client | undefined;
  // Serial: ava runs the hooks registered after a serial one only once it has finished.
  test.serial.before(async () => {
    server = await TestServer.start(options);
    s3 = server.client();
  });
  test.after.always(async () => {
    await server?.destroy();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test server is read before test.before ran');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get s3() {
      return started(s3);
    },
  };
}

/** A fresh temporary directory for a test file (made now), removed after all its tests. */
export function useTempDir<Context>(test: TestFn<Context>, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  test.after.always(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

let bucketCounter = 0;
/** Creates a fresh bucket `<prefix>-<pid>-<n>` with `s3`, unique within this test process. */
export async function newBucket(s3: S3Client, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++bucketCounter}`;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}
