import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../data-dir.js';
import { KEY_BYTES } from './wrap.js';

/**
 * The master key wraps the keyring's keys (engine/sse/keyring.ts), never object data keys
 * directly. Where it comes from, first found wins: the environment (HANGAR_SSE_MASTER_KEY), the
 * operator's file (sse.master_key_file), else `<data dir>/sse-master.key`, generated 0600 on
 * first start. Keys a rotation replaced stay in `<data dir>/sse-master-keys/<id>.key` until
 * every wrapped key moved to the new one; with a key from the environment, the key it replaced
 * is HANGAR_SSE_MASTER_KEY_PREVIOUS (hangar cannot write the environment).
 */
export interface MasterKey {
  /** 16 hex digits derived from the key (stored beside what it wraps; not secret). */
  readonly id: string;
  readonly key: Buffer;
}

export const DEFAULT_MASTER_KEY_FILE = 'sse-master.key';
const RETIRED_DIR = 'sse-master-keys';

export function masterKeyPath(dataDir: string, configured: string | null): string {
  return configured ?? join(dataDir, DEFAULT_MASTER_KEY_FILE);
}

export function masterKeyIdOf(key: Uint8Array): string {
  return createHash('sha256')
    .update('hangar-sse-master-key-id\0')
    .update(key)
    .digest('hex')
    .slice(0, 16);
}

function masterKeyOf(key: Buffer): MasterKey {
  return { id: masterKeyIdOf(key), key };
}

/** 32 bytes written as 64 hex digits or as base64, or null. */
function masterKeyOfText(text: string): MasterKey | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return masterKeyOf(Buffer.from(text, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return masterKeyOf(Buffer.from(text, 'base64'));
  return null;
}

/**
 * A key file's key: 64 hex digits or 44 base64 characters (surrounding whitespace ignored), or
 * exactly 32 raw bytes. Anything else is refused: a short or mistyped key must not start.
 */
export function parseMasterKey(content: Buffer, path: string): MasterKey {
  const fromText = masterKeyOfText(content.toString('latin1').trim());
  if (fromText !== null) return fromText;
  if (content.byteLength === KEY_BYTES) return masterKeyOf(Buffer.from(content));
  throw new Error(
    `${path}: an SSE master key file holds 32 bytes: 64 hex digits, base64, or the raw bytes`,
  );
}

/** The environment variables a master key (and the one it replaced) may come from. */
export const MASTER_KEY_ENV = 'HANGAR_SSE_MASTER_KEY';
export const PREVIOUS_MASTER_KEY_ENV = 'HANGAR_SSE_MASTER_KEY_PREVIOUS';

/**
 * A master key from an environment variable: 64 hex digits or the standard base64 of 32 bytes
 * (44 characters), surrounding whitespace ignored; null when unset or empty. Anything else
 * throws, naming the variable and never its value: a truncated or mistyped secret must stop the
 * start, not seal new keys under something the operator cannot reproduce.
 */
export function masterKeyFromEnv(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): MasterKey | null {
  const text = env[name]?.trim() ?? '';
  if (text === '') return null;
  const key = masterKeyOfText(text);
  if (key !== null) return key;
  throw new Error(
    `${name} is malformed: an SSE master key is 32 bytes written as 64 hex digits or as base64 (44 characters), e.g. the output of \`openssl rand -hex 32\``,
  );
}

export function readMasterKey(path: string): MasterKey {
  return parseMasterKey(readFileSync(path), path);
}

/**
 * The master key at `path`, generated there first if the file does not exist. Written to a
 * temporary file and hard-linked into place, so that threads starting at once agree on one key
 * (the link fails for all but the first) and none reads a half-written file.
 */
export function ensureMasterKey(path: string): MasterKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, `${randomBytes(KEY_BYTES).toString('hex')}\n`, {
      mode: PRIVATE_FILE_MODE,
      flag: 'wx',
    });
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  return readMasterKey(path);
}

/**
 * The master key at `path`. A missing file is generated only when `mayGenerate` (the default
 * path, and nothing sealed yet): a configured file that is missing (an unmounted secret) or a
 * lost key must stop hangar, not be silently replaced by a key that opens nothing.
 */
export function openMasterKey(path: string, mayGenerate: boolean): MasterKey {
  if (existsSync(path)) return readMasterKey(path);
  if (!mayGenerate) {
    throw new Error(
      `the SSE master key file ${path} does not exist: ${'restore it, or (on a new installation) write 32 random bytes there as 64 hex digits'}`,
    );
  }
  return ensureMasterKey(path);
}

/** Replaces the key at `path` with `key` (rename: readers see the old or the new file). */
export function replaceMasterKey(path: string, key: Buffer): MasterKey {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${key.toString('hex')}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  renameSync(temporary, path);
  return masterKeyOf(key);
}

function retiredPath(dataDir: string, id: string): string {
  return join(dataDir, RETIRED_DIR, `${id}.key`);
}

/** Keeps a replaced key readable (by its id) while keys wrapped under it remain. */
export function retireMasterKey(dataDir: string, master: MasterKey): void {
  const dir = join(dataDir, RETIRED_DIR);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const path = retiredPath(dataDir, master.id);
  if (existsSync(path)) return;
  writeFileSync(path, `${master.key.toString('hex')}\n`, { mode: PRIVATE_FILE_MODE });
}

/** A retired key by its id, or null. */
export function retiredMasterKey(dataDir: string, id: string): MasterKey | null {
  if (!/^[0-9a-f]{16}$/.test(id)) return null;
  const path = retiredPath(dataDir, id);
  if (!existsSync(path)) return null;
  const master = readMasterKey(path);
  return master.id === id ? master : null;
}

/** Deletes the retired keys nothing is wrapped under any more (all but `keep`). */
export function dropRetiredMasterKeys(dataDir: string, keep: ReadonlySet<string>): string[] {
  const dir = join(dataDir, RETIRED_DIR);
  if (!existsSync(dir)) return [];
  const dropped: string[] = [];
  for (const name of readdirSync(dir)) {
    const id = name.replace(/\.key$/, '');
    if (keep.has(id)) continue;
    rmSync(join(dir, name), { force: true });
    dropped.push(id);
  }
  return dropped;
}
