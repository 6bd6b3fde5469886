import { EngineFailureError, engineFailure } from '../errors.js';
import { dayOf } from '../lifecycle-transitions.js';
import { LIMITS } from '../limits.js';
import { AccessDays } from '../meta/access-days.js';
import { infoOf, type ObjectRecord } from '../meta/store.js';
import { evaluatePreconditions } from '../preconditions.js';
import { BufferPool } from '../protocol/flow.js';
import type { BlockRef, OpenedObject, ShardRequest, ShardResult } from '../protocol/messages.js';
import { isUnreadableArchive } from '../restore.js';
import type { DataKeys, ManagedKey } from '../sse/managed.js';
import { macIdentityOf, macKeyOf, SegmentTags } from '../sse/segment-mac.js';
import { type CustomerKey, decryptAt, type StoredEncryption, segmentAt } from '../sse-c.js';
import { ReadSession } from './read-session.js';
import type { ShardCore } from './shard-core.js';
import { BlockReadError, type Decryption, type Decryptor } from './verified-read.js';
import { recordToRead } from './version-lookup.js';

/** What an open read from the metadata store (ReadRequests.lookUp). */
interface StoredObject {
  record: ObjectRecord;
  /** The body of an inline object, verified; null when its bytes are in blocks, or not read. */
  inline: Uint8Array | null;
  /** The record's blocks with their stored CRCs (empty when not read). */
  blocks: BlockRef[];
  /** A read its preconditions answer (304/412) from the info alone: no body was read. */
  answered: boolean;
}

/**
 * A shard's object reads (GET, HEAD, copy sources): OpenObject answers with the object's info
 * and, when its bytes stream from blocks, opens a read session per reqId that ReadRange drives
 * and Credit paces until it ends or is cancelled.
 */
export class ReadRequests {
  private readonly reads = new Map<number, ReadSession>();
  /** Chunk buffers of ended read sessions, for the next ones (bounded: LIMITS). */
  private readonly readBuffers = new BufferPool(LIMITS.shardReadBuffersKeepMax);

  constructor(private readonly core: ShardCore) {}

  /** Streaming requests open now (stats). */
  get size(): number {
    return this.reads.size;
  }

  /** The reqIds of open read sessions (a lane's cancel). */
  ids(): number[] {
    return [...this.reads.keys()];
  }

  close(): void {
    for (const session of this.reads.values()) session.close();
  }

  /** The HTTP thread hands a chunk buffer back: the session's next read fills it. */
  credit(reqId: number, body: ArrayBuffer | undefined): void {
    // A session closed meanwhile: its buffer still serves the next read.
    const session = this.reads.get(reqId);
    if (session !== undefined) session.credit(body);
    else this.readBuffers.give(body);
  }

  cancel(reqId: number): void {
    const read = this.reads.get(reqId);
    if (read !== undefined) this.closeRead(reqId, read);
  }

  /**
   * Opens an object for its purpose (messages.ts OpenPurpose). Only a read that streams from
   * blocks, a relay or a copy gets a session; a 'read' of an inline object is answered at once,
   * its body (verified against its CRC32C, decrypted) transferred beside the reply.
   */
  openObject(request: Extract<ShardRequest, { kind: 'OpenObject' }>): void {
    let found: StoredObject | Promise<StoredObject>;
    try {
      found = this.core.meta.read(() => this.lookUp(request));
    } catch (error) {
      this.fail(request, error);
      return;
    }
    // The embedded store answers at once: no promise on the hot path.
    if (found instanceof Promise) {
      found.then(
        (stored) => this.answerOpen(request, stored),
        (error: unknown) => this.fail(request, error),
      );
    } else {
      this.answerOpen(request, found);
    }
  }

  private answerOpen(
    request: Extract<ShardRequest, { kind: 'OpenObject' }>,
    stored: StoredObject,
  ): void {
    let opened: { result: ShardResult; body?: ArrayBuffer };
    try {
      opened = this.open(request, stored);
    } catch (error) {
      this.fail(request, error);
      return;
    }
    this.core.reply({ kind: 'Done', reqId: request.reqId, result: opened.result }, opened.body);
  }

  private fail(request: Extract<ShardRequest, { kind: 'OpenObject' }>, error: unknown): void {
    this.core.reply({ kind: 'Failed', reqId: request.reqId, failure: this.core.toFailure(error) });
  }

