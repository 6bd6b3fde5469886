/**
 * `<dataDir>/admin.json`: how the CLI finds a running server's admin API. The server writes it
 * once it listens and removes it on a clean stop; a file left by a crashed server (its pid no
 * longer alive) is ignored.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../../engine/data-dir.js';

export const ADMIN_FILE = 'admin.json';

export interface AdminFile {
  /** The admin API's base URL, with an address a local client can connect to. */
  readonly endpoint: string;
  /** The server's process id. */
  readonly pid: number;
  /**
   * With TLS: the SHA-256 fingerprint (X509Certificate.fingerprint256) of the certificate the
   * admin port serves. The CLI pins it instead of checking a CA chain and a host name, which a
   * certificate made for the S3 domain would not match on 127.0.0.1.
   */
  readonly certificateSha256?: string;
}

/** The admin endpoint as a local client reaches it (wildcard listen addresses → loopback). */
export function connectableEndpoint(
  host: string,
  port: number,
  scheme: 'http' | 'https' = 'http',
): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** Writes the file atomically (a reader never sees half of it). */
export function writeAdminFile(dataDir: string, file: AdminFile): void {
  const path = join(dataDir, ADMIN_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  // Owner-only: it tells where the admin API listens, which other users have no need to know.
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
  renameSync(temp, path);
}

/** Removes the file if it is this process's (another server may have replaced it). */
export function removeAdminFile(dataDir: string, pid = process.pid): void {
  const path = join(dataDir, ADMIN_FILE);
  try {
    const current = JSON.parse(readFileSync(path, 'utf8')) as Partial<AdminFile>;
    if (current.pid !== pid) return;
  } catch {
    // unreadable or absent: remove whatever is there
  }
  rmSync(path, { force: true });
}

/** Whether process `pid` exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The admin file of a live server in `dataDir`, or null (none, unreadable, or stale). */
export function liveAdminFile(dataDir: string): AdminFile | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dataDir, ADMIN_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { endpoint, pid, certificateSha256 } = parsed as Record<string, unknown>;
  if (typeof endpoint !== 'string' || typeof pid !== 'number' || !Number.isInteger(pid)) {
    return null;
  }
  if (pid <= 0 || !processAlive(pid)) return null;
  return typeof certificateSha256 === 'string'
    ? { endpoint, pid, certificateSha256 }
    : { endpoint, pid };
}
