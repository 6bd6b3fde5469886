import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { TestServer } from './server.js';

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

/** An admin API call to `server` with its token; the JSON answer and the status. */
export async function adminCall(
  server: TestServer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> & unknown[] }> {
  const headers: Record<string, string> = { authorization: `Bearer ${server.adminToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.adminEndpoint}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? {} : JSON.parse(text) };
}
