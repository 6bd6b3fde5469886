import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { assert, assertNever } from '../assert.js';
import { BlockStore, isCode } from '../blocks/store.js';
import { EngineFailureError, engineFailure } from '../errors.js';
import { shardDir } from '../layout.js';
import { LIMITS } from '../limits.js';
import type { LogSettings } from '../log.js';
import {
  infoOf,
  MetaStore,
  type Notify,
  type ObjectRecord,
  type PartRecord,
  uploadInfoOf,
} from '../meta/store.js';
import type { EventName } from '../notify/events.js';
import { evaluatePreconditions } from '../preconditions.js';
import { BufferPool } from '../protocol/flow.js';
import { laneOf } from '../protocol/lanes.js';
import type {
  DeleteOutcome,
  DeleteTarget,
  EngineFailure,
  NotifyContext,
  ObjectAclFields,
  ObjectInfo,
  ObjectLock,
  OpenedObject,
  OutboxMessage,
  PartTarget,
  PutEndFields,
  QuotaCheck,
  ShardReply,
  ShardRequest,
  ShardResult,
  Tag,
  VersioningState,
  WriteConditions,
} from '../protocol/messages.js';
import {
  type DataKeys,
  type ManagedDataKey,
  type ManagedKey,
  managedKeyTag,
  summaryOf,
} from '../sse/managed.js';
import { macIdentityOf, macKeyOf, SegmentTags } from '../sse/segment-mac.js';
import {
  type CustomerKey,
  decryptAt,
  type EncryptionKey,
  isManagedKey,
  type StoredEncryption,
  segmentAt,
} from '../sse-c.js';
import { shardCounters } from '../stats.js';
import {
  conditionFailure,
  guardAtCommit,
  guardCheckedAtBegin,
  type WriteGuard,
} from '../write-conditions.js';
import { BlockHealth } from './block-health.js';
import { BlockLedger } from './ledger.js';
import { PutSession } from './put-session.js';
import { ReadSession } from './read-session.js';
import { ShardKeys } from './shard-keys.js';
import { BlockReadError, type Decryption, type Decryptor } from './verified-read.js';
import { recordToRead } from './version-lookup.js';

export interface ShardSettings {
  shardId: number;
  shardCount: number;
  dataDir: string;
  blockBytes: number;
  inlineBytesMax: number;
  durable: boolean;
  /** How the shard's thread logs (the main thread's settings; the level follows SIGHUP). */
  log: LogSettings;
  /** config.sse.masterKeyFile (absent or null: the data directory's). */
  sseMasterKeyFile?: string | null;
}

/** Sends a reply, with body bytes transferred beside it when given. */
export type ReplySink = (reply: ShardReply, body?: ArrayBuffer) => void;

/**
 * A shard actor: it alone owns one LMDB environment and one block directory, and serves the
 * requests of its mailbox (one MessagePort) on one thread. Streaming requests keep a session per
 * reqId until they end or the HTTP thread cancels them.
 */
export class Shard {
  private readonly meta: MetaStore;
  private readonly store: BlockStore;
  private readonly ledger: BlockLedger;
  private readonly health: BlockHealth;
  private readonly keys: ShardKeys;
  private readonly puts = new Map<number, PutSession>();
  private readonly reads = new Map<number, ReadSession>();
  /** Chunk buffers of ended read sessions, for the next ones (bounded: LIMITS). */
  private readonly readBuffers = new BufferPool(LIMITS.shardReadBuffersKeepMax);
  /** PUTs whose PutBegin was refused: their in-flight chunks and PutEnd are dropped (protocol). */
  private readonly refused = new Set<number>();

  constructor(
    private readonly settings: ShardSettings,
    private readonly reply: ReplySink,
    private readonly logError: (error: unknown) => void,
  ) {
    const dir = shardDir(settings.dataDir, settings.shardId);
    this.meta = new MetaStore(join(dir, 'meta'), settings.durable);
    const siblings = [];
    for (let i = 0; i < settings.shardCount; i++) {
      if (i !== settings.shardId) siblings.push(join(shardDir(settings.dataDir, i), 'blocks'));
    }
    this.store = new BlockStore(join(dir, 'blocks'), siblings, settings.durable);
    this.ledger = new BlockLedger(this.meta, this.store, logError);
    this.health = new BlockHealth(this.meta, this.store, this.ledger);
    this.keys = new ShardKeys(settings.dataDir, settings.sseMasterKeyFile ?? null);
  }

  /** Prepares the block directory and removes what a crash left behind. */
  async start(): Promise<ShardResult> {
    await this.store.init();
    shardCounters.orphansRemoved += await this.store.sweep(this.meta.referencedBlocks());
    return { kind: 'Ready', shardId: this.settings.shardId, threadId };
  }

