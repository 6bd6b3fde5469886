/**
 * The data directory is private to the user hangar runs as: its catalog holds every secret
 * access key, its blocks every object. The directory is created 0700 (and tightened to 0700 if
 * it exists with wider rights: nothing beneath it is then reachable by other users, whatever
 * the modes of files written by older versions), and the files that carry secrets are 0600.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';

/** Owner only: read, write, traverse. */
export const PRIVATE_DIR_MODE = 0o700;
/** Owner only: read, write. */
export const PRIVATE_FILE_MODE = 0o600;
/** The process umask while hangar writes into its data directory: nothing for group or others. */
export const PRIVATE_UMASK = 0o077;

/**
 * Creates `dir` (and missing parents) with mode 0700, or tightens an existing one to 0700.
 * Returns the mode it had when it was wider, null otherwise (for a log line).
 */
export function ensurePrivateDir(dir: string): number | null {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if (mode === PRIVATE_DIR_MODE) return null;
  chmodSync(dir, PRIVATE_DIR_MODE);
  return mode;
}

/** Makes existing files owner-only (files a library created with its own default mode). */
export function restrictFiles(paths: readonly string[]): void {
  for (const path of paths) if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}
