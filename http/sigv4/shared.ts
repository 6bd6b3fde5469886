/**
 * What Signature V4 (verify.ts) and V2 (v2.ts) check alike: the key's secret, the clock skew of
 * a signed timestamp, and AWS's timestamp format in error fields.
 */
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { SecretLookup } from './verify.js';

export const ISO8601_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A request's signed time, parsed, and its text as sent (for error reports). */
export interface SignedTime {
  ms: number;
  raw: string;
}

export function secretFor(accessKeyId: string, lookup: SecretLookup): string {
  const secret = lookup(accessKeyId);
  if (secret === undefined) {
    throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  }
  return secret;
}

export function checkClockSkew(time: SignedTime, nowMs: number, maxSkewMs?: number): void {
  const maxMs = maxSkewMs ?? LIMITS.clockSkewMaxMs;
  if (Math.abs(nowMs - time.ms) <= maxMs) return;
  throw new S3Error('RequestTimeTooSkewed', undefined, {
    RequestTime: time.raw,
    ServerTime: formatIso8601(nowMs),
    MaxAllowedSkewMilliseconds: String(maxMs),
  });
}

export function formatIso8601(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The last timestamp parsed: requests of the same second (and presigned URLs) repeat it. */
let lastIso8601: { text: string; ms: number | undefined } = { text: '', ms: undefined };

/** "YYYYMMDDTHHMMSSZ" to epoch milliseconds; undefined for anything else or an impossible date. */
export function parseIso8601Basic(text: string): number | undefined {
  if (text === lastIso8601.text) return lastIso8601.ms;
  const ms = parseIso8601BasicUncached(text);
  lastIso8601 = { text, ms };
  return ms;
}

function parseIso8601BasicUncached(text: string): number | undefined {
  const m = ISO8601_BASIC.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  if (y === undefined || mo === undefined || d === undefined) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h ?? 0, mi ?? 0, s ?? 0);
  // Reject impossible dates: Date.UTC silently rolls 20130231 into March, 25:00 into the next
  // day, and takes years 0–99 as 19xx. Compared as numbers: no string per request.
  const date = new Date(ms);
  const exact =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return exact ? ms : undefined;
}
