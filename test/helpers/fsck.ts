import type { FsckReport } from '../../engine/fsck.js';
import { runCli } from './server.js';

/** `hangar fsck --json` on a data directory (read-only; exit 1 still prints the report). */
export async function fsckReport(dataDir: string): Promise<FsckReport> {
  const { code, stdout, stderr } = await runCli(['fsck', '--json', '--data-dir', dataDir]);
  if (code !== 0 && stdout === '') throw new Error(`fsck failed: ${stderr}`);
  return JSON.parse(stdout) as FsckReport;
}

/**
 * Polls until `check` holds or `timeoutMs` passes, then checks once more. For effects that
 * follow an answer on purpose (block unlinks run just after the commit they follow).
 */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return check();
}
