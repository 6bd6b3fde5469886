/**
 * The price of serving only verified bytes (engine/shard/verified-read.ts): a GET reads every
 * 256 KiB segment it touches whole and checks it against the CRC32C its shard keeps for it
 * before any of it goes out, or, for a block recorded before CRCs were kept, the whole block
 * against its name (SHA-256); inline bodies are checked against their stored CRC32C. References: the plain reads a GET did
 * before (the same 1 MiB in 256 KiB chunks; a 4 KiB pread for a small range), and a 4 KiB copy.
 * The block file is in the page cache, as for a hot object: the figures are CPU cost, not disk.
 */
import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { segmentCrcsOf } from '../../engine/blocks/segment-crc.js';
import { openFileBlock } from '../../engine/blocks/shard-blocks.js';
import { LIMITS } from '../../engine/limits.js';
import type { OpenedObject } from '../../engine/protocol/messages.js';
import { VerifiedBlockSource } from '../../engine/shard/verified-read.js';
import {
  check,
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  pseudoRandomBytes,
  REF_PREFIX,
  runGroup,
  withTempDir,
} from './harness.js';

const KIB = 1024;

/** A one-block object; `withCrc`: its block has CRCs on record (else SHA-256 is checked). */
function openedBlock(path: string, data: Buffer, withCrc: boolean): OpenedObject {
  const hash = createHash('sha256').update(data).digest('hex');
  return {
    info: { bytes: data.length } as OpenedObject['info'],
    shardId: 0,
    blocks: [{ hash, bytes: data.length, ...(withCrc ? { crcs: segmentCrcsOf(data) } : {}) }],
    blockPaths: [path],
    inlineBody: null,
  };
}

/** Reads [start, end) through a VerifiedBlockSource with a window of spare buffers. */
async function verifiedRead(object: OpenedObject, start: number, end: number): Promise<number> {
  const source = new VerifiedBlockSource(object, start, end, null, {
    openBlock: openFileBlock,
  });
  const spare: ArrayBuffer[] = [];
  let bytes = 0;
  try {
    while (source.more) {
      const unused = await source.readNext(spare.pop() ?? new ArrayBuffer(LIMITS.chunkBytes));
      if (unused !== null) spare.push(unused);
      for (let chunk = source.takeReady(); chunk !== undefined; chunk = source.takeReady()) {
        bytes += chunk.bytes;
        spare.push(chunk.buffer);
      }
    }
  } finally {
    await source.close();
  }
  return bytes;
}

/** What a GET did before: the block's bytes read in chunk-sized preads, nothing checked. */
async function plainRead(path: string, start: number, end: number): Promise<number> {
  const file = await open(path, 'r');
  const buffer = new Uint8Array(LIMITS.chunkBytes);
  let bytes = 0;
  try {
    for (let position = start; position < end; ) {
      const want = Math.min(buffer.byteLength, end - position);
      const { bytesRead } = await file.read(buffer, 0, want, position);
      position += bytesRead;
      bytes += bytesRead;
    }
  } finally {
    await file.close();
  }
  return bytes;
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  return withTempDir(async (dir) => {
    const data = pseudoRandomBytes(MIB);
    const path = join(dir, 'block');
    await writeFile(path, data);
    const hashed = openedBlock(path, data, false);
    const crced = openedBlock(path, data, true);
    for (const object of [hashed, crced]) {
      check((await verifiedRead(object, 0, MIB)) === MIB, 'a verified read returns the block');
      check((await verifiedRead(object, 5000, 5000 + 4 * KIB)) === 4 * KIB, 'and a range of it');
    }

    const whole = newBench('verified block read', opts);
    const wholeNames = {
      crc: 'read 1 MiB block + CRC32C per 256 KiB segment before sending it',
      sha: 'read 1 MiB block + SHA-256 before sending (no CRC on record)',
      ref: `${REF_PREFIX}read 1 MiB block, unchecked`,
    };
    whole.add(wholeNames.crc, () => verifiedRead(crced, 0, MIB));
    whole.add(wholeNames.sha, () => verifiedRead(hashed, 0, MIB));
    whole.add(wholeNames.ref, () => plainRead(path, 0, MIB));
    const ranged = newBench('verified 4 KiB range', opts);
    const rangedNames = {
      crc: '4 KiB range: its 256 KiB segment read + CRC32C',
      sha: '4 KiB range: whole 1 MiB block read + SHA-256 (no CRC on record)',
      ref: `${REF_PREFIX}4 KiB range: pread of 4 KiB, unchecked`,
    };
    ranged.add(rangedNames.crc, () => verifiedRead(crced, 5000, 5000 + 4 * KIB));
    ranged.add(rangedNames.sha, () => verifiedRead(hashed, 5000, 5000 + 4 * KIB));
    ranged.add(rangedNames.ref, () => plainRead(path, 5000, 5000 + 4 * KIB));

    const inline = newBench('inline checksum', opts);
    const small = data.subarray(0, 4 * KIB);
    const largest = data.subarray(0, 16 * KIB);
    const copy = Buffer.alloc(16 * KIB);
    let sink = 0;
    const inlineNames = {
      small: 'CRC32C of a 4 KiB inline body',
      largest: 'CRC32C of a 16 KiB inline body',
      ref: `${REF_PREFIX}copy of a 4 KiB body`,
    };
    inline.add(inlineNames.small, () => {
      sink += crc32c(small);
    });
    inline.add(inlineNames.largest, () => {
      sink += crc32c(largest);
    });
    inline.add(inlineNames.ref, () => {
      sink += small.copy(copy);
    });
    const results = [
      ...(await runGroup('verified block read', whole, {
        [wholeNames.crc]: MIB,
        [wholeNames.sha]: MIB,
        [wholeNames.ref]: MIB,
      })),
      ...(await runGroup('verified 4 KiB range', ranged, {
        [rangedNames.crc]: 4 * KIB,
        [rangedNames.sha]: 4 * KIB,
        [rangedNames.ref]: 4 * KIB,
      })),
      ...(await runGroup('inline checksum', inline, {
        [inlineNames.small]: 4 * KIB,
        [inlineNames.largest]: 16 * KIB,
        [inlineNames.ref]: 4 * KIB,
      })),
    ];
    check(sink !== 0, 'work was done');
    return results;
  });
}
