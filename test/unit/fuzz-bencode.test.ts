/**
 * Property test of the bencoder GetObjectTorrent writes: any value decodes back (with an
 * independent decoder that insists on sorted dictionary keys) to what was encoded.
 */
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { type BValue, bencode } from '../../http/s3/torrent/bencode.js';
import { bdecode, type Decoded } from '../helpers/bdecode.js';

const value: fc.Arbitrary<BValue> = fc.letrec<{ v: BValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.maxSafeInteger(),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie('v'), { maxKeys: 5 }),
  ),
})).v;

/** What `v` decodes to: strings become their UTF-8 bytes, numbers bigints. */
function expected(v: BValue): Decoded {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return (v as readonly BValue[]).map(expected);
  const dict = v as Readonly<Record<string, BValue>>;
  return new Map(
    Object.keys(dict).map((k) => [
      Buffer.from(k, 'utf8').toString('latin1'),
      expected(dict[k] as BValue),
    ]),
  );
}

test('every value bencodes to bytes that decode back to it, keys sorted', (t) => {
  fc.assert(
    fc.property(value, (v) => isDeepStrictEqual(bdecode(bencode(v)), expected(v))),
    { numRuns: 500 },
  );
  t.pass();
});

test('bencode writes the format byte for byte', (t) => {
  const bytes = bencode({ spam: ['a', 'b'], cow: 'moo', n: -3, z: 0 });
  t.is(bytes.toString('latin1'), 'd3:cow3:moo1:ni-3e4:spaml1:a1:be1:zi0ee');
  t.throws(() => bencode(1.5));
});
