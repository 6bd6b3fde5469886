import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { assert } from './assert.js';
import type { ManagedDataKey, ManagedEncryption } from './sse/managed.js';

/**
 * SSE-C: objects encrypted with a key the client sends on every request and hangar never
 * stores (only its MD5, to recognise it). AES-256 in CTR mode: ciphertext has the plaintext's
 * length and any byte range decrypts on its own, so Range GETs and streaming need no buffering.
 * Each object, or each part of a multipart object, gets its own random 128-bit IV.
 */
export interface CustomerKey {
  /** The 32-byte AES-256 key (in memory only, for the length of a request). */
  key: Uint8Array;
  /** base64 MD5 of the key, as the client sends it and as it is stored. */
  md5Base64: string;
}

/** How an SSE-C object's bytes were encrypted: one IV per part (one for a plain PUT). */
export interface CustomerEncryption {
  /** Absent in every SSE-C record (those written before SSE-S3 and SSE-KMS included). */
  kind?: undefined;
  keyMd5: string;
  ivs: string[];
  /** Each part's segment tags (engine/sse/segment-mac.ts); absent: written before them. */
  macs?: string[];
  /** Each part's number as its tags bind it (0: not bound); absent: none bound. */
  partNumbers?: number[];
}

/** An encrypted object's record: SSE-C, or SSE-S3 / SSE-KMS (engine/sse/managed.ts). */
export type StoredEncryption = CustomerEncryption | ManagedEncryption;

/** The key a PUT encrypts with: the customer's (SSE-C) or a managed data key. */
export type EncryptionKey = CustomerKey | ManagedDataKey;

export function isManagedKey(key: EncryptionKey): key is ManagedDataKey {
  return 'managed' in key;
}

export const AES_BLOCK_BYTES = 16;

export function newIv(): Buffer {
  return randomBytes(AES_BLOCK_BYTES);
}

/**
 * A running encryptor for one object or part. A dual-layer data key (aws:kms:dsse) encrypts
 * twice: the inner layer with its key, then the outer layer with its own, independent key (the
 * same IV under two unrelated keys gives two unrelated keystreams).
 */
export function encryptor(key: EncryptionKey, iv: Buffer): (plain: Uint8Array) => Buffer {
  assert(key.key.byteLength === 32 && iv.byteLength === AES_BLOCK_BYTES, 'AES-256-CTR key and IV');
  const inner = createCipheriv('aes-256-ctr', key.key, iv);
  const outerKey = isManagedKey(key) ? key.outerKey : undefined;
  if (outerKey === undefined) return (plain) => inner.update(plain);
  assert(outerKey.byteLength === 32, 'AES-256-CTR outer key');
  const outer = createCipheriv('aes-256-ctr', outerKey, iv);
  return (plain) => outer.update(inner.update(plain));
}

/**
 * Decrypts `data` in place, which starts `offset` bytes into a segment encrypted with `iv`:
 * the outer layer first (dual-layer keys), then the inner one.
 */
export function decryptAt(
  key: { key: Uint8Array; outerKey?: Uint8Array },
  iv: Buffer,
  offset: number,
  data: Uint8Array,
): void {
  if (key.outerKey !== undefined) ctrAt(key.outerKey, iv, offset, data);
  ctrAt(key.key, iv, offset, data);
}

/** AES-256-CTR over `data` in place, from `offset` bytes into the keystream of `key` and `iv`. */
function ctrAt(key: Uint8Array, iv: Buffer, offset: number, data: Uint8Array): void {
  const decipher = createDecipheriv(
    'aes-256-ctr',
    key,
    counterAt(iv, Math.floor(offset / AES_BLOCK_BYTES)),
  );
  const skip = offset % AES_BLOCK_BYTES;
  if (skip > 0) decipher.update(Buffer.alloc(skip));
  data.set(decipher.update(data));
}

/** The CTR counter block `blocks` AES blocks after `iv` (128-bit big-endian addition). */
function counterAt(iv: Buffer, blocks: number): Buffer {
  const counter = Buffer.from(iv);
  let carry = BigInt(blocks);
  for (let i = AES_BLOCK_BYTES - 1; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(counter[i] ?? 0) + (carry & 0xffn);
    counter[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return counter;
}

/** The IV and offset of object position `position`, given the parts' sizes (one part if none). */
export function segmentAt(
  encryption: StoredEncryption,
  partSizes: readonly number[] | null,
  position: number,
): { iv: Buffer; offset: number } {
  const sizes = partSizes ?? [Number.POSITIVE_INFINITY];
  let start = 0;
  for (const [index, size] of sizes.entries()) {
    if (position < start + size) {
      const iv = encryption.ivs[index];
      assert(iv !== undefined, 'every part has its IV');
      return { iv: Buffer.from(iv, 'base64'), offset: position - start };
    }
    start += size;
  }
  throw new Error(`position ${position} is past the encrypted object`);
}
