import { setTimeout as sleep } from 'node:timers/promises';
import { assert } from '../assert.js';
import type { RadosShardBlocks } from '../blocks/rados/rados-shard-blocks.js';
import type { ShardBlockWriter } from '../blocks/shard-blocks.js';
import { engineFailure } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { MetaStore } from '../meta/store.js';
import type { ShardBlockLedger } from './ledger.js';

/**
 * Cluster mode's block bookkeeping (cluster-design §4.4). Several gateways write the partition,
 * so nothing here removes bytes: the GC does (block-gc.ts), under the invariant "a RADOS block
 * is deleted only while its row is dying, and no transaction adds a reference to a dying row".
 *
 * Before a block's bytes are written, the shard claims its row (BlockTable.claim, one metadata
 * transaction): a missing row is created at zero references, a row at zero has its GC clock
 * reset, so neither the GC nor the orphan sweep deletes the bytes for the grace period
 * (LIMITS.clusterBlockGcGraceMs); a dying row is waited out and the block then rewritten. The
 * claim's epoch is noted once the bytes are known to be stored (written now, or the row had
 * references), and the commit adds its reference only under that epoch (BlockTable.increfShared).
 *
 * Pins only bound the noted epochs' lifetime here: a pin cannot hold off another gateway's GC,
 * the grace period does. A PUT may take longer than the grace (a slow client, a big object), so
 * the claims of blocks written and not yet referenced are renewed every third of the grace
 * while they are noted: the GC then sees them as just claimed.
 */
export class ClusterBlockLedger implements ShardBlockLedger {
  private readonly pins = new Map<string, number>();
  private readonly renewal: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly meta: MetaStore,
    private readonly blocks: RadosShardBlocks,
    private readonly logError: (error: unknown) => void,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.renewal = setInterval(() => void this.renewClaims(), LIMITS.clusterBlockGcGraceMs / 3);
    this.renewal.unref();
  }

  /** Stops renewing (the shard is closing). */
  close(): void {
    clearInterval(this.renewal);
  }

  private async renewClaims(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.meta.sharedBlocks.renewClaims(this.nowMs());
    } catch (error) {
      // The next renewal tries again; a claim lost meanwhile fails its PUT (retryable).
      this.logError(error);
    } finally {
      this.renewing = false;
    }
  }

  pin(hash: string): void {
    this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1);
  }

  unpin(hash: string): void {
    const count = this.pins.get(hash);
    assert(count !== undefined && count > 0, `block ${hash} was pinned`);
    if (count > 1) {
      this.pins.set(hash, count - 1);
      return;
    }
    this.pins.delete(hash);
    this.meta.sharedBlocks.written.forget(hash);
  }

  async installBlock(hash: string, writer: ShardBlockWriter): Promise<void> {
    await this.claimAndStore(hash, writer.bytes, (present) =>
      this.blocks.install(writer, hash, present),
    );
  }

  /** A cross-partition copy: the block is read (verified) from its namespace and written here. */
  async adoptBlock(hash: string, location: string, bytes: number): Promise<void> {
    await this.claimAndStore(hash, bytes, async (present) => {
      if (present) return;
      await this.blocks.put(hash, await this.blocks.read(location, { hash, bytes }));
    });
  }

  /** Nothing is removed inline in cluster mode: the GC collects rows at zero after the grace. */
  freeIfUnused(_hash: string): void {}

  /**
   * Claims the block's row, then stores its bytes (`store(present)`: present when the row has
   * references, so its bytes are in RADOS already) and notes the epoch they are stored under.
   * A dying row is waited for (LIMITS.clusterBlockDyingWaitMs at most) and then claimed anew.
   */
  private async claimAndStore(
    hash: string,
    bytes: number,
    store: (present: boolean) => Promise<void>,
  ): Promise<void> {
    assert(this.pins.has(hash), 'blocks are pinned before they are installed');
    const deadline = this.nowMs() + LIMITS.clusterBlockDyingWaitMs;
    for (;;) {
      const claim = await this.meta.sharedBlocks.claim(hash, bytes, this.nowMs());
      if (claim.kind === 'live') {
        await store(claim.refs > 0);
        this.meta.sharedBlocks.written.note(hash, claim.epoch);
        return;
      }
      if (this.nowMs() > deadline) {
        throw engineFailure('SlowDown', `block ${hash} is still being collected; retry`);
      }
      await sleep(LIMITS.clusterBlockDyingPollMs);
    }
  }
}
