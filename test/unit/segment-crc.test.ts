import { randomBytes } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import test from 'ava';
import fc from 'fast-check';
import { crcsFit, SegmentCrcs, segmentCrcsOf } from '../../engine/blocks/segment-crc.js';

/** The reference: crc32c of each segment-sized slice, computed apart. */
function sliced(data: Buffer, segmentBytes: number): number[] {
  const values = [];
  for (let at = 0; at < data.length; at += segmentBytes) {
    values.push(crc32c(data.subarray(at, at + segmentBytes)));
  }
  return values;
}

test('a CRC per segment, the last covering what is left', (t) => {
  const data = randomBytes(3 * 1000 + 17);
  t.deepEqual(segmentCrcsOf(data, 1000), { segmentBytes: 1000, values: sliced(data, 1000) });
  t.deepEqual(segmentCrcsOf(data.subarray(0, 2000), 1000).values.length, 2);
  t.deepEqual(segmentCrcsOf(Buffer.alloc(0), 1000).values, []);
});

test('the pieces bytes arrive in do not change the CRCs', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 5000 }),
      fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 20 }),
      fc.integer({ min: 1, max: 1200 }),
      (bytes, cuts, segmentBytes) => {
        const data = Buffer.from(bytes);
        const crcs = new SegmentCrcs(segmentBytes);
        let at = 0;
        for (const cut of cuts) {
          crcs.update(data.subarray(at, at + cut));
          at = Math.min(data.length, at + cut);
        }
        crcs.update(data.subarray(at));
        const { values } = crcs.finish();
        return JSON.stringify(values) === JSON.stringify(sliced(data, segmentBytes));
      },
    ),
  );
  t.pass();
});

test('CRCs fit a block only with one per segment', (t) => {
  t.true(crcsFit({ segmentBytes: 1000, values: [1, 2, 3] }, 2001));
  t.false(crcsFit({ segmentBytes: 1000, values: [1, 2] }, 2001));
  t.false(crcsFit({ segmentBytes: 0, values: [] }, 0));
});
