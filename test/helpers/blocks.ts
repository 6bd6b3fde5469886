import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
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

/** Damages a file in place: one byte at `offset` becomes 0xa5 (silent disk corruption). */
export function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from([0xa5]), 0, 1, offset);
  closeSync(fd);
}
