import { createHash, type Hash } from 'node:crypto';
import { assert } from '../assert.js';
import { blockKeyOf } from '../blocks/block-key.js';
import type { ShardBlocks, ShardBlockWriter } from '../blocks/shard-blocks.js';
import {
  type ChecksumAlgorithm,
  type RunningChecksum,
  startChecksum,
} from '../checksums/checksums.js';
import { engineFailure as failure } from '../errors.js';
import type { ObjectRecord } from '../meta/store.js';
import type {
  BlockRef,
  ObjectHeaders,
  PutExpectations,
  StoredChecksum,
} from '../protocol/messages.js';
import { macIdentityOf, macKeyOf, SegmentMacWriter } from '../sse/segment-mac.js';
import { type EncryptionKey, encryptor, isManagedKey, newIv } from '../sse-c.js';
import { DEFAULT_TIER } from '../storage-config.js';
import type { ShardBlockLedger } from './ledger.js';

/** The inline buffer a body of unknown length starts with. */
const UNKNOWN_LENGTH_START_BYTES = 64 * 1024;

export interface PutPlan {
  /** The body's length; null when it is known only at its end (PostObject's file). */
  declaredBytes: number | null;
  blockBytes: number;
  inlineBytesMax: number;
  headers: ObjectHeaders;
  /** Whether the client declared a whole-payload SHA-256 (x-amz-content-sha256) to check. */
  payloadSha256: boolean;
  /** The additional checksum to compute and store (null: none requested). */
  checksumAlgorithm: ChecksumAlgorithm | null;
  /** SSE-C, SSE-S3 or SSE-KMS: the bytes are stored encrypted with this key. */
  sse: EncryptionKey | null;
  /** A multipart part's number, which its SSE tags bind (absent: a whole object). */
  partNumber?: number;
  /** The tier the blocks go to (absent: "standard"); their keys name it (block-key.ts). */
  tier?: string;
}

/** SSE-C state of a session: the encryptor, its IV, and the ciphertext's MD5 (the ETag). */
interface Encryption {
  encrypt: (plain: Uint8Array) => Buffer;
  iv: Buffer;
  key: EncryptionKey;
  cipherMd5: Hash;
  /** The segment tags of the ciphertext (engine/sse/segment-mac.ts). */
  macs: SegmentMacWriter;
  /** The part number the tags bind (null: a whole object). */
  partNumber: number | null;
}

/**
 * One PUT's body as it reaches the shard: bytes are hashed (MD5 for the ETag, SHA-256 per
 * block for its address, and whole-payload digests the client may have declared) and cut into
 * blocks written straight to temp files, so the shard never holds more than one chunk of it.
 * Chunks are processed strictly in order; the caller learns when each one is written, which is
 * when it returns the staging buffer (credit) to the HTTP thread.
 */
function startEncryption(
  key: EncryptionKey,
  blockBytes: number,
  partNumber: number | null,
): Encryption {
  const iv = newIv();
  const macKey = macKeyOf(key, macIdentityOf(isManagedKey(key) ? key.managed : null));
  return {
    encrypt: encryptor(key, iv),
    iv,
    key,
    cipherMd5: createHash('md5'),
    macs: new SegmentMacWriter(macKey, iv, blockBytes, partNumber),
    partNumber,
  };
}

export class PutSession {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash | null;
  private readonly checksum: RunningChecksum | null;
  private readonly encryption: Encryption | null;
  /** Bytes digested (at arrival) and bytes stored (in order, after the writes before them). */
  private digestedBytes = 0;
  private receivedBytes = 0;
  private writer: ShardBlockWriter | null = null;
  private readonly blocks: BlockRef[] = [];
  /** The body while it may still be stored inline; null once it is (or must be) in blocks. */
  private inlineBody: Uint8Array | null;
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private closed = false;

