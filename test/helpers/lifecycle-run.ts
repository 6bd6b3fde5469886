import { onNode } from './admin.js';
import { eventually } from './fsck.js';
import type { TestServer } from './server.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

interface WorkerLook {
  busy: boolean;
  /** The ISO time of its last completed run ('' before the first). */
  completedAt: string;
  /** The whole "Last completed" line, with the run's counts. */
  line: string;
}

export async function lifecycleWorker(server: TestServer): Promise<WorkerLook> {
  const { node } = await onNode(server, 'POST', 'ListWorkers', {});
  const worker = (node as Array<{ name: string; state: unknown; freeform: string[] }>).find(
    (w) => w.name === 'Lifecycle worker',
  );
  if (worker === undefined) throw new Error('no Lifecycle worker in ListWorkers');
  const line = worker.freeform[0] ?? '';
  const completed = /^Last completed: (\S+)/.exec(line);
  const completedAt = completed?.[1] === 'never' ? '' : (completed?.[1] ?? '');
  return { busy: worker.state === 'busy', completedAt, line };
}

/**
 * Runs every bucket's lifecycle rules once (SIGUSR2, after the start-up run has ended) and waits
 * for that run to complete; returns its "Last completed" line (its counts).
 */
export async function runLifecycle(server: TestServer): Promise<string> {
  return (await timedLifecycleRun(server)).line;
}

/**
 * runLifecycle, also timed: seconds from the signal to the first look that sees the run done
 * (looks every `pollMs`; the benchmark polls closer than tests need).
 */
export async function timedLifecycleRun(
  server: TestServer,
  pollMs = 100,
  timeoutMs = 30_000,
): Promise<{ line: string; seconds: number }> {
  let look = await lifecycleWorker(server);
  const started = await eventually(
    async () => {
      look = await lifecycleWorker(server);
      return !look.busy && look.completedAt !== '';
    },
    20_000,
    pollMs,
  );
  if (!started) throw new Error(`the start-up lifecycle run did not end: ${look.line}`);
  const before = look.completedAt;
  const signalled = performance.now();
  server.process.kill('SIGUSR2');
  const ran = await eventually(
    async () => {
      look = await lifecycleWorker(server);
      return !look.busy && look.completedAt !== before;
    },
    timeoutMs,
    pollMs,
  );
  if (!ran) throw new Error(`the lifecycle run did not complete: ${look.line}`);
  return { line: look.line, seconds: (performance.now() - signalled) / 1000 };
}
