import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { blockFileName, blockOfFileName } from '../../engine/blocks/block-names.js';
import {
  CorruptBlockFileError,
  compressBlock,
  decompressBlock,
  openBlockFile,
  savesEnough,
} from '../../engine/blocks/compressed.js';
import { BlockStore } from '../../engine/blocks/store.js';

/**
 * The compressed-block codec (engine/blocks/compressed.ts) on its own: what it compresses it
 * gives back byte for byte, what it keeps plain saved too little, and a damaged or mislabelled
 * frame is refused (CorruptBlockFileError), never decoded into other bytes.
 */

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Bytes from a small alphabet in runs: compressible, as text and logs are. */
const compressible = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 300 })), {
    minLength: 1,
    maxLength: 200,
  })
  .map((runs) => Buffer.concat(runs.map(([byte, length]) => Buffer.alloc(length, 97 + byte))));

/** Any bytes: compressible runs, or arbitrary (mostly incompressible) ones. */
const anyBlock = fc.oneof(compressible, fc.uint8Array({ minLength: 1, maxLength: 20_000 }));

test('a block stored compressed decodes to the same bytes; one it keeps plain saves too little', (t) => {
  fc.assert(
    fc.property(anyBlock, (bytes) => {
      const data = Buffer.from(bytes);
      const frame = compressBlock(data);
      if (frame === null) return true;
      return (
        savesEnough(data.byteLength, frame.byteLength) &&
        decompressBlock(frame, sha256(data), data.byteLength).equals(data)
      );
    }),
  );
  t.not(compressBlock(Buffer.alloc(1024 * 1024, 'log line ')), null);
  t.is(compressBlock(randomBytes(1024 * 1024)), null, 'random bytes are kept plain');
});

test('the skip threshold is one eighth of the block', (t) => {
  t.true(savesEnough(800, 700));
  t.false(savesEnough(800, 701));
  t.false(savesEnough(100, 100));
});

test('a damaged frame is refused or decodes to the very bytes, never to others', (t) => {
  fc.assert(
    fc.property(
      compressible.filter((data) => compressBlock(data) !== null),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (data, at, mask) => {
        const frame = compressBlock(data) as Buffer;
        const damaged = Buffer.from(frame);
        const index = at % damaged.byteLength;
        damaged[index] = (damaged[index] ?? 0) ^ mask;
        try {
          return decompressBlock(damaged, sha256(data), data.byteLength).equals(data);
        } catch (error) {
          return error instanceof CorruptBlockFileError;
        }
      },
    ),
  );
  t.pass();
});

test('a frame is checked against the recorded size and the name', (t) => {
  const data = Buffer.alloc(100_000, 'abc');
  const frame = compressBlock(data) as Buffer;
  const hash = sha256(data);
  t.true(decompressBlock(frame, hash, data.byteLength).equals(data));
  for (const [name, bytes] of [
    ['a larger record', data.byteLength + 1],
    ['a smaller record', data.byteLength - 1],
    ['a record no larger than the file', frame.byteLength],
  ] as const) {
    t.throws(
      () => decompressBlock(frame, hash, bytes),
      { instanceOf: CorruptBlockFileError },
      name,
    );
  }
  const other = sha256(Buffer.from('other'));
  t.throws(() => decompressBlock(frame, other, data.byteLength), {
    instanceOf: CorruptBlockFileError,
    message: /decodes to/,
  });
  t.throws(() => decompressBlock(Buffer.from('not zstd'), hash, data.byteLength), {
    instanceOf: CorruptBlockFileError,
  });
});

test('file names: <hash> is plain, <hash>.zst compressed, anything else a stray', (t) => {
  const hash = sha256(Buffer.from('x'));
  t.deepEqual(blockOfFileName(blockFileName(hash, true)), { hash, compressed: true });
  t.deepEqual(blockOfFileName(blockFileName(hash, false)), { hash, compressed: false });
  for (const stray of [`${hash}.zst.tmp`, `${hash}.gz`, 'abc.zst', `${hash.toUpperCase()}.zst`]) {
    t.is(blockOfFileName(stray), null, stray);
  }
});

test('a compressing store installs <hash>.zst or plain <hash>, and reads both back', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hangar-zstd-store-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const store = new BlockStore(join(root, 'blocks'), [], true, { compression: 'zstd' });
  await store.init();
  const texts = Buffer.alloc(300_000, 'the same line again\n');
  const noise = randomBytes(300_000);
  for (const [data, compressed] of [
    [texts, true],
    [noise, false],
  ] as const) {
    const writer = await store.beginBlock();
    // In pieces, as a PUT's body arrives.
    for (let at = 0; at < data.byteLength; at += 65_536) {
      await writer.write(data.subarray(at, at + 65_536));
    }
    const sealed = await writer.finish();
    t.is(sealed.hash, sha256(data));
    t.is(sealed.bytes, data.byteLength);
    await store.install(writer.tmpPath, sealed.hash, false);
    const path = join(
      root,
      'blocks',
      sealed.hash.slice(0, 2),
      blockFileName(sealed.hash, compressed),
    );
    t.true(statSync(path).size < (compressed ? data.byteLength / 8 : data.byteLength + 1), path);
    t.is(await store.sizeOf(sealed.hash), statSync(path).size);
    const file = await openBlockFile(store.pathOf(sealed.hash), sealed);
    const back = Buffer.alloc(data.byteLength);
    t.is((await file.read(back, 0, back.byteLength, 0)).bytesRead, data.byteLength);
    await file.close();
    t.true(back.equals(data));
    if (compressed)
      t.deepEqual(readFileSync(path).subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  }
  t.deepEqual(readdirSync(join(root, 'blocks', 'tmp')), [], 'no temp file is left');
  // The same hash installed in the other format replaces the first: one file per block.
  const writer = await store.beginBlock();
  await writer.write(texts);
  const sealed = await writer.finish();
  const plain = join(root, 'blocks', 'tmp', 'plain.tmp');
  writeFileSync(plain, texts);
  await store.replace(plain, sealed.hash);
  await writer.discard();
  const names = readdirSync(join(root, 'blocks', sealed.hash.slice(0, 2)));
  t.deepEqual(
    names.filter((name) => name.startsWith(sealed.hash)),
    [sealed.hash],
  );
  await store.remove(sealed.hash);
  t.is(await store.sizeOf(sealed.hash), null);
});
