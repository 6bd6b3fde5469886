import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const BIN = '/usr/lib/postgresql/15/bin';
/** How long a fresh server may take to accept connections on a loaded machine. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * One throwaway PostgreSQL 15: initdb into a temp dir as the `postgres` user (PostgreSQL refuses
 * root), started on 127.0.0.1:`port`, trust auth. `stop()` ends its process group and removes
 * the dir; a process exit (a failing test) ends it too.
 */
export class TestPostgres {
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {
    process.once('exit', this.killNow);
  }

  static async start(port: number): Promise<TestPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'hangar-pg-'));
    chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    const data = join(dir, 'data');
    asPostgres(`${BIN}/initdb`, [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    const child = spawn(
      'runuser',
      [
        '-u',
        'postgres',
        '--',
        `${BIN}/postgres`,
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'max_connections=50',
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const server = new TestPostgres(child, dir, port);
    try {
      await server.waitReady(() => log);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get connection(): pg.PoolConfig {
    return { host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres', max: 4 };
  }

  /** Runs one SQL statement on a connection of its own. */
  async sql(text: string): Promise<pg.QueryResult> {
    const client = new pg.Client(this.connection);
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.killNow);
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.exitCode === null && this.child.signalCode === null) {
      signalGroup(this.child, 'SIGINT'); // fast shutdown: aborts clients, no waiting on them
      const done = await Promise.race([
        exited.then(() => true),
        sleep(STOP_TIMEOUT_MS).then(() => false),
      ]);
      if (!done) signalGroup(this.child, 'SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private readonly killNow = (): void => {
    signalGroup(this.child, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  };

  private async waitReady(log: () => string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`postgres exited: ${log()}`);
      try {
        await this.sql('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`postgres did not start: ${String(error)} ${log()}`);
        await sleep(100);
      }
    }
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function asPostgres(program: string, args: string[]): void {
  execFileSync('runuser', ['-u', 'postgres', '--', program, ...args], { stdio: 'pipe' });
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
