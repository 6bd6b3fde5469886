import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { BlockErrorRecord } from './block-table.js';
import { type KvEnv, type KvTable, type KvTableOptions, readKv } from './kv.js';

/**
 * A body in the `bodies` table: how many object records name it, its size and its CRC32C
 * (checked by every read, the scrub and fsck; the SHA-256 is its key).
 */
export interface BodyRecord {
  refs: number;
  bytes: number;
  crc32c: number;
}

/** A body on its way into the `bodies` table: hashed before the transaction that stores it. */
export interface BodyToStore {
  hash: string;
  crc32c: number;
  data: Uint8Array;
}

/**
 * The body of a record to store in the bodies table (over LIMITS.recordBodyBytesMax), hashed:
 * null for a body that stays in the record, or none.
 */
export function bodyToStore(inline: Uint8Array | null): BodyToStore | null {
  if (inline === null || inline.byteLength <= LIMITS.recordBodyBytesMax) return null;
  const hash = createHash('sha256').update(inline).digest('hex');
  return { hash, crc32c: crc32c(inline), data: inline };
}

/**
 * A shard's medium inline bodies (over LIMITS.recordBodyBytesMax, up to inline_bytes_max): the
 * `bodies` table (SHA-256 → bytes) and `body_refs` (SHA-256 → refs, size, CRC32C), in the
 * shard's LMDB environment, so a body's count moves in the transaction that moves the records
 * naming it (the MetaStore calls the `inside a transaction` methods from its own). Kept out of
 * object records so that listings and HEADs never copy a body; named by content so copies and
 * identical uploads share one, as blocks do. A damaged body's error lives in the shard's
 * block_errors table under its hash, beside those of blocks.
 */
export class BodyTable {
  private readonly bodies: KvTable<Uint8Array, string>;
  private readonly refs: KvTable<BodyRecord, string>;

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
    private readonly errors: KvTable<BlockErrorRecord, string>,
  ) {
    this.bodies = env.openDB<Uint8Array, string>({ name: 'bodies', encoding: 'binary' });
    this.refs = env.openDB<BodyRecord, string>({ name: 'body_refs', ...records });
  }

  record(hash: string): BodyRecord | undefined {
    return this.refs.get(hash);
  }

  /**
   * Inside a transaction: one more reference to a body, storing its bytes if it is new. A body
   * already stored whose bytes no longer match their CRC32C is rewritten from these (the same
   * bytes: their SHA-256 is its name), as a re-uploaded block heals a damaged file.
   */
  incref(body: BodyToStore): void {
    const current = this.refs.get(body.hash);
    if (current === undefined || !this.intact(body.hash, current)) {
      this.bodies.put(body.hash, body.data);
      this.errors.remove(body.hash);
    }
    this.refs.put(body.hash, {
      refs: (current?.refs ?? 0) + 1,
      bytes: body.data.byteLength,
      crc32c: body.crc32c,
    });
  }

  /** Inside a transaction: one reference fewer; the last one removes the body. */
  decref(hash: string): void {
    const current = this.refs.get(hash);
    assert(current !== undefined && current.refs > 0, `body ${hash} is referenced`);
    if (current.refs > 1) {
      this.refs.put(hash, { ...current, refs: current.refs - 1 });
      return;
    }
    this.refs.remove(hash);
    this.bodies.remove(hash);
    this.errors.remove(hash);
  }

  /** A copy of a stored body if its bytes match `crc32c` (what the record naming it holds). */
  read(hash: string, expectedCrc32c: number | undefined): Uint8Array | null {
    const data = this.bodies.getBinary(hash);
    return data !== undefined && crc32c(data) === expectedCrc32c ? data : null;
  }

  /** Up to `limit` bodies from `start` in hash order, for the scrub. */
  range(start: string, limit: number): Array<{ hash: string; bytes: number }> {
    const out = [];
    for (const { key, value } of this.refs.getRange({ start, limit })) {
      out.push({ hash: key, bytes: value.bytes });
    }
    return out;
  }

  /**
   * The scrub's check of a stored body: its bytes against its size and CRC32C. A damaged body
   * (it cannot be quarantined: it stays, failing reads) is recorded as a corrupt block error
   * until an upload of the same bytes rewrites it (incref) or its last reference goes; a whole
   * one clears its error. Returns what was found.
   */
  async check(hash: string, nowMs: number): Promise<'ok' | 'corrupt' | 'skipped'> {
    const found = await readKv(this.env, () => {
      const record = this.refs.get(hash);
      if (record === undefined) return 'skipped';
      return this.intact(hash, record) && this.errors.get(hash) === undefined ? 'ok' : 'check';
    });
    if (found !== 'check') return found;
    return this.env.transaction(() => {
      const current = this.refs.get(hash);
      if (current === undefined) return 'skipped';
      if (this.intact(hash, current)) {
        this.errors.remove(hash);
        return 'ok';
      }
      const previous = this.errors.get(hash);
      this.errors.put(hash, {
        kind: 'corrupt',
        message: 'inline body fails its CRC32C',
        errorCount: (previous?.errorCount ?? 0) + 1,
        firstErrorMs: previous?.firstErrorMs ?? nowMs,
        lastTryMs: nowMs,
      });
      return 'corrupt';
    });
  }

  /**
   * Whether a stored body is there and matches its size and CRC32C. A copy: lmdb-js's
   * getBinaryFast gave wrong bytes for values this big.
   */
  private intact(hash: string, record: BodyRecord): boolean {
    return bodyIntact(this.bodies.getBinary(hash), record);
  }
}

/** Whether stored body bytes are there and match their record's size and CRC32C (fsck too). */
export function bodyIntact(
  stored: Uint8Array | undefined,
  record: BodyRecord | undefined,
): boolean {
  return (
    stored !== undefined &&
    record !== undefined &&
    stored.byteLength === record.bytes &&
    crc32c(stored) === record.crc32c
  );
}
