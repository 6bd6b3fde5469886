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

/** A batch on the wire: the cbor headers of N messages back to back, and their bodies. */
interface Batch {
  h: ArrayBuffer;
  b: Array<ArrayBuffer | null>;
}

/**
 * One end of a shard's mailbox. Messages posted during one event-loop turn leave together in a
 * single postMessage: under load a turn handles many requests, and postMessage (a structured
 * clone plus a transfer) cost more than everything else a small GET does on the HTTP thread
 * (CPU profile in bench/RESULTS.md). Order is kept; bodies are still transferred, not copied.
 */
export class FramePort {
  private headers: Uint8Array[] = [];
  private headerBytes = 0;
  private bodies: Array<ArrayBuffer | null> = [];
  private scheduled = false;
  /** Messages posted through this end since it opened (mailbox depth = posted − handled). */
  posted = 0;

  constructor(private readonly port: MessagePort) {}

  post(message: object, body?: ArrayBuffer): void {
    this.posted++;
    if (body !== undefined) assert(body.byteLength > 0, 'a transferred body is never empty');
    // cbor-x encodes into a reused buffer: keep a copy until the flush.
    const encoded = new Uint8Array(encoder.encode(message));
    this.headers.push(encoded);
    this.headerBytes += encoded.byteLength;
    this.bodies.push(body ?? null);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const all = new Uint8Array(this.headerBytes);
    let offset = 0;
    for (const header of this.headers) {
      all.set(header, offset);
      offset += header.byteLength;
    }
    const bodies = this.bodies;
    const transfer: ArrayBuffer[] = [all.buffer];
    for (const body of bodies) if (body !== null) transfer.push(body);
    this.headers = [];
    this.headerBytes = 0;
    this.bodies = [];
    this.port.postMessage({ h: all.buffer, b: bodies } satisfies Batch, transfer);
  }

  onMessage<T>(handler: (message: T, body: ArrayBuffer | undefined) => void): void {
    this.port.on('message', (batch: Batch) => {
      const messages = encoder.decodeMultiple(new Uint8Array(batch.h)) as T[];
      assert(messages.length === batch.b.length, 'every message of a batch has its body slot');
      for (const [index, message] of messages.entries())
        handler(message, batch.b[index] ?? undefined);
    });
  }

  close(): void {
    if (this.scheduled) this.flush();
    this.port.close();
  }
}
