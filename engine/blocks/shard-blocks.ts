import { assert } from '../assert.js';
import type { BlockRef } from '../protocol/messages.js';
import { contentHashOf } from './block-key.js';
import { type BlockFile, openBlockFile } from './compressed.js';
import type { BlockPlacement } from './placement.js';
import type { BlockWriter } from './store.js';

/**
 * One block being written by a PUT (or a copy into this shard): hashed and CRC'd as it arrives.
 * A file writer streams into a temp file; a RADOS writer gathers the block in memory (at most
 * blockBytes) until it is installed.
 */
export interface ShardBlockWriter {
  /** Bytes written so far. */
  readonly bytes: number;
  write(view: Uint8Array): Promise<void>;
  /** Seals the block: its content hash, size and CRC32Cs. */
  finish(): Promise<Required<BlockRef>>;
  discard(): Promise<void>;
}

/**
 * What a shard needs from wherever its blocks live (the seam of issue 19): embedded, the block
 * files of its data directories (FileBlocks over BlockPlacement); in cluster mode, its partition's
 * RADOS namespace (RadosShardBlocks). Everything takes block keys (block-key.ts).
 *
 * Reference counting is not here: the ledger (embedded) or the claim protocol of the blocks table
 * (cluster mode, cluster-ledger.ts) decides when bytes are written and when they go.
 */
export interface ShardBlocks {
  /** The tier a write of `storageClass` goes to. */
  tierOf(storageClass: string | undefined): string;
  hasTier(tier: string): boolean;
  /** Starts a new block of `tier`. */
  beginBlock(tier: string): Promise<ShardBlockWriter>;
  /**
   * Stores a finished writer's block under `key` (and releases the writer); `present`: the
   * shard already holds a block of that key, so the bytes need not be stored again.
   */
  install(writer: ShardBlockWriter, key: string, present: boolean): Promise<void>;
  /**
   * Where another shard of this gateway reads the block from (OpenedObject.blockPaths): a
   * file's path, or the RADOS namespace holding it.
   */
  locationOf(key: string): string;
  /** Opens a block for a verified read (verified-read.ts) at the location locationOf gave. */
  openBlock(location: string, block: BlockRef): Promise<BlockFile>;
  /** Unlinks or deletes a block's bytes. */
  remove(key: string): Promise<void>;
}

/**
 * Embedded mode: the shard's block files (BlockPlacement) behind the seam, with exactly the calls
 * the shard made before the seam existed (paths for reads, temp files renamed into place).
 */
export class FileBlocks implements ShardBlocks {
  constructor(readonly placement: BlockPlacement) {}

  tierOf(storageClass: string | undefined): string {
    return this.placement.tierOf(storageClass);
  }

  hasTier(tier: string): boolean {
    return this.placement.hasTier(tier);
  }

  beginBlock(tier: string): Promise<BlockWriter> {
    return this.placement.beginBlock(tier);
  }

  install(writer: ShardBlockWriter, key: string, present: boolean): Promise<void> {
    return this.placement.install(fileWriterOf(writer).tmpPath, key, present);
  }

  /** Puts fresh bytes in place of a damaged or missing block file. */
  replace(writer: ShardBlockWriter, key: string): Promise<void> {
    return this.placement.replace(fileWriterOf(writer).tmpPath, key);
  }

  locationOf(key: string): string {
    return this.placement.pathOf(key);
  }

  openBlock(location: string, block: BlockRef): Promise<BlockFile> {
    return openFileBlock(location, block);
  }

  remove(key: string): Promise<void> {
    return this.placement.remove(key);
  }
}

/** Opens a block file at its path for a verified read (verified-read.ts). */
export function openFileBlock(path: string, block: BlockRef): Promise<BlockFile> {
  // A block key names its tier too (block-key.ts); the file holds the content of its hash.
  return openBlockFile(path, { hash: contentHashOf(block.hash), bytes: block.bytes });
}

/** A writer a file placement made: one with a temp file. */
export function fileWriterOf(writer: ShardBlockWriter): BlockWriter {
  assert('tmpPath' in writer, 'a file placement installs its own (temp file) writers');
  return writer as BlockWriter;
}
