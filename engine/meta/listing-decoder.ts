import type { Encoder } from 'cbor-x';
import { assert } from '../assert.js';
import type { RestoreState } from '../protocol/messages.js';

/** What a listing needs of an object record (`owner` only when the listing shows owners). */
export interface ListingFields {
  bytes: number;
  etag: string;
  lastModifiedMs: number;
  owner?: string;
  /** Absent: STANDARD. Records store it first (object-table.ts classFirst), so it is met early. */
  storageClass?: string;
  /** An archived object's restore (stored right after its class: classFirst). */
  restore?: RestoreState;
}

const WANTED = 3;

/**
 * Reads only `bytes`, `etag` and `lastModifiedMs` out of a cbor-encoded object record, in place
 * (lmdb-js hands a decoder that copies nothing its shared read buffer, so no value is copied).
 * Decoding the whole record (headers, checksum, block list, inline body) cost ~2.6 µs per entry,
 * most of a listing page's time in the shard; this reads the top-level map, stops once the three
 * fields are found (records write them first) and skips anything before them without
 * allocating. Anything it does not expect (indefinite lengths, a field of another type) falls
 * back to the full decoder, so a record it cannot read lean still lists correctly.
 *
 * With `withOwner` (listings that show each object's Owner: ListObjects v1, v2 with
 * fetch-owner) it also reads the optional `owner`; as that field may be absent, it reads the
 * whole top-level map, skipping what it does not want: listings without owners never pay that.
 */
export class ListingDecoder {
  constructor(
    private readonly full: Encoder,
    private readonly withOwner = false,
  ) {}

  /** lmdb-js writes through another handle: this one only reads. */
  encode(): never {
    assert(false, 'the listing view of the objects table is read-only');
  }

  decode(bytes: Uint8Array, size: number): ListingFields {
    return leanFields(bytes, size, this.withOwner) ?? this.fullFields(bytes, size);
  }

  private fullFields(bytes: Uint8Array, size: number): ListingFields {
    const record = this.full.decode(bytes.slice(0, size)) as ListingFields;
    const fields = {
      bytes: record.bytes,
      etag: record.etag,
      lastModifiedMs: record.lastModifiedMs,
    };
    const withClass: ListingFields =
      typeof record.storageClass === 'string'
        ? { ...fields, storageClass: record.storageClass }
        : fields;
    if (typeof record.restore === 'object' && record.restore !== null) {
      withClass.restore = record.restore;
    }
    return this.withOwner && typeof record.owner === 'string'
      ? { ...withClass, owner: record.owner }
      : withClass;
  }
}

/** A cursor over cbor bytes. */
interface Reader {
  bytes: Buffer;
  at: number;
  end: number;
}

enum Field {
  Bytes,
  Etag,
  LastModified,
  Owner,
  StorageClass,
  Restore,
  Other,
}

/** The field names as cbor text items (head byte and ASCII), compared in place. */
const NAMES: ReadonlyArray<readonly [Field, Buffer]> = [
  [Field.Bytes, textItem('bytes')],
  [Field.Etag, textItem('etag')],
  [Field.LastModified, textItem('lastModifiedMs')],
  [Field.Owner, textItem('owner')],
  [Field.StorageClass, textItem('storageClass')],
  [Field.Restore, textItem('restore')],
];

function textItem(name: string): Buffer {
  assert(name.length < 24, 'a short field name has a one-byte head');
  return Buffer.concat([Buffer.from([0x60 + name.length]), Buffer.from(name, 'latin1')]);
}

