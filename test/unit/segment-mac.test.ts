import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  MAC_SEGMENT_BYTES,
  macIdentityOf,
  macKeyOf,
  partMacKey,
  SegmentMacWriter,
  SegmentTags,
  segmentTag,
  TAG_BYTES,
} from '../../engine/sse/segment-mac.js';

/**
 * The SSE segment tag construction (engine/sse/segment-mac.ts): the writer's cut into segments,
 * and what a tag binds. Through the server: test/s3/sse-tamper.test.ts.
 */

const KIB = 1024;
const MIB = 1024 * KIB;
const SEG = MAC_SEGMENT_BYTES;

const DATA_KEY = { key: randomBytes(32) };
const MAC_KEY = macKeyOf(DATA_KEY, macIdentityOf(null));
const IV = randomBytes(16);

/** Feeds `data` to a writer in pieces of varying sizes; returns the tags, one per segment. */
function written(data: Buffer, blockBytes: number, iv = IV): Buffer[] {
  const writer = new SegmentMacWriter(MAC_KEY, iv, blockBytes);
  let at = 0;
  for (let step = 1; at < data.length; step = (step * 7 + 13_331) % 300_000) {
    writer.update(data.subarray(at, at + step));
    at += step;
  }
  const all = writer.finish();
  const tags: Buffer[] = [];
  for (let i = 0; i < all.length; i += TAG_BYTES) tags.push(all.subarray(i, i + TAG_BYTES));
  return tags;
}

/** The segments of a part as reads see them: each block cut every MAC_SEGMENT_BYTES. */
function segmentsOf(data: Buffer, blockBytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let block = 0; block < data.length; block += blockBytes) {
    const end = Math.min(data.length, block + blockBytes);
    for (let at = block; at < end; at += SEG) out.push(data.subarray(at, Math.min(end, at + SEG)));
  }
  return out;
}

function blockSizes(bytes: number, blockBytes: number): number[] {
  const sizes: number[] = [];
  for (let at = 0; at < bytes; at += blockBytes) sizes.push(Math.min(blockBytes, bytes - at));
  return sizes;
}

test('the writer tags each segment of each block, the last one with the part size', (t) => {
  for (const blockBytes of [MIB, 300 * KIB]) {
    const data = randomBytes(2 * MIB + 12_345);
    const tags = written(data, blockBytes);
    const segments = segmentsOf(data, blockBytes);
    t.is(tags.length, segments.length, `${blockBytes}: one tag per segment`);
    const partKey = partMacKey(MAC_KEY, IV);
    for (const [index, segment] of segments.entries()) {
      const last = index === segments.length - 1 ? data.length : null;
      t.true(segmentTag(partKey, index, segment, last).equals(tags[index] ?? Buffer.alloc(0)));
    }
  }
});

test('a tag binds the bytes, the index, the part (IV), the end and the size, and the key', (t) => {
  const partKey = partMacKey(MAC_KEY, IV);
  const segment = randomBytes(SEG);
  const tag = segmentTag(partKey, 3, segment, null);
  const flipped = Buffer.from(segment);
  flipped[100] = (flipped[100] ?? 0) ^ 1;
  t.false(segmentTag(partKey, 3, flipped, null).equals(tag), 'bytes');
  t.false(segmentTag(partKey, 4, segment, null).equals(tag), 'index');
  t.false(segmentTag(partMacKey(MAC_KEY, randomBytes(16)), 3, segment, null).equals(tag), 'IV');
  t.false(segmentTag(partKey, 3, segment, 4 * SEG).equals(tag), 'last');
  const lastTag = segmentTag(partKey, 3, segment, 4 * SEG);
  t.false(segmentTag(partKey, 3, segment, 4 * SEG + 1).equals(lastTag), 'part size');
  const otherIdentity = macKeyOf(DATA_KEY, 'hangar-sse-data-key\0kms\0k\x001\0');
  t.false(segmentTag(partMacKey(otherIdentity, IV), 3, segment, null).equals(tag), 'identity');
  const dualLayer = macKeyOf({ ...DATA_KEY, outerKey: randomBytes(32) }, macIdentityOf(null));
  t.false(segmentTag(partMacKey(dualLayer, IV), 3, segment, null).equals(tag), 'outer key');
});

/** Checks every segment of a (possibly forged) part as a read does; the first mismatch. */
function readCheck(
  tags: SegmentTags,
  sizes: readonly number[],
  stored: Buffer,
  blockBytes: number,
): string | null {
  let position = 0;
  for (const [block, bytes] of sizes.entries()) {
    for (let offset = 0; offset < bytes; offset += SEG) {
      const length = Math.min(SEG, bytes - offset);
      const check = tags.check(block, offset, length, bytes);
      check.update(stored.subarray(position + offset, position + offset + length));
      const mismatch = check.mismatch();
      if (mismatch !== null) return mismatch;
    }
    position += bytes;
    if (bytes !== blockBytes) break;
  }
  return null;
}

