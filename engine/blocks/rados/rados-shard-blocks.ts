import { assert } from '../../assert.js';
import type { ClusterBlockTarget } from '../../cluster/shard-settings.js';
import type { BlockRef } from '../../protocol/messages.js';
import { DEFAULT_TIER } from '../../storage-config.js';
import { contentHashOf } from '../block-key.js';
import { type BlockFile, CorruptBlockFileError, DecodedBlockFile } from '../compressed.js';
import type { ShardBlocks, ShardBlockWriter } from '../shard-blocks.js';
import { RadosCluster } from './librados.js';
import {
  CorruptRadosBlockError,
  RadosBlockStore,
  type RadosBlockWriter,
} from './rados-block-store.js';

/**
 * Cluster mode (issue 19): a shard's blocks as RADOS objects in its partition's namespace
 * (RadosBlockStore), behind the shard's block seam (shard-blocks.ts).
 *
 * - One tier, blocks stored plain: storage classes are kept on the records (S3 answers them)
 *   but do not move bytes, and block compression is a property of data directories, which
 *   cluster mode has none of (Ceph pools can compress: `compression_mode` on the pool).
 * - A writer gathers its block in memory (at most blockBytes) and install writes it whole with
 *   write_full: named by content, so the write is idempotent. RADOS acknowledges it once every
 *   replica of the acting set has committed it; the PUT commits its metadata only after.
 * - A read fetches the whole block (at most blockBytes) and checks its SHA-256 against the name
 *   before any byte is served (RadosBlockStore.read); the segment CRCs verified-read.ts then
 *   checks over the bytes in memory are redundant with it, kept because they cost little and
 *   keep one read path.
 * - Removal is the cluster GC's (engine/shard/block-gc.ts), never a reference count read here.
 */
export class RadosShardBlocks implements ShardBlocks {
  private cluster: RadosCluster | null = null;
  private own: RadosBlockStore | null = null;
  /** Other partitions' namespaces, opened on the connection for cross-partition copies. */
  private readonly others = new Map<string, Promise<RadosBlockStore>>();

  constructor(
    private readonly target: ClusterBlockTarget,
    private readonly blockBytes: number,
  ) {}

  /** Connects to Ceph and opens the partition's namespace (the shard's start-up). */
  async open(): Promise<void> {
    assert(this.cluster === null, 'RADOS blocks open once');
    const cluster = await RadosCluster.connect({ confPath: this.target.cephConf });
    try {
      this.own = RadosBlockStore.over(await cluster.ioctx(this.target.pool, this.target.namespace));
    } catch (error) {
      await cluster.shutdown();
      throw error;
    }
    this.cluster = cluster;
  }

  /** The partition's store (after open). */
  get store(): RadosBlockStore {
    assert(this.own !== null, 'RADOS blocks are opened before use');
    return this.own;
  }

  tierOf(_storageClass: string | undefined): string {
    return DEFAULT_TIER;
  }

  hasTier(tier: string): boolean {
    return tier === DEFAULT_TIER;
  }

  async beginBlock(tier: string): Promise<ShardBlockWriter> {
    assert(tier === DEFAULT_TIER, 'cluster mode stores one tier');
    return new RadosShardWriter(this.store.beginBlock(this.blockBytes));
  }

  async install(writer: ShardBlockWriter, key: string, present: boolean): Promise<void> {
    const inner = radosWriterOf(writer);
    assert(inner.sealed().hash === contentHashOf(key), 'a block is installed under its hash');
    await this.store.install(inner, present);
  }

  locationOf(_key: string): string {
    return this.store.namespace;
  }

  /** Reads go through the same checks as a file's: a corrupt object is a corrupt block file. */
  async openBlock(location: string, block: BlockRef): Promise<BlockFile> {
    try {
      return new DecodedBlockFile(await this.read(location, block));
    } catch (error) {
      if (error instanceof CorruptRadosBlockError) throw new CorruptBlockFileError(error.message);
      throw error;
    }
  }

  /** A block's bytes from a partition's namespace, verified against its name. */
  async read(location: string, block: BlockRef): Promise<Buffer> {
    const store = await this.storeAt(location);
    return store.read(contentHashOf(block.hash), block.bytes);
  }

  /** Stores bytes already read (and verified) elsewhere under their hash, in this namespace. */
  async put(key: string, content: Uint8Array): Promise<void> {
    await this.store.put(contentHashOf(key), content);
  }

  async remove(key: string): Promise<void> {
    await this.store.remove(contentHashOf(key));
  }

  private storeAt(namespace: string): Promise<RadosBlockStore> | RadosBlockStore {
    if (namespace === this.store.namespace) return this.store;
    const cluster = this.cluster;
    assert(cluster !== null, 'RADOS blocks are opened before use');
    let opened = this.others.get(namespace);
    if (opened === undefined) {
      // At most one per partition of the gateway: locations come from its own shards' replies.
      opened = cluster.ioctx(this.target.pool, namespace).then((io) => RadosBlockStore.over(io));
      this.others.set(namespace, opened);
    }
    return opened;
  }

  async close(): Promise<void> {
    for (const other of this.others.values()) await (await other).close().catch(() => undefined);
    await this.own?.close();
    await this.cluster?.shutdown();
  }
}

/** A RADOS block writer behind the seam's (asynchronous) writer interface. */
export class RadosShardWriter implements ShardBlockWriter {
  constructor(readonly inner: RadosBlockWriter) {}

  get bytes(): number {
    return this.inner.bytes;
  }

  async write(view: Uint8Array): Promise<void> {
    this.inner.write(view);
  }

  async finish(): Promise<Required<BlockRef>> {
    return this.inner.finish();
  }

  async discard(): Promise<void> {
    this.inner.discard();
  }
}

function radosWriterOf(writer: ShardBlockWriter): RadosBlockWriter {
  assert(writer instanceof RadosShardWriter, 'RADOS blocks install their own writers');
  return writer.inner;
}
