import test from 'ava';
import fc from 'fast-check';
import { LIMITS } from '../../engine/limits.js';
import { type KeyedRow, SeekCursor } from '../../engine/meta/seek-cursor.js';

/** The answer SeekCursor must give: the first sorted row with start <= key < end. */
function firstIn(rows: readonly KeyedRow<number>[], start: Buffer, end: Buffer) {
  return rows.find(
    (row) => Buffer.compare(row.key, start) >= 0 && Buffer.compare(row.key, end) < 0,
  );
}

const key = fc.uint8Array({ minLength: 0, maxLength: 3 }).map((bytes) => Buffer.from(bytes));

test('a cursor answers every growing start as a fresh range would, opening few ranges', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(key, { maxLength: 200, selector: (k) => k.toString('hex') }),
      fc.array(key, { maxLength: 60 }),
      key,
      (keys, starts, end) => {
        const rows = keys.sort(Buffer.compare).map((k, value) => ({ key: k, value }));
        let opened = 0;
        const cursor = new SeekCursor<number>((from, to) => {
          opened++;
          return rows.filter(
            (row) => Buffer.compare(row.key, from) >= 0 && Buffer.compare(row.key, to) < 0,
          );
        });
        const growing = starts.sort(Buffer.compare);
        for (const start of growing) {
          t.deepEqual(cursor.first(start, end), firstIn(rows, start, end));
        }
        t.true(opened <= growing.length);
      },
    ),
  );
});

test('a page that resumes just past each row opens one range', (t) => {
  const rows = Array.from({ length: 500 }, (_, i) => ({
    key: Buffer.from(String(i).padStart(4, '0')),
    value: i,
  }));
  let opened = 0;
  const cursor = new SeekCursor<number>((from) => {
    opened++;
    return rows.filter((row) => Buffer.compare(row.key, from) >= 0);
  });
  const end = Buffer.from('9999');
  let start = Buffer.alloc(0);
  const seen: number[] = [];
  for (let row = cursor.first(start, end); row !== undefined; row = cursor.first(start, end)) {
    seen.push(row.value);
    start = Buffer.concat([row.key, Buffer.from([0])]);
  }
  t.deepEqual(
    seen,
    rows.map((row) => row.value),
  );
  t.is(opened, 1);
  // A jump further than the skip bound opens a range there.
  const far = cursor.first(Buffer.alloc(0), end);
  t.is(far?.value, 0);
  t.is(
    cursor.first(rows[LIMITS.listSeekSkipRowsMax + 5]?.key ?? end, end)?.value,
    LIMITS.listSeekSkipRowsMax + 5,
  );
  t.is(opened, 3);
});