  constructor(
    private readonly plan: PutPlan,
    private readonly store: ShardBlocks,
    private readonly ledger: ShardBlockLedger,
  ) {
    this.sha256 = plan.payloadSha256 ? createHash('sha256') : null;
    this.checksum = plan.checksumAlgorithm === null ? null : startChecksum(plan.checksumAlgorithm);
    this.encryption =
      plan.sse === null
        ? null
        : startEncryption(plan.sse, plan.blockBytes, plan.partNumber ?? null);
    // Unknown length: start inline with a little room, grown up to inlineBytesMax, and move to
    // blocks if the body outgrows that (not inlineBytesMax up front: it may be a MiB).
    const inlineCapacity =
      plan.declaredBytes ?? Math.min(plan.inlineBytesMax, UNKNOWN_LENGTH_START_BYTES);
    this.inlineBody =
      inlineCapacity >= 0 && inlineCapacity <= plan.inlineBytesMax
        ? new Uint8Array(inlineCapacity)
        : null;
  }

  /**
   * Takes a chunk; resolves once its bytes are written (or the session failed). The chunk is
   * digested at once (MD5 for the ETag, the declared SHA-256 and checksum, SSE-C encryption:
   * all in arrival order, which is chunk order), while the writes stay queued one after the
   * other: hashing this chunk overlaps the file write of the one before, which runs on libuv's
   * pool. MD5 is the costliest step per byte (~690 MiB/s here; SHA-256 ~1.6 GiB/s).
   */
  push(view: Uint8Array): Promise<void> {
    const stored = this.digest(view);
    this.tail = this.tail
      .then(() => (stored === null ? undefined : this.keep(stored)))
      .catch((error: unknown) => {
        this.failure ??= error;
      });
    return this.tail;
  }

  /** The digests of a chunk and the bytes to store (null: the session failed or is over). */
  private digest(view: Uint8Array): Uint8Array | null {
    if (this.failure !== null || this.closed) return null;
    const declared = this.plan.declaredBytes;
    if (declared !== null && this.digestedBytes + view.byteLength > declared) {
      this.failure = failure('IncompleteBody', 'more bytes than declared');
      return null;
    }
    this.digestedBytes += view.byteLength;
    this.md5.update(view);
    this.sha256?.update(view);
    this.checksum?.update(view);
    return this.encrypted(view);
  }

  /** Stores a digested chunk: into the inline body while it fits, else into blocks. */
  private async keep(stored: Uint8Array): Promise<void> {
    if (this.failure !== null || this.closed) return;
    const needed = this.receivedBytes + stored.byteLength;
    if (this.inlineBody !== null && needed > this.inlineBody.length) this.growInline(needed);
    if (this.inlineBody !== null && needed > this.inlineBody.length) {
      // Length unknown and the body outgrew inline storage: what was kept goes to blocks.
      const kept = this.inlineBody.subarray(0, this.receivedBytes);
      this.inlineBody = null;
      await this.writeBlocks(kept);
    }
    if (this.inlineBody !== null) this.inlineBody.set(stored, this.receivedBytes);
    else await this.writeBlocks(stored);
    this.receivedBytes += stored.byteLength;
  }

  /** Length unknown: doubles the inline buffer towards `needed`, never past inlineBytesMax. */
  private growInline(needed: number): void {
    const current = this.inlineBody;
    if (current === null || this.plan.declaredBytes !== null) return;
    if (needed > this.plan.inlineBytesMax) return;
    const grown = new Uint8Array(
      Math.min(this.plan.inlineBytesMax, Math.max(needed, current.length * 2)),
    );
    grown.set(current.subarray(0, this.receivedBytes));
    this.inlineBody = grown;
  }

  /** What is stored: the bytes themselves, or (SSE-C) their ciphertext, hashed for the ETag. */
  private encrypted(view: Uint8Array): Uint8Array {
    if (this.encryption === null) return view;
    const cipher = this.encryption.encrypt(view);
    this.encryption.cipherMd5.update(cipher);
    this.encryption.macs.update(cipher);
    return cipher;
  }