  /**
   * Every metadata read an open makes, in one read-only run (MetaStore.read): the record, its
   * body when stored inline (checked against its CRC32C, a copy when it comes from the bodies
   * table, so decrypting in place touches nothing shared), its blocks with their stored CRCs.
   * A purpose that needs no body, or a read its preconditions answer, reads none.
   */
  private lookUp(request: Extract<ShardRequest, { kind: 'OpenObject' }>): StoredObject {
    const { bucketId, key, purpose } = request;
    const record = recordToRead(this.core.meta, bucketId, key, request.versionId);
    const answered = answersWithoutBody(request, record);
    if (purpose === 'info' || answered) return { record, inline: null, blocks: [], answered };
    return {
      record,
      inline: this.core.meta.bodyOf(bucketId, key, record),
      blocks: this.core.meta.withStoredCrcs(record.blocks),
      answered,
    };
  }

  /**
   * Intelligent tiering's access tracking: a read of an INTELLIGENT_TIERING version notes its
   * day, at most once a day (AccessDays.worthNoting is a field compare, so every other read pays
   * nothing), in its own transaction the reply does not wait for. A note lost to a crash only
   * makes the version look idle since its previous read.
   */
  private noteAccess(
    request: Extract<ShardRequest, { kind: 'OpenObject' }>,
    record: ObjectRecord,
    nowMs: number,
  ): void {
    const day = dayOf(nowMs);
    if (!AccessDays.worthNoting(record, day)) return;
    const { bucketId, key, versionId } = request;
    void this.core.meta.noteAccess(bucketId, key, versionId, day).catch(() => undefined);
  }

  private open(
    request: Extract<ShardRequest, { kind: 'OpenObject' }>,
    { record, inline, blocks, answered }: StoredObject,
  ): {
    result: ShardResult;
    body?: ArrayBuffer;
  } {
    const { bucketId, key, purpose } = request;
    if (request.readableAtMs !== undefined) {
      refuseUnrestored(record, request.readableAtMs);
      this.noteAccess(request, record, request.readableAtMs);
    }
    const encrypted = decryptorFor(record, request.sse, purpose !== 'info', (managed) =>
      this.core.keys.dataKeyOf(managed),
    );
    const info = infoOf(key, record);
    const opened = (session: boolean, source: OpenedObject | null = null): ShardResult => ({
      kind: 'Opened',
      info,
      session,
      source,
    });
    if (purpose === 'info') return { result: opened(false) };
    if (answered) return { result: opened(false) };
    if (inline !== null && encrypted !== null) {
      // Tags first: no byte of a tampered body is decrypted, let alone sent.
      const mismatch = encrypted.tags?.verifyWhole(inline) ?? null;
      if (mismatch !== null) throw new Error(`${bucketId}/${key}: inline body ${mismatch}`);
      encrypted.decrypt(0, inline);
    }
    if (purpose === 'read' && inline !== null) {
      return {
        result: opened(false),
        ...(inline.byteLength > 0 ? { body: ownBuffer(inline) } : {}),
      };
    }
    const object: OpenedObject = {
      info,
      shardId: this.core.settings.shardId,
      // With each block's CRC: what reads (and cross-shard copies, for their record) use.
      blocks,
      blockPaths: record.blocks.map((block) => this.core.blocks.locationOf(block.hash)),
      inlineBody: inline,
    };
    this.openSession(request.reqId, object, encrypted);
    return { result: opened(true, purpose === 'copy' ? object : null) };
  }

  /** Pins the object's blocks for a read session that streams it on ReadRange. */
  private openSession(reqId: number, object: OpenedObject, encrypted: Decryption | null): void {
    for (const block of object.blocks) this.core.ledger.pin(block.hash);
    const session = new ReadSession(
      object,
      (buffer, bytes) => this.core.reply({ kind: 'BodyChunk', reqId, bytes }, buffer),
      (error) => this.endRead(reqId, error),
      this.readBuffers,
      this.core.blocks,
      encrypted,
    );
    this.reads.set(reqId, session);
  }

  readRange(reqId: number, start: number, endExclusive: number): void {
    const session = this.reads.get(reqId);
    if (session === undefined) return; // cancelled meanwhile
    session.start(start, endExclusive);
  }

