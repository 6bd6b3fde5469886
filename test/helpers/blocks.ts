import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A shard's directory in a data directory (shards/NNN). */
export function shardPath(dataDir: string, shard: number): string {
  return join(dataDir, 'shards', String(shard).padStart(3, '0'));
}

/** Where a block's file is (the first of `shards` shards that stores it), or null. */
export function blockPath(dataDir: string, shards: number, hash: string): string | null {
  for (let shard = 0; shard < shards; shard++) {
    const path = join(shardPath(dataDir, shard), 'blocks', hash.slice(0, 2), hash);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * Damages a file in place: the byte at `offset` gets its bits inverted (silent disk corruption).
 * Always a change: writing a fixed value left 1 in 256 random files as they were.
 */
export function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    if (readSync(fd, byte, 0, 1, offset) !== 1) throw new Error(`${path} has no byte ${offset}`);
    byte[0] = ~(byte[0] ?? 0) & 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}
