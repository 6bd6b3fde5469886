import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { assert } from '../assert.js';

/**
 * Key wrapping for SSE-S3 and SSE-KMS: a 256-bit key sealed with AES-256-GCM under another
 * 256-bit key. The GCM tag authenticates the sealed key and its additional data (which names
 * what the key belongs to), so a corrupted or transplanted record fails to open — an error,
 * never a wrong key that would decrypt to garbage.
 */
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** nonce | ciphertext | tag. */
export const SEALED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;

/** A sealed key that does not open under the key and additional data given. */
export class KeyIntegrityError extends Error {
  constructor(what: string) {
    super(`${what}: the wrapped key failed its integrity check (corrupt record or wrong key)`);
    this.name = 'KeyIntegrityError';
  }
}

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Seals `key` under `wrapping`, bound to `aad` (which must be given again to open it). */
export function sealKey(wrapping: Uint8Array, key: Uint8Array, aad: string): Uint8Array {
  assert(wrapping.byteLength === KEY_BYTES && key.byteLength === KEY_BYTES, 'AES-256 keys');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', wrapping, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(key), cipher.final()]);
  return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
}

/** Opens a key sealed by sealKey; KeyIntegrityError when anything differs. */
export function openKey(
  wrapping: Uint8Array,
  sealed: Uint8Array,
  aad: string,
  what: string,
): Buffer {
  if (sealed.byteLength !== SEALED_KEY_BYTES) throw new KeyIntegrityError(what);
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', wrapping, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(bytes.subarray(NONCE_BYTES + KEY_BYTES));
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new KeyIntegrityError(what);
  }
}
