import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import { assert } from '../assert.js';
import { crc64nvme } from './crc64nvme.js';

/**
 * S3's additional checksums. CRCs run at memory speed (zlib's CRC32, @node-rs/crc32's native
 * CRC32C) or close to it (CRC64NVME in JS); SHA-1 and SHA-256 come from node:crypto.
 */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** A checksum stored with an object or part (base64, as S3 shows it). */
export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  base64: string;
  type: ChecksumType;
}

export interface RunningChecksum {
  update(view: Uint8Array): void;
  digest(): Buffer;
}

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export function parseChecksumAlgorithm(text: string): ChecksumAlgorithm | null {
  const upper = text.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)
    ? (upper as ChecksumAlgorithm)
    : null;
}

/** `x-amz-checksum-crc32c` for CRC32C, and so on. */
export function checksumHeaderOf(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** Whether `base64` decodes to a digest of the algorithm's size. */
export function isChecksumValue(algorithm: ChecksumAlgorithm, base64: string): boolean {
  return (
    /^[A-Za-z0-9+/]+={0,2}$/.test(base64) &&
    Buffer.from(base64, 'base64').length === DIGEST_BYTES[algorithm]
  );
}

export function startChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  switch (algorithm) {
    case 'CRC32':
      return runningCrc32(crc32);
    case 'CRC32C':
      return runningCrc32(crc32c);
    case 'CRC64NVME':
      return runningCrc64();
    case 'SHA1':
    case 'SHA256':
      return runningHash(createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256'));
  }
}

function runningCrc32(update: (data: Uint8Array, previous: number) => number): RunningChecksum {
  let crc = 0;
  return {
    update: (view) => {
      crc = update(view, crc);
    },
    digest: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out;
    },
  };
}

function runningCrc64(): RunningChecksum {
  let crc = 0n;
  return {
    update: (view) => {
      crc = crc64nvme(view, crc);
    },
    digest: () => {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(crc);
      return out;
    },
  };
}

function runningHash(hash: Hash): RunningChecksum {
  return { update: (view) => hash.update(view), digest: () => hash.digest() };
}

/** Which checksum types an algorithm allows for multipart uploads (AWS's table). */
export function allowsType(algorithm: ChecksumAlgorithm, type: ChecksumType): boolean {
  if (type === 'COMPOSITE') return algorithm !== 'CRC64NVME';
  return algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME';
}

/** The default multipart checksum type: FULL_OBJECT for CRC64NVME, COMPOSITE for the rest. */
export function defaultType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

/** A COMPOSITE checksum: the algorithm over the concatenated part digests, then "-<parts>". */
export function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partDigests: readonly Buffer[],
): string {
  const running = startChecksum(algorithm);
  for (const digest of partDigests) running.update(digest);
  return `${running.digest().toString('base64')}-${partDigests.length}`;
}

/** Reflected polynomials of the CRCs, for combining. */
const CRC_POLY: Partial<Record<ChecksumAlgorithm, { poly: bigint; width: number }>> = {
  CRC32: { poly: 0xedb88320n, width: 32 },
  CRC32C: { poly: 0x82f63b78n, width: 32 },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64 },
};

/**
 * A FULL_OBJECT CRC of a multipart object from its parts' CRCs and sizes, without reading the
 * data again: zlib's crc32_combine (GF(2) matrix squaring), generalised to any reflected CRC.
 */
export function combineCrcs(
  algorithm: ChecksumAlgorithm,
  parts: ReadonlyArray<{ digest: Buffer; bytes: number }>,
): Buffer {
  const spec = CRC_POLY[algorithm];
  assert(spec !== undefined, 'only CRCs combine');
  let crc = 0n;
  let first = true;
  for (const part of parts) {
    const value =
      spec.width === 32 ? BigInt(part.digest.readUInt32BE(0)) : part.digest.readBigUInt64BE(0);
    crc = first ? value : combinePair(spec.poly, spec.width, crc, value, part.bytes);
    first = false;
  }
  const out = Buffer.alloc(spec.width / 8);
  if (spec.width === 32) out.writeUInt32BE(Number(crc));
  else out.writeBigUInt64BE(crc);
  return out;
}

function combinePair(
  poly: bigint,
  width: number,
  crc1: bigint,
  crc2: bigint,
  bytes2: number,
): bigint {
  if (bytes2 === 0) return crc1;
  let odd: bigint[] = [poly];
  let row = 1n;
  for (let n = 1; n < width; n++) {
    odd.push(row);
    row <<= 1n;
  }
  let even = squareMatrix(odd);
  odd = squareMatrix(even);
  let remaining = bytes2;
  let result = crc1;
  while (remaining > 0) {
    even = squareMatrix(odd);
    if (remaining % 2 === 1) result = timesMatrix(even, result);
    remaining = Math.floor(remaining / 2);
    if (remaining === 0) break;
    odd = squareMatrix(even);
    if (remaining % 2 === 1) result = timesMatrix(odd, result);
    remaining = Math.floor(remaining / 2);
  }
  return result ^ crc2;
}

function timesMatrix(matrix: readonly bigint[], vector: bigint): bigint {
  let sum = 0n;
  let v = vector;
  for (let i = 0; v !== 0n; i++, v >>= 1n) if (v & 1n) sum ^= matrix[i] ?? 0n;
  return sum;
}

function squareMatrix(matrix: readonly bigint[]): bigint[] {
  return matrix.map((row) => timesMatrix(matrix, row));
}
