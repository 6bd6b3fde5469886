/**
 * The pieces of a listing page, each against a plain oracle: the k-way merge of shard cursors
 * (http/s3/merge.ts) against sorting everything; compareUtf8 against Buffer.compare; isoTime
 * against Date#toISOString; the lean record decoder against cbor-x.
 */
import test from 'ava';
import fc from 'fast-check';
import { recordEncoder } from '../../engine/codec.js';
import { ListingDecoder } from '../../engine/meta/listing-decoder.js';
import { type BatchSource, compareUtf8, mergeSources } from '../../http/s3/merge.js';
import { isoTime } from '../../http/s3/xml.js';
import { check } from '../helpers/fuzz-props.js';

const byBytes = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Characters whose UTF-16 order differs from their UTF-8 order, and plain ones. */
const keyChar = fc.constantFrom('a', 'b', '/', 'z', 'é', '\uE000', '\uFFFD', '😀', '𝄞', '~', '0');
const name = fc.array(keyChar, { minLength: 1, maxLength: 6 }).map((chars) => chars.join(''));

test('compareUtf8 orders as UTF-8 bytes do', (t) => {
  check(
    fc.property(name, name, (a, b) => Math.sign(compareUtf8(a, b)) === Math.sign(byBytes(a, b))),
    300,
  );
  t.pass();
});

/** A shard: its sorted names, answering batches after a name; it counts its fetches. */
function shard(names: readonly string[]): BatchSource<string> & { fetches: number[] } {
  const sorted = [...names].sort(byBytes);
  const fetches: number[] = [];
  return {
    fetches,
    fetch: async (after, limit) => {
      fetches.push(limit);
      const rest = sorted.filter((n) => after === '' || byBytes(n, after) > 0);
      return { entries: rest.slice(0, limit), truncated: rest.length > limit };
    },
  };
}

test('mergeSources pages exactly as sorting every shard together does', async (t) => {
  const shardsArb = fc.array(fc.uniqueArray(name, { maxLength: 40 }), {
    minLength: 1,
    maxLength: 6,
  });
  const run = fc.asyncProperty(
    shardsArb,
    fc.integer({ min: 1, max: 12 }),
    fc.option(name, { nil: undefined }),
    async (shardNames, limit, start) => {
      // The oracle: every name once (shards may share one: a common prefix), sorted.
      const all = [...new Set(shardNames.flat())].sort(byBytes);
      let after = start ?? '';
      const walked: string[] = [];
      for (let page = 0; page < 500; page++) {
        const sources = shardNames.map(shard);
        const got = await mergeSources(sources, (n) => n, after, limit);
        const expected = all.filter((n) => after === '' || byBytes(n, after) > 0);
        if (
          JSON.stringify(got.entries) !== JSON.stringify(expected.slice(0, limit)) ||
          got.truncated !== expected.length > limit
        )
          return false;
        // Never more fetched from a shard than the page needs plus one.
        for (const source of sources) {
          if (source.fetches.reduce((sum, n) => sum + n, 0) > 2 * (limit + 1)) return false;
        }
        walked.push(...got.entries);
        if (!got.truncated) break;
        after = got.entries[got.entries.length - 1] as string;
      }
      const fromStart = all.filter((n) => start === undefined || byBytes(n, start) > 0);
      return JSON.stringify(walked) === JSON.stringify(fromStart);
    },
  );
  await fc.assert(run, { numRuns: 300 });
  t.pass();
});