  private endRead(reqId: number, error: unknown): void {
    const session = this.reads.get(reqId);
    if (session === undefined) return;
    this.closeRead(reqId, session);
    if (error === null) {
      this.core.reply({ kind: 'Done', reqId, result: { kind: 'ReadDone' } });
      return;
    }
    // A block that failed its check is quarantined and recorded before the client hears of it.
    const checked =
      error instanceof BlockReadError
        ? this.core.checkAfterFailedRead(error.hash).catch(this.core.logError)
        : Promise.resolve();
    void checked.then(() =>
      this.core.reply({ kind: 'Failed', reqId, failure: this.core.toFailure(error) }),
    );
  }

  private closeRead(reqId: number, session: ReadSession): void {
    this.reads.delete(reqId);
    session.close();
    for (const block of session.object.blocks) this.core.ledger.unpin(block.hash);
  }
}

/**
 * The buffer holding exactly `bytes`, to transfer: the decoder's own copy when it is one
 * (cbor-x copies binary values into exact-size buffers), else a copy.
 */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = bytes.buffer;
  if (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    buffer.byteLength === bytes.byteLength
  )
    return buffer;
  return new Uint8Array(bytes).buffer;
}

/**
 * The decryptor of an encrypted object, or null for a plain object. SSE-C: for the key the
 * request gave (a missing, superfluous or wrong key is refused with S3's answers). SSE-S3 and
 * SSE-KMS: for the data key the keyring opens, only when bytes are to be read (`reading`): a
 * HEAD of an object whose KMS key is disabled still answers, as in AWS.
 */
function decryptorFor(
  record: ObjectRecord,
  key: CustomerKey | null,
  reading: boolean,
  dataKeyOf: (managed: ManagedKey) => DataKeys,
): Decryption | null {
  const encryption = record.sse;
  const managed = encryption === undefined || encryption.kind !== undefined;
  if (managed && key !== null) {
    throw engineFailure(
      'InvalidRequest',
      'The encryption parameters are not applicable to this object.',
    );
  }
  if (encryption === undefined || (managed && !reading)) return null;
  const decryptKey =
    encryption.kind !== undefined ? dataKeyOf(encryption) : customerKeyFor(encryption.keyMd5, key);
  const partSizes = record.partSizes ?? null;
  const decrypt: Decryptor = (position, data) => {
    const { iv, offset } = segmentAt(encryption, partSizes, position);
    decryptAt(decryptKey, iv, offset, data);
  };
  return { decrypt, tags: segmentTagsOf(record, encryption, decryptKey) };
}

/**
 * The segment tags reads check an encrypted object's ciphertext against, or null for an object
 * written before tags were kept (it reads as it did then: CRC32C only).
 */
function segmentTagsOf(
  record: ObjectRecord,
  encryption: StoredEncryption,
  keys: DataKeys,
): SegmentTags | null {
  if (encryption.macs === undefined) return null;
  const macKey = macKeyOf(keys, macIdentityOf(encryption.kind === undefined ? null : encryption));
  // An inline body (no blocks) was tagged as the first block it would have filled.
  const blockSizes =
    record.blocks.length === 0 ? [record.bytes] : record.blocks.map((block) => block.bytes);
  return new SegmentTags(
    macKey,
    encryption.ivs,
    encryption.macs,
    blockSizes,
    record.partSizes ?? [record.bytes],
    encryption.partNumbers,
  );
}

/** The SSE-C key a GET must bring: the one whose MD5 the object keeps (S3's answers if not). */
function customerKeyFor(keyMd5: string, key: CustomerKey | null): CustomerKey {
  if (key === null) {
    throw engineFailure(
      'InvalidRequest',
      'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
  }
  if (key.md5Base64 !== keyMd5) throw engineFailure('AccessDenied', 'Access Denied');
  return key;
}

/** A read of an archived version that is not restored: 403 InvalidObjectState, as AWS. */
function refuseUnrestored(record: ObjectRecord, nowMs: number): void {
  if (!isUnreadableArchive(record, nowMs)) return;
  throw new EngineFailureError({
    code: 'InvalidObjectState',
    message: "The operation is not valid for the object's storage class",
    ...(record.storageClass !== undefined ? { storageClass: record.storageClass } : {}),
    ...(record.accessTier !== undefined ? { accessTier: record.accessTier } : {}),
  });
}

/** A read whose preconditions fail is answered (304/412) from the object's info alone. */
function answersWithoutBody(
  request: Extract<ShardRequest, { kind: 'OpenObject' }>,
  record: ObjectRecord,
): boolean {
  return (
    request.purpose === 'read' &&
    request.conditions !== undefined &&
    evaluatePreconditions(infoOf(request.key, record), request.conditions).kind !== 'ok'
  );
}