  async stop(): Promise<void> {
    for (const session of this.puts.values()) await session.close();
    for (const session of this.reads.values()) session.close();
    await this.meta.close();
    await this.keys.close();
  }

  handle(request: ShardRequest, body: ArrayBuffer | undefined): void {
    shardCounters.messagesHandled++;
    switch (request.kind) {
      case 'PutBegin':
        this.beginPut(request, body);
        break;
      case 'BodyChunk':
        this.acceptChunk(request.reqId, request.bytes, body);
        break;
      case 'PutEnd':
        // Refused already (and answered then): the PutEnd only ends the refused state.
        if (this.refused.delete(request.reqId)) break;
        this.answer(request.reqId, () =>
          this.endPut(request.reqId, request.expect, request.quota ?? null),
        );
        break;
      case 'Cancel':
        this.cancel(request.reqId);
        break;
      case 'OpenObject':
        this.openObject(request);
        break;
      case 'ReadRange':
        this.readRange(request.reqId, request.start, request.endExclusive);
        break;
      case 'Credit':
        // A session closed meanwhile: its buffer still serves the next read.
        {
          const session = this.reads.get(request.reqId);
          if (session !== undefined) session.credit(body);
          else this.readBuffers.give(body);
        }
        break;
      case 'DeleteObjects':
        this.answer(request.reqId, () => this.deleteObjects(request));
        break;
      case 'ListVersions':
        this.answer(request.reqId, async () => ({
          kind: 'VersionsListed',
          ...this.meta.listVersions(request),
        }));
        break;
      case 'CopyFrom':
        this.answer(request.reqId, () => this.copyFrom(request));
        break;
      case 'BucketUsage':
        this.answer(request.reqId, async () => ({
          kind: 'Usage',
          ...this.meta.usage(request.bucketId),
        }));
        break;
      case 'BucketCounters':
        this.answer(request.reqId, async () => ({
          kind: 'Counters',
          ...this.meta.bucketCounters(request.bucketId),
        }));
        break;
      case 'CreateUpload':
        this.answer(request.reqId, () => this.createUpload(request));
        break;
      case 'CompleteUpload':
        this.answer(request.reqId, () => this.completeUpload(request));
        break;
      case 'AbortUpload':
        this.answer(request.reqId, () => this.abortUpload(request));
        break;
      case 'ListParts':
        this.answer(request.reqId, async () => this.listParts(request));
        break;
      case 'ListUploads':
        this.answer(request.reqId, async () => ({
          kind: 'Uploads',
          ...this.meta.listUploads(request),
        }));
        break;
      case 'PurgeBuckets':
        this.answer(request.reqId, () => this.purge(request.liveBucketIds));
        break;
      case 'GetTags':
        this.answer(request.reqId, async () => this.getTags(request));
        break;
      case 'SetTags':
        this.answer(request.reqId, () => this.setTags(request));
        break;
      case 'ObjectAcl':
        this.answer(request.reqId, () => this.objectAcl(request));
        break;
      case 'GetLock':
        this.answer(request.reqId, async () => this.getLock(request));
        break;
      case 'SetLock':
        this.answer(request.reqId, () => this.setLock(request));
        break;
      case 'ApplyLifecycle':
        this.answer(request.reqId, () => this.applyLifecycle(request));
        break;
      case 'CleanupUploads':
        this.answer(request.reqId, () => this.cleanupUploads(request));
        break;
      case 'Stats':
        this.answer(request.reqId, async () => this.stats());
        break;
      case 'ScrubBlocks':
        this.answer(request.reqId, () =>
          this.health.scrub(request.after, request.limit, request.maxBytes),
        );
        break;
      case 'SweepOrphans':
        this.answer(request.reqId, () => this.health.sweepOrphans(request.fanout));
        break;
      case 'ListBlockErrors':
        this.answer(request.reqId, async () => this.health.listErrors());
        break;
      case 'GetBlockInfo':
        this.answer(request.reqId, () => this.health.info(request.hash, request.limit));
        break;
      case 'RetryBlocks':
        this.answer(request.reqId, () => this.health.retry(request.hashes));
        break;
      case 'PurgeBlocks':
        this.answer(request.reqId, () => this.purgeBlocks(request.hashes));
        break;
      case 'ReadOutbox':
        this.answer(request.reqId, async () => ({
          kind: 'OutboxRead',
          entries: this.meta.outboxEntries(request.limit),
          pending: this.meta.outbox.pending,
        }));
        break;
      case 'AckOutbox':
        this.answer(request.reqId, () => this.ackOutbox(request.ids));
        break;
      case 'ReadReplication':
        this.answer(request.reqId, async () => ({
          kind: 'ReplicationRead',
          entries: this.meta.replicationEntries(request.limit),
          pending: this.meta.replication.pending,
        }));
        break;
      case 'SettleReplication':
        this.answer(request.reqId, async () => {
          const removed = await this.meta.settleReplication(request.settled);
          if (this.settings.durable) await this.meta.flushed();
          return { kind: 'ReplicationSettled', removed };
        });
        break;
      case 'NoteReplicationAttempts':
        this.answer(request.reqId, async () => {
          const noted = await this.meta.noteReplicationAttempts(request.id, request.attempts);
          if (this.settings.durable) await this.meta.flushed();
          return { kind: 'ReplicationAttemptsNoted', noted };
        });
        break;
      case 'RequeueReplication':
        this.answer(request.reqId, async () => {
          const added = await this.meta.requeueReplication(request.entries);
          if (this.settings.durable) await this.meta.flushed();
          return { kind: 'ReplicationQueued', added };
        });
        break;
      case 'RecordOutbox':
        this.answer(request.reqId, () => this.recordOutbox(request.messages));
        break;
      default:
        assertNever(request);
    }
  }

