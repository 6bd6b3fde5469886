import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { assert } from '../../engine/assert.js';
import type { RemoteRecord } from '../../engine/catalog/remotes.js';
import { LIMITS } from '../../engine/limits.js';
import type { ReplicationEntry } from '../../engine/protocol/messages.js';
import { REPLICA_HEADER } from '../s3/replica.js';
import {
  type DestinationChoices,
  destinationHeaders,
  unreadableSourceReason,
} from './destination.js';
import { sendMultipart } from './multipart.js';
import { sendMetadata } from './replica-meta.js';
import { withSourceVersion } from './source-version.js';

export { abortUpload } from './multipart.js';

/**
 * How the replication worker moves one queued change: it reads the version through hangar's own
 * S3 endpoint (the normal read path: verified block reads, SSE-S3/KMS decryption, the version's
 * headers and tags) with the root key, and writes it to the remote with AWS SDK v3, streaming the
 * body with its known length: a version written in one PUT as one PutObject, a version made by a
 * multipart upload as a multipart upload with the same parts (multipart.ts), so that the
 * destination's ETag is the source's, as AWS's replicas keep theirs.
 * Content-MD5 goes along where the source's ETag is the body's MD5, so the destination checks the
 * bytes it stored; a body cut short fails the PUT (its length is declared) and is retried.
 */

/** hangar's own S3 endpoint as the worker reads it (the root key's credentials). */
export interface SourceEndpoint {
  endpoint: string;
  region: string;
  root: { accessKeyId: string; secretAccessKey: string };
}

// hangar pins its Node (20) and its SDK version: the SDK's notice that later versions will need
// Node 22 is for whoever upgrades the SDK, not for every operator at every start.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** Why a change could not be replicated, and whether trying again can help. */
export class ReplicationFailure extends Error {
  constructor(
    message: string,
    /** 'retry': the remote or the source may recover; 'final': FAILED at once; 'gone': the
     *  source version no longer exists (nothing to replicate, nothing to record). */
    readonly kind: 'retry' | 'final' | 'gone',
  ) {
    super(message);
  }
}

function clientOptions(endpoint: string, region: string) {
  return {
    endpoint,
    region,
    forcePathStyle: true,
    // No trailing checksums: plain signed requests every S3 peer (Ceph RGW included) accepts.
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    maxAttempts: 1,
  };
}

/** What the worker writes at a destination: each says it is a replica (a hangar peer honours it
 *  on PutObject, CompleteMultipartUpload and DeleteObject). */
const REPLICA_COMMANDS = new Set([
  'PutObjectCommand',
  'CompleteMultipartUploadCommand',
  'DeleteObjectCommand',
  'PutObjectTaggingCommand',
  'PutObjectAclCommand',
  'PutObjectRetentionCommand',
  'PutObjectLegalHoldCommand',
]);

/** A client of one remote, marking its writes as replicas for a hangar destination. */
export function remoteClient(remote: RemoteRecord): S3Client {
  const client = new S3Client({
    ...clientOptions(remote.endpoint, remote.region),
    credentials: { accessKeyId: remote.accessKeyId, secretAccessKey: remote.secretAccessKey },
    requestHandler: new NodeHttpHandler({
      requestTimeout: LIMITS.replicationRequestTimeoutMs,
      connectionTimeout: 10_000,
    }),
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (REPLICA_COMMANDS.has(context.commandName ?? '')) {
        const request = args.request as { headers: Record<string, string> };
        request.headers[REPLICA_HEADER] = 'true';
      }
      return next(args);
    },
    { step: 'build', name: 'hangarReplicaHeader' },
  );
  return client;
}

/**
 * The client of hangar's own S3 endpoint. With TLS the loopback connection skips certificate
 * checks: it reaches this very process on the port it holds, whose certificate names the
 * public host, not 127.0.0.1.
 */
export function sourceClient(source: SourceEndpoint): S3Client {
  return new S3Client({
    ...clientOptions(source.endpoint, source.region),
    credentials: source.root,
    requestHandler: new NodeHttpHandler({
      requestTimeout: LIMITS.replicationRequestTimeoutMs,
      httpsAgent: new HttpsAgent({ rejectUnauthorized: false }),
    }),
  });
}

