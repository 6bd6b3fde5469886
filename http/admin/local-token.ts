/**
 * `<dataDir>/admin.token`: the admin token a server generates when none is configured, so that
 * the CLI on the same machine works against a running server with no setup (as Garage's CLI
 * reads its node's RPC secret). The admin API accepts this token only from a loopback peer: it
 * stays closed to the network until the operator configures a token of their own.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, restrictFiles } from '../../engine/data-dir.js';

export const LOCAL_TOKEN_FILE = 'admin.token';
/** 256 bits: as strong as a configured token should be, and as the root key's secret. */
const LOCAL_TOKEN_RANDOM_BYTES = 32;
/** The shortest token read back as one of ours (32 bytes are 43 base64url characters). */
const LOCAL_TOKEN_CHARS_MIN = 43;

export function localTokenPath(dataDir: string): string {
  return join(dataDir, LOCAL_TOKEN_FILE);
}

/**
 * The token in `<dataDir>/admin.token`, made (0600, atomically) on the first start and reused
 * after: a CLI that read it keeps working across restarts. A file that holds no usable token
 * (emptied, truncated) is replaced.
 */
export function ensureLocalAdminToken(dataDir: string): string {
  const path = localTokenPath(dataDir);
  const existing = readTokenFile(path);
  if (existing !== null) {
    // A copy restored from a backup may come back with wider rights.
    restrictFiles([path]);
    return existing;
  }
  const token = randomBytes(LOCAL_TOKEN_RANDOM_BYTES).toString('base64url');
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${token}\n`, { mode: PRIVATE_FILE_MODE });
  // writeFileSync's mode is filtered by the umask, and a leftover temp file keeps its old mode.
  chmodSync(temp, PRIVATE_FILE_MODE);
  renameSync(temp, path);
  return token;
}

/**
 * Removes a generated token when the operator configures one: it would no longer open the API,
 * and a CLI that found it would send a token the server refuses instead of asking for the right one.
 */
export function removeLocalAdminToken(dataDir: string): void {
  rmSync(localTokenPath(dataDir), { force: true });
}

/** What the CLI found in `<dataDir>/admin.token`: the token, or why there is none. */
export type LocalTokenLookup =
  | { readonly token: string }
  | { readonly token: null; readonly problem: string | null };

/** Reads the generated token for the CLI; `problem` says why a file that exists is unusable. */
export function readLocalAdminToken(dataDir: string): LocalTokenLookup {
  const path = localTokenPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { token: null, problem: null };
    return { token: null, problem: `cannot read ${path}: ${(error as Error).message}` };
  }
  const token = tokenIn(text);
  return token === null ? { token: null, problem: `${path} holds no token` } : { token };
}

/** The token in the file at `path`; null when it is missing or holds none. */
function readTokenFile(path: string): string | null {
  try {
    return tokenIn(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function tokenIn(text: string): string | null {
  const token = text.trim();
  return /^[A-Za-z0-9_-]+$/.test(token) && token.length >= LOCAL_TOKEN_CHARS_MIN ? token : null;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a peer address (as uWS's getRemoteAddressAsText gives it: dotted IPv4, or IPv6 in full
 * hex, IPv4-mapped on a dual-stack socket) is this machine's loopback. Anything unparsable is not.
 */
export function isLoopbackPeer(address: string): boolean {
  try {
    return LOOPBACK.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
}
