import {
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  GetObjectCommand,
  type S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';

/** The whole body of a GET (with extra parameters: a range, SSE-C keys). */
export async function getBytes(
  client: S3Client,
  bucket: string,
  key: string,
  extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {},
): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
}

/**
 * Uploads `parts` into an upload with no part headers, checking with `check` what each answer
 * reports, then completes it; returns CompleteMultipartUpload's answer.
 */
export async function uploadAndComplete(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string | undefined,
  parts: readonly Buffer[],
  check: (answer: UploadPartCommandOutput) => void = () => {},
): Promise<CompleteMultipartUploadCommandOutput> {
  const etags: string[] = [];
  for (const [index, part] of parts.entries()) {
    const uploaded = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: index + 1,
        Body: part,
      }),
    );
    check(uploaded);
    etags.push(uploaded.ETag ?? '');
  }
  return client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
}