/** Replicates one queued change from `source` to `remote`. Throws ReplicationFailure. */
export async function replicate(
  source: S3Client,
  remote: S3Client,
  entry: ReplicationEntry,
  /** Aborted when the server stops: a long PUT ends at once (the row stays queued). */
  stopping: AbortSignal,
  /** Stores a new remote multipart upload's id in the row (multipart.ts resumes it). */
  noteUpload: (uploadId: string) => Promise<void>,
  /** What the row's rule asks of its replicas (destination.ts). */
  choices: DestinationChoices = {},
): Promise<number> {
  const options = { abortSignal: stopping };
  if (entry.op === 'delete') {
    await remoteCall('delete marker', () =>
      remote.send(
        withSourceVersion(
          new DeleteObjectCommand({ Bucket: entry.destination, Key: entry.key }),
          entry.versionId,
        ),
        options,
      ),
    );
    return 0;
  }
  if (entry.op === 'meta' || entry.op === 'tags') {
    return sendMetadata(source, remote, entry, choices, options, remoteCall);
  }
  const read = await readSource(source, entry, options);
  const body = read.Body as Readable;
  try {
    const input = await putInput(source, entry, read, body, options);
    Object.assign(input, destinationHeaders(read, choices));
    const bytes = input.ContentLength ?? 0;
    if (read.PartsCount !== undefined) {
      const parts = { count: read.PartsCount, etag: read.ETag, first: read };
      const hooks = { noteUpload, call: remoteCall };
      const etag = await sendMultipart({ source, remote }, entry, input, parts, {
        options,
        hooks,
      });
      checkSameEtag(read, etag);
      return bytes;
    }
    await remoteCall('put', () =>
      remote.send(withSourceVersion(new PutObjectCommand(input), entry.versionId), options),
    );
    return bytes;
  } finally {
    // The remote may have failed before reading the whole body: free the loopback connection.
    if (!body.readableEnded) body.destroy();
  }
}

/**
 * The multipart ETag the remote computed must be the source's, where both are MD5-based (the
 * same part layout gives the same ETag): another one means other bytes arrived, sent again.
 */
function checkSameEtag(read: GetObjectCommandOutput, remoteEtag: string | undefined): void {
  const mine = comparableEtagOf(read);
  if (mine === undefined || remoteEtag === undefined) return;
  if (!MULTIPART_ETAG.test(remoteEtag) || remoteEtag === read.ETag) return;
  throw new ReplicationFailure(
    `the destination computed the ETag ${remoteEtag}, the source's is ${read.ETag}`,
    'retry',
  );
}

const MD5_ETAG = /^"([0-9a-f]{32})"$/;
const MULTIPART_ETAG = /^"([0-9a-f]{32})-([0-9]+)"$/;

/**
 * The ETag when it is MD5-based (a body's MD5, or a multipart upload's MD5 of its parts' MD5s:
 * what any S3 peer computes for the same bytes and part layout), else undefined: SSE-C and
 * SSE-KMS ETags are not (AWS's are not MD5s; a peer's may differ).
 */
export function comparableEtagOf(head: {
  ETag?: string | undefined;
  SSECustomerAlgorithm?: string | undefined;
  ServerSideEncryption?: string | undefined;
}): string | undefined {
  if (head.SSECustomerAlgorithm !== undefined || head.ServerSideEncryption === 'aws:kms') {
    return undefined;
  }
  const etag = head.ETag ?? '';
  return MD5_ETAG.test(etag) || MULTIPART_ETAG.test(etag) ? etag : undefined;
}

type SendOptions = { abortSignal: AbortSignal };

async function readSource(
  source: S3Client,
  entry: ReplicationEntry,
  options: SendOptions,
): Promise<GetObjectCommandOutput> {
  try {
    const read = await source.send(
      new GetObjectCommand({
        Bucket: entry.bucketName,
        Key: entry.key,
        VersionId: entry.versionId,
        // A multipart version answers its part 1 and its part count (x-amz-mp-parts-count):
        // it goes with its own part layout. Any other answers whole, as without the parameter.
        PartNumber: 1,
      }),
      options,
    );
    const bytes = wholeBytesOf(read);
    if (bytes > LIMITS.replicationObjectBytesMax) {
      (read.Body as Readable).destroy();
      throw new ReplicationFailure(
        `${bytes} bytes is over the ${LIMITS.replicationObjectBytesMax} an S3 object may have`,
        'final',
      );
    }
    return read;
  } catch (error) {
    if (error instanceof ReplicationFailure) throw error;
    const name = error instanceof S3ServiceException ? error.name : '';
    if (['NoSuchKey', 'NoSuchVersion', 'NoSuchBucket', 'MethodNotAllowed'].includes(name)) {
      throw new ReplicationFailure(`source version gone (${name})`, 'gone');
    }
    // An archived (GLACIER, DEEP_ARCHIVE) source is read only once restored: retrying sooner
    // answers the same.
    if (name === 'InvalidObjectState') {
      throw new ReplicationFailure('the source version is archived and not restored', 'final');
    }
    // A 400 from hangar's own GET (an SSE-C object, readable only with its customer's key)
    // will answer the same every time.
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 400) {
      throw new ReplicationFailure(unreadableSourceReason(messageOf(error)), 'final');
    }
    throw new ReplicationFailure(`reading the source: ${messageOf(error)}`, 'retry');
  }
}

