/**
 * CRC-64/NVME (S3's CRC64NVME additional checksum): reflected poly 0xAD93D23594C93659, init and
 * final XOR all ones; check("123456789") = 0xAE8B14860A799888. No maintained native package
 * exists for Node 20 without aws-crt, so it is plain JS: table-driven slice-by-8, 2.4x faster
 * than @aws-sdk/crc64-nvme's JS (bench/micro/hash.bench.ts). `previous` continues a running CRC.
 */

// ---------------------------------------------------------------------------------------------
// CRC64NVME: the 64-bit state lives in two 32-bit halves (BigInt arithmetic would be ~50x
// slower); tables likewise split into low and high words.

const CRC64_POLY_LO = 0xac4bc9b5;
const CRC64_POLY_HI = 0x9a6c9329;

const [CRC64_LO, CRC64_HI] = (() => {
  const lo = new Int32Array(8 * 256);
  const hi = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let l = i;
    let h = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = l & 1;
      l = (l >>> 1) | ((h & 1) << 31);
      h >>>= 1;
      if (carry) {
        l ^= CRC64_POLY_LO;
        h ^= CRC64_POLY_HI;
      }
    }
    lo[i] = l;
    hi[i] = h;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const pl = lo[(k - 1) * 256 + i]!;
      const ph = hi[(k - 1) * 256 + i]!;
      const idx = pl & 0xff;
      lo[k * 256 + i] = ((pl >>> 8) | (ph << 24)) ^ lo[idx]!;
      hi[k * 256 + i] = (ph >>> 8) ^ hi[idx]!;
    }
  }
  return [lo, hi] as const;
})();

export function crc64nvme(data: Uint8Array, previous = 0n): bigint {
  const tl = CRC64_LO;
  const th = CRC64_HI;
  let lo = ~Number(previous & 0xffffffffn);
  let hi = ~Number(previous >> 32n);
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = (lo ^ data[i]!) & 0xff;
    const b = ((lo >>> 8) ^ data[i + 1]!) & 0xff;
    const c = ((lo >>> 16) ^ data[i + 2]!) & 0xff;
    const d = (lo >>> 24) ^ data[i + 3]!;
    const e = (hi ^ data[i + 4]!) & 0xff;
    const f = ((hi >>> 8) ^ data[i + 5]!) & 0xff;
    const g = ((hi >>> 16) ^ data[i + 6]!) & 0xff;
    const h = (hi >>> 24) ^ data[i + 7]!;
    lo =
      tl[1792 + a]! ^
      tl[1536 + b]! ^
      tl[1280 + c]! ^
      tl[1024 + d]! ^
      tl[768 + e]! ^
      tl[512 + f]! ^
      tl[256 + g]! ^
      tl[h]!;
    hi =
      th[1792 + a]! ^
      th[1536 + b]! ^
      th[1280 + c]! ^
      th[1024 + d]! ^
      th[768 + e]! ^
      th[512 + f]! ^
      th[256 + g]! ^
      th[h]!;
  }
  for (; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ tl[idx]!;
    hi = (hi >>> 8) ^ th[idx]!;
  }
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
}
