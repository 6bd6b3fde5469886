import { Packr } from 'msgpackr';
import { readKey, writeKey } from 'ordered-binary';
import { assert } from '../../assert.js';
import { LIMITS } from '../../limits.js';
import type { KvKey, KvTableOptions } from '../kv.js';

/**
 * How one table turns its keys and values into the bytes PostgreSQL stores, exactly as lmdb-js
 * does for the same openDB options, so that both stores order keys alike (bytea compares by
 * memcmp, as LMDB does) and a table reads back what it wrote.
 */
export interface TableCodec<V, K extends KvKey> {
  encodeKey(key: K): Buffer;
  /** A range bound: encoded like a key, but any length (LMDB compares bounds, never stores them). */
  encodeBound(key: K): Buffer;
  decodeKey(bytes: Buffer): K;
  /**
   * Where lmdb-js starts a range without `start` (and, exclusive, ends a reverse range without
   * `end`): [5] for ordered-binary keys (below it lie its symbols and metadata), [0] for binary
   * keys. So a reverse scan of a binary table leaves out the key [0x00] itself, as lmdb-js does.
   */
  readonly beginningKey: Buffer;
  encodeValue(value: V): Buffer;
  decodeValue(bytes: Buffer): V;
}

/** What lmdb-js calls on an `encoder` option (cbor-x's Encoder, ListingDecoder). */
interface ValueEncoder {
  encode(value: unknown): Uint8Array | string;
  decode(bytes: Uint8Array, size: number): unknown;
}

export function tableCodec<V, K extends KvKey>(options: KvTableOptions): TableCodec<V, K> {
  assert(options.dupSort !== true, 'pg-kv: dupSort tables are not supported');
  const keys = keyCodec(options.keyEncoding ?? 'ordered-binary');
  const values = valueCodec(options);
  return {
    encodeKey: (key) => checkedKey(keys.encode(key)),
    encodeBound: (key) => keys.encode(key),
    beginningKey: Buffer.from([options.keyEncoding === 'binary' ? 0 : 5]),
    decodeKey: (bytes) => keys.decode(bytes) as K,
    encodeValue: (value) => values.encode(value),
    decodeValue: (bytes) => values.decode(bytes) as V,
  };
}

/** LMDB refuses an empty key and one over its maximum key size: so does this store. */
function checkedKey(bytes: Buffer): Buffer {
  if (bytes.length === 0 || bytes.length > LIMITS.pgKvKeyBytesMax) {
    throw new Error(`Invalid key or zero length key is not allowed (${bytes.length} bytes)`);
  }
  return bytes;
}

interface Codec {
  encode(value: unknown): Buffer;
  decode(bytes: Buffer): unknown;
}

function keyCodec(encoding: NonNullable<KvTableOptions['keyEncoding']>): Codec {
  if (encoding === 'binary') {
    return {
      encode: (key) => {
        assert(key instanceof Uint8Array, 'a binary-keyed table takes Buffer keys');
        return Buffer.from(key);
      },
      decode: (bytes) => Buffer.from(bytes),
    };
  }
  assert(encoding === 'ordered-binary', `pg-kv: key encoding ${encoding} is not supported`);
  return { encode: orderedKey, decode: (bytes) => readKey(bytes, 0, bytes.length) };
}

/**
 * lmdb-js's default key encoding (ordered-binary's writeKey): a string is its UTF-8 bytes, with
 * a 27 before a string that starts below 28 and (short strings) a 4 before each char <= 4.
 * Using the library itself keeps every corner (long strings, lone surrogates) byte-identical.
 */
function orderedKey(key: unknown): Buffer {
  assert(typeof key === 'string' || key instanceof Uint8Array, 'a key is a string or a Buffer');
  // Short strings take at most 3 bytes per UTF-16 unit (escapes: 2); writeKey wants slack.
  const room = typeof key === 'string' ? key.length * 3 + 16 : key.length + 16;
  const target = Buffer.allocUnsafe(room);
  const end = writeKey(key, target, 0);
  return Buffer.from(target.subarray(0, end));
}

function valueCodec(options: KvTableOptions): Codec {
  const encoder = options.encoder as ValueEncoder | undefined;
  if (encoder !== undefined && typeof encoder.encode === 'function') {
    return {
      // Copied: cbor-x hands back a view into a buffer it reuses for the next encode.
      encode: (value) => bufferOf(encoder.encode(value)),
      decode: (bytes) => encoder.decode(bytes, bytes.length),
    };
  }
  switch (options.encoding) {
    case 'binary':
      return {
        encode: (value) => {
          assert(value instanceof Uint8Array, 'a binary table stores bytes');
          return Buffer.from(value);
        },
        decode: (bytes) => Buffer.from(bytes),
      };
    case 'string':
      return { encode: (value) => Buffer.from(String(value)), decode: (b) => b.toString('utf8') };
    case 'json':
      return {
        encode: (value) => Buffer.from(JSON.stringify(value)),
        decode: (bytes) => JSON.parse(bytes.toString('utf8')),
      };
    case 'ordered-binary':
      return { encode: orderedKey, decode: (bytes) => readKey(bytes, 0, bytes.length) };
    default:
      return msgpackCodec();
  }
}

/**
 * lmdb-js's default value encoding is msgpackr with structures shared through the database;
 * here each value describes itself (no records): the decoded values are the same.
 */
function msgpackCodec(): Codec {
  const packr = new Packr({ useRecords: false, copyBuffers: true } as ConstructorParameters<
    typeof Packr
  >[0]);
  return { encode: (value) => bufferOf(packr.pack(value)), decode: (bytes) => packr.unpack(bytes) };
}

function bufferOf(bytes: Uint8Array | string): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
}
