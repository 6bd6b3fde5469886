import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { testBackend } from './cluster-backend.js';

/**
 * Recognisable, non-repeating plaintext of exactly `length` bytes (every 64-byte slice of it
 * occurs once; lines tagged with `tag`), so a scan of the data directory can tell whether it was
 * stored unencrypted.
 */
export function plaintextPattern(length: number, tag: string): Buffer {
  const lines: string[] = [];
  let total = 0;
  for (let i = 0; total < length; i++) {
    const line = `${tag} plaintext line ${String(i).padStart(9, '0')} of the pattern\n`;
    lines.push(line);
    total += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, length);
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The files under `dir` whose bytes contain `needle` (files that vanish meanwhile: skipped). */
export function filesContaining(dir: string, needle: Buffer): string[] {
  const hits: string[] = [];
  for (const path of filesUnder(dir)) {
    let bytes: Buffer;
    try {
      if (statSync(path).size < needle.length) continue;
      bytes = readFileSync(path);
    } catch {
      continue;
    }
    if (bytes.indexOf(needle) >= 0) hits.push(path);
  }
  return hits;
}

/**
 * Where a test server stores `needle`: the files of its data directory that contain it, and for
 * a cluster gateway (HANGAR_TEST_BACKEND=cluster) also its cluster's RADOS objects and
 * PostgreSQL rows, where its blocks and records are.
 */
export async function storedContaining(
  server: { readonly dataDir: string },
  needle: Buffer,
): Promise<string[]> {
  const files = filesContaining(server.dataDir, needle);
  if (testBackend() !== 'cluster') return files;
  // Imported here: the etcd client takes a second to load, which embedded runs never pay.
  const engines = await import('./cluster-engines.js');
  return [...files, ...(await engines.clusterStoredContaining(server.dataDir, needle))];
}