/** The version's size: a part's answer gives it after the slash of its Content-Range. */
function wholeBytesOf(read: GetObjectCommandOutput): number {
  if (read.PartsCount === undefined) return read.ContentLength ?? 0;
  const total = /\/(\d+)$/.exec(read.ContentRange ?? '')?.[1];
  assert(total !== undefined, 'a part answers a Content-Range with the whole size');
  return Number(total);
}

/** The PutObject that recreates the version at the destination: body, headers, tags, lock. */
async function putInput(
  source: S3Client,
  entry: ReplicationEntry,
  read: GetObjectCommandOutput,
  body: Readable,
  options: SendOptions,
): Promise<PutObjectCommandInput> {
  const input: PutObjectCommandInput = {
    Bucket: entry.destination,
    Key: entry.key,
    Body: body,
    ContentLength: wholeBytesOf(read),
    Metadata: read.Metadata ?? {},
    ...(read.ContentType !== undefined ? { ContentType: read.ContentType } : {}),
    ...(read.ContentEncoding !== undefined ? { ContentEncoding: read.ContentEncoding } : {}),
    ...(read.ContentDisposition !== undefined
      ? { ContentDisposition: read.ContentDisposition }
      : {}),
    ...(read.ContentLanguage !== undefined ? { ContentLanguage: read.ContentLanguage } : {}),
    ...(read.CacheControl !== undefined ? { CacheControl: read.CacheControl } : {}),
    ...expiresOf(read.ExpiresString),
    ...(read.WebsiteRedirectLocation !== undefined
      ? { WebsiteRedirectLocation: read.WebsiteRedirectLocation }
      : {}),
    // The rule's Destination/StorageClass, else the source version's own class (as AWS).
    ...replicaClassOf(entry.storageClass ?? read.StorageClass),
  };
  const md5 = md5Of(read);
  if (md5 !== undefined) input.ContentMD5 = md5;
  if ((read.TagCount ?? 0) > 0) input.Tagging = await tagsOf(source, entry, options);
  if (read.ObjectLockMode !== undefined && read.ObjectLockRetainUntilDate !== undefined) {
    input.ObjectLockMode = read.ObjectLockMode;
    input.ObjectLockRetainUntilDate = read.ObjectLockRetainUntilDate;
  }
  if (read.ObjectLockLegalHoldStatus !== undefined) {
    input.ObjectLockLegalHoldStatus = read.ObjectLockLegalHoldStatus;
  }
  return input;
}

/** The Expires header to send: a client may have stored text that is no date, sent as none. */
function expiresOf(text: string | undefined): { Expires?: Date } {
  if (text === undefined) return {};
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? {} : { Expires: date };
}

/** base64 MD5 from an ETag that is one (single-part, not SSE-C/KMS); else undefined. */
function md5Of(read: GetObjectCommandOutput): string | undefined {
  const hex = MD5_ETAG.exec(comparableEtagOf(read) ?? '')?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('base64');
}

async function tagsOf(
  source: S3Client,
  entry: ReplicationEntry,
  options: SendOptions,
): Promise<string> {
  const tagging = await remoteCall('reading the source tags', () =>
    source.send(
      new GetObjectTaggingCommand({
        Bucket: entry.bucketName,
        Key: entry.key,
        VersionId: entry.versionId,
      }),
      options,
    ),
  );
  const query = new URLSearchParams();
  for (const tag of tagging.TagSet ?? []) query.append(tag.Key ?? '', tag.Value ?? '');
  return query.toString();
}

/**
 * HEAD of a key (or one version of it) at a destination: undefined when it has none (the repair
 * pass). A version id the destination cannot parse is a version it lacks (400 at some peers).
 */
export async function headAt(
  client: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await client.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
      }),
    );
  } catch (error) {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : 0;
    if (status === 404 || (versionId !== undefined && (status === 400 || status === 405))) {
      return undefined;
    }
    throw error;
  }
}

async function remoteCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new ReplicationFailure(`${what}: ${messageOf(error)}`, 'retry');
  }
}

function messageOf(error: unknown): string {
  if (error instanceof S3ServiceException) {
    return `${error.name} (${error.$metadata.httpStatusCode ?? 'no status'}): ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The replica's x-amz-storage-class (absent: STANDARD, the destination's default). */
function replicaClassOf(name: string | undefined): Pick<PutObjectCommandInput, 'StorageClass'> {
  return name === undefined ? {} : { StorageClass: name as PutObjectCommandInput['StorageClass'] };
}
