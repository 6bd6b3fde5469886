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

  /**
   * A server on `port`: a fresh cluster, or (`standbyOf`) a streaming standby cloned from
   * another test server with pg_basebackup, which answers pg_is_in_recovery() true until
   * promote().
   */
  static async start(port: number, standbyOf?: TestPostgres): Promise<TestPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'hangar-pg-'));
    chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    const data = join(dir, 'data');
    if (standbyOf === undefined) {
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
    } else {
      const from = ['-h', '127.0.0.1', '-p', String(standbyOf.port), '-U', 'postgres'];
      asPostgres(`${BIN}/pg_basebackup`, [...from, '-D', data, '-R', '-X', 'stream', '--no-sync']);
    }
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

  /** A standby becomes a primary (what Patroni does on failover). */
  async promote(): Promise<void> {
    await this.sql('SELECT pg_promote(true, 30)');
  }

  /**
   * Ends the server at once, as the death of its machine would (the directory stays until
   * stop()). Backends call setsid(), so killing the process group leaves them serving the
   * connections they have: every descendant is killed by pid.
   */
  kill(): void {
    const pids = this.child.pid === undefined ? [] : descendantsOf(this.child.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    signalGroup(this.child, 'SIGKILL');
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

function descendantsOf(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    children = []; // pgrep exits 1 when there are none
  }
  return children.flatMap((child) => [child, ...descendantsOf(child)]);
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