test('reads accept the part as written; reject swapped, truncated and resized parts', (t) => {
  const data = randomBytes(MIB + 5 * KIB);
  const macs = [Buffer.concat(written(data, MIB)).toString('base64')];
  const sizes = blockSizes(data.length, MIB);
  const reader = new SegmentTags(MAC_KEY, [IV.toString('base64')], macs, sizes, [data.length]);
  t.is(readCheck(reader, sizes, data, MIB), null);

  const swapped = Buffer.concat([
    data.subarray(SEG, 2 * SEG),
    data.subarray(0, SEG),
    data.subarray(2 * SEG),
  ]);
  t.regex(readCheck(reader, sizes, swapped, MIB) ?? '', /segment 0 fails/);

  // Cut to its first block, the record's sizes edited to match: its last segment was not last.
  const cut = new SegmentTags(MAC_KEY, [IV.toString('base64')], macs, [MIB], [MIB]);
  t.regex(readCheck(cut, [MIB], data.subarray(0, MIB), MIB) ?? '', /segment 3 fails/);

  // A size edited (say to hide a tail) fails the last segment.
  const resized = new SegmentTags(MAC_KEY, [IV.toString('base64')], macs, sizes, [data.length - 1]);
  t.regex(readCheck(resized, sizes, data, MIB) ?? '', /segment 4 fails/);

  // Tags from nowhere (none on record for a segment) fail, never pass.
  const short = new SegmentTags(MAC_KEY, [IV.toString('base64')], [''], sizes, [data.length]);
  t.regex(readCheck(short, sizes, data, MIB) ?? '', /no tag on record/);

  // An inline body is one block of its size.
  const small = randomBytes(3000);
  const smallTags = [Buffer.concat(written(small, MIB)).toString('base64')];
  const inline = new SegmentTags(MAC_KEY, [IV.toString('base64')], smallTags, [3000], [3000]);
  t.is(inline.verifyWhole(small), null);
  small[0] = (small[0] ?? 0) ^ 0x80;
  t.not(inline.verifyWhole(small), null);
});

test('multipart: segments are numbered in each part, tags checked with that part’s IV', (t) => {
  const parts = [randomBytes(MIB + 7), randomBytes(300 * KIB)];
  const ivs = [randomBytes(16), randomBytes(16)];
  const macs = parts.map((part, i) => Buffer.concat(written(part, MIB, ivs[i])).toString('base64'));
  const sizes = [MIB, 7, 300 * KIB];
  const tags = new SegmentTags(
    MAC_KEY,
    ivs.map((iv) => iv.toString('base64')),
    macs,
    sizes,
    parts.map((part) => part.length),
  );
  const second = parts[1] ?? Buffer.alloc(0);
  const check = tags.check(2, SEG, 300 * KIB - SEG, 300 * KIB);
  check.update(second.subarray(SEG));
  t.is(check.mismatch(), null, 'the second part’s last segment');
  const tail = tags.check(1, 0, 7, 7);
  tail.update((parts[0] ?? Buffer.alloc(0)).subarray(MIB));
  t.is(tail.mismatch(), null, 'the first part’s short last block');
  // The parts' tag lists swapped: nothing checks.
  const crossed = new SegmentTags(
    MAC_KEY,
    ivs.map((iv) => iv.toString('base64')),
    [...macs].reverse(),
    sizes,
    parts.map((part) => part.length),
  );
  const moved = crossed.check(2, 0, SEG, 300 * KIB);
  moved.update(second.subarray(0, SEG));
  t.not(moved.mismatch(), null);
});

test('a multipart part’s tags bind its number; the record’s numbers must ascend', (t) => {
  const data = randomBytes(300 * KIB);
  const tagsOf = (partNumber: number | null): string => {
    const writer = new SegmentMacWriter(MAC_KEY, IV, MIB, partNumber);
    writer.update(data);
    return writer.finish().toString('base64');
  };
  const sizes = [data.length];
  const readerFor = (macs: string, numbers?: number[]) =>
    new SegmentTags(MAC_KEY, [IV.toString('base64')], [macs], sizes, sizes, numbers);
  t.is(readCheck(readerFor(tagsOf(2), [2]), sizes, data, MIB), null);
  t.regex(readCheck(readerFor(tagsOf(2), [3]), sizes, data, MIB) ?? '', /fails its SSE tag/);
  // Read as a part tagged before numbers (0) or as a whole object: another key, no match.
  t.not(readCheck(readerFor(tagsOf(2), [0]), sizes, data, MIB), null);
  t.not(readCheck(readerFor(tagsOf(2)), sizes, data, MIB), null);
  // A part tagged before numbers reads with 0, or with no list at all.
  t.is(readCheck(readerFor(tagsOf(null), [0]), sizes, data, MIB), null);
  t.is(readCheck(readerFor(tagsOf(null)), sizes, data, MIB), null);
  t.not(partMacKey(MAC_KEY, IV, 1).equals(partMacKey(MAC_KEY, IV)), 'numbered keys differ');
  const misordered = new SegmentTags(
    MAC_KEY,
    [IV.toString('base64'), IV.toString('base64')],
    [tagsOf(2), tagsOf(1)],
    [data.length, data.length],
    [data.length, data.length],
    [2, 1],
  );
  t.regex(readCheck(misordered, [data.length], data, MIB) ?? '', /out of order/);
});
