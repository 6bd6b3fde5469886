/**
 * Hash and checksum throughput over 1 MiB, the block size: MD5 (ETag, Content-MD5), SHA-256
 * (block names, signed payloads), CRC32 (node:zlib), and the CRC32C / CRC64NVME candidates for
 * the checksums issue: our plain-JS slice-by-8 tables (crc-reference.ts), @node-rs/crc32's
 * native CRC32C, and the AWS SDK's own JS CRC64NVME (@aws-sdk/crc64-nvme, what a client computes).
 * The reference is a 1 MiB Buffer.copy: every PUT byte is copied at least once anyway.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { crc32cCandidate, crc64NvmeCandidate } from './crc-reference.js';
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

async function sdkCrc64(data: Uint8Array): Promise<bigint> {
  const hash = new Crc64Nvme();
  hash.update(data);
  return Buffer.from(await hash.digest()).readBigUInt64BE(0);
}

/** Check values, agreement with the packages, and continuation across pieces. */
async function selfCheck(data: Buffer): Promise<void> {
  const nine = Buffer.from('123456789');
  check(crc32cCandidate(nine) === 0xe3069283, 'CRC32C check value');
  check(crc64NvmeCandidate(nine) === 0xae8b14860a799888n, 'CRC64NVME check value');
  check(nativeCrc32c(nine) === 0xe3069283, '@node-rs/crc32 check value');
  check((await sdkCrc64(nine)) === 0xae8b14860a799888n, '@aws-sdk/crc64-nvme check value');
  check(crc32cCandidate(data) === nativeCrc32c(data), 'CRC32C matches @node-rs/crc32 on 1 MiB');
  check(crc64NvmeCandidate(data) === (await sdkCrc64(data)), 'CRC64NVME matches the SDK on 1 MiB');
  const cut = 12_345; // not a multiple of 8
  const c32 = crc32cCandidate(data.subarray(cut), crc32cCandidate(data.subarray(0, cut)));
  check(c32 === crc32cCandidate(data), 'CRC32C continues across pieces');
  const c64 = crc64NvmeCandidate(data.subarray(cut), crc64NvmeCandidate(data.subarray(0, cut)));
  check(c64 === crc64NvmeCandidate(data), 'CRC64NVME continues across pieces');
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const data = pseudoRandomBytes(MIB);
  const copy = Buffer.alloc(MIB);
  await selfCheck(data);

  let sink = 0;
  const tasks: Array<[string, () => unknown]> = [
    ['MD5 (node:crypto)', () => (sink += createHash('md5').update(data).digest()[0]!)],
    ['SHA-256 (node:crypto)', () => (sink += createHash('sha256').update(data).digest()[0]!)],
    ['CRC32 (node:zlib)', () => (sink += crc32(data))],
    ['CRC32C candidate (JS slice-by-8)', () => (sink += crc32cCandidate(data))],
    ['CRC32C @node-rs/crc32 (native)', () => (sink += nativeCrc32c(data))],
    ['CRC64NVME candidate (JS slice-by-8)', () => (sink += Number(crc64NvmeCandidate(data) & 1n))],
    [
      'CRC64NVME @aws-sdk/crc64-nvme (JS)',
      async () => (sink += Number((await sdkCrc64(data)) & 1n)),
    ],
    [`${REF_PREFIX}Buffer.copy 1 MiB`, () => data.copy(copy)],
  ];
  const bench = newBench('hash', opts);
  const bytes: Record<string, number> = {};
  for (const [name, fn] of tasks) {
    bench.add(name, fn);
    bytes[name] = MIB;
  }
  const results = await runGroup('hash', bench, bytes);
  check(sink !== 0, 'work was done');
  return results;
}
