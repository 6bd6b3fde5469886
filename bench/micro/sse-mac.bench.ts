/**
 * The keyed MAC candidates for SSE segment tags (engine/sse/segment-mac.ts), over 1 MiB cut in
 * 256 KiB segments as a GET checks them: HMAC-SHA256 (what hangar uses), GMAC (AES-256-GCM over
 * additional data only) and Poly1305 (ChaCha20-Poly1305 over additional data only), all from
 * node:crypto. The reference is AES-256-CTR over the same 1 MiB: what SSE pays already.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import {
  check,
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  pseudoRandomBytes,
  REF_PREFIX,
  runGroup,
} from './harness.js';

const SEGMENT = 256 * 1024;
const KEY = pseudoRandomBytes(32, 7);
const NONCE_12 = pseudoRandomBytes(12, 11);
const IV_16 = pseudoRandomBytes(16, 13);

function segments(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += SEGMENT) out.push(data.subarray(at, at + SEGMENT));
  return out;
}

function hmacTags(parts: Buffer[]): number {
  let sink = 0;
  for (const part of parts) sink += createHmac('sha256', KEY).update(part).digest()[0] ?? 0;
  return sink;
}

function aeadTags(algorithm: 'aes-256-gcm' | 'chacha20-poly1305', parts: Buffer[]): number {
  let sink = 0;
  for (const part of parts) {
    const cipher =
      algorithm === 'aes-256-gcm'
        ? createCipheriv(algorithm, KEY, NONCE_12)
        : createCipheriv(algorithm, KEY, NONCE_12, { authTagLength: 16 });
    cipher.setAAD(part);
    cipher.final();
    sink += cipher.getAuthTag()[0] ?? 0;
  }
  return sink;
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const data = pseudoRandomBytes(MIB);
  const parts = segments(data);
  check(parts.length === 4, '1 MiB is four segments');
  let sink = 0;
  const tasks: Array<[string, () => unknown]> = [
    ['HMAC-SHA256 per 256 KiB', () => (sink += hmacTags(parts))],
    ['GMAC (AES-256-GCM AAD) per 256 KiB', () => (sink += aeadTags('aes-256-gcm', parts))],
    ['Poly1305 (ChaCha20 AAD) per 256 KiB', () => (sink += aeadTags('chacha20-poly1305', parts))],
    [
      `${REF_PREFIX}AES-256-CTR 1 MiB`,
      () => (sink += createCipheriv('aes-256-ctr', KEY, IV_16).update(data)[0] ?? 0),
    ],
  ];
  const bench = newBench('sse-mac', opts);
  const bytes: Record<string, number> = {};
  for (const [name, fn] of tasks) {
    bench.add(name, fn);
    bytes[name] = MIB;
  }
  const results = await runGroup('sse-mac', bench, bytes);
  check(sink !== 0, 'work was done');
  return results;
}
