import { request } from 'node:http';
import {
  DeletePublicAccessBlockCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface WebResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request to a server's website endpoint (127.0.0.1:`port`) with an explicit Host header
 * (`<bucket>.web.localhost`, or a bucket-named host); redirects are not followed.
 */
export function webRequest(
  port: number,
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<WebResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host, ...options.headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Makes `bucket` readable by anyone, as a website needs (AWS's recipe): its PublicAccessBlock
 * removed, then a policy letting `*` get and list its objects (listing: a miss is then 404, not
 * 403).
 */
export async function makePublicRead(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PublicRead',
            Effect: 'Allow',
            Principal: '*',
            Action: ['s3:GetObject'],
            Resource: [`arn:aws:s3:::${bucket}/*`],
          },
          {
            Sid: 'PublicList',
            Effect: 'Allow',
            Principal: '*',
            Action: ['s3:ListBucket'],
            Resource: [`arn:aws:s3:::${bucket}`],
          },
        ],
      }),
    }),
  );
}
