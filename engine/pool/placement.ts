/**
 * Which shard owns an object: FNV-1a over the bucket id and the key. Objects of one bucket spread
 * over every shard, so one busy bucket uses every core; the price is that a listing merges the
 * sorted answers of all shards (see http/s3/handlers/list.ts). The function is part of the data
 * format: changing it (or the shard count) would strand objects, so the shard count of a data
 * directory is fixed at its creation (engine/layout.ts).
 */
export function shardOf(bucketId: string, key: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  hash = fnv1a(hash, bucketId);
  hash = fnv1a(hash, '/');
  hash = fnv1a(hash, key);
  return (hash >>> 0) % shardCount;
}

function fnv1a(seed: number, text: string): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}