test('mergeSources asks a balanced shard once per page', async (t) => {
  const names = Array.from({ length: 4000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
  const shards = [0, 1, 2, 3].map((s) => shard(names.filter((_, i) => i % 4 === s)));
  const page = await mergeSources(shards, (n) => n, '', 1000);
  t.is(page.entries.length, 1000);
  t.true(page.truncated);
  for (const s of shards) t.is(s.fetches.length, 1, 'one batch from each shard');
  t.true(
    shards.every((s) => (s.fetches[0] as number) < 400),
    'each shard is asked for about its share',
  );
});

test('isoTime writes what toISOString writes', (t) => {
  check(
    fc.property(
      fc.oneof(
        fc.integer({ min: 0, max: 253_402_300_799_999 }),
        fc.integer({ min: -8.64e15, max: 8.64e15 }),
        fc.double({ min: -1e13, max: 1e13, noNaN: true }),
      ),
      (ms) => isoTime(ms) === new Date(ms).toISOString(),
    ),
    500,
  );
  t.is(isoTime(0), '1970-01-01T00:00:00.000Z');
  t.is(isoTime(253_402_300_800_000), '+010000-01-01T00:00:00.000Z');
});

/**
 * A record encoded with its fields rotated (records from other writers may order them any way),
 * and a copy in a longer buffer: lmdb-js hands a decoder its shared buffer, longer than the record.
 */
function encodeRotated(
  codec: ReturnType<typeof recordEncoder>,
  record: object,
  rotation: number,
): { encoded: Buffer; shared: Buffer } {
  const fields = Object.entries(record);
  const shift = rotation % fields.length;
  const reordered = Object.fromEntries([...fields.slice(shift), ...fields.slice(0, shift)]);
  const encoded = codec.encode(reordered);
  const shared = Buffer.alloc(encoded.length + 16, 0xff);
  encoded.copy(shared);
  return { encoded, shared };
}

test('the lean record decoder reads what cbor-x reads, whatever the field order', (t) => {
  const codec = recordEncoder();
  const decoder = new ListingDecoder(codec);
  const recordArb = fc.record({
    headers: fc.dictionary(fc.string(), fc.string()),
    blocks: fc.array(fc.record({ hash: fc.string(), bytes: fc.nat() })),
    inline: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
    bytes: fc.oneof(fc.nat(), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER })),
    etag: fc.string(),
    lastModifiedMs: fc.oneof(fc.nat(), fc.double({ noNaN: true })),
    checksum: fc.option(fc.record({ algorithm: fc.string(), base64: fc.string() }), { nil: null }),
    tags: fc.array(fc.record({ key: fc.string(), value: fc.string() })),
  });
  check(
    fc.property(recordArb, fc.nat(), (record, rotation) => {
      const { encoded, shared } = encodeRotated(codec, record, rotation);
      const lean = decoder.decode(shared, encoded.length);
      const full = codec.decode(encoded) as typeof record;
      return (
        lean.bytes === full.bytes &&
        lean.etag === full.etag &&
        Object.is(lean.lastModifiedMs, full.lastModifiedMs)
      );
    }),
    300,
  );
  t.pass();
});

test('the lean decoder with owners reads the optional owner as cbor-x does', (t) => {
  const codec = recordEncoder();
  const plain = new ListingDecoder(codec);
  const withOwner = new ListingDecoder(codec, true);
  const recordArb = fc.record(
    {
      headers: fc.dictionary(fc.string(), fc.string()),
      blocks: fc.array(fc.record({ hash: fc.string(), bytes: fc.nat() })),
      bytes: fc.nat(),
      etag: fc.string(),
      lastModifiedMs: fc.nat(),
      owner: fc.string(),
      acl: fc.record({ owner: fc.string(), grants: fc.array(fc.string()) }),
      versionId: fc.string(),
    },
    { requiredKeys: ['headers', 'blocks', 'bytes', 'etag', 'lastModifiedMs'] },
  );
  check(
    fc.property(recordArb, fc.nat(), (record, rotation) => {
      const { encoded, shared } = encodeRotated(codec, record, rotation);
      const lean = withOwner.decode(shared, encoded.length);
      const without = plain.decode(shared, encoded.length);
      return (
        lean.owner === record.owner &&
        lean.bytes === record.bytes &&
        lean.etag === record.etag &&
        lean.lastModifiedMs === record.lastModifiedMs &&
        without.owner === undefined
      );
    }),
    300,
  );
  t.pass();
});
