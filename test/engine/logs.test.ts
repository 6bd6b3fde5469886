import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import {
  HANGAR_BIN,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  runCli,
  s3Failure,
  TestServer,
  useTempDir,
} from '../helpers/server.js';

/**
 * log_format and SIGHUP, through the real process: JSON lines for machines with the banner on
 * stderr, human lines on a terminal with the banner after them, and a SIGHUP that applies a new
 * log level in every thread and names what needs a restart.
 */

const dir = useTempDir(test, 'hangar-logs-');
const BANNER = /hangar is serving S3 at /g;
const PINO_DEBUG = 20;

interface LogLine {
  level: number;
  msg: string;
  pid: number;
  shard?: number;
  edge?: number;
  needRestart?: string[];
  operation?: string;
  requestId?: string;
  ms?: number;
  bytesIn?: number;
  err?: { message: string };
}

function jsonLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

/** Polls `check` until it holds (or fails the test after 10 s). */
async function eventually(t: ExecutionContext, what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) t.fail(`timed out waiting for ${what}`);
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Text as a person sees it: no colours, no carriage returns. */
function plain(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
}

test('JSON mode: stdout carries only JSON lines, the banner is on stderr once', async (t) => {
  const server = await TestServer.start({ logLevel: 'info', args: ['--log-format', 'json'] });
  try {
    await fetch(`${server.adminEndpoint}/health`);
  } finally {
    await server.stop();
  }
  const lines = server.stdout.split('\n').filter((line) => line !== '');
  for (const line of lines) t.notThrows(() => JSON.parse(line), line);
  t.true(jsonLines(server.stdout).some((l) => l.msg === 'hangar admin endpoint ready'));
  t.is(server.stderr.match(BANNER)?.length, 1, server.stderr);
  t.notRegex(server.stdout, /hangar is serving|AWS_SECRET_ACCESS_KEY/);
});

test('the access log: one info line per S3 request, from the edge thread that served it', async (t) => {
  const server = await TestServer.start({ logLevel: 'info', args: ['--edge-threads', '2'] });
  const body = Buffer.alloc(100_000, 7);
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'access' }));
    await s3.send(new PutObjectCommand({ Bucket: 'access', Key: 'k1', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'access', Key: 'k1' }));
    t.is((await got.Body?.transformToByteArray())?.byteLength, body.length);
    const missing = await s3Failure(
      s3.send(new HeadObjectCommand({ Bucket: 'access', Key: 'nope' })),
    );
    t.is(missing.status, 404);
    await eventually(
      t,
      'four access lines',
      () => jsonLines(server.stdout).filter((l) => l.msg === 'request').length === 4,
    );
  } finally {
    await server.stop();
  }
  const requests = jsonLines(server.stdout).filter((l) => l.msg === 'request');
  t.is(requests.length, 4);
  t.true(requests.every((l) => l.edge === 0 || l.edge === 1));
  const get = requests.find((l) => l.operation === 'GetObject');
  t.like(get, { level: 30, bucket: 'access', key: 'k1', status: 200, bytesOut: body.length });
  t.regex(String(get?.requestId), /^[0-9A-F]+$/);
  t.is(typeof get?.ms, 'number');
  t.like(
    requests.find((l) => l.operation === 'HeadObject'),
    { bucket: 'access', key: 'nope', status: 404 },
  );
  const put = requests.find((l) => l.operation === 'PutObject');
  t.true(Number(put?.bytesIn) >= body.length);
});

test('auto on a pipe is JSON', async (t) => {
  const server = await TestServer.start({ logLevel: 'info' });
  await server.stop();
  t.true(jsonLines(server.stdout).length >= 3);
  t.is(server.stderr.match(BANNER)?.length, 1);
});

/** The banner comes once, after the human "ready" lines of all three endpoints. */
function assertHumanOutput(t: ExecutionContext, output: string): void {
  const lines = plain(output).split('\n');
  t.false(
    lines.some((line) => line.startsWith('{')),
    output,
  );
  const ready = lines.findIndex((line) => /INFO.*hangar admin endpoint ready/.test(line));
  const banner = lines.findIndex((line) => line.startsWith('hangar is serving S3 at'));
  t.true(ready >= 0, output);
  t.true(banner > ready, output);
  t.is(output.match(BANNER)?.length, 1);
  t.regex(plain(output), /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hangar S3 endpoint ready /m);
}

