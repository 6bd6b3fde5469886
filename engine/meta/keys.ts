import { assert } from '../assert.js';

/**
 * Object keys in a shard's LMDB: the 16 bytes of the bucket id followed by the key's UTF-8 bytes.
 * LMDB compares keys with memcmp, so a bucket's objects are contiguous and sorted in UTF-8 byte
 * order, which is exactly S3's listing order (JavaScript string order is UTF-16 order and differs
 * for astral characters). 0xFF never occurs in UTF-8, which gives cheap exclusive upper bounds.
 */
export const BUCKET_ID_BYTES = 16;
const UTF8_NEVER = 0xff;

export function objectKey(bucketId: string, key: string): Buffer {
  const id = Buffer.from(bucketId, 'hex');
  assert(id.length === BUCKET_ID_BYTES, 'bucket id is 16 bytes');
  return Buffer.concat([id, Buffer.from(key, 'utf8')]);
}

export function keyOf(encoded: Uint8Array): string {
  // lmdb-js hands keys as Buffers: decoding in place saves two views per key (listings).
  const bytes = Buffer.isBuffer(encoded)
    ? encoded
    : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  return bytes.toString('utf8', BUCKET_ID_BYTES);
}

/** The bucket id (hex) an encoded object or upload key starts with. */
export function bucketIdOf(encoded: Uint8Array): string {
  return Buffer.from(encoded.buffer, encoded.byteOffset, BUCKET_ID_BYTES).toString('hex');
}

/** The smallest encoded key strictly greater than every key that starts with `prefix`. */
export function prefixEnd(bucketId: string, prefix: string): Buffer {
  return Buffer.concat([objectKey(bucketId, prefix), Buffer.from([UTF8_NEVER])]);
}

/** The smallest encoded key strictly greater than `key`. */
export function successorOf(bucketId: string, key: string): Buffer {
  return Buffer.concat([objectKey(bucketId, key), Buffer.from([0])]);
}

/** Compares two keys in UTF-8 byte order (S3's order). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
