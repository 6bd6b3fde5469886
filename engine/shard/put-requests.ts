import { assert } from '../assert.js';
import { EngineFailureError, engineFailure } from '../errors.js';
import { LIMITS } from '../limits.js';
import {
  infoOf,
  type Notify,
  type ObjectRecord,
  type PartRecord,
  type UploadRecord,
} from '../meta/store.js';
import type {
  ObjectAclFields,
  ObjectLock,
  PartTarget,
  PutEndFields,
  QuotaCheck,
  ShardRequest,
  ShardResult,
  Tag,
  VersioningState,
} from '../protocol/messages.js';
import { type ManagedDataKey, managedKeyTag, summaryOf } from '../sse/managed.js';
import { type EncryptionKey, isManagedKey } from '../sse-c.js';
import type { StorageClass } from '../storage-classes.js';
import { DEFAULT_TIER } from '../storage-config.js';
import { conditionFailure, guardCheckedAtBegin, type WriteGuard } from '../write-conditions.js';
import { PutSession } from './put-session.js';
import { aclFields, type ShardCore, withVersion } from './shard-core.js';
import { storageClassField } from './storage-class.js';

/** What a conditional PUT or an UploadPart reads before its first byte (lookUpBegin). */
interface BeginLookup {
  /** The key's current record (a conditional PUT). */
  current?: ObjectRecord | undefined;
  /** The upload a part goes to (an UploadPart). */
  upload?: UploadRecord | undefined;
}

/**
 * A shard's PUT streams (PutObject, PostObject, UploadPart): PutBegin opens a session per reqId,
 * BodyChunks feed it, PutEnd finishes and commits it (the protocol in messages.ts ShardRequest).
 */
