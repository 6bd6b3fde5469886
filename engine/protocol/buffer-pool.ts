import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';

/**
 * Recycled staging buffers. A body chunk's ArrayBuffer is transferred to a shard and comes back
 * with the shard's credit, so steady-state streaming allocates nothing. Buffers beyond
 * `keepMax` are left to the GC, which bounds the pool's memory.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly keepMax = 256) {}

  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(LIMITS.chunkBytes);
  }

  give(buffer: ArrayBuffer | undefined): void {
    if (buffer === undefined || buffer.byteLength !== LIMITS.chunkBytes) return;
    if (this.free.length < this.keepMax) this.free.push(buffer);
    assert(this.free.length <= this.keepMax, 'the pool stays bounded');
  }
}
