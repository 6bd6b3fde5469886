/**
 * The names of block files in a block directory. A block is named by the SHA-256 of its
 * UNCOMPRESSED bytes (so deduplication and every reference stay on the bytes clients wrote);
 * a block stored zstd-compressed carries the suffix `.zst`: `<hash>` is plain, `<hash>.zst` is
 * one zstd frame whose content is the block. A reader knows the format from the name, and data
 * directories written before compression existed need no migration.
 *
 * No native code here: host-side tools (fsck) read names without loading zstd.
 */

/** The compression setting of a block store (a tier's `compression`). */
export type BlockCompression = 'none' | 'zstd';
export const BLOCK_COMPRESSIONS: readonly BlockCompression[] = ['none', 'zstd'];

/** The suffix of a compressed block file's name (and of its temp file's, before `.tmp`). */
export const COMPRESSED_SUFFIX = '.zst';

/** Whether a name is a block's: the SHA-256 of its bytes, 64 lowercase hex digits. */
export function isBlockHash(name: string): boolean {
  return /^[0-9a-f]{64}$/.test(name);
}

/** A block file's name for a hash, plain or compressed. */
export function blockFileName(hash: string, compressed: boolean): string {
  return compressed ? `${hash}${COMPRESSED_SUFFIX}` : hash;
}

/** What a file name in a block directory names: a block (and its format), or null (a stray). */
export function blockOfFileName(name: string): { hash: string; compressed: boolean } | null {
  if (isBlockHash(name)) return { hash: name, compressed: false };
  const hash = name.slice(0, -COMPRESSED_SUFFIX.length);
  if (name.endsWith(COMPRESSED_SUFFIX) && isBlockHash(hash)) return { hash, compressed: true };
  return null;
}

/** Whether a temp file holds a compressed block (its name says so, like the final name). */
export function isCompressedTemp(tmpPath: string): boolean {
  return tmpPath.endsWith(`${COMPRESSED_SUFFIX}.tmp`);
}
