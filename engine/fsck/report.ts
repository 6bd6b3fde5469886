/** What a consistency check of one data directory (or one cluster) found. */
export interface FsckReport {
  shards: number;
  objects: number;
  /** Parts of multipart uploads in progress (their blocks are referenced too). */
  parts: number;
  /** Distinct block hashes referenced by object records. */
  referencedBlocks: number;
  /** Block files (cluster mode: RADOS objects in the partitions' namespaces). */
  blockFiles: number;
  /** Block files stored zstd-compressed (`<hash>.zst`), of blockFiles. */
  compressedBlockFiles: number;
  /** A block with both a plain and a compressed file (a crash mid-install; start-up keeps one). */
  duplicateBlockFiles: string[];
  /** Distinct inodes behind the block files: the bytes dedup actually stores (cluster mode: the
   *  RADOS objects' sizes, one copy: the pool's replication is not counted). */
  storedBytes: number;
  /** Referenced by an object but absent on disk: data loss. */
  missingBlocks: string[];
  /** On disk but referenced by no object: leaked space. */
  unreferencedBlocks: string[];
  /** Stored refcount differs from the recount over object records. */
  refcountMismatches: string[];
  /** Usage counters (per-bucket objects and bytes, block totals) that differ from a recount. */
  counterMismatches: string[];
  /** Leftover temp files of interrupted writes. */
  tempFiles: number;
  /** Distinct bodies in the shards' `bodies` tables (medium inline objects). */
  bodies: number;
  /** A body referenced by an object but absent, or whose bytes fail their size or CRC32C. */
  damagedBodies: string[];
  /** A body stored or counted that no object record names: leaked space. */
  unreferencedBodies: string[];
  /** With `verify`: block files whose bytes do not hash to their name (`shard:dir:key`). */
  corruptBlocks: string[];
  /** The block directories looked at: every data directory (`[[data_dirs]]`), or data_dir;
   *  cluster mode: `rados:<pool>/<namespace>` of every partition. */
  blockDirectories: string[];
  /**
   * Cluster mode only: block rows at zero references (waiting for the leader's GC past its
   * grace, being collected, or claimed by a PUT in flight). A legitimate state, not a mismatch;
   * their RADOS objects (present or not) are neither leaks nor losses while the row exists.
   */
  pendingBlocks?: number;
}

export function emptyReport(shards: number): FsckReport {
  return {
    shards,
    objects: 0,
    parts: 0,
    referencedBlocks: 0,
    blockFiles: 0,
    compressedBlockFiles: 0,
    duplicateBlockFiles: [],
    storedBytes: 0,
    missingBlocks: [],
    unreferencedBlocks: [],
    refcountMismatches: [],
    counterMismatches: [],
    tempFiles: 0,
    bodies: 0,
    damagedBodies: [],
    unreferencedBodies: [],
    corruptBlocks: [],
    blockDirectories: [],
  };
}
