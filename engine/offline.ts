import { join } from 'node:path';
import { readLayout, shardDir } from './layout.js';
import { MetaStore } from './meta/store.js';

/**
 * Counts a bucket's objects by reading every shard's LMDB directly, for the CLI. LMDB is
 * multi-process safe, so this works whether or not a server holds the same data directory.
 */
export async function countObjectsOffline(
  dataDir: string,
  bucketId: string,
): Promise<{ objects: number; bytes: number }> {
  const layout = readLayout(dataDir);
  if (layout === null) return { objects: 0, bytes: 0 };
  let objects = 0;
  let bytes = 0;
  for (let shard = 0; shard < layout.shards; shard++) {
    const meta = MetaStore.open(join(shardDir(dataDir, shard), 'meta'), true);
    try {
      const usage = meta.usage(bucketId);
      objects += usage.objects;
      bytes += usage.bytes;
    } finally {
      await meta.close();
    }
  }
  return { objects, bytes };
}
