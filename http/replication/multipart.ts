import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListPartsCommand,
  type PutObjectCommandInput,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { assert } from '../../engine/assert.js';
import { LIMITS } from '../../engine/limits.js';
import type { ReplicationEntry } from '../../engine/protocol/messages.js';
import { withSourceVersion } from './source-version.js';

/**
 * A version made by a multipart upload goes to the remote as a multipart upload with the
 * source's own part layout: part N is the source's part N (GET ?partNumber=N of the version,
 * If-Match on its ETag), streamed straight into UploadPart N with its known length. The remote
 * thus computes the source's multipart ETag (MD5 of the parts' MD5s, "-N"), as AWS's replicas
 * keep their source's ETag, and the repair pass can compare multipart ETags. No part is
 * buffered: memory stays at the SDK's stream buffers whatever the part size.
 *
 * Resumable: the remote upload id is stored in the queue row as soon as the upload exists
 * (`noteUpload`), and an attempt that finds one in its row lists the parts the remote already
 * holds (ListParts) and sends only the others. A failed attempt leaves the upload for the next
 * one; the worker aborts it when the row ends without it (FAILED, or the version gone).
 */

type SendOptions = { abortSignal: AbortSignal };
type Call = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/** The remote upload a row holds: where it is, and its id. */
export interface RemoteUpload {
  Bucket: string;
  Key: string;
  UploadId: string;
}

/** What the sender knows of the source version when it goes multipart. */
export interface SourceParts {
  /** The source's part count (x-amz-mp-parts-count). */
  count: number;
  /** The version's ETag: every part read is conditional on it. */
  etag: string | undefined;
  /** The answer of the read of part 1, its body unread. */
  first: GetObjectCommandOutput;
}

export interface MultipartHooks {
  /** Stores the remote upload id in the row, durably, before any part is sent. */
  noteUpload(uploadId: string): Promise<void>;
  call: Call;
}

/**
 * Sends the version as a multipart upload described by `input` (its Body is not used), with
 * the source's part layout; resumes `entry.uploadId` when the remote still has it. Returns the
 * ETag the remote computed.
 */
export async function sendMultipart(
  clients: { source: S3Client; remote: S3Client },
  entry: ReplicationEntry,
  input: PutObjectCommandInput,
  parts: SourceParts,
  context: { options: SendOptions; hooks: MultipartHooks },
): Promise<string | undefined> {
  const { remote } = clients;
  const { options, hooks } = context;
  const resumed = await resumable(remote, entry, options);
  const upload = resumed?.upload ?? (await createUpload(remote, input, options, hooks));
  try {
    const sent = await sendParts(clients, entry, parts, {
      upload,
      done: resumed?.done ?? new Map(),
      options,
      call: hooks.call,
    });
    const completed = await hooks.call('complete multipart upload', () =>
      remote.send(
        withSourceVersion(
          new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: sent } }),
          entry.versionId,
        ),
        options,
      ),
    );
    return completed.ETag;
  } finally {
    // The upload stays for the next attempt; the worker aborts it if the row ends otherwise.
    const first = parts.first.Body as Readable | undefined;
    if (first !== undefined && !first.readableEnded) first.destroy();
  }
}

async function createUpload(
  remote: S3Client,
  input: PutObjectCommandInput,
  options: SendOptions,
  hooks: MultipartHooks,
): Promise<RemoteUpload> {
  const { Body: _body, ContentLength: _length, ContentMD5: _md5, ...headers } = input;
  const created = await hooks.call('create multipart upload', () =>
    remote.send(new CreateMultipartUploadCommand(headers), options),
  );
  const uploadId = created.UploadId;
  assert(uploadId !== undefined, 'CreateMultipartUpload answers an UploadId');
  const upload = { Bucket: input.Bucket ?? '', Key: input.Key ?? '', UploadId: uploadId };
  try {
    await hooks.noteUpload(uploadId);
  } catch (error) {
    // Not recorded: no later attempt would find it, so it must not outlive this one.
    await abortUpload(remote, upload);
    throw error;
  }
  return upload;
}

