import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytesSeeded, type TestServer } from './server.js';

export type Grant = 'read' | 'write' | 'owner';

export interface ScopedBucket {
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Creates `bucket` and a new key of its own (never the root key) holding only `grants` on it, with
 * the server's CLI, as an operator would.
 */
export async function scopedBucket(
  server: TestServer,
  bucket: string,
  grants: Grant[] = ['read', 'write'],
): Promise<ScopedBucket> {
  const ok = async (...args: string[]): Promise<string> => {
    const run = await server.cli(...args);
    if (run.code !== 0)
      throw new Error(`hangar ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  };
  const key = JSON.parse(await ok('key', 'create', `${bucket}-key`, '--json')) as {
    accessKeyId: string;
    secretAccessKey: string;
  };
  await ok('bucket', 'create', bucket);
  await ok('bucket', 'allow', ...grants.map((g) => `--${g}`), bucket, '--key', key.accessKeyId);
  return { bucket, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

/** The relative path of small file `i` in the trees `writeSmallFiles` makes. */
export function smallFilePath(i: number): string {
  const dir = `d${String(i % 37).padStart(2, '0')}/e${i % 5}`;
  if (i % 97 === 0) return `${dir}/with space ${i}.txt`;
  if (i % 89 === 0) return `${dir}/plus+sign ${i}.bin`;
  if (i % 83 === 0) return `${dir}/é-ü ${i}.txt`;
  return `${dir}/f${i}.${i % 2 === 0 ? 'txt' : 'bin'}`;
}

/**
 * `count` small deterministic files (0 to 8 KiB, every 500th empty) in 185 nested directories, some
 * named with spaces, '+' and non-ASCII letters; even ones are compressible text, odd ones random.
 */
export function writeSmallFiles(root: string, count: number, seed: number): void {
  for (let i = 0; i < count; i++) {
    const path = join(root, smallFilePath(i));
    const size = i % 500 === 0 ? 0 : (i * 7919) % 8192;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      i % 2 === 0
        ? Buffer.from(`line ${i} of seed ${seed}\n`.repeat(Math.ceil(size / 16))).subarray(0, size)
        : randomBytesSeeded(size, seed + i),
    );
  }
}
