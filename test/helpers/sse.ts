import {
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import { adminCall } from './admin.js';
import type { TestServer } from './server.js';

/** A new keyring key (admin CreateKmsKey): its id and the ARN S3 reports it by. */
export async function createKmsKey(
  server: TestServer,
  alias?: string,
): Promise<{ id: string; arn: string }> {
  const created = await adminCall(server, 'POST', '/v2/CreateKmsKey', {
    description: 'test key',
    ...(alias !== undefined ? { alias } : {}),
  });
  if (created.status !== 200) throw new Error(`CreateKmsKey: ${created.text}`);
  return { id: created.json.id as string, arn: created.json.arn as string };
}

/** PutObject with aws:kms, under `keyId` (absent: the default aws/s3 key). */
export function putKms(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer | string,
  keyId?: string,
) {
  return client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ServerSideEncryption: 'aws:kms',
      ...(keyId !== undefined ? { SSEKMSKeyId: keyId } : {}),
    }),
  );
}

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

/** The SSE-C fields every part (and the completion) of an SSE-C upload repeats. */
export interface CustomerKeyFields {
  SSECustomerAlgorithm?: string;
  SSECustomerKey?: string;
}

/**
 * Uploads `parts` into an upload with no part headers but `customer`'s (SSE-C), checking with
 * `check` what each answer reports, then completes it; returns CompleteMultipartUpload's answer.
 */
export async function uploadAndComplete(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string | undefined,
  parts: readonly Buffer[],
  check: (answer: UploadPartCommandOutput) => void = () => {},
  customer: CustomerKeyFields = {},
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
        ...customer,
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
      ...customer,
    }),
  );
}

/** PutBucketEncryption with one rule: the default algorithm, its KMS key, BucketKeyEnabled. */
export function putBucketDefault(
  client: S3Client,
  bucket: string,
  algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse',
  keyId?: string,
  bucketKey?: boolean,
) {
  return client.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: algorithm,
              ...(keyId !== undefined ? { KMSMasterKeyID: keyId } : {}),
            },
            ...(bucketKey !== undefined ? { BucketKeyEnabled: bucketKey } : {}),
          },
        ],
      },
    }),
  );
}