/** Aborts a remote upload, best effort and not under the stop signal (its parts hold space). */
export async function abortUpload(remote: S3Client, upload: RemoteUpload): Promise<void> {
  await remote.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
}

/**
 * The row's remote upload and the parts the remote holds of it, or undefined when the row has
 * none or the remote no longer has it (completed, aborted, or expired by its lifecycle).
 */
async function resumable(
  remote: S3Client,
  entry: ReplicationEntry,
  options: SendOptions,
): Promise<{ upload: RemoteUpload; done: Map<number, CompletedPart> } | undefined> {
  if (entry.uploadId === undefined) return undefined;
  const upload = { Bucket: entry.destination, Key: entry.key, UploadId: entry.uploadId };
  const done = new Map<number, CompletedPart>();
  let marker: string | undefined;
  do {
    // Any other failure (the remote down) fails the attempt, retried like any other.
    const page = await listParts(remote, upload, marker, options).catch((error: unknown) => {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) {
        return undefined;
      }
      throw error;
    });
    if (page === undefined) return undefined;
    for (const part of page.Parts ?? []) {
      if (part.PartNumber !== undefined && part.ETag !== undefined) {
        done.set(part.PartNumber, { PartNumber: part.PartNumber, ETag: part.ETag });
      }
    }
    marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined && done.size < LIMITS.multipartPartNumberMax);
  return { upload, done };
}

function listParts(
  remote: S3Client,
  upload: RemoteUpload,
  marker: string | undefined,
  options: SendOptions,
) {
  return remote.send(
    new ListPartsCommand({
      ...upload,
      ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
    }),
    options,
  );
}

interface PartContext {
  upload: RemoteUpload;
  /** Parts the remote holds already (a resumed upload). */
  done: ReadonlyMap<number, CompletedPart>;
  options: SendOptions;
  call: Call;
}

async function sendParts(
  clients: { source: S3Client; remote: S3Client },
  entry: ReplicationEntry,
  parts: SourceParts,
  context: PartContext,
): Promise<CompletedPart[]> {
  assert(
    parts.count >= 1 && parts.count <= LIMITS.multipartPartNumberMax,
    'a multipart source has 1 to 10000 parts',
  );
  const sent: CompletedPart[] = [];
  for (let number = 1; number <= parts.count; number++) {
    const held = context.done.get(number);
    if (held !== undefined) {
      if (number === 1) (parts.first.Body as Readable).destroy();
      sent.push(held);
      continue;
    }
    const read =
      number === 1 ? parts.first : await readPart(clients.source, entry, number, parts, context);
    sent.push(await uploadPart(clients.remote, read, number, context));
  }
  return sent;
}

/** Part `number` of the source version, conditional on its ETag. */
function readPart(
  source: S3Client,
  entry: ReplicationEntry,
  number: number,
  parts: SourceParts,
  context: PartContext,
): Promise<GetObjectCommandOutput> {
  return context.call(`reading part ${number} of the source`, () =>
    source.send(
      new GetObjectCommand({
        Bucket: entry.bucketName,
        Key: entry.key,
        VersionId: entry.versionId,
        PartNumber: number,
        ...(parts.etag !== undefined ? { IfMatch: parts.etag } : {}),
      }),
      context.options,
    ),
  );
}

async function uploadPart(
  remote: S3Client,
  read: GetObjectCommandOutput,
  number: number,
  context: PartContext,
): Promise<CompletedPart> {
  const body = read.Body as Readable;
  try {
    const sent = await context.call(`upload part ${number}`, () =>
      remote.send(
        new UploadPartCommand({
          ...context.upload,
          PartNumber: number,
          Body: body,
          ContentLength: read.ContentLength ?? 0,
        }),
        context.options,
      ),
    );
    return { PartNumber: number, ETag: sent.ETag };
  } finally {
    if (!body.readableEnded) body.destroy();
  }
}
