/**
 * The cost block compression (block_compression = "zstd") adds to a 1 MiB block, in the shard
 * thread: compressBlock of log-like text (stored compressed) and of random bytes (the attempt
 * a store pays before keeping an incompressible block plain), and decompressBlock of the text's
 * frame, which includes the SHA-256 check every read of a compressed block makes. The reference
 * is SHA-256 of 1 MiB, what every block write and scrub costs anyway.
 */
import { createHash } from 'node:crypto';
import { compressBlock, decompressBlock } from '../../engine/blocks/compressed.js';
import {
  check,
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  pseudoRandomBytes,
  REF_PREFIX,
  runGroup,
} from './harness.js';

/** Log-like lines with a pseudo-random field: zstd level 3 shrinks them several times. */
function logLines(bytes: number): Buffer {
  const noise = pseudoRandomBytes(bytes);
  const lines: string[] = [];
  let length = 0;
  for (let n = 0; length < bytes; n++) {
    const line = `2026-12-05T11:${n % 60} GET /bucket/key-${noise[n % bytes]} 200 ${noise.readUInt16LE(n % (bytes - 2))}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const text = logLines(MIB);
  const random = pseudoRandomBytes(MIB);
  const frame = compressBlock(text);
  check(frame !== null, 'log lines compress');
  check(compressBlock(random) === null, 'random bytes are kept plain');
  const hash = createHash('sha256').update(text).digest('hex');
  check(decompressBlock(frame, hash, MIB).equals(text), 'the frame decodes to the block');
  let sink = 0;
  const tasks: Array<[string, () => unknown]> = [
    ['compressBlock 1 MiB of log lines', () => (sink += compressBlock(text)?.byteLength ?? 0)],
    ['compressBlock 1 MiB random (kept plain)', () => (sink += compressBlock(random) ? 1 : 2)],
    [
      'decompressBlock + SHA-256 check 1 MiB',
      () => (sink += decompressBlock(frame, hash, MIB)[0]!),
    ],
    [`${REF_PREFIX}SHA-256 1 MiB`, () => (sink += createHash('sha256').update(text).digest()[0]!)],
  ];
  const bench = newBench('zstd', opts);
  const bytes: Record<string, number> = {};
  for (const [name, fn] of tasks) {
    bench.add(name, fn);
    bytes[name] = MIB;
  }
  const results = await runGroup('zstd', bench, bytes);
  check(sink !== 0, 'work was done');
  console.error(`zstd: 1 MiB of log lines -> ${frame.byteLength} bytes`);
  return results;
}
