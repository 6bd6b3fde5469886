import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
