import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { open } from 'lmdb';
import { segmentCrcsOf } from '../../engine/blocks/segment-crc.js';
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

/** A stopped server's shard's blocks table, opened (close `env` when done). */
function blocksTable(dataDir: string, shard: number) {
  const env = open({ path: join(shardPath(dataDir, shard), 'meta'), maxDbs: 8 });
  const blocks = env.openDB<StoredBlockRecord, string>({
    name: 'blocks',
    encoder: recordEncoder(),
  } as never);
  return { env, blocks };
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
    const { env, blocks } = blocksTable(dataDir, shard);
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

/**
 * What an attacker with write access to a stopped server's data directory can do to a block
 * without any key: rewrite its bytes (`change`) and then fix up every unkeyed check the store
 * keeps for them. The file moves to its new content address (SHA-256), the blocks table gets
 * the new name with the new CRC32Cs, and every object record referencing the old name is
 * pointed at the new one. Returns the new name.
 */
export function forgeBlock(
  dataDir: string,
  shards: number,
  hash: string,
  change: (bytes: Buffer) => Buffer,
): string {
  const path = blockPath(dataDir, shards, hash);
  if (path === null) throw new Error(`no block ${hash}`);
  const forged = change(readFileSync(path));
  const forgedHash = createHash('sha256').update(forged).digest('hex');
  const shardDir = dirname(dirname(dirname(path)));
  const forgedPath = join(shardDir, 'blocks', forgedHash.slice(0, 2), forgedHash);
  mkdirSync(dirname(forgedPath), { recursive: true });
  writeFileSync(forgedPath, forged);
  rmSync(path);
  for (let shard = 0; shard < shards; shard++) {
    const { env, blocks } = blocksTable(dataDir, shard);
    try {
      const record = blocks.get(hash);
      if (record !== undefined) {
        blocks.putSync(forgedHash, { ...record, crcs: segmentCrcsOf(forged) });
        blocks.removeSync(hash);
      }
    } finally {
      env.close();
    }
  }
  editObjectRecords(dataDir, shards, (record) => {
    const refs = record.blocks as Array<{ hash: string }> | undefined;
    if (refs?.some((ref) => ref.hash === hash) !== true) return undefined;
    return {
      ...record,
      blocks: refs.map((ref) => (ref.hash === hash ? { ...ref, hash: forgedHash } : ref)),
    };
  });
  return forgedHash;
}
