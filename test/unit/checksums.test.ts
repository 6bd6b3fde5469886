import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import test from 'ava';
import {
  CHECKSUM_ALGORITHMS,
  combineCrcs,
  compositeChecksum,
  isChecksumValue,
  startChecksum,
} from '../../engine/checksums/checksums.js';
import { randomBytesSeeded } from '../helpers/server.js';

const CHECK = Buffer.from('123456789');

function digestOf(
  algorithm: (typeof CHECKSUM_ALGORITHMS)[number],
  data: Buffer,
  splits: number[] = [],
): Buffer {
  const running = startChecksum(algorithm);
  let offset = 0;
  for (const split of [...splits, data.length]) {
    running.update(data.subarray(offset, split));
    offset = split;
  }
  return running.digest();
}

test('each algorithm matches its published check value', (t) => {
  t.is(digestOf('CRC32', CHECK).toString('hex'), 'cbf43926');
  t.is(digestOf('CRC32C', CHECK).toString('hex'), 'e3069283');
  t.is(digestOf('CRC64NVME', CHECK).toString('hex'), 'ae8b14860a799888');
  t.is(digestOf('SHA1', CHECK).toString('hex'), createHash('sha1').update(CHECK).digest('hex'));
  t.is(digestOf('SHA256', CHECK).toString('hex'), createHash('sha256').update(CHECK).digest('hex'));
});

test('running checksums do not depend on how the data is split', (t) => {
  const data = randomBytesSeeded(100_003, 3);
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    t.deepEqual(
      digestOf(algorithm, data, [1, 7, 4096, 4097, 99_999]),
      digestOf(algorithm, data),
      algorithm,
    );
  }
});

test('combined CRCs equal the CRC of the whole object', (t) => {
  const sizes = [5 * 1024 * 1024, 1, 0, 777_777, 3];
  const parts = sizes.map((size, i) => randomBytesSeeded(size, i + 10));
  const whole = Buffer.concat(parts);
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    const combined = combineCrcs(
      algorithm,
      parts.map((part) => ({ digest: digestOf(algorithm, part), bytes: part.length })),
    );
    t.deepEqual(combined, digestOf(algorithm, whole), algorithm);
  }
  const zlibWhole = Buffer.alloc(4);
  zlibWhole.writeUInt32BE(crc32(whole) >>> 0);
  t.deepEqual(digestOf('CRC32', whole), zlibWhole);
});

test('a composite checksum is the checksum of the part digests, with the part count', (t) => {
  const digests = [Buffer.from('aaaa'), Buffer.from('bbbb')];
  const expected = createHash('sha256').update(Buffer.concat(digests)).digest('base64');
  t.is(compositeChecksum('SHA256', digests), `${expected}-2`);
});

test('checksum values are checked for their size', (t) => {
  t.true(isChecksumValue('CRC32', 'AAAAAA=='));
  t.false(isChecksumValue('CRC32', 'AAAAAAAAAAA='));
  t.false(isChecksumValue('CRC64NVME', 'AAAAAA=='));
  t.false(isChecksumValue('SHA1', 'not base64!'));
});
