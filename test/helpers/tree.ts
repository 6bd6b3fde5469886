import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { randomBytesSeeded } from './server.js';

export const MiB = 1024 * 1024;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a real client binary; never rejects: the exit code and both streams come back. */
export function runTool(
  file: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 150_000,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: process.env['PATH'] ?? '', ...env }, maxBuffer: 64 * MiB, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : typeof error.code === 'number' ? error.code : error.killed ? 124 : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Writes a file of `size` deterministic bytes in 1 MiB chunks (chunk i seeded with seed + i), so
 * large files never sit in memory whole.
 */
export function writeSeededFile(path: string, size: number, seed: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    for (let offset = 0, i = 0; offset < size; offset += MiB, i++)
      writeSync(fd, randomBytesSeeded(Math.min(MiB, size - offset), seed + i));
  } finally {
    closeSync(fd);
  }
}

/**
 * The tree the CLI client tests copy around: empty, one byte, just over 5 MiB (the multipart part
 * size), 100 MiB, plus nested small files with spaces, unicode and '+' in their names.
 */
export const TREE_FILES: Record<string, number> = {
  'empty.bin': 0,
  'one.bin': 1,
  'five-plus-one.bin': 5 * MiB + 1,
  'big/hundred.bin': 100 * MiB,
  'nested/a/b/deep.txt': 1234,
  'nested/a/side.txt': 17,
  'nested/with space/é file+plus.txt': 4096,
};

export function writeTestTree(root: string): void {
  let seed = 1000;
  for (const [path, size] of Object.entries(TREE_FILES)) {
    writeSeededFile(join(root, path), size, seed);
    seed += 1000;
  }
}

/** relative path → "size:sha256" for every file under root (directories are not entries). */
export function treeDigest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else
        out.set(
          relative(root, path),
          `${stat.size}:${createHash('sha256').update(readFileSync(path)).digest('hex')}`,
        );
    }
  };
  walk(root);
  return out;
}
