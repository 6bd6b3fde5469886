import { assert } from '../assert.js';
import type { ListEntry } from './messages.js';

/**
 * A batch of listing entries packed column-wise for the shard → edge hop: names and ETags each
 * concatenated into one string with their lengths beside, numbers in typed arrays. cbor-x
 * encodes and decodes this form ~8x faster than an array of entry objects (one string and a
 * few byte runs instead of a map per entry: 0.6 ms → 0.07 ms for 550 entries, measured), and
 * at 1000 entries a page the hop was a fifth of a page's CPU.
 */
export interface PackedListing {
  names: string;
  /** UTF-16 lengths of the names, in order. */
  nameLengths: Uint32Array;
  /** ETags of the objects, in order (prefix entries add nothing). */
  etags: string;
  etagLengths: Uint32Array;
  /** Per entry: object size, or -1 for a common prefix. */
  bytes: Float64Array;
  lastModifiedMs: Float64Array;
}

const PREFIX = -1;

export function packListing(entries: readonly ListEntry[]): PackedListing {
  const count = entries.length;
  const nameLengths = new Uint32Array(count);
  const etagLengths = new Uint32Array(count);
  const bytes = new Float64Array(count);
  const lastModifiedMs = new Float64Array(count);
  let names = '';
  let etags = '';
  for (let i = 0; i < count; i++) {
    const entry = entries[i] as ListEntry;
    if (entry.kind === 'object') {
      names += entry.key;
      nameLengths[i] = entry.key.length;
      etags += entry.etag;
      etagLengths[i] = entry.etag.length;
      bytes[i] = entry.bytes;
      lastModifiedMs[i] = entry.lastModifiedMs;
    } else {
      names += entry.prefix;
      nameLengths[i] = entry.prefix.length;
      bytes[i] = PREFIX;
    }
  }
  return { names, nameLengths, etags, etagLengths, bytes, lastModifiedMs };
}

export function unpackListing(packed: PackedListing): ListEntry[] {
  const count = packed.nameLengths.length;
  assert(
    packed.bytes.length === count && packed.lastModifiedMs.length === count,
    'every packed column has one value per entry',
  );
  const entries: ListEntry[] = new Array(count);
  let nameAt = 0;
  let etagAt = 0;
  for (let i = 0; i < count; i++) {
    const nameEnd = nameAt + (packed.nameLengths[i] as number);
    const name = packed.names.slice(nameAt, nameEnd);
    nameAt = nameEnd;
    const size = packed.bytes[i] as number;
    if (size === PREFIX) {
      entries[i] = { kind: 'prefix', prefix: name };
      continue;
    }
    const etagEnd = etagAt + (packed.etagLengths[i] as number);
    entries[i] = {
      kind: 'object',
      key: name,
      bytes: size,
      etag: packed.etags.slice(etagAt, etagEnd),
      lastModifiedMs: packed.lastModifiedMs[i] as number,
    };
    etagAt = etagEnd;
  }
  assert(
    nameAt === packed.names.length && etagAt === packed.etags.length,
    'packed strings used up',
  );
  return entries;
}