test('auto on a terminal: human lines, the banner after them', async (t) => {
  const dataDir = join(dir, 'tty');
  const command = [process.execPath, HANGAR_BIN, 'server', '--data-dir', dataDir]
    .concat(['--s3-port', '0', '--web-port', '0', '--admin-port', '0'])
    .join(' ');
  // script(1) gives the server a terminal for stdout and stderr; its own stdout is our pipe.
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: {
      ...process.env,
      HANGAR_ROOT_ACCESS_KEY: ROOT_ACCESS_KEY,
      HANGAR_ROOT_SECRET_KEY: ROOT_SECRET_KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  try {
    await eventually(t, 'the banner', () => /hangar is serving the admin API/.test(output));
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  assertHumanOutput(t, output);
  t.regex(output, /\u001b\[/, 'a terminal gets colours');
});

test('pretty on a pipe: human lines from every thread, the banner on stdout', async (t) => {
  const config = join(dir, 'pretty.toml');
  writeFileSync(config, 'log_level = "info"\n');
  const server = await TestServer.start({
    logLevel: null,
    shards: 2,
    args: ['--config', config, '--log-format', 'pretty', '--edge-threads', '2'],
  });
  try {
    // An edge thread's access line is a human line too.
    await server.client().send(new ListBucketsCommand({}));
    await eventually(t, "an edge thread's access line", () =>
      /INFO: request \{"edge":\d/.test(server.stdout),
    );
    // Shard and edge threads log at debug when their level changes: human lines too.
    writeFileSync(config, 'log_level = "debug"\n');
    server.process.kill('SIGHUP');
    await eventually(t, 'the shard lines', () => {
      const shards = server.stdout.match(/DEBUG: log level changed \{"shard":\d/g);
      return shards?.length === 2;
    });
    await eventually(t, 'the edge lines', () => {
      const edges = server.stdout.match(/DEBUG: log level changed \{"edge":\d/g);
      return edges?.length === 2;
    });
  } finally {
    await server.stop();
  }
  assertHumanOutput(t, server.stdout);
  t.notRegex(server.stdout, /\u001b\[/, 'no colours into a pipe');
  t.notRegex(server.stderr, /hangar is serving/);
});

test.serial(
  'SIGHUP applies a new log level in every thread and names what needs a restart',
  async (t) => {
    const config = join(dir, 'hangar.toml');
    writeFileSync(config, 'log_level = "warn"\n');
    const server = await TestServer.start({
      logLevel: null,
      shards: 2,
      args: ['--config', config, '--edge-threads', '2'],
      expectedLogErrors: [],
    });
    const logs = (): LogLine[] => jsonLines(server.stdout);
    const adminRequests = (): number =>
      logs().filter((l) => l.level === PINO_DEBUG && l.msg === 'admin request').length;
    try {
      await fetch(`${server.adminEndpoint}/health`);
      t.is(adminRequests(), 0, 'warn: no debug lines yet');

      writeFileSync(config, 'log_level = "debug"\n[s3]\nregion = "eu-west-1"\n');
      server.process.kill('SIGHUP');
      await eventually(t, 'the reload line', () =>
        logs().some((l) => l.msg.startsWith('SIGHUP: configuration reloaded')),
      );
      const reloaded = logs().find((l) => l.msg.startsWith('SIGHUP: configuration reloaded'));
      t.deepEqual(reloaded?.needRestart, ['s3.region']);
      t.regex(reloaded?.msg ?? '', /need a restart: s3\.region/);
      await fetch(`${server.adminEndpoint}/health`);
      await eventually(t, 'a debug line from the main thread', () => adminRequests() === 1);
      await eventually(t, 'a debug line from each shard thread', () => {
        const shards = logs().filter((l) => l.level === PINO_DEBUG && l.shard !== undefined);
        return new Set(shards.map((l) => l.shard)).size === 2;
      });
      await eventually(t, 'a debug line from each edge thread', () => {
        const edges = logs().filter((l) => l.level === PINO_DEBUG && l.edge !== undefined);
        return new Set(edges.map((l) => l.edge)).size === 2;
      });

      writeFileSync(config, 'log_level = "loud"\n');
      server.process.kill('SIGHUP');
      await eventually(t, 'the refused reload', () =>
        logs().some((l) => l.msg.includes('does not load')),
      );
      const refused = logs().find((l) => l.msg.includes('does not load'));
      t.regex(refused?.msg ?? '', /log_level must be one of/);
      const health = await fetch(`${server.adminEndpoint}/health`);
      t.is(health.status, 200, 'still serving');
      await eventually(t, 'the level unchanged (debug)', () => adminRequests() === 2);
    } finally {
      await server.stop();
    }
  },
);

test('an invalid log_format is a usage error that names the setting', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-logs-bad-'));
  try {
    const flag = await runCli(['server', '--data-dir', dataDir, '--log-format', 'fancy']);
    t.is(flag.code, 2, flag.stderr);
    t.regex(flag.stderr, /log_format must be one of auto\|json\|pretty \(got 'fancy'\)/);
    t.is(flag.stdout, '');
    const env = await runCli(['server', '--data-dir', dataDir], { HANGAR_LOG_FORMAT: 'fancy' });
    t.is(env.code, 2, env.stderr);
    t.regex(env.stderr, /HANGAR_LOG_FORMAT/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
