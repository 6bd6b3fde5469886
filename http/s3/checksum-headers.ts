import { createHash } from 'node:crypto';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumHeaderOf,
  isChecksumValue,
  parseChecksumAlgorithm,
  type StoredChecksum,
  startChecksum,
} from '../../engine/checksums/checksums.js';
import { S3Error } from './errors.js';

/** The additional checksum a request declares: its algorithm, and its value unless a trailer brings it. */
export interface ChecksumPlan {
  algorithm: ChecksumAlgorithm | null;
  /** From an `x-amz-checksum-*` header. */
  headerValue: string | null;
  /** The trailer's name when the value comes after an aws-chunked body. */
  trailer: string | null;
}

/**
 * Reads `x-amz-checksum-<alg>`, `x-amz-trailer` and `x-amz-sdk-checksum-algorithm`: at most one
 * algorithm per request, and a value of the algorithm's digest size (AWS's InvalidRequest texts).
 */
export function planChecksum(
  headers: Readonly<Record<string, string>>,
  streaming: boolean,
): ChecksumPlan {
  const present = CHECKSUM_ALGORITHMS.filter(
    (algorithm) => headers[checksumHeaderOf(algorithm)] !== undefined,
  );
  if (present.length > 1) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  const fromHeader = present[0] ?? null;
  const headerValue = fromHeader === null ? null : (headers[checksumHeaderOf(fromHeader)] ?? null);
  if (fromHeader !== null && headerValue !== null && !isChecksumValue(fromHeader, headerValue)) {
    throw new S3Error(
      'InvalidRequest',
      `Value for ${checksumHeaderOf(fromHeader)} header is invalid.`,
    );
  }
  const fromTrailer = trailerAlgorithm(headers['x-amz-trailer'], streaming);
  const declared = headers['x-amz-sdk-checksum-algorithm'];
  const fromSdk = declared === undefined ? null : parseChecksumAlgorithm(declared);
  if (declared !== undefined && fromSdk === null) {
    throw new S3Error(
      'InvalidRequest',
      'Value for x-amz-sdk-checksum-algorithm header is invalid.',
    );
  }
  const chosen = [fromHeader, fromTrailer, fromSdk].filter(
    (a): a is ChecksumAlgorithm => a !== null,
  );
  if (new Set(chosen).size > 1) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  return {
    algorithm: chosen[0] ?? null,
    headerValue,
    trailer: fromTrailer === null ? null : checksumHeaderOf(fromTrailer),
  };
}

function trailerAlgorithm(
  trailer: string | undefined,
  streaming: boolean,
): ChecksumAlgorithm | null {
  if (trailer === undefined) return null;
  if (!streaming)
    throw new S3Error('InvalidRequest', 'x-amz-trailer requires an aws-chunked payload.');
  const name = trailer.trim().toLowerCase();
  const algorithm = name.startsWith('x-amz-checksum-')
    ? parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length))
    : null;
  if (algorithm === null)
    throw new S3Error(
      'InvalidRequest',
      'The value specified in the x-amz-trailer header is not supported',
    );
  return algorithm;
}

/** Checks a trailing checksum value (after an aws-chunked body). */
export function trailerValue(
  plan: ChecksumPlan,
  trailers: Readonly<Record<string, string>>,
): string | null {
  if (plan.trailer === null || plan.algorithm === null) return null;
  const value = trailers[plan.trailer];
  if (value === undefined)
    throw new S3Error('InvalidRequest', `The trailer ${plan.trailer} is missing.`);
  if (!isChecksumValue(plan.algorithm, value)) {
    throw new S3Error('InvalidRequest', `Value for ${plan.trailer} trailing header is invalid.`);
  }
  return value;
}

/** `x-amz-checksum-<alg>` and `x-amz-checksum-type` for a stored checksum. */
export function checksumResponseHeaders(checksum: StoredChecksum | null): Array<[string, string]> {
  if (checksum === null) return [];
  return [
    [checksumHeaderOf(checksum.algorithm), checksum.base64],
    ['x-amz-checksum-type', checksum.type],
  ];
}

/** The `Checksum<ALG>` XML element name (ChecksumCRC32C, ChecksumSHA256, ...). */
export function checksumElementOf(algorithm: ChecksumAlgorithm): string {
  return `Checksum${algorithm}`;
}

/** Verifies a small, whole body (XML documents) against its declared checksum header. */
export function verifyBodyChecksum(
  headers: Readonly<Record<string, string>>,
  body: Buffer,
): boolean {
  const plan = planChecksum(headers, false);
  if (plan.algorithm === null || plan.headerValue === null) return false;
  const running = startChecksum(plan.algorithm);
  running.update(body);
  if (running.digest().toString('base64') !== plan.headerValue) {
    throw new S3Error(
      'BadDigest',
      `The ${plan.algorithm} you specified did not match the calculated checksum.`,
    );
  }
  return true;
}

/**
 * Checks Content-MD5 and an `x-amz-checksum-*` header against a small, whole body when the client
 * sent them. Returns whether either was sent.
 */
export function checkBodyDigest(headers: Readonly<Record<string, string>>, body: Buffer): boolean {
  const md5 = headers['content-md5'];
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) {
    throw new S3Error('BadDigest');
  }
  const checked = verifyBodyChecksum(headers, body);
  return md5 !== undefined || checked;
}

/**
 * For the requests S3 requires an integrity header on (configuration PUTs such as PutBucketCors):
 * Content-MD5 or an `x-amz-checksum-*` header, checked against the body.
 */
export function requireBodyDigest(headers: Readonly<Record<string, string>>, body: Buffer): void {
  if (!checkBodyDigest(headers, body)) {
    throw new S3Error(
      'InvalidRequest',
      'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
    );
  }
}
