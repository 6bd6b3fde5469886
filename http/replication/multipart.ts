import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { assert } from '../../engine/assert.js';
import { LIMITS } from '../../engine/limits.js';
import type { ReplicationEntry } from '../../engine/protocol/messages.js';

/**
 * A large version goes to the remote as a multipart upload (S3 takes at most 5 GiB in one PUT).
 * Each part is a ranged GET of the source version streamed straight into an UploadPart with its
 * known length: no part is buffered, so memory stays at the SDK's stream buffers whatever the
 * part size. The ranged reads name the version and its ETag, so every part comes from the same
 * bytes. Any failure aborts the remote upload (its parts would otherwise hold space there until
 * the remote's own lifecycle drops them) and is retried as a whole.
 */

type SendOptions = { abortSignal: AbortSignal };
type Call = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/** The part size for an object of `bytes`: the configured one, grown to stay in 10000 parts. */
export function partBytesFor(bytes: number): number {
  const configured = Math.max(LIMITS.replicationPartBytes, LIMITS.multipartPartBytesMin);
  return Math.max(configured, Math.ceil(bytes / LIMITS.multipartPartNumberMax));
}

/** Whether a version of `bytes` goes as a multipart upload. */
export function goesMultipart(bytes: number): boolean {
  return bytes > LIMITS.replicationMultipartThresholdBytes;
}

/** Sends the version as a multipart upload described by `input` (its Body is not used). */
export async function sendMultipart(
  source: S3Client,
  remote: S3Client,
  entry: ReplicationEntry,
  input: PutObjectCommandInput,
  sourceEtag: string | undefined,
  options: SendOptions,
  call: Call,
): Promise<void> {
  const { Body: _body, ContentLength: _length, ContentMD5: _md5, ...headers } = input;
  const created = await call('create multipart upload', () =>
    remote.send(new CreateMultipartUploadCommand(headers), options),
  );
  const uploadId = created.UploadId;
  assert(uploadId !== undefined, 'CreateMultipartUpload answers an UploadId');
  const upload = { Bucket: entry.destination, Key: entry.key, UploadId: uploadId };
  try {
    const parts = await sendParts(source, remote, entry, input.ContentLength ?? 0, {
      upload,
      sourceEtag,
      options,
      call,
    });
    await call('complete multipart upload', () =>
      remote.send(
        new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: parts } }),
        options,
      ),
    );
  } catch (error) {
    // Best effort, not under the stop signal: a server stopping mid-upload still frees the parts.
    await remote.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
    throw error;
  }
}

interface PartContext {
  upload: { Bucket: string; Key: string; UploadId: string };
  sourceEtag: string | undefined;
  options: SendOptions;
  call: Call;
}

async function sendParts(
  source: S3Client,
  remote: S3Client,
  entry: ReplicationEntry,
  bytes: number,
  context: PartContext,
): Promise<CompletedPart[]> {
  const partBytes = partBytesFor(bytes);
  const parts: CompletedPart[] = [];
  for (let offset = 0, number = 1; offset < bytes; offset += partBytes, number++) {
    const length = Math.min(partBytes, bytes - offset);
    parts.push(await sendPart(source, remote, entry, { offset, length, number }, context));
  }
  return parts;
}

async function sendPart(
  source: S3Client,
  remote: S3Client,
  entry: ReplicationEntry,
  part: { offset: number; length: number; number: number },
  context: PartContext,
): Promise<CompletedPart> {
  const { call, options } = context;
  const read = await call('reading a part of the source', async () => {
    const ranged = await source.send(
      new GetObjectCommand({
        Bucket: entry.bucketName,
        Key: entry.key,
        VersionId: entry.versionId,
        Range: `bytes=${part.offset}-${part.offset + part.length - 1}`,
        ...(context.sourceEtag !== undefined ? { IfMatch: context.sourceEtag } : {}),
      }),
      options,
    );
    if (ranged.ContentLength !== part.length) {
      (ranged.Body as Readable).destroy();
      throw new Error(`the range answered ${ranged.ContentLength} bytes, not ${part.length}`);
    }
    return ranged;
  });
  const body = read.Body as Readable;
  try {
    const sent = await call(`upload part ${part.number}`, () =>
      remote.send(
        new UploadPartCommand({
          ...context.upload,
          PartNumber: part.number,
          Body: body,
          ContentLength: part.length,
        }),
        options,
      ),
    );
    return { PartNumber: part.number, ETag: sent.ETag };
  } finally {
    if (!body.readableEnded) body.destroy();
  }
}
