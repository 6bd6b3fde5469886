import type { MessagePort } from 'node:worker_threads';
import { Encoder } from 'cbor-x';
import { assert } from '../assert.js';

/**
 * Wire framing for the shard protocol: the message header is cbor-x encoded into an exact-size
 * ArrayBuffer, body bytes (if any) travel beside it in their own ArrayBuffer; both are
 * transferred, never cloned. Two traps shaped this (both seen on Node 20):
 *  - cbor-x returns a view into its reused 8 KiB+ target, and posting a view clones the whole
 *    backing buffer: the header is therefore copied once into an ArrayBuffer of its exact size.
 *  - transferring a pooled Buffer's ArrayBuffer silently copies the slab: bodies must be owned,
 *    full-length ArrayBuffers (fresh or recycled staging buffers).
 */
export interface Frame {
  h: ArrayBuffer;
  b?: ArrayBuffer;
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

export function postFrame(port: MessagePort, message: object, body?: ArrayBuffer): void {
  const encoded = encoder.encode(message);
  const header = new Uint8Array(encoded.length);
  header.set(encoded);
  if (body === undefined) {
    port.postMessage({ h: header.buffer }, [header.buffer]);
    return;
  }
  assert(body.byteLength > 0, 'a transferred body is never empty');
  port.postMessage({ h: header.buffer, b: body }, [header.buffer, body]);
  assert(body.byteLength === 0, 'the body buffer was transferred, not copied');
}

export function readFrame<T>(frame: Frame): { message: T; body: ArrayBuffer | undefined } {
  const message = encoder.decode(new Uint8Array(frame.h)) as T;
  return { message, body: frame.b };
}
