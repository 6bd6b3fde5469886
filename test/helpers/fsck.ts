import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FsckReport } from '../../engine/fsck.js';
import { GATEWAY_CONFIG_FILE } from './cluster-backend.js';
import { runCli } from './server.js';

/**
 * `hangar fsck --json` on a test server's data directory (read-only; exit 1 still prints the
 * report). A cluster-mode test server keeps its gateway config there (GATEWAY_CONFIG_FILE): its
 * whole cluster is checked then, PostgreSQL and RADOS, with the same report.
 */
export async function fsckReport(dataDir: string): Promise<FsckReport> {
  const clusterConfig = join(dataDir, GATEWAY_CONFIG_FILE);
  return existsSync(clusterConfig)
    ? fsckJson(['--config', clusterConfig])
    : fsckJson(['--data-dir', dataDir]);
}

/** `hangar fsck --json ARGS`: its report, and its exit code (1: loss found, or a leak asked). */
export async function fsckRun(
  args: readonly string[],
): Promise<{ code: number; report: FsckReport }> {
  const { code, stdout, stderr } = await runCli(['fsck', '--json', ...args]);
  if (code !== 0 && stdout === '') throw new Error(`fsck failed: ${stderr}`);
  return { code, report: JSON.parse(stdout) as FsckReport };
}

async function fsckJson(args: readonly string[]): Promise<FsckReport> {
  return (await fsckRun(args)).report;
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
