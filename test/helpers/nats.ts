import { spawn } from 'node:child_process';

/** What clients must present to the server: a user and password, or a token. */
export type NatsServerAuth = { user: string; pass: string } | { token: string };

function authArgs(auth: NatsServerAuth | undefined): string[] {
  if (auth === undefined) return [];
  return 'token' in auth ? ['--auth', auth.token] : ['--user', auth.user, '--pass', auth.pass];
}

/**
 * nats-server (Debian's package, installed by .ci/run) on a random port; fails if missing.
 * `auth`: the credentials it requires of every client (none without).
 */
export async function startNats(
  auth?: NatsServerAuth,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', ...authArgs(auth)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${log}`)), 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `nats-server could not run (is the nats-server package installed?): ${error.message}`,
        ),
      );
    });
    const scan = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      const match = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', scan);
    child.stderr.on('data', scan);
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
