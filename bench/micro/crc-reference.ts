/**
 * BENCHMARK CANDIDATES for the checksums issue (CRC32C; CRC64NVME now lives in engine/checksums) for S3's additional
 * checksums): plain-JS, table-driven, slice-by-8 implementations, here only so the micro-benchmarks
 * can weigh them against node:zlib's CRC32 and the npm packages. Not used by the server. Both are
 * the reflected ("LSB-first") forms S3 uses, with init and final XOR of all ones, and take the
 * previous result to continue a running checksum across pieces.
 *
 *   CRC32C    poly 0x1EDC6F41 (reflected 0x82F63B78),         check("123456789") = 0xE3069283
 *   CRC64NVME poly 0xAD93D23594C93659 (refl. 0x9A6C9329AC4BC9B5), check("123456789") = 0xAE8B14860A799888
 */

// ---------------------------------------------------------------------------------------------
// CRC32C: 8 tables of 256 entries, flat; table k maps a byte to its CRC followed by k zero bytes.

const CRC32C_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

export function crc32cCandidate(data: Uint8Array, previous = 0): number {
  const t = CRC32C_TABLES;
  let crc = ~previous;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    crc =
      t[1792 + ((crc ^ data[i]!) & 0xff)]! ^
      t[1536 + (((crc >>> 8) ^ data[i + 1]!) & 0xff)]! ^
      t[1280 + (((crc >>> 16) ^ data[i + 2]!) & 0xff)]! ^
      t[1024 + ((crc >>> 24) ^ data[i + 3]!)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < data.length; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
  return ~crc >>> 0;
}

// CRC64NVME moved to production (engine/checksums/crc64nvme.ts); the benchmark measures that.
export { crc64nvme as crc64NvmeCandidate } from '../../engine/checksums/crc64nvme.js';