function leanFields(raw: Uint8Array, size: number, withOwner: boolean): ListingFields | undefined {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, size);
  const r: Reader = { bytes, at: 0, end: size };
  const head = readHead(r, 5);
  if (head === undefined) return undefined;
  let recordBytes: number | undefined;
  let etag: string | undefined;
  let lastModifiedMs: number | undefined;
  let owner: string | undefined;
  let storageClass: string | undefined;
  let found = 0;
  // Without owners: stop at the three fields. With them: read the whole map (owner may be absent).
  for (let i = 0; i < head && (withOwner || found < WANTED); i++) {
    const field = readName(r);
    if (field === Field.Bytes) recordBytes = readNumber(r);
    else if (field === Field.LastModified) lastModifiedMs = readNumber(r);
    else if (field === Field.Etag) etag = readText(r);
    else if (field === Field.Owner && withOwner) {
      owner = readText(r);
      if (owner === undefined) return undefined;
    } else if (field === Field.StorageClass) {
      storageClass = readText(r);
      if (storageClass === undefined) return undefined;
    } else if (field === Field.Restore) {
      // Restored (or restoring) archived objects only, rare: the full decoder reads the map.
      return undefined;
    } else if (!skip(r)) return undefined;
    if (r.at < 0) return undefined;
    if (field < Field.Owner) found++;
  }
  if (recordBytes === undefined || etag === undefined || lastModifiedMs === undefined)
    return undefined;
  const fields: ListingFields = { bytes: recordBytes, etag, lastModifiedMs };
  if (owner !== undefined) fields.owner = owner;
  if (storageClass !== undefined) fields.storageClass = storageClass;
  return fields;
}

/** Which wanted field the map key at the cursor names (Other: skipped, cursor after it). */
function readName(r: Reader): Field {
  for (const [field, item] of NAMES) {
    if (matchesAt(r, item)) {
      r.at += item.length;
      return field;
    }
  }
  if (!skip(r)) r.at = -1;
  return Field.Other;
}

/** A byte loop: Buffer.compare with offsets is a native call that costs more than the match. */
function matchesAt(r: Reader, item: Buffer): boolean {
  if (r.at + item.length > r.end) return false;
  for (let i = 0; i < item.length; i++) if (r.bytes[r.at + i] !== item[i]) return false;
  return true;
}

/** Reads a definite-length head of `major` type; returns its argument. */
function readHead(r: Reader, major: number): number | undefined {
  if (r.at >= r.end) return undefined;
  const initial = r.bytes[r.at] as number;
  if (initial >> 5 !== major) return undefined;
  return readArgument(r, initial & 0x1f);
}

function readArgument(r: Reader, info: number): number | undefined {
  r.at++;
  if (info < 24) return info;
  const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (width === 0 || r.at + width > r.end) return undefined;
  const at = r.at;
  r.at += width;
  if (width === 1) return r.bytes.readUInt8(at);
  if (width === 2) return r.bytes.readUInt16BE(at);
  if (width === 4) return r.bytes.readUInt32BE(at);
  const big = r.bytes.readBigUInt64BE(at);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : undefined;
}

function readText(r: Reader): string | undefined {
  const length = readHead(r, 3);
  if (length === undefined || r.at + length > r.end) return undefined;
  const start = r.at;
  r.at += length;
  return r.bytes.toString('utf8', start, r.at);
}

/** An unsigned or negative integer, or a float. */
function readNumber(r: Reader): number | undefined {
  if (r.at >= r.end) return undefined;
  const initial = r.bytes[r.at] as number;
  const major = initial >> 5;
  if (major === 0) return readArgument(r, initial & 0x1f);
  if (major === 1) {
    const n = readArgument(r, initial & 0x1f);
    return n === undefined ? undefined : -1 - n;
  }
  if (initial === 0xfb && r.at + 9 <= r.end) {
    const value = r.bytes.readDoubleBE(r.at + 1);
    r.at += 9;
    return value;
  }
  if (initial === 0xfa && r.at + 5 <= r.end) {
    const value = r.bytes.readFloatBE(r.at + 1);
    r.at += 5;
    return value;
  }
  return undefined;
}

/** Skips one data item; false on anything not definite-length. */
function skip(r: Reader): boolean {
  if (r.at >= r.end) return false;
  const initial = r.bytes[r.at] as number;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) {
    // Simple values and floats: the argument is the value itself.
    return readArgument(r, info) !== undefined;
  }
  const n = readArgument(r, info);
  if (n === undefined) return false;
  switch (major) {
    case 0:
    case 1:
      return true;
    case 2:
    case 3:
      r.at += n;
      return r.at <= r.end;
    case 4:
      for (let i = 0; i < n; i++) if (!skip(r)) return false;
      return true;
    case 5:
      for (let i = 0; i < 2 * n; i++) if (!skip(r)) return false;
      return true;
    default:
      // A tag: its content follows.
      return skip(r);
  }
}