  /** Runs an operation and replies Done or Failed; never throws. */
  private answer(reqId: number, work: () => Promise<ShardResult>): void {
    work().then(
      (result) => this.reply({ kind: 'Done', reqId, result }),
      (error: unknown) => this.reply({ kind: 'Failed', reqId, failure: this.toFailure(error) }),
    );
  }

  private toFailure(error: unknown): EngineFailure {
    if (error instanceof EngineFailureError) return error.failure;
    if (isCode(error, 'ENOSPC') || isCode(error, 'EDQUOT')) {
      return { code: 'StorageFull', message: 'no space left on the storage device' };
    }
    this.logError(error);
    return { code: 'Internal', message: error instanceof Error ? error.message : String(error) };
  }

  // ---- PUT ----

  private beginPut(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    body: ArrayBuffer | undefined,
  ): void {
    assert(!this.puts.has(request.reqId), 'reqIds are unique');
    const part = request.part;
    let sse = request.sse;
    let refusal = part === null ? this.conditionRefusal(request) : this.partRefusal(request, part);
    if (refusal === null && part !== null && sse === null) {
      try {
        sse = this.uploadDataKey(request.bucketId, request.key, part.uploadId);
      } catch (error) {
        refusal = new EngineFailureError(this.toFailure(error));
      }
    }
    if (refusal !== null) {
      // Refuse before a byte is written; the HTTP side stops sending on this reply, but what it
      // sent meanwhile (chunks, even the PutEnd of a small body) is still on its way. A whole
      // PUT sent nothing more.
      if (request.end === undefined) this.refused.add(request.reqId);
      this.answer(request.reqId, async () => {
        throw refusal;
      });
      return;
    }
    const session = new PutSession(
      {
        declaredBytes: request.declaredBytes,
        blockBytes: this.settings.blockBytes,
        // Parts always go to blocks: completing an upload concatenates block lists.
        inlineBytesMax: part === null ? this.settings.inlineBytesMax : -1,
        headers: request.headers,
        payloadSha256: request.payloadSha256,
        checksumAlgorithm: request.checksumAlgorithm,
        sse,
      },
      this.store,
      this.ledger,
    );
    this.puts.set(request.reqId, session);
    // Remember where the object goes; PutEnd carries only the reqId.
    this.putTargets.set(request.reqId, {
      bucketId: request.bucketId,
      key: request.key,
      part,
      tags: request.tags ?? [],
      quota: request.quota ?? null,
      ...(request.versioning !== undefined ? { versioning: request.versioning } : {}),
      ...(request.lock !== undefined ? { lock: request.lock } : {}),
      ...aclFields(request),
      guard: request.conditions ? guardCheckedAtBegin(request.conditions) : null,
      ...(request.replica === true ? { replica: true } : {}),
      ...(request.notify !== undefined
        ? {
            notify: {
              context: request.notify,
              event: `ObjectCreated:${request.notify.via ?? 'Put'}`,
            },
          }
        : {}),
    });
    if (request.end !== undefined) this.takeWholeBody(request.reqId, request.end, body);
  }

  /** A PUT whose body came with its PutBegin: fed and ended at once, answered once (no Credit). */
  private takeWholeBody(reqId: number, end: PutEndFields, body: ArrayBuffer | undefined): void {
    const session = this.puts.get(reqId);
    assert(session !== undefined, 'the session was just begun');
    assert(body === undefined || body.byteLength <= LIMITS.chunkBytes, 'a whole body is one chunk');
    // Queued on the session's tail: finish (in endPut) waits for it.
    if (body !== undefined) void session.push(new Uint8Array(body));
    this.answer(reqId, () => this.endPut(reqId, end.expect, end.quota ?? null));
  }

  /**
   * A conditional PutObject whose condition fails already when it begins: refused before a byte
   * is written (412, or 404 for If-Match on a missing key). It is checked again at commit.
   */
  private conditionRefusal(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
  ): EngineFailureError | null {
    if (request.conditions === undefined) return null;
    const failure = conditionFailure(
      request.conditions,
      this.meta.getObject(request.bucketId, request.key),
    );
    return failure === null ? null : new EngineFailureError(failure);
  }

