import { crc32 } from 'node:zlib';

/**
 * AWS's binary event-stream framing (application/vnd.amazon.eventstream), the body of a
 * SelectObjectContent answer: each message is
 *   total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32
 * big-endian, the prelude CRC over the first 8 bytes and the message CRC over everything before
 * it. Headers here are all strings (type 7): name length (u8), name, 7, value length (u16), value.
 */
export function eventMessage(
  headers: ReadonlyArray<readonly [string, string]>,
  payload: Uint8Array,
): Buffer {
  const encoded = headers.map(([name, value]) => [Buffer.from(name), Buffer.from(value)] as const);
  const headersBytes = encoded.reduce(
    (sum, [name, value]) => sum + 1 + name.length + 1 + 2 + value.length,
    0,
  );
  const total = 12 + headersBytes + payload.byteLength + 4;
  const message = Buffer.allocUnsafe(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headersBytes, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  let at = 12;
  for (const [name, value] of encoded) {
    message.writeUInt8(name.length, at);
    name.copy(message, at + 1);
    at += 1 + name.length;
    message.writeUInt8(STRING_HEADER, at);
    message.writeUInt16BE(value.length, at + 1);
    value.copy(message, at + 3);
    at += 3 + value.length;
  }
  message.set(payload, at);
  at += payload.byteLength;
  message.writeUInt32BE(crc32(message.subarray(0, at)), at);
  return message;
}

const STRING_HEADER = 7;
const EMPTY = new Uint8Array(0);

export function recordsEvent(payload: Uint8Array): Buffer {
  return eventMessage(
    [
      [':event-type', 'Records'],
      [':content-type', 'application/octet-stream'],
      [':message-type', 'event'],
    ],
    payload,
  );
}

/** The byte counts a Stats or Progress event reports. */
export interface ScanCounts {
  /** Object bytes read (compressed, as stored). */
  scanned: number;
  /** Bytes after decompression. */
  processed: number;
  /** Record bytes sent. */
  returned: number;
}

function countsXml(root: 'Stats' | 'Progress', counts: ScanCounts): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><${root}><BytesScanned>${counts.scanned}</BytesScanned><BytesProcessed>${counts.processed}</BytesProcessed><BytesReturned>${counts.returned}</BytesReturned></${root}>`,
  );
}

export function countsEvent(kind: 'Stats' | 'Progress', counts: ScanCounts): Buffer {
  return eventMessage(
    [
      [':event-type', kind],
      [':content-type', 'text/xml'],
      [':message-type', 'event'],
    ],
    countsXml(kind, counts),
  );
}

/** Cont: a keep-alive while a scan finds nothing to send. */
export function contEvent(): Buffer {
  return eventMessage(
    [
      [':event-type', 'Cont'],
      [':message-type', 'event'],
    ],
    EMPTY,
  );
}

export function endEvent(): Buffer {
  return eventMessage(
    [
      [':event-type', 'End'],
      [':message-type', 'event'],
    ],
    EMPTY,
  );
}

/** A failure after the 200 and its first events were sent: AWS's error message. */
export function errorEvent(code: string, message: string): Buffer {
  return eventMessage(
    [
      [':error-code', code],
      [':error-message', message],
      [':message-type', 'error'],
    ],
    EMPTY,
  );
}
