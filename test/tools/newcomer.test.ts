import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';

/**
 * Issue 12's steps 1–3 as a newcomer takes them, from a clean clone: `npm start` in one terminal
 * (a real pseudo-terminal, through util-linux `script`), then the README's CLI commands with
 * `npx hangar` in a second one, with no admin token configured anywhere, then the new key with a
 * real S3 client.
 */

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const STARTED_MS_MAX = 60_000;

/** The working tree as a clone would have it: tracked files and new ones not ignored, as edited. */
function cloneWorkingTree(into: string): void {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: REPO,
    },
  )
    .toString()
    .split('\0')
    .filter((path) => path !== '' && path !== 'node_modules');
  for (const path of listed) {
    const from = join(REPO, path);
    // A tracked file deleted in the working tree is not in a clone of that tree either.
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(into, path)), { recursive: true });
    copyFileSync(from, join(into, path));
  }
  // `npm ci` would install exactly these packages but takes minutes: the clone borrows them.
  symlinkSync(realpathSync(join(REPO, 'node_modules')), join(into, 'node_modules'));
}

/** This process's environment without any hangar setting: a newcomer has none. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('HANGAR_') && !name.startsWith('AWS_')) env[name] = value;
  }
  return env;
}

/** The ```sh block of the README that follows `marker`, one command a line (comments kept). */
function readmeCommands(readme: string, marker: string): string[] {
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README: no "${marker}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (block === null) throw new Error(`README: no sh block after "${marker}"`);
  return (block[1] ?? '').split('\n').filter((line) => line.trim() !== '');
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Resolves with the terminal's text once `pattern` appears in it. */
function waitFor(terminal: ChildProcess, seen: () => string, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pattern.test(seen())) {
        clearTimeout(timer);
        terminal.stdout?.off('data', check);
        resolve(seen());
      }
    };
    const timer = setTimeout(
      () => reject(new Error(`npm start printed no banner in time:\n${seen()}`)),
      STARTED_MS_MAX,
    );
    terminal.stdout?.on('data', check);
    terminal.once('close', () => reject(new Error(`npm start ended:\n${seen()}`)));
    check();
  });
}

test('a newcomer: npm start, then npx hangar in a second terminal, then a client', async (t) => {
  t.timeout(150_000);
  const clone = mkdtempSync(join(tmpdir(), 'hangar-newcomer-'));
  let terminal: ChildProcess | null = null;
  try {
    cloneWorkingTree(clone);
    const env = newcomerEnv();
    const build = await run('npm run build', clone, env);
    t.is(build.code, 0, build.output);

    // Terminal 1. Free ports rather than 3900..3903, which another server may hold; the data
    // directory is the default one, ./data in the clone.
    let screen = '';
    terminal = spawn('script', ['-qfec', 'npm start', '/dev/null'], {
      cwd: clone,
      env: { ...env, HANGAR_S3_PORT: '0', HANGAR_WEB_PORT: '0', HANGAR_ADMIN_PORT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    terminal.stdout?.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
    });
    terminal.stderr?.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
    });
    const banner = await waitFor(
      terminal,
      () => screen,
      /hangar is serving the admin API at [^\n]*\n/,
    );
    t.true(existsSync(join(clone, 'data', 'admin.token')), 'the default data dir is ./data');

    // Terminal 2: the README's commands, verbatim.
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    const quickStart = readmeCommands(readme, 'In a second terminal');
    t.deepEqual(
      quickStart.map((line) => line.replace(/\s+#.*$/, '')),
      [
        'npx hangar key create ci-cache',
        'npx hangar bucket create builds',
        'npx hangar bucket allow --read --write builds --key ci-cache',
      ],
    );
    const outputs: string[] = [];
    for (const command of [...quickStart, ...readmeCommands(readme, '## Keys, buckets and')]) {
      const result = await run(command, clone, env);
      t.is(result.code, 0, `${command}\n${result.output}`);
      outputs.push(result.output);
    }

    // The credentials the first command printed work with a real client.
    const id = /Key ID:\s+(\S+)/.exec(outputs[0] ?? '')?.[1];
    const secret = /Secret key:\s+(\S+)/.exec(outputs[0] ?? '')?.[1];
    const endpoint = /hangar is serving S3 at (\S+)/.exec(banner)?.[1];
    if (id === undefined || secret === undefined || endpoint === undefined) {
      t.fail(`no credentials or endpoint:\n${outputs[0]}\n${banner}`);
      return;
    }
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: id, secretAccessKey: secret },
      maxAttempts: 1,
    });
    await client.send(new PutObjectCommand({ Bucket: 'builds', Key: 'hello.txt', Body: 'hi' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'builds', Key: 'hello.txt' }));
    t.is(await got.Body?.transformToString(), 'hi');
    client.destroy();

    // Step 1: what the terminal shows is for people, not JSON log lines.
    const jsonLines = screen.split(/\r?\n/).filter((line) => line.startsWith('{'));
    t.deepEqual(jsonLines, [], 'the terminal shows JSON log lines');
  } finally {
    if (terminal !== null) await stopTerminal(terminal);
    rmSync(clone, { recursive: true, force: true });
  }
});

/** Ctrl-C in the terminal (the pty turns it into SIGINT for npm and the server), then waits. */
async function stopTerminal(terminal: ChildProcess): Promise<void> {
  if (terminal.exitCode !== null || terminal.signalCode !== null) return;
  const closed = new Promise<void>((resolve) => terminal.once('close', () => resolve()));
  terminal.stdin?.write('\x03');
  const timer = setTimeout(() => terminal.kill('SIGKILL'), 15_000);
  await closed;
  clearTimeout(timer);
}