  /** The data key of an SSE-S3 or SSE-KMS upload (null: the upload is not managed-encrypted). */
  private uploadDataKey(bucketId: string, key: string, uploadId: string): ManagedDataKey | null {
    const managed = this.meta.getUpload(bucketId, key, uploadId)?.sseManaged;
    if (managed === undefined) return null;
    return { ...this.keys.dataKeyOf(managed), managed };
  }

  /** Why an UploadPart cannot start: no such upload, or not the upload's checksum algorithm. */
  private partRefusal(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    part: PartTarget,
  ): EngineFailureError | null {
    const upload = this.meta.getUpload(request.bucketId, request.key, part.uploadId);
    if (upload === undefined)
      return engineFailure('NoSuchUpload', 'The specified upload does not exist.');
    const sseRefusal = ssePartRefusal(upload.sseKeyMd5, request.sse);
    if (sseRefusal !== null) return sseRefusal;
    const expected = upload.checksum?.algorithm ?? null;
    if (expected === null || request.checksumAlgorithm === expected) return null;
    return engineFailure(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${expected.toLowerCase()}, actual checksum Type: ${request.checksumAlgorithm?.toLowerCase() ?? 'null'}`,
    );
  }

  /** PUTs between PutEnd and their commit: a Cancel no longer stops them. */
  private readonly committing = new Set<number>();
  private readonly putTargets = new Map<
    number,
    {
      bucketId: string;
      key: string;
      part: PartTarget | null;
      tags: Tag[];
      quota: QuotaCheck | null;
      versioning?: VersioningState;
      lock?: ObjectLock;
      /** A conditional PutObject's check inside its commit. */
      guard: WriteGuard | null;
      /** Buckets with notifications: the event the commit records in the outbox. */
      notify?: Notify;
      /** Written by a source's replication: the version says REPLICA. */
      replica?: true;
    } & ObjectAclFields
  >();

  private acceptChunk(reqId: number, bytes: number, body: ArrayBuffer | undefined): void {
    assert(body !== undefined && bytes <= body.byteLength, 'a chunk carries its bytes');
    const session = this.puts.get(reqId);
    if (session === undefined) return; // cancelled meanwhile: drop the bytes
    void session.push(new Uint8Array(body, 0, bytes)).then(() => {
      this.reply({ kind: 'Credit', reqId, bytes }, body);
    });
  }

  private async endPut(
    reqId: number,
    expect: Extract<ShardRequest, { kind: 'PutEnd' }>['expect'],
    quotaAtEnd: QuotaCheck | null,
  ): Promise<ShardResult> {
    const session = this.puts.get(reqId);
    const target = this.putTargets.get(reqId);
    assert(session !== undefined && target !== undefined, 'PutEnd follows PutBegin');
    this.committing.add(reqId);
    try {
      const finished = await session.finish(expect, Date.now());
      if (target.part !== null)
        return await this.commitPart(target.bucketId, target.key, target.part, finished);
      const record: ObjectRecord = {
        ...finished,
        ...(target.tags.length > 0 ? { tags: target.tags } : {}),
        ...(target.lock !== undefined ? { lock: target.lock } : {}),
        ...aclFields(target),
        ...(target.replica === true ? { replication: 'REPLICA' as const } : {}),
      };
      const quota = quotaAtEnd ?? target.quota;
      const { freed, versionId } = await this.meta.writeObject(
        target.bucketId,
        target.key,
        record,
        quota,
        target.versioning,
        target.guard,
        target.notify,
      );
      if (this.settings.durable) await this.meta.flushed();
      this.freeAll(freed);
      return { kind: 'Put', info: withVersion(infoOf(target.key, record), versionId) };
    } finally {
      this.committing.delete(reqId);
      this.puts.delete(reqId);
      this.putTargets.delete(reqId);
      await session.close();
    }
  }

  private async commitPart(
    bucketId: string,
    key: string,
    target: PartTarget,
    object: ObjectRecord,
  ): Promise<ShardResult> {
    assert(object.inline === null, 'parts are stored in blocks');
    const part: PartRecord = {
      etag: object.etag,
      bytes: object.bytes,
      lastModifiedMs: object.lastModifiedMs,
      blocks: object.blocks,
      checksum: object.checksum,
    };
    const sse = object.sse;
    const iv = sse?.ivs[0];
    if (sse !== undefined && iv !== undefined) {
      const macs = sse.macs?.[0];
      part.sse = {
        keyMd5: sse.kind === undefined ? sse.keyMd5 : managedKeyTag(sse),
        iv,
        ...(macs !== undefined ? { macs } : {}),
      };
    }
    const freed = await this.meta.putPart(bucketId, key, target, part);
    if (this.settings.durable) await this.meta.flushed();
    this.freeAll(freed);
    return {
      kind: 'PartStored',
      part: {
        partNumber: target.partNumber,
        etag: part.etag,
        bytes: part.bytes,
        lastModifiedMs: part.lastModifiedMs,
        checksum: part.checksum,
        ...(sse?.kind !== undefined ? { sseManaged: summaryOf(sse) } : {}),
      },
    };
  }

  // ---- multipart uploads ----

  private async createUpload(
    request: Extract<ShardRequest, { kind: 'CreateUpload' }>,
  ): Promise<ShardResult> {
    const upload = await this.meta.createUpload(
      request.bucketId,
      request.key,
      {
        headers: request.headers,
        checksum: request.checksum,
        sseKeyMd5: request.sseKeyMd5,
        ...(request.sseManaged !== undefined ? { sseManaged: request.sseManaged } : {}),
        tags: request.tags,
        ...(request.lock !== undefined ? { lock: request.lock } : {}),
        ...(request.initiator !== undefined ? { initiator: request.initiator } : {}),
        ...aclFields(request),
      },
      Date.now(),
    );
    if (this.settings.durable) await this.meta.flushed();
    return { kind: 'UploadCreated', uploadId: upload.uploadId };
  }

  private async completeUpload(
    request: Extract<ShardRequest, { kind: 'CompleteUpload' }>,
  ): Promise<ShardResult> {
    const { record, freed, versionId } = await this.meta.completeUpload(
      request.bucketId,
      request.key,
      request.uploadId,
      request.parts,
      request.fullObjectBase64,
      Date.now(),
      request.quota ?? null,
      request.conditions ?? null,
      request.versioning,
      request.defaultLock,
      notifyOf(request.notify, 'ObjectCreated:CompleteMultipartUpload'),
      request.replica === true,
    );
    if (this.settings.durable) await this.meta.flushed();
    this.freeAll(freed);
    return { kind: 'Put', info: withVersion(infoOf(request.key, record), versionId) };
  }

  private async abortUpload(
    request: Extract<ShardRequest, { kind: 'AbortUpload' }>,
  ): Promise<ShardResult> {
    const freed = await this.meta.abortUpload(request.bucketId, request.key, request.uploadId);
    if (this.settings.durable) await this.meta.flushed();
    this.freeAll(freed);
    return { kind: 'Aborted' };
  }

  private listParts(request: Extract<ShardRequest, { kind: 'ListParts' }>): ShardResult {
    const upload = this.meta.getUpload(request.bucketId, request.key, request.uploadId);
    if (upload === undefined)
      throw engineFailure('NoSuchUpload', 'The specified upload does not exist.');
    return {
      kind: 'Parts',
      upload: uploadInfoOf(upload),
      ...this.meta.listParts(request.uploadId, request.afterPartNumber, request.limit),
    };
  }

  /** A lane's port closed (its edge thread ended): its sessions end as if each was cancelled. */
  cancelLane(lane: number): void {
    const ids = new Set([...this.puts.keys(), ...this.reads.keys(), ...this.refused]);
    for (const reqId of ids) if (laneOf(reqId) === lane) this.cancel(reqId);
  }

  private cancel(reqId: number): void {
    this.refused.delete(reqId);
    const put = this.puts.get(reqId);
    // A PUT whose body is whole commits regardless (the client hung up after its last byte):
    // closing its session under the commit would unpin the new blocks before the record
    // references them, and leave them pinned (never freed) once it does.
    if (put !== undefined && !this.committing.has(reqId)) {
      this.puts.delete(reqId);
      this.putTargets.delete(reqId);
      put.close().catch(this.logError);
    }
    const read = this.reads.get(reqId);
    if (read !== undefined) this.closeRead(reqId, read);
  }

  private freeAll(hashes: readonly string[]): void {
    for (const hash of hashes) this.ledger.freeIfUnused(hash);
  }

  // ---- GET / HEAD / copy source ----

  /**
   * Opens an object for its purpose (messages.ts OpenPurpose). Only a read that streams from
   * blocks, a relay or a copy gets a session; a 'read' of an inline object is answered at once,
   * its body (verified against its CRC32C, decrypted) transferred beside the reply.
   */
  private openObject(request: Extract<ShardRequest, { kind: 'OpenObject' }>): void {
    let opened: { result: ShardResult; body?: ArrayBuffer };
    try {
      opened = this.open(request);
    } catch (error) {
      this.reply({ kind: 'Failed', reqId: request.reqId, failure: this.toFailure(error) });
      return;
    }
    this.reply({ kind: 'Done', reqId: request.reqId, result: opened.result }, opened.body);
  }

  private open(request: Extract<ShardRequest, { kind: 'OpenObject' }>): {
    result: ShardResult;
    body?: ArrayBuffer;
  } {
    const { bucketId, key, purpose } = request;
    const record = recordToRead(this.meta, bucketId, key, request.versionId);
    const encrypted = decryptorFor(record, request.sse, purpose !== 'info', (managed) =>
      this.keys.dataKeyOf(managed),
    );
    const info = infoOf(key, record);
    const opened = (session: boolean, source: OpenedObject | null = null): ShardResult => ({
      kind: 'Opened',
      info,
      session,
      source,
    });
    if (purpose === 'info') return { result: opened(false) };
    const answersWithoutBody =
      purpose === 'read' &&
      request.conditions !== undefined &&
      evaluatePreconditions(info, request.conditions).kind !== 'ok';
    if (answersWithoutBody) return { result: opened(false) };
    // Checked against its CRC32C (a copy when it comes from the bodies table, so decrypting in
    // place touches nothing shared).
    const inline = this.meta.bodyOf(bucketId, key, record);
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
      shardId: this.settings.shardId,
      // With each block's CRC: what reads (and cross-shard copies, for their record) use.
      blocks: this.meta.withStoredCrcs(record.blocks),
      blockPaths: record.blocks.map((block) => this.store.pathOf(block.hash)),
      inlineBody: inline,
    };
    this.openSession(request.reqId, object, encrypted);
    return { result: opened(true, purpose === 'copy' ? object : null) };
  }

  /** Pins the object's blocks for a read session that streams it on ReadRange. */
  private openSession(reqId: number, object: OpenedObject, encrypted: Decryption | null): void {
    for (const block of object.blocks) this.ledger.pin(block.hash);
    const session = new ReadSession(
      object,
      (buffer, bytes) => this.reply({ kind: 'BodyChunk', reqId, bytes }, buffer),
      (error) => this.endRead(reqId, error),
      this.readBuffers,
      encrypted,
    );
    this.reads.set(reqId, session);
  }

  private readRange(reqId: number, start: number, endExclusive: number): void {
    const session = this.reads.get(reqId);
    if (session === undefined) return; // cancelled meanwhile
    session.start(start, endExclusive);
  }

  private endRead(reqId: number, error: unknown): void {
    const session = this.reads.get(reqId);
    if (session === undefined) return;
    this.closeRead(reqId, session);
    if (error === null) {
      this.reply({ kind: 'Done', reqId, result: { kind: 'ReadDone' } });
      return;
    }
    // A block that failed its check is quarantined and recorded before the client hears of it.
    const checked =
      error instanceof BlockReadError
        ? this.health.checkAfterFailedRead(error.hash).catch(this.logError)
        : Promise.resolve();
    void checked.then(() => this.reply({ kind: 'Failed', reqId, failure: this.toFailure(error) }));
  }

  private closeRead(reqId: number, session: ReadSession): void {
    this.reads.delete(reqId);
    session.close();
    for (const block of session.object.blocks) this.ledger.unpin(block.hash);
  }

  // ---- tags ----

  private getTags(request: Extract<ShardRequest, { kind: 'GetTags' }>): ShardResult {
    const record = recordToRead(this.meta, request.bucketId, request.key, request.versionId);
    const versionId = infoOf(request.key, record).versionId;
    return {
      kind: 'Tags',
      tags: record.tags ?? [],
      ...(versionId !== undefined ? { versionId } : {}),
    };
  }

  private async setTags(request: Extract<ShardRequest, { kind: 'SetTags' }>): Promise<ShardResult> {
    const { tags, record } = await this.meta.setTags(
      request.bucketId,
      request.key,
      request.tags,
      request.versionId,
      notifyOf(
        request.notify,
        request.tags.length > 0 ? 'ObjectTagging:Put' : 'ObjectTagging:Delete',
      ),
    );
    if (this.settings.durable) await this.meta.flushed();
    const versionId = infoOf(request.key, record).versionId;
    return { kind: 'Tags', tags, ...(versionId !== undefined ? { versionId } : {}) };
  }

  // ---- object ACLs ----

  /** GetObjectAcl (no `acl`) or PutObjectAcl: the record's owner and ACL, after any change. */
  private async objectAcl(
    request: Extract<ShardRequest, { kind: 'ObjectAcl' }>,
  ): Promise<ShardResult> {
    let record: ObjectRecord;
    if (request.acl === undefined) {
      record = recordToRead(this.meta, request.bucketId, request.key, request.versionId);
    } else {
      record = await this.meta.setAcl(
        request.bucketId,
        request.key,
        request.acl,
        request.versionId,
        request.expectedOwner,
        notifyOf(request.notify, 'ObjectAcl:Put'),
      );
      if (this.settings.durable) await this.meta.flushed();
    }
    const versionId = infoOf(request.key, record).versionId;
    return {
      kind: 'Acl',
      ...aclFields(record),
      ...(versionId !== undefined ? { versionId } : {}),
    };
  }

  // ---- object lock ----

  private getLock(request: Extract<ShardRequest, { kind: 'GetLock' }>): ShardResult {
    const record = recordToRead(this.meta, request.bucketId, request.key, request.versionId);
    const versionId = infoOf(request.key, record).versionId;
    return {
      kind: 'Lock',
      lock: record.lock ?? {},
      ...(versionId !== undefined ? { versionId } : {}),
    };
  }

  private async setLock(request: Extract<ShardRequest, { kind: 'SetLock' }>): Promise<ShardResult> {
    const { lock, record } = await this.meta.setLock(
      request.bucketId,
      request.key,
      request.change,
      request.check,
      request.versionId,
    );
    if (this.settings.durable) await this.meta.flushed();
    const versionId = infoOf(request.key, record).versionId;
    return { kind: 'Lock', lock, ...(versionId !== undefined ? { versionId } : {}) };
  }

  // ---- event notifications ----

  /** Removes delivered events; durably, or a restart would deliver them again (harmless). */
  private async ackOutbox(ids: readonly string[]): Promise<ShardResult> {
    const removed = await this.meta.ackOutbox(ids);
    if (this.settings.durable) await this.meta.flushed();
    return { kind: 'OutboxAcked', removed };
  }

  /** Records whole messages; durably: the answer promises their delivery. */
  private async recordOutbox(messages: readonly OutboxMessage[]): Promise<ShardResult> {
    assert(messages.length <= LIMITS.notifyRulesMax, 'one test message per configuration at most');
    const written = await this.meta.recordOutbox(messages);
    if (this.settings.durable) await this.meta.flushed();
    return { kind: 'OutboxRecorded', written };
  }

  // ---- copy, delete, purge ----

  private async copyFrom(
    request: Extract<ShardRequest, { kind: 'CopyFrom' }>,
  ): Promise<ShardResult> {
    const source = request.source;
    // Encrypted objects are copied by streaming (decrypt, re-encrypt), never by sharing blocks.
    assert(
      source.info.sseKeyMd5 === null && source.info.sseManaged === undefined,
      'block-sharing copies are of unencrypted objects',
    );
    for (const block of source.blocks) this.ledger.pin(block.hash);
    try {
      if (source.shardId !== this.settings.shardId) {
        for (const [index, block] of source.blocks.entries()) {
          const path = source.blockPaths[index];
          assert(path !== undefined, 'every source block has a path');
          await this.ledger.adoptBlock(block.hash, path);
        }
      }
      const record = {
        bytes: source.info.bytes,
        etag: source.info.etag,
        lastModifiedMs: Date.now(),
        headers: request.headers,
        checksum: source.info.checksum,
        blocks: source.blocks,
        inline: source.inlineBody,
        ...(source.info.partSizes !== null ? { partSizes: source.info.partSizes } : {}),
        ...(source.info.partChecksums !== null ? { partChecksums: source.info.partChecksums } : {}),
        ...(request.tags.length > 0 ? { tags: request.tags } : {}),
        ...(request.lock !== undefined ? { lock: request.lock } : {}),
        ...aclFields(request),
      };
      const { freed, versionId } = await this.meta.writeObject(
        request.bucketId,
        request.key,
        record,
        request.quota ?? null,
        request.versioning,
        guardOf(request.conditions),
        notifyOf(request.notify, 'ObjectCreated:Copy'),
      );
      if (this.settings.durable) await this.meta.flushed();
      this.freeAll(freed);
      return { kind: 'Put', info: withVersion(infoOf(request.key, record), versionId) };
    } finally {
      for (const block of source.blocks) this.ledger.unpin(block.hash);
    }
  }

  private async deleteObjects(
    request: Extract<ShardRequest, { kind: 'DeleteObjects' }>,
  ): Promise<ShardResult> {
    const nowMs = Date.now();
    assert(
      request.ifMatch === undefined || request.targets.length === 1,
      'If-Match names one object',
    );
    const guard = guardOf(request.ifMatch !== undefined ? { ifMatch: request.ifMatch } : undefined);
    const outcomes = await Promise.all(
      request.targets.map((target) =>
        this.meta
          .deleteTarget(
            request.bucketId,
            target,
            request.versioning,
            nowMs,
            target.etag === undefined ? guard : guardOf({ ifMatch: target.etag }),
            request.lockCheck ?? { nowMs, bypassGovernance: false },
            notifyOf(request.notify, 'ObjectRemoved:Delete'),
          )
          .catch((error: unknown) => entryConditionFailed(target, error)),
      ),
    );
    if (this.settings.durable) await this.meta.flushed();
    for (const outcome of outcomes) this.freeAll(outcome.freed);
    return { kind: 'Deleted', results: outcomes.map((outcome) => outcome.outcome) };
  }

  /** One bounded lifecycle batch: expired objects deleted, due uploads aborted, blocks freed. */
  private async applyLifecycle(
    request: Extract<ShardRequest, { kind: 'ApplyLifecycle' }>,
  ): Promise<ShardResult> {
    const { expired, aborted, freed, next } = await this.meta.applyLifecycle(
      request.bucketId,
      request.rules,
      request.nowMs,
      request.target,
      request.after,
      request.limit,
      request.versioning,
      request.notify,
    );
    if (this.settings.durable && expired + aborted > 0) await this.meta.flushed();
    this.freeAll(freed);
    return { kind: 'LifecycleApplied', expired, aborted, next };
  }

  private async cleanupUploads(
    request: Extract<ShardRequest, { kind: 'CleanupUploads' }>,
  ): Promise<ShardResult> {
    const { aborted, freed, next } = await this.meta.abortUploadsWhere(
      request.bucketId,
      request.after,
      request.limit,
      (upload) => upload.initiatedMs < request.initiatedBeforeMs,
    );
    if (this.settings.durable && aborted > 0) await this.meta.flushed();
    this.freeAll(freed);
    return { kind: 'LifecycleApplied', expired: 0, aborted, next };
  }

  private stats(): ShardResult {
    return {
      kind: 'Stats',
      stats: {
        buckets: this.meta.allBucketCounters(),
        blocks: this.meta.blockTotals(),
        blockErrors: this.meta.blockErrorCount(),
        blocksDeduplicated: shardCounters.blocksDeduplicated,
        orphansRemoved: shardCounters.orphansRemoved,
        fsync: shardCounters.fsync,
        busySeconds: shardCounters.busySeconds(),
        messagesHandled: shardCounters.messagesHandled,
        openSessions: this.puts.size + this.reads.size,
      },
    };
  }

  private async purgeBlocks(hashes: readonly string[]): Promise<ShardResult> {
    const { objects, uploads, freed } = await this.meta.purgeBlocks(hashes);
    if (this.settings.durable) await this.meta.flushed();
    this.freeAll(freed);
    return { kind: 'BlocksPurged', objects, uploads, blocks: new Set(freed).size };
  }

  private async purge(liveBucketIds: readonly string[]): Promise<ShardResult> {
    const { objects, freed } = await this.meta.purgeBuckets(new Set(liveBucketIds));
    if (this.settings.durable) await this.meta.flushed();
    this.freeAll(freed);
    return { kind: 'Purged', objects };
  }
}

/** The commit-time guard of a copy or delete's conditions (null: unconditional). */
/**
 * A DeleteObjects entry whose own ETag condition failed is that entry's error, not the
 * request's: the other entries are still deleted (as AWS answers).
 */
function entryConditionFailed(
  target: DeleteTarget,
  error: unknown,
): { outcome: DeleteOutcome; freed: string[] } {
  if (target.etag === undefined || !(error instanceof EngineFailureError)) throw error;
  const { code } = error.failure;
  if (code !== 'PreconditionFailed' && code !== 'NoSuchKey') throw error;
  return {
    outcome: {
      key: target.key,
      existed: false,
      ...(target.versionId === undefined ? {} : { versionId: target.versionId }),
      failure: error.failure,
    },
    freed: [],
  };
}

function guardOf(conditions: WriteConditions | undefined): WriteGuard | null {
  return conditions === undefined ? null : guardAtCommit(conditions);
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

/** Whether an UploadPart's SSE-C key agrees with its upload's. */
function ssePartRefusal(
  uploadKeyMd5: string | undefined,
  key: EncryptionKey | null,
): EngineFailureError | null {
  if (uploadKeyMd5 === undefined) {
    return key === null
      ? null
      : engineFailure(
          'InvalidRequest',
          'The multipart upload initiate did not request Server Side Encryption with Customer provided keys.',
        );
  }
  if (key === null) {
    return engineFailure(
      'InvalidRequest',
      'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    );
  }
  if (isManagedKey(key) || key.md5Base64 !== uploadKeyMd5) {
    return engineFailure(
      'InvalidRequest',
      'The provided encryption parameters did not match the ones used originally.',
    );
  }
  return null;
}

/** An object's info with the version id its write got (versioned buckets only). */
function withVersion(info: ObjectInfo, versionId: string | undefined): ObjectInfo {
  return versionId === undefined ? info : { ...info, versionId };
}

/** A write's owner and ACL fields, present only when set (ObjectAclFields). */
function aclFields(from: ObjectAclFields): ObjectAclFields {
  if (from.owner === undefined && from.acl === undefined) return {};
  return {
    ...(from.owner !== undefined ? { owner: from.owner } : {}),
    ...(from.acl !== undefined ? { acl: from.acl } : {}),
  };
}

/** A request's notification context with the event its commit is (absent: not notified). */
function notifyOf(context: NotifyContext | undefined, event: EventName): Notify | undefined {
  return context === undefined ? undefined : { context, event };
}
