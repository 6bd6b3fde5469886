import { S3Error } from './errors.js';

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

/**
 * Parses a Range header against an object of `size` bytes, as S3 does: one range only
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n`); a header S3 cannot parse, or several ranges, is
 * ignored (the whole object is sent); a syntactically valid but unsatisfiable range is 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') return suffixRange(Number(last), size);
  const start = Number(first);
  const endInclusive = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) throw unsatisfiable(size);
  return { start, end: endInclusive + 1 };
}

function suffixRange(length: number, size: number): ByteRange {
  if (length === 0 || size === 0) throw unsatisfiable(size);
  return { start: Math.max(0, size - length), end: size };
}

function unsatisfiable(size: number): S3Error {
  return new S3Error(
    'InvalidRange',
    undefined,
    { ActualObjectSize: String(size) },
    { 'content-range': `bytes */${size}` },
  );
}
