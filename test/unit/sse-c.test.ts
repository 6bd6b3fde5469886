import { createCipheriv, randomBytes } from 'node:crypto';
import test from 'ava';
import { decryptAt, encryptor, newIv, segmentAt } from '../../engine/sse-c.js';

const key = { key: randomBytes(32), md5Base64: '' };

test('any byte range of an AES-256-CTR stream decrypts on its own', (t) => {
  const iv = newIv();
  const plain = randomBytes(70_000);
  const encrypt = encryptor(key, iv);
  const cipher = Buffer.concat([encrypt(plain.subarray(0, 17)), encrypt(plain.subarray(17))]);
  const reference = createCipheriv('aes-256-ctr', key.key, iv).update(plain);
  t.deepEqual(cipher, reference);
  for (const [start, end] of [
    [0, 70_000],
    [1, 2],
    [15, 33],
    [16, 32],
    [12_345, 67_890],
    [69_999, 70_000],
  ] as const) {
    const piece = Buffer.from(cipher.subarray(start, end));
    decryptAt(key, iv, start, piece);
    t.deepEqual(piece, plain.subarray(start, end), `${start}-${end}`);
  }
});

test('the counter carries across IV bytes', (t) => {
  const iv = Buffer.alloc(16, 0xff);
  const plain = randomBytes(64);
  const cipher = createCipheriv('aes-256-ctr', key.key, iv).update(plain);
  const piece = Buffer.from(cipher.subarray(32));
  decryptAt(key, iv, 32, piece);
  t.deepEqual(piece, plain.subarray(32));
});

test('positions map to their part and its IV', (t) => {
  const encryption = {
    keyMd5: 'x',
    ivs: [Buffer.alloc(16, 1).toString('base64'), Buffer.alloc(16, 2).toString('base64')],
  };
  t.deepEqual(segmentAt(encryption, [10, 5], 12), { iv: Buffer.alloc(16, 2), offset: 2 });
  t.deepEqual(segmentAt(encryption, [10, 5], 9), { iv: Buffer.alloc(16, 1), offset: 9 });
  t.throws(() => segmentAt(encryption, [10, 5], 15));
});
