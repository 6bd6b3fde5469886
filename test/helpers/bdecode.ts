/**
 * A strict bencode decoder for tests (BEP 3), written apart from hangar's encoder so a test
 * checks the encoder against the format rather than against itself: byte strings come back as
 * Buffers, dictionaries as Maps keyed by latin1 strings, and keys must be sorted and unique.
 */
export type Decoded = bigint | Buffer | Decoded[] | Map<string, Decoded>;

export function bdecode(bytes: Buffer): Decoded {
  const [value, end] = decodeAt(bytes, 0);
  if (end !== bytes.length) throw new Error(`trailing bytes at ${end}`);
  return value;
}

function decodeAt(bytes: Buffer, at: number): [Decoded, number] {
  const c = bytes[at];
  if (c === undefined) throw new Error('truncated');
  if (c === 0x69 /* i */) {
    const end = bytes.indexOf(0x65, at);
    const text = bytes.toString('latin1', at + 1, end);
    if (end === -1 || !/^(0|-?[1-9]\d*)$/.test(text)) throw new Error(`bad integer at ${at}`);
    return [BigInt(text), end + 1];
  }
  if (c === 0x6c /* l */) {
    const list: Decoded[] = [];
    let pos = at + 1;
    while (bytes[pos] !== 0x65) {
      const [item, next] = decodeAt(bytes, pos);
      list.push(item);
      pos = next;
    }
    return [list, pos + 1];
  }
  if (c === 0x64 /* d */) {
    const dict = new Map<string, Decoded>();
    let pos = at + 1;
    let previous: Buffer | null = null;
    while (bytes[pos] !== 0x65) {
      const [key, afterKey] = decodeAt(bytes, pos);
      if (!Buffer.isBuffer(key)) throw new Error('dictionary keys are strings');
      if (previous !== null && Buffer.compare(previous, key) >= 0) {
        throw new Error('dictionary keys must be sorted and unique');
      }
      previous = key;
      const [value, next] = decodeAt(bytes, afterKey);
      dict.set(key.toString('latin1'), value);
      pos = next;
    }
    return [dict, pos + 1];
  }
  const colon = bytes.indexOf(0x3a, at);
  const lengthText = bytes.toString('latin1', at, colon);
  if (colon === -1 || !/^(0|[1-9]\d*)$/.test(lengthText)) throw new Error(`bad string at ${at}`);
  const start = colon + 1;
  const end = start + Number(lengthText);
  if (end > bytes.length) throw new Error('truncated string');
  return [bytes.subarray(start, end), end];
}

/** A dictionary's entry, asserted present. */
export function entry(value: Decoded, key: string): Decoded {
  if (!(value instanceof Map) || !value.has(key)) throw new Error(`no entry ${key}`);
  return value.get(key) as Decoded;
}
