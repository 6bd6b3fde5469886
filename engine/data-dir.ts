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

/** What ensurePrivateDir found: the mode the directory had when wider than 0700. */
export interface WiderDir {
  readonly previousMode: number;
  /** False when the directory belongs to another user, who alone may change its mode. */
  readonly tightened: boolean;
}

/**
 * Creates `dir` (and missing parents) with mode 0700, or tightens an existing one to 0700.
 * Returns null when it is (now) 0700 from the start, else what it was (for a log line). A
 * directory of another user's that this one may write into (a container volume made 0777) is
 * left as it is rather than refusing to start: the caller warns.
 */
export function ensurePrivateDir(dir: string): WiderDir | null {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const previousMode = statSync(dir).mode & 0o777;
  if (previousMode === PRIVATE_DIR_MODE) return null;
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    return { previousMode, tightened: false };
  }
  return { previousMode, tightened: true };
}

/**
 * Makes existing files owner-only (files a library created with its own default mode). Files
 * of another user's (a CLI run as root on the server's directory) are left as they are.
 */
export function restrictFiles(paths: readonly string[]): void {
  for (const path of paths) {
    if (!existsSync(path)) continue;
    try {
      chmodSync(path, PRIVATE_FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    }
  }
}
