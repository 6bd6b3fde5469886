import { LIMITS } from '../../engine/limits.js';
import { S3Error } from './errors.js';

/**
 * S3 keys are 1..1024 bytes of UTF-8. Checked on every request that names a key (the router,
 * copy sources, form fields, DeleteObjects entries) before a shard sees it: a longer key could
 * pass LMDB's own key limit and fail there as an internal error.
 */
export function checkKey(key: string): void {
  if (key === '') throw new S3Error('InvalidArgument', 'An object key must not be empty.');
  checkKeyLength(key);
}

/** KeyTooLongError past LIMITS.keyBytesMax UTF-8 bytes, with AWS's Size and MaxSizeAllowed. */
export function checkKeyLength(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes <= LIMITS.keyBytesMax) return;
  throw new S3Error('KeyTooLongError', undefined, {
    Size: String(bytes),
    MaxSizeAllowed: String(LIMITS.keyBytesMax),
  });
}
