import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { recordEncoder } from '../../engine/codec.js';

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

/** A record of a shard's blocks table (engine/meta/store.ts BlockRecord), as stored. */
export interface StoredBlockRecord {
  refs: number;
  bytes: number;
  crcs?: { segmentBytes: number; values: number[] };
}

/**
 * Reads, and with `edit` rewrites, every record of the blocks table of every shard, in a
 * stopped server's data directory. `edit` returns true for a record it changed.
 */
export function blockRecords(
  dataDir: string,
  shards: number,
  edit?: (hash: string, record: StoredBlockRecord) => boolean,
): Array<{ shard: number; hash: string; record: StoredBlockRecord }> {
  const all = [];
  for (let shard = 0; shard < shards; shard++) {
    const env = open({ path: join(shardPath(dataDir, shard), 'meta'), maxDbs: 8 });
    const blocks = env.openDB<StoredBlockRecord, string>({
      name: 'blocks',
      encoder: recordEncoder(),
    } as never);
    try {
      for (const { key, value } of blocks.getRange({})) {
        if (edit?.(key, value) === true) blocks.putSync(key, value);
        all.push({ shard, hash: key, record: value });
      }
    } finally {
      env.close();
    }
  }
  return all;
}

/**
 * Visits every record of the objects table of every shard, in a stopped server's data
 * directory; a record `edit` returns a value for is replaced by it. Returns how many were.
 */
export function editObjectRecords(
  dataDir: string,
  shards: number,
  edit: (record: Record<string, unknown>) => unknown,
): number {
  let edited = 0;
  for (let shard = 0; shard < shards; shard++) {
    const env = open({ path: join(shardPath(dataDir, shard), 'meta'), maxDbs: 8 });
    const objects = env.openDB<Record<string, unknown>, Buffer>({
      name: 'objects',
      keyEncoding: 'binary',
      encoder: recordEncoder(),
    } as never);
    try {
      for (const { key, value } of objects.getRange({})) {
        const replacement = edit(value);
        if (replacement === undefined) continue;
        objects.putSync(key, replacement as Record<string, unknown>);
        edited++;
      }
    } finally {
      env.close();
    }
  }
  return edited;
}