  private async writeBlocks(view: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < view.byteLength) {
      this.writer ??= await this.store.beginBlock(this.plan.tier ?? DEFAULT_TIER);
      const room = this.plan.blockBytes - this.writer.bytes;
      const piece = view.subarray(offset, offset + Math.min(room, view.byteLength - offset));
      await this.writer.write(piece);
      offset += piece.byteLength;
      if (this.writer.bytes === this.plan.blockBytes) await this.sealBlock();
    }
  }

  private async sealBlock(): Promise<void> {
    const writer = this.writer;
    assert(writer !== null && writer.bytes > 0, 'sealing a non-empty block');
    this.writer = null;
    let sealed: BlockRef;
    try {
      const finished = await writer.finish();
      sealed = { ...finished, hash: blockKeyOf(this.plan.tier ?? DEFAULT_TIER, finished.hash) };
    } catch (error) {
      await writer.discard(); // no temp file outlives a failed fsync or close
      throw error;
    }
    this.ledger.pin(sealed.hash);
    // The CRC travels with the reference to the blocks table (MetaStore.incref), whether the
    // bytes end up in this file, an existing one, or one hard-linked from another shard: they
    // hash to the same name, so they are the same bytes.
    this.blocks.push(sealed);
    await this.ledger.installBlock(sealed.hash, writer);
  }

  /** Finishes the body, checks every digest, and returns the record to commit. */
  async finish(expect: PutExpectations, nowMs: number): Promise<ObjectRecord> {
    await this.tail;
    if (this.failure !== null) throw this.failure;
    if (this.writer !== null) await this.sealBlock();
    const declared = this.plan.declaredBytes;
    if (declared !== null && this.receivedBytes !== declared) {
      throw failure('IncompleteBody', 'fewer bytes than declared');
    }
    const md5 = this.md5.digest();
    const checksum = this.verify(expect, md5);
    // S3's ETag of an SSE-C or SSE-KMS object is not the MD5 of its data (that would leak it):
    // the ciphertext's MD5 serves. SSE-S3's is the data's MD5, as in AWS (sync tools rely on it).
    const etagMd5 = this.etagIsPlainMd5() ? md5 : (this.encryption?.cipherMd5.digest() ?? md5);
    const record: ObjectRecord = {
      bytes: this.receivedBytes,
      etag: `"${etagMd5.toString('hex')}"`,
      lastModifiedMs: nowMs,
      headers: this.plan.headers,
      checksum,
      blocks: this.blocks,
      inline:
        this.inlineBody === null || this.inlineBody.length === this.receivedBytes
          ? this.inlineBody
          : this.inlineBody.slice(0, this.receivedBytes),
    };
    const tier = this.plan.tier ?? DEFAULT_TIER;
    if (tier !== DEFAULT_TIER && this.blocks.length > 0) record.tier = tier;
    if (this.encryption !== null) {
      const { key, iv, macs, partNumber } = this.encryption;
      const ivs = [iv.toString('base64')];
      const tags = {
        ivs,
        macs: [macs.finish().toString('base64')],
        ...(partNumber !== null ? { partNumbers: [partNumber] } : {}),
      };
      record.sse = isManagedKey(key)
        ? { ...key.managed, ...tags }
        : { keyMd5: key.md5Base64, ...tags };
    }
    return record;
  }

  private etagIsPlainMd5(): boolean {
    const key = this.encryption?.key;
    return key === undefined || (isManagedKey(key) && key.managed.kind === 's3');
  }

  private verify(expect: PutExpectations, md5: Buffer): StoredChecksum | null {
    if (expect.md5Base64 !== undefined && expect.md5Base64 !== md5.toString('base64')) {
      throw failure('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    if (expect.sha256Hex !== undefined && expect.sha256Hex !== this.sha256?.digest('hex')) {
      throw failure(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
    const algorithm = this.plan.checksumAlgorithm;
    if (this.checksum === null || algorithm === null) return null;
    const base64 = this.checksum.digest().toString('base64');
    if (expect.checksumBase64 !== undefined && expect.checksumBase64 !== base64) {
      throw failure(
        'BadDigest',
        `The ${algorithm} you specified did not match the calculated checksum.`,
      );
    }
    return { algorithm, base64, type: 'FULL_OBJECT' };
  }

  /** Releases pins; on abort also drops the temp block. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await this.writer?.discard();
    this.writer = null;
    for (const block of this.blocks) this.ledger.unpin(block.hash);
  }
}
