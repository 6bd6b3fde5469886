import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { HANGAR_BIN, TestServer, useTempDir } from '../helpers/server.js';

// `hangar doctor` and the same checks at server start, through the real processes: a failed
// check makes doctor exit 1 and the server refuse (exit 2) with the same words; a warning is
// logged and the server starts.

const CHECKS = [
  'node',
  'uws',
  'data-dir',
  'filesystem',
  'free-space',
  'free-inodes',
  'open-files',
  'clock',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hangar <args>`, under `wrapper` (prlimit, faketime) when given. */
function hangar(
  args: string[],
  wrapper: string[] = [],
  env: Record<string, string> = {},
): Promise<Run> {
  const [program, ...rest] = [...wrapper, process.execPath, HANGAR_BIN, ...args];
  return new Promise((resolve) => {
    execFile(
      program as string,
      rest,
      { env: { ...process.env, ...env }, timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const doctor = (dataDir: string, wrapper?: string[], env?: Record<string, string>) =>
  hangar(['doctor', '--data-dir', dataDir], wrapper, env);
const server = (dataDir: string, wrapper?: string[], env?: Record<string, string>) =>
  hangar(
    ['server', '--data-dir', dataDir, '--s3-port', '0', '--web-port', '0', '--admin-port', '0'],
    wrapper,
    env,
  );

/** The doctor's line for the failed check `name`: what it found and what to do. */
function problem(run: Run, name: string): string {
  const line = run.stdout.split('\n').find((l) => l.trimStart().startsWith(`${name} fail: `));
  if (line === undefined) throw new Error(`no '${name} fail' line in:\n${run.stdout}${run.stderr}`);
  return line.trim();
}

/** Doctor fails check `name`; the server, under the same conditions, refuses with its words. */
async function failsAndRefuses(
  t: import('ava').ExecutionContext,
  name: string,
  dataDir: string,
  wrapper?: string[],
  env?: Record<string, string>,
): Promise<string> {
  const checked = await doctor(dataDir, wrapper, env);
  t.is(checked.code, 1, checked.stdout + checked.stderr);
  const words = problem(checked, name);
  const started = await server(dataDir, wrapper, env);
  t.is(started.code, 2, started.stdout + started.stderr);
  t.true(
    started.stderr.includes(`hangar: ${words}\n`),
    `server said:\n${started.stderr}\nnot:\n${words}`,
  );
  t.notRegex(started.stdout, /serving S3/);
  return words;
}

const work = useTempDir(test, 'hangar-doctor-');

test('doctor on a fresh data directory: every check named, exit 0, nothing left behind', async (t) => {
  const dataDir = join(work, 'fresh', 'data');
  const run = await doctor(dataDir);
  t.is(run.code, 0, run.stdout + run.stderr);
  const rows = run.stdout.split('\n');
  t.regex(rows[0] ?? '', /^CHECK\s+STATUS\s+FOUND$/);
  for (const name of CHECKS)
    t.true(
      rows.some((r) => r.startsWith(`${name} `)),
      `no row for ${name}`,
    );
  t.regex(run.stdout, /one fsync took [\d.]+ (µs|ms)/);
  t.false(existsSync(join(work, 'fresh')), 'doctor removes the directories it created');
});

test('doctor --json: ok and one object per check', async (t) => {
  const run = await hangar(['doctor', '--json', '--data-dir', join(work, 'json')]);
  t.is(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as {
    ok: boolean;
    checks: Array<{ name: string; status: string; found: string; fix: string | null }>;
  };
  t.true(report.ok);
  t.deepEqual(
    report.checks.map((c) => c.name),
    CHECKS,
  );
  for (const check of report.checks) {
    t.true(['ok', 'warn', 'fail'].includes(check.status));
    t.true(check.found.length > 0);
    t.is(check.fix === null, check.status === 'ok', check.name);
  }
});

test('a data directory under a regular file: doctor fails, the server refuses with its words', async (t) => {
  const file = join(work, 'a-file');
  writeFileSync(file, 'not a directory');
  const words = await failsAndRefuses(t, 'data-dir', join(file, 'data'));
  t.regex(words, /ENOTDIR/);
  t.regex(words, /choose a data directory/);
});

test('a data directory under /proc: doctor fails, the server refuses', async (t) => {
  const words = await failsAndRefuses(t, 'data-dir', '/proc/hangar-doctor-data');
  t.regex(words, /not usable/);
});

test('an open-file limit below the minimum: doctor fails, the server refuses', async (t) => {
  const dataDir = join(work, 'nofile');
  const words = await failsAndRefuses(t, 'open-files', dataDir, [
    'prlimit',
    '--nofile=100:100',
    '--',
  ]);
  t.regex(words, /open-file limit 100 \(hard 100\), below the minimum of 256/);
  t.regex(words, /ulimit -n/);
  t.regex(words, /LimitNOFILE=/);
});

test('the slow uWS fallback: doctor fails, the server refuses', async (t) => {
  const words = await failsAndRefuses(t, 'uws', join(work, 'uws'), [], { UWS_USE_FALLBACK: '1' });
  t.regex(words, /native uWebSockets\.js binary/);
});

/** libfaketime's wrapper (Debian's faketime, installed by .ci/run); monotonic time left real. */
const FAKETIME = existsSync('/usr/bin/faketime') ? '/usr/bin/faketime' : 'faketime';

test('a clock a day behind what the data directory recorded: doctor fails, the server refuses', async (t) => {
  const dataDir = join(work, 'clock');
  const written = await TestServer.start({ dataDir });
  await written.stop();
  const words = await failsAndRefuses(t, 'clock', dataDir, [FAKETIME, '-f', '-1d'], {
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  t.regex(words, /2[34](\.\d)? h behind the data directory/);
  t.regex(words, /RequestTimeTooSkewed/);
  t.regex(words, /set the clock \/ enable NTP/);
  // The same data directory with the real clock: fine.
  t.is((await doctor(dataDir)).code, 0);
});

const TMPFS_MAGIC = 0x01021994;

test('a data directory on tmpfs: doctor warns (exit 0), the server logs it and starts', async (t) => {
  // Debian mounts /dev/shm as tmpfs; mounting one needs privileges a container may not give.
  t.is(statfsSync('/dev/shm').type >>> 0, TMPFS_MAGIC, '/dev/shm is not tmpfs here');
  const base = mkdtempSync('/dev/shm/hangar-doctor-');
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const dataDir = join(base, 'data');
  const run = await doctor(dataDir);
  t.is(run.code, 0, run.stdout + run.stderr);
  const line = run.stdout.split('\n').find((l) => l.trimStart().startsWith('filesystem warn: '));
  t.truthy(line, run.stdout);
  t.regex(line ?? '', /tmpfs, held in memory: not durable across power loss.*fine for benchmarks/);
  const started = await TestServer.start({ dataDir });
  try {
    t.true(started.log.includes(line?.trim() ?? '-'), started.log);
  } finally {
    await started.stop();
  }
});
