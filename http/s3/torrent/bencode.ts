/**
 * Bencoding (BitTorrent BEP 3): the encoding of a .torrent file. Dictionaries are written with
 * their keys sorted as raw byte strings, as the format requires (a client hashes the info
 * dictionary's bytes, so one value has exactly one encoding).
 */
export type BValue = number | string | Uint8Array | readonly BValue[] | BDict;
export interface BDict {
  readonly [key: string]: BValue;
}

const enc = new TextEncoder();

/** Encodes a value; strings are UTF-8 byte strings, numbers must be safe integers. */
export function bencode(value: BValue): Buffer {
  const parts: Uint8Array[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function write(value: BValue, out: Uint8Array[]): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError('bencode integers are whole numbers');
    out.push(enc.encode(`i${value}e`));
  } else if (typeof value === 'string') {
    writeBytes(enc.encode(value), out);
  } else if (value instanceof Uint8Array) {
    writeBytes(value, out);
  } else if (Array.isArray(value)) {
    out.push(enc.encode('l'));
    for (const item of value as readonly BValue[]) write(item, out);
    out.push(enc.encode('e'));
  } else {
    writeDict(value as BDict, out);
  }
}

function writeBytes(bytes: Uint8Array, out: Uint8Array[]): void {
  out.push(enc.encode(`${bytes.byteLength}:`), bytes);
}

function writeDict(dict: BDict, out: Uint8Array[]): void {
  const entries = Object.keys(dict).map((key) => ({ raw: Buffer.from(key, 'utf8'), key }));
  entries.sort((a, b) => Buffer.compare(a.raw, b.raw));
  out.push(enc.encode('d'));
  for (const { raw, key } of entries) {
    writeBytes(raw, out);
    write(dict[key] as BValue, out);
  }
  out.push(enc.encode('e'));
}
