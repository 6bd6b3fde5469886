import {
  type BucketVersioningStatus,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ReplicationRule,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { adminCall, onNode } from './admin.js';
import {
  objectBytes,
  ROOT_ACCESS_KEY,
  ROOT_SECRET_KEY,
  randomBytesSeeded,
  type TestServer,
} from './server.js';

/** The root key's credentials, as a remote's (a hangar destination's root). */
export const ROOT_CREDENTIALS = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY };

/** A source that polls and retries quickly, so tests wait for replication in tenths of seconds. */
export const QUICK_REPLICATION_ENV = {
  HANGAR_REPLICATION_BACKOFF_BASE_MS: '50',
  HANGAR_REPLICATION_BACKOFF_MAX_MS: '250',
  HANGAR_REPLICATION_POLL_MS: '50',
};

/** The worker's log lines a test with failing remotes expects. */
export const REPLICATION_FAILURE_LOGS = [/replication attempt failed/];

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function setVersioning(
  s3: S3Client,
  bucket: string,
  status: BucketVersioningStatus = 'Enabled',
): Promise<void> {
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }),
  );
}

/** Registers `endpoint` (with the given credentials) as the remote serving `buckets`. */
export async function addRemote(
  server: TestServer,
  name: string,
  endpoint: string,
  buckets: string[],
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  const answer = await adminCall(server, 'POST', '/v2/AddRemote', {
    name,
    endpoint,
    region: 'us-east-1',
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    buckets,
    replace: true,
  });
  if (answer.status !== 200) throw new Error(`AddRemote: ${answer.status} ${answer.text}`);
}

/**
 * Registers a remote nobody listens at, serving `buckets`: configurations only need their
 * destinations to exist. Returns the admin API's answer.
 */
export function addUnreachableRemote(
  server: TestServer,
  buckets: string[],
): Promise<{ status: number; text: string }> {
  return adminCall(server, 'POST', '/v2/AddRemote', {
    name: 'far',
    endpoint: 'http://127.0.0.1:9',
    accessKeyId: 'FARKEY',
    secretAccessKey: 'far-secret-key',
    buckets,
  });
}

/** One V2 rule replicating everything under `prefix` to `destination` (delete markers too). */
export function ruleTo(destination: string, prefix = '', id = 'all'): ReplicationRule {
  return {
    ID: id,
    Priority: 1,
    Status: 'Enabled',
    Filter: { Prefix: prefix },
    DeleteMarkerReplication: { Status: 'Enabled' },
    Destination: { Bucket: `arn:aws:s3:::${destination}` },
  };
}

export async function replicateTo(
  s3: S3Client,
  bucket: string,
  rules: ReplicationRule[],
): Promise<void> {
  await s3.send(
    new PutBucketReplicationCommand({
      Bucket: bucket,
      ReplicationConfiguration: {
        Role: 'arn:aws:iam::000000000000:role/replication',
        Rules: rules,
      },
    }),
  );
}

/** HEAD of a key, or undefined on 404. */
export async function headOrNone(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) {
      return undefined;
    }
    throw error;
  }
}

/** Waits until the source version reports `status` (x-amz-replication-status). */
export function statusBecomes(
  s3: S3Client,
  bucket: string,
  key: string,
  status: string,
  timeoutMs = 30_000,
): Promise<HeadObjectCommandOutput> {
  return eventually(
    `${bucket}/${key} to be ${status}`,
    async () => {
      const head = await headOrNone(s3, bucket, key);
      return head?.ReplicationStatus === status ? head : undefined;
    },
    timeoutMs,
  );
}

/** Writes `key` by a multipart upload of `parts`, in order. */
export async function putMultipart(
  s3: S3Client,
  bucket: string,
  key: string,
  parts: readonly Buffer[],
  headers: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'> = {},
): Promise<void> {
  const upload = await s3.send(
    new CreateMultipartUploadCommand({ ...headers, Bucket: bucket, Key: key }),
  );
  const done = [];
  for (const [index, body] of parts.entries()) {
    const answer = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: upload.UploadId,
        PartNumber: index + 1,
        Body: body,
      }),
    );
    done.push({ PartNumber: index + 1, ETag: answer.ETag });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: done },
    }),
  );
}

/** Puts `count` objects `<prefix><i>` of distinct sizes and bytes; returns them by key. */
export async function putNumbered(
  s3: S3Client,
  bucket: string,
  prefix: string,
  count: number,
  seed: number,
): Promise<Map<string, Buffer>> {
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const body = randomBytesSeeded(3_000 + i * 4_321, seed + i);
    bodies.set(`${prefix}${i}`, body);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${i}`, Body: body }));
  }
  return bodies;
}

/**
 * Waits until every object is COMPLETED at the source, and returns the keys whose bytes at the
 * destination differ (none, when replication worked).
 */
export async function keysNotArrived(
  source: { s3: S3Client; bucket: string },
  destination: { s3: S3Client; bucket: string },
  bodies: ReadonlyMap<string, Buffer>,
  timeoutMs = 30_000,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const [key, body] of bodies) {
    await statusBecomes(source.s3, source.bucket, key, 'COMPLETED', timeoutMs);
    const stored = await objectBytes(destination.s3, destination.bucket, key);
    if (!Buffer.from(stored).equals(body)) wrong.push(key);
  }
  return wrong;
}

/** When `server`'s last replication repair pass finished, from ListWorkers (0: never). */
async function lastRepairMs(server: TestServer): Promise<number> {
  const workers = await onNode(server, 'POST', 'ListWorkers', {});
  const worker = (workers.node as Array<{ name: string; freeform: string[] }>).find(
    (w) => w.name === 'Bucket replication',
  );
  const line = worker?.freeform.find((text) => text.startsWith('Repair '));
  const at = /^Repair (\S+):/.exec(line ?? '')?.[1];
  return at === undefined ? 0 : Date.parse(at);
}

/** Launches `server`'s replication repair pass and waits until it finished. */
export async function repairAndWait(server: TestServer): Promise<void> {
  const launched = Date.now();
  const answer = await onNode(server, 'POST', 'LaunchRepairOperation', {
    repairType: 'replication',
  });
  if (answer.status !== 200) throw new Error(`LaunchRepairOperation: ${answer.status}`);
  await eventually('the repair pass done', async () =>
    (await lastRepairMs(server)) > launched ? true : undefined,
  );
}

/** `client`, its requests carrying `headers` too (signed with them). */
export function withHeaders(client: S3Client, headers: Record<string, string>): S3Client {
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers: Record<string, string> };
      Object.assign(request.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'extraHeaders' },
  );
  return client;
}