export class PutRequests {
  private readonly puts = new Map<number, PutSession>();
  /** PUTs whose PutBegin was refused: their in-flight chunks and PutEnd are dropped (protocol). */
  private readonly refused = new Set<number>();
  /** PUTs whose begin waits for a cluster store's lookup: their next steps wait on it. */
  private readonly beginning = new Map<number, Promise<void>>();
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
      /** The replica's version id, its source's. */
      replicaVersionId?: string;
      /** The new version's storage class (absent: STANDARD). */
      storageClass?: StorageClass;
    } & ObjectAclFields
  >();

  constructor(private readonly core: ShardCore) {}

  /** Streaming requests open now (stats). */
  get size(): number {
    return this.puts.size;
  }

  /** The reqIds of open and refused PUTs (a lane's cancel). */
  ids(): number[] {
    return [...this.puts.keys(), ...this.refused];
  }

  async close(): Promise<void> {
    for (const session of this.puts.values()) await session.close();
  }

  /** PutEnd: finishes and commits the PUT. */
  endRequest(request: Extract<ShardRequest, { kind: 'PutEnd' }>): void {
    if (this.afterBegin(request.reqId, () => this.endRequest(request))) return;
    // Refused already (and answered then): the PutEnd only ends the refused state.
    if (this.refused.delete(request.reqId)) return;
    this.core.answer(request.reqId, () =>
      this.endPut(request.reqId, request.expect, request.quota ?? null),
    );
  }

  /**
   * Defers `next` until the PUT's begin has looked up what it reads (a cluster store's
   * round trip); false when it has (always, on the embedded store). Deferred steps run in the
   * order they came: promise reactions run in the order they were added.
   */
  private afterBegin(reqId: number, next: () => void): boolean {
    const begun = this.beginning.get(reqId);
    if (begun === undefined) return false;
    void begun.then(next);
    return true;
  }

  cancel(reqId: number): void {
    if (this.afterBegin(reqId, () => this.cancel(reqId))) return;
    this.refused.delete(reqId);
    const put = this.puts.get(reqId);
    // A PUT whose body is whole commits regardless (the client hung up after its last byte):
    // closing its session under the commit would unpin the new blocks before the record
    // references them, and leave them pinned (never freed) once it does.
    if (put !== undefined && !this.committing.has(reqId)) {
      this.puts.delete(reqId);
      this.putTargets.delete(reqId);
      put.close().catch(this.core.logError);
    }
  }

  beginPut(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    body: ArrayBuffer | undefined,
  ): void {
    assert(!this.puts.has(request.reqId), 'reqIds are unique');
    // A plain PUT reads no metadata before its commit: nothing to look up on the hot path.
    if (request.part === null && request.conditions === undefined) {
      this.begin(request, body, {});
      return;
    }
    let found: BeginLookup | Promise<BeginLookup>;
    try {
      found = this.core.meta.read(() => this.lookUpBegin(request));
    } catch (error) {
      found = Promise.reject(error);
    }
    if (!(found instanceof Promise)) {
      this.begin(request, body, found);
      return;
    }
    // A cluster store answers later: the PUT's chunks, end and cancel wait for the begin.
    const begun = found.then(
      (lookup) => this.begin(request, body, lookup),
      (error: unknown) => this.refuse(request, new EngineFailureError(this.core.toFailure(error))),
    );
    this.beginning.set(request.reqId, begun);
    void begun.finally(() => this.beginning.delete(request.reqId));
  }

  /** What a conditional PUT or a part reads before its first byte: the key's record, the upload. */
  private lookUpBegin(request: Extract<ShardRequest, { kind: 'PutBegin' }>): BeginLookup {
    const { bucketId, key, part } = request;
    if (part !== null) return { upload: this.core.meta.getUpload(bucketId, key, part.uploadId) };
    return { current: this.core.meta.getObject(bucketId, key) };
  }

  private refuse(request: Extract<ShardRequest, { kind: 'PutBegin' }>, refusal: Error): void {
    // Refuse before a byte is written; the HTTP side stops sending on this reply, but what it
    // sent meanwhile (chunks, even the PutEnd of a small body) is still on its way. A whole
    // PUT sent nothing more.
    if (request.end === undefined) this.refused.add(request.reqId);
    this.core.answer(request.reqId, async () => {
      throw refusal;
    });
  }

  private begin(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    body: ArrayBuffer | undefined,
    lookup: BeginLookup,
  ): void {
    const part = request.part;
    let sse = request.sse;
    let refusal =
      part === null
        ? this.conditionRefusal(request, lookup.current)
        : this.partRefusal(request, lookup.upload);
    if (refusal === null && part !== null && sse === null) {
      try {
        sse = this.uploadDataKey(lookup.upload);
      } catch (error) {
        refusal = new EngineFailureError(this.core.toFailure(error));
      }
    }
    if (refusal !== null) {
      this.refuse(request, refusal);
      return;
    }
    const session = new PutSession(
      {
        declaredBytes: request.declaredBytes,
        blockBytes: this.core.settings.blockBytes,
        // Parts always go to blocks: completing an upload concatenates block lists.
        inlineBytesMax: part === null ? this.core.settings.inlineBytesMax : -1,
        headers: request.headers,
        payloadSha256: request.payloadSha256,
        checksumAlgorithm: request.checksumAlgorithm,
        sse,
        ...(part !== null ? { partNumber: part.partNumber } : {}),
        tier: this.tierOf(request, lookup.upload),
      },
      this.core.blocks,
      this.core.ledger,
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
      ...(request.replicaVersionId !== undefined
        ? { replicaVersionId: request.replicaVersionId }
        : {}),
      ...storageClassField(request.storageClass),
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
    this.core.answer(reqId, () => this.endPut(reqId, end.expect, end.quota ?? null));
  }

  /**
   * A conditional PutObject whose condition fails already when it begins: refused before a byte
   * is written (412, or 404 for If-Match on a missing key). It is checked again at commit.
   */
  private conditionRefusal(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    current: ObjectRecord | undefined,
  ): EngineFailureError | null {
    if (request.conditions === undefined) return null;
    const failure = conditionFailure(request.conditions, current);
    return failure === null ? null : new EngineFailureError(failure);
  }

  /** The tier a PUT's blocks go to: its storage class's, or a part's upload's. */
  private tierOf(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    upload: UploadRecord | undefined,
  ): string {
    if (request.part === null) return this.core.blocks.tierOf(request.storageClass);
    return upload?.tier ?? DEFAULT_TIER;
  }

  /** The data key of an SSE-S3 or SSE-KMS upload (null: the upload is not managed-encrypted). */
  private uploadDataKey(upload: UploadRecord | undefined): ManagedDataKey | null {
    const managed = upload?.sseManaged;
    if (managed === undefined) return null;
    return { ...this.core.keys.dataKeyOf(managed), managed };
  }

  /** Why an UploadPart cannot start: no such upload, or not the upload's checksum algorithm. */
  private partRefusal(
    request: Extract<ShardRequest, { kind: 'PutBegin' }>,
    upload: UploadRecord | undefined,
  ): EngineFailureError | null {
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

  acceptChunk(reqId: number, bytes: number, body: ArrayBuffer | undefined): void {
    assert(body !== undefined && bytes <= body.byteLength, 'a chunk carries its bytes');
    if (this.afterBegin(reqId, () => this.acceptChunk(reqId, bytes, body))) return;
    const session = this.puts.get(reqId);
    if (session === undefined) return; // cancelled meanwhile: drop the bytes
    void session.push(new Uint8Array(body, 0, bytes)).then(() => {
      this.core.reply({ kind: 'Credit', reqId, bytes }, body);
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
        ...storageClassField(target.storageClass),
      };
      const quota = quotaAtEnd ?? target.quota;
      const { freed, versionId } = await this.core.meta.writeObject(
        target.bucketId,
        target.key,
        record,
        quota,
        target.versioning,
        target.guard,
        target.notify,
        target.replicaVersionId ?? null,
      );
      if (this.core.settings.durable) await this.core.meta.flushed();
      this.core.freeAll(freed);
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
      const partNumber = sse.partNumbers?.[0];
      part.sse = {
        keyMd5: sse.kind === undefined ? sse.keyMd5 : managedKeyTag(sse),
        iv,
        ...(macs !== undefined ? { macs } : {}),
        ...(partNumber !== undefined ? { partNumber } : {}),
      };
    }
    const freed = await this.core.meta.putPart(bucketId, key, target, part);
    if (this.core.settings.durable) await this.core.meta.flushed();
    this.core.freeAll(freed);
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
