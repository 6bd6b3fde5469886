import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One etcd member for the etcd tests (127.0.0.1:12379 client, 12380 peer: helper `etcd`'s ports),
 * its data in a temp dir. The member runs in its own process group; stop() kills that group and
 * removes the dir, and a process exit handler kills it too, so a failing test leaves no daemon.
 */

export const ETCD_CLIENT_PORT = 12379;
export const ETCD_PEER_PORT = 12380;
export const ETCD_ENDPOINT = `127.0.0.1:${ETCD_CLIENT_PORT}`;

const living = new Set<EtcdMember>();
process.on('exit', () => {
  for (const member of living) member.killNow();
});

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class EtcdMember {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'hangar-etcd-'));

  /** 127.0.0.1:clientPort, for clients. */
  readonly endpoint: string;

  private constructor(
    private readonly clientPort: number,
    private readonly peerPort: number,
  ) {
    this.endpoint = `127.0.0.1:${clientPort}`;
  }

  /** A member on its own ports (a test file that runs beside others picks ports of its own). */
  static async start(
    clientPort = ETCD_CLIENT_PORT,
    peerPort = clientPort + 1,
  ): Promise<EtcdMember> {
    if (await portAnswers(clientPort)) {
      throw new Error(`port ${clientPort} is taken: a stale etcd from another run?`);
    }
    const member = new EtcdMember(clientPort, peerPort);
    living.add(member);
    await member.launch();
    return member;
  }

  /** Starts etcd on the member's data dir (again, after kill()) and waits for its client port. */
  async launch(): Promise<void> {
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn(
      'etcd',
      [
        '--name=hangar-test',
        `--data-dir=${join(this.dir, 'data')}`,
        `--listen-client-urls=http://${this.endpoint}`,
        `--advertise-client-urls=http://${this.endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=hangar-test=${peer}`,
        '--heartbeat-interval=50',
        '--election-timeout=500',
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    const deadline = Date.now() + 20_000;
    while (!(await portAnswers(this.clientPort))) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`etcd did not start:\n${this.log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'etcd.log'), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      process.kill(-pid, signal);
    }
  }

  /** Freezes etcd: its sockets stay open but nothing answers (a partition, from the client). */
  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** kill -9, keeping the data dir for launch(). */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.killNow();
    await exited;
  }

  killNow(): void {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.kill();
    living.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
