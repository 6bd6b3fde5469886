import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A long-running third-party program (a registry, a cache server) the tool tests put in front of
 * hangar: started with exactly `env` plus PATH, considered up once `ready` matches its combined
 * output, stopped with SIGTERM (SIGKILL after 5 s).
 */
export class Daemon {
  private constructor(
    readonly process: ChildProcess,
    private readonly output: string[],
  ) {}

  static async start(
    file: string,
    args: string[],
    env: Record<string, string>,
    ready: RegExp,
    timeoutMs = 30_000,
  ): Promise<Daemon> {
    const child = spawn(file, args, {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    let up = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${file} was not ready in ${timeoutMs} ms:\n${output.join('')}`));
      }, timeoutMs);
      const onData = (chunk: Buffer): void => {
        output.push(chunk.toString());
        if (!up && ready.test(output.join(''))) {
          up = true;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${file} exited (${code ?? signal}) before ready:\n${output.join('')}`));
      });
    });
    return new Daemon(child, output);
  }

  get log(): string {
    return this.output.join('');
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
