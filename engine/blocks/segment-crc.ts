import { crc32c } from '@node-rs/crc32';
import { assert } from '../assert.js';

/**
 * The CRC32Cs of a block: one per `segmentBytes` of it, in order (the last may cover fewer
 * bytes). Reads check each segment on its own, so a GET sends a segment as soon as it is read
 * and checked (no wait for the rest of the block) and a ranged GET reads only the segments it
 * touches. Stored in the shard's blocks table with the size they were computed at.
 */
export interface BlockCrcs {
  segmentBytes: number;
  values: number[];
}

/**
 * The segment size of new blocks' CRCs: the read chunk (LIMITS.chunkBytes), so that each chunk
 * a GET reads is one segment. A format constant: records keep the size they were made with.
 */
export const CRC_SEGMENT_BYTES = 256 * 1024;

/** Per-segment CRC32Cs of bytes fed in order, in any pieces. */
export class SegmentCrcs {
  private readonly values: number[] = [];
  private crc = 0;
  private filled = 0;

  constructor(private readonly segmentBytes: number = CRC_SEGMENT_BYTES) {
    assert(segmentBytes > 0, 'segments hold bytes');
  }

  update(view: Uint8Array): void {
    let at = 0;
    while (at < view.byteLength) {
      const take = Math.min(this.segmentBytes - this.filled, view.byteLength - at);
      const piece = take === view.byteLength ? view : view.subarray(at, at + take);
      this.crc = crc32c(piece, this.crc);
      this.filled += take;
      at += take;
      if (this.filled === this.segmentBytes) this.closeSegment();
    }
  }

  finish(): BlockCrcs {
    if (this.filled > 0) this.closeSegment();
    return { segmentBytes: this.segmentBytes, values: this.values };
  }

  private closeSegment(): void {
    this.values.push(this.crc);
    this.crc = 0;
    this.filled = 0;
  }
}

export function segmentCrcsOf(data: Uint8Array, segmentBytes = CRC_SEGMENT_BYTES): BlockCrcs {
  const crcs = new SegmentCrcs(segmentBytes);
  crcs.update(data);
  return crcs.finish();
}

/** Whether CRCs fit a block of `bytes` bytes (one per segment): else they are not used. */
export function crcsFit(crcs: BlockCrcs, bytes: number): boolean {
  return (
    Number.isInteger(crcs.segmentBytes) &&
    crcs.segmentBytes > 0 &&
    crcs.values.length === Math.ceil(bytes / crcs.segmentBytes)
  );
}

export function sameCrcs(a: BlockCrcs | undefined, b: BlockCrcs | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.segmentBytes === b.segmentBytes &&
    a.values.length === b.values.length &&
    a.values.every((value, i) => value === b.values[i])
  );
}
