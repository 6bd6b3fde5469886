import type { ExecutionContext } from 'ava';
import { S3Error, type S3ErrorCode } from '../../http/s3/errors.js';
import type { RequestSnapshot } from '../../http/uws/request.js';

// For unit tests of the signature verifiers (http/sigv4): requests as the edge hands them over.

/** A request snapshot from a request target ("/path?query") and lower-cased headers. */
export function snapshot(
  method: string,
  target: string,
  headers: Record<string, string>,
): RequestSnapshot {
  const q = target.indexOf('?');
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers,
  };
}

/** Asserts that `fn` throws the S3Error `code` (with `message` when given); returns it. */
export function throwsS3(
  t: ExecutionContext,
  fn: () => unknown,
  code: S3ErrorCode,
  message?: string,
): S3Error {
  const err = t.throws(fn, { instanceOf: S3Error });
  t.is(err?.code, code);
  if (message !== undefined) t.is(err?.message, message);
  return err as S3Error;
}
