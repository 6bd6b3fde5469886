import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  HANGAR_BIN,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  runCli,
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
  needRestart?: string[];
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
    args: ['--config', config, '--log-format', 'pretty'],
  });
  try {
    // Shard threads log at debug when their level changes: their lines are human lines too.
    writeFileSync(config, 'log_level = "debug"\n');
    server.process.kill('SIGHUP');
    await eventually(t, 'the shard lines', () => {
      const shards = server.stdout.match(/DEBUG: log level changed \{"shard":\d/g);
      return shards?.length === 2;
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
      args: ['--config', config],
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
