import type { BucketRecord, KeyRecord } from '../../../engine/catalog/catalog.js';
import type { ChecksumAlgorithm } from '../../../engine/checksums/checksums.js';
import { LIMITS } from '../../../engine/limits.js';
import type { ShardClient } from '../../../engine/pool/shard-client.js';
import { UploadStream } from '../../../engine/protocol/flow.js';
import type {
  NotifyContext,
  ObjectAclFields,
  ObjectHeaders,
  ObjectInfo,
  ObjectLock,
  PutExpectations,
  QuotaCheck,
  Tag,
} from '../../../engine/protocol/messages.js';
import type { EncryptionKey } from '../../../engine/sse-c.js';
import { bucketAccessOf } from '../../access/access-record.js';
import { cannedAclOf } from '../../access/acl.js';
import { principalOf } from '../../access/principal.js';
import { checkLength, type VerifiedPost, verifyPostPolicy } from '../../sigv4/post-policy.js';
import type { IncomingBody } from '../../uws/incoming-body.js';
import type { RequestSnapshot } from '../../uws/request.js';
import type { Responder } from '../../uws/response.js';
import { newObjectAcl } from '../acl-on-write.js';
import { requestFactsOf, requireAccess } from '../auth.js';
import { checksumResponseHeaders, planChecksum } from '../checksum-headers.js';
import { type ServerState, shardFor } from '../context.js';
import { fromEngineFailure } from '../engine-errors.js';
import { S3Error } from '../errors.js';
import { boundaryOf, FormDataParser, type FormField, type FormFile } from '../form-data.js';
import { notifyContextFor } from '../notifications.js';
import { objectHeadersFrom } from '../object-headers.js';
import { checkKey } from '../object-key.js';
import {
  lockField,
  lockFromHeaders,
  newVersionLock,
  requireDigestForLock,
} from '../object-lock.js';
import { type ShardCounters, shardCounters } from '../quota.js';
import type { RoutedRequest } from '../router.js';
import { clientScheme } from '../scheme.js';
import { managedResponseHeaders, writeEncryption } from '../sse.js';
import { customerKeyOf, refuseSseCInClear, sseResponseHeaders } from '../sse-c.js';
import { storageClassFrom } from '../storage-class.js';
import { versionIdHeader, versioningField } from '../versioning.js';
import { renderXml } from '../xml.js';
import { tagsFromXml } from './tagging.js';

/** Form fields that become object headers, as the same-named headers do for PutObject. */
const HEADER_FIELDS = new Set([
  'content-type',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
]);

const NO_QUERY: ReadonlyMap<string, string> = new Map();

interface Authorized {
  post: VerifiedPost;
  /** The form's signing key; null for an anonymous form. */
  key: KeyRecord | null;
  bucket: BucketRecord;
  /** The new object's owner and ACL (the form's `acl` field, the bucket's ownership). */
  acl: ObjectAclFields;
  /** Buckets with notifications: what the commit records (ObjectCreated:Post). */
  notify: NotifyContext | undefined;
}

interface Stored extends Authorized {
  info: ObjectInfo;
}

/**
 * PostObject: a browser-form upload. Authenticated by the form's signed policy rather than an
 * Authorization header, so the server calls this before header authentication. The fields
 * before `file` are read and verified; the file then streams into its key's shard (its length
 * is known only at its end); the answer follows success_action_redirect / _status.
 */
export async function handlePostObject(
  state: ServerState,
  req: RequestSnapshot,
  routed: RoutedRequest,
  res: Responder,
  body: IncomingBody,
  bucketName: string,
): Promise<void> {
  const boundary = boundaryOf(req.headers['content-type']);
  // The bucket's counters are read before the form (the key, so the shard, is not known yet).
  let named = state.catalog.getBucket(bucketName);
  // Cluster mode: a bucket another gateway made a moment ago is looked for before the form is
  // (its key's miss cannot be: the key is inside the form; the etcd watch brings it in ms).
  if (named === undefined && state.catalog.replicated && (await state.catalog.catchUp())) {
    named = state.catalog.getBucket(bucketName);
  }
  const counters = named === undefined ? undefined : await shardCounters(state, named.id);
  const { post, info } = await receiveForm(state, req, res, body, bucketName, boundary, counters);
  const etag = info.etag;
  const answerHeaders = [
    ...checksumResponseHeaders(info.checksum),
    ...sseResponseHeaders(info.sseKeyMd5),
    ...managedResponseHeaders(state.config.s3.region, info.sseManaged, true),
    ...versionIdHeader(info.versionId),
  ];
  const redirect = redirectTarget(
    post.fields.get('success_action_redirect') ?? post.fields.get('redirect'),
  );
  if (redirect !== null) {
    redirect.searchParams.append('bucket', bucketName);
    redirect.searchParams.append('key', post.key);
    redirect.searchParams.append('etag', etag);
    const location = redirect.toString();
    res.send(303, [['location', location], ['etag', etag], ...answerHeaders]);
    return;
  }
  const location = objectUrl(
    clientScheme(state.config, req.headers),
    req,
    routed.style,
    bucketName,
    post.key,
  );
  const headers: Array<[string, string]> = [
    ['etag', etag],
    ['location', location],
    ...answerHeaders,
  ];
  switch (post.fields.get('success_action_status')) {
    case '200':
      res.send(200, headers, '', { headLength: 0 });
      return;
    case '201':
      res.send(
        201,
        [['content-type', 'application/xml'], ...headers],
        renderXml(
          'PostResponse',
          {
            Location: location,
            Bucket: bucketName,
            Key: post.key,
            ETag: etag,
          },
          false,
        ),
      );
      return;
    default:
      // AWS: 204 when the field is absent or not one of 200, 201, 204.
      res.send(204, headers);
  }
}

/** Parses the body, verifies the form when its file begins, and stores the file. */
function receiveForm(
  state: ServerState,
  req: RequestSnapshot,
  res: Responder,
  body: IncomingBody,
  bucketName: string,
  boundary: string,
  counters: ShardCounters | undefined,
): Promise<Stored> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let upload: ShardUpload | null = null;
    let verified: Authorized | null = null;
    let stored: ObjectInfo | null = null;
    let bodyDone = false;
    let fileBytes = 0;
    let expect: PutExpectations = {};
    let receivedBytes = 0;
    let deferred: { error: unknown } | null = null;
    const fail = (error: unknown, now = false): void => {
      if (settled || deferred !== null) return;
      upload?.abandon();
      upload = null;
      if (now || bodyDone || !drainable(req, receivedBytes)) {
        settled = true;
        reject(error);
      } else {
        // Read the small rest of the body first, so the answer leaves the connection usable
        // (abandoning the upload resumed the socket if it had paused it).
        deferred = { error };
      }
    };
    // The answer waits for both the shard's commit and the end of the body (fields after the
    // file are ignored, but read, so the connection stays usable).
    const maybeResolve = (): void => {
      if (settled || stored === null || !bodyDone || verified === null) return;
      settled = true;
      resolve({ ...verified, info: stored });
    };
    const parser = new FormDataParser(boundary, {
      onFile: (fields, file) => {
        verified = authorizeForm(state, req, res, bucketName, fields, file);
        const { post, bucket } = verified;
        // The fields stand for PutObject's headers: encryption (SSE-C, SSE-S3, SSE-KMS, or the
        // bucket's default) is honoured as there.
        const fieldHeaders = Object.fromEntries(post.fields);
        refuseSseCInClear(state.config, Object.keys(fieldHeaders));
        const sse = writeEncryption(state, bucket, fieldHeaders, customerKeyOf(fieldHeaders));
        const checksum = planChecksum(fieldHeaders, false);
        const explicitLock = lockFromHeaders(state, bucket, fieldHeaders);
        requireDigestForLock(fieldHeaders, explicitLock, checksum.algorithm !== null);
        const lock = newVersionLock(state, bucket, explicitLock);
        expect = expectations(post.fields);
        if (checksum.headerValue !== null) expect.checksumBase64 = checksum.headerValue;
        const shard = shardFor(state, bucket, post.key);
        const quota =
          counters !== undefined && bucket.id === counters.bucketId
            ? counters.checkFor(shard)
            : undefined;
        upload = openUpload(state, res, shard, {
          ...(quota !== undefined ? { quota } : {}),
          bucketId: bucket.id,
          key: post.key,
          headers: headersFrom(post.fields),
          tags: tagsOf(post.fields),
          ...storageClassFrom(post.fields.get('x-amz-storage-class')),
          ...lockField(lock),
          acl: verified.acl,
          ...(verified.notify !== undefined ? { notify: verified.notify } : {}),
          checksumAlgorithm: checksum.algorithm,
          sse,
          onStored: (info) => {
            stored = info;
            maybeResolve();
          },
          onFailed: fail,
        });
      },
      onFileData: (view) => {
        fileBytes += view.byteLength;
        const post = verified?.post;
        if (post === undefined || upload === null)
          throw new Error('file data before the file part');
        if (fileBytes > post.length.max) checkLength(post.length, fileBytes);
        if (fileBytes > LIMITS.putObjectBytesMax)
          throw new S3Error('EntityTooLarge', undefined, {
            ProposedSize: String(fileBytes),
            MaxSizeAllowed: String(LIMITS.putObjectBytesMax),
          });
        upload.write(view);
      },
      onFileEnd: () => {
        const post = verified?.post;
        if (post === undefined || upload === null) throw new Error('file end before the file part');
        checkLength(post.length, fileBytes);
        upload.end(expect);
      },
    });
    res.onAbort(() => {
      deferred = null;
      fail(new S3Error('RequestTimeout', 'client disconnected'), true);
    });
    body.pipe((view, isLast) => {
      if (settled) return;
      receivedBytes += view.byteLength;
      if (deferred === null) {
        try {
          parser.push(view);
          if (isLast) {
            parser.end();
            bodyDone = true;
            maybeResolve();
          }
        } catch (error) {
          fail(error, isLast);
        }
      } else if (isLast) {
        settled = true;
        reject(deferred.error);
      }
    });
  });
}

/**
 * Whether the rest of a refused request's body is small enough to read and drop before
 * answering (then the connection survives, and clients that send the whole body before reading
 * the answer, as browsers and fetch do, see the error rather than a reset).
 */
function drainable(req: RequestSnapshot, receivedBytes: number): boolean {
  const length = req.headers['content-length'];
  if (length === undefined || !/^\d{1,15}$/.test(length)) return false;
  return Number(length) - receivedBytes <= LIMITS.postErrorDrainBytesMax;
}

/** Verifies the policy and signature, then the key's write grant on the bucket. */
function authorizeForm(
  state: ServerState,
  req: RequestSnapshot,
  res: Responder,
  bucketName: string,
  fields: readonly FormField[],
  file: FormFile,
): Authorized {
  const post = verifyPostPolicy(
    { bucket: bucketName, fields, filename: file.filename },
    (accessKeyId) => state.catalog.getKey(accessKeyId)?.secretAccessKey,
    {
      region: state.config.s3.region,
      nowMs: Date.now(),
      signatureV2: state.config.s3.signatureV2,
    },
  );
  const key = post.accessKeyId === null ? null : state.catalog.getKey(post.accessKeyId);
  if (key === undefined) throw new S3Error('InvalidAccessKeyId');
  const bucket = state.catalog.getBucket(bucketName);
  if (bucket === undefined)
    throw new S3Error('NoSuchBucket', undefined, { BucketName: bucketName });
  checkKey(post.key);
  const facts = requestFactsOf(state, req, res, Date.now(), NO_QUERY, key === null ? null : 'form');
  const principal = principalOf(key);
  const access = bucketAccessOf(state.catalog, bucket);
  requireAccess(state, principal, facts, {
    action: 's3:PutObject',
    grant: 'write',
    bucket,
    access,
    objectKey: post.key,
  });
  const canned = post.fields.get('acl');
  const requested = canned === undefined ? undefined : { canned: cannedAclOf(canned) };
  const notify = notifyContextFor(
    state,
    bucket,
    () => ({ principal, sourceIp: facts.sourceIp(), requestId: res.requestId }),
    'Post',
  );
  return {
    post,
    key,
    bucket,
    acl: newObjectAcl(access, bucket, principal, requested),
    notify,
  };
}

/** Content-Type, Cache-Control, …, x-amz-meta-* fields, stored as PutObject stores headers. */
function headersFrom(fields: ReadonlyMap<string, string>): ObjectHeaders {
  const headers: Record<string, string> = {};
  for (const [name, value] of fields) {
    if (HEADER_FIELDS.has(name) || name.startsWith('x-amz-meta-')) headers[name] = value;
  }
  return objectHeadersFrom({ method: 'POST', rawPath: '/', rawQuery: '', headers });
}

/** The `tagging` field: a `<Tagging>` document, as PutObjectTagging takes (absent: no tags). */
function tagsOf(fields: ReadonlyMap<string, string>): Tag[] {
  const document = fields.get('tagging');
  return document === undefined || document === '' ? [] : tagsFromXml(document, 'object');
}

/**
 * A Content-MD5 field is checked against the file, as the header is for PutObject (and an
 * x-amz-checksum-* field, by the caller).
 */
function expectations(fields: ReadonlyMap<string, string>): PutExpectations {
  const md5 = fields.get('content-md5');
  if (md5 === undefined) return {};
  if (Buffer.from(md5, 'base64').length !== 16) throw new S3Error('InvalidDigest');
  return { md5Base64: md5 };
}

/** success_action_redirect, when it is an absolute http(s) URL (AWS ignores anything else). */
function redirectTarget(value: string | undefined): URL | null {
  if (value === undefined || value === '') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The new object's URL, addressed as the form was (path- or virtual-hosted-style). */
function objectUrl(
  scheme: 'http' | 'https',
  req: RequestSnapshot,
  style: RoutedRequest['style'],
  bucketName: string,
  key: string,
): string {
  const base = `${scheme}://${req.headers.host ?? ''}`;
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  return style === 'path' ? `${base}/${bucketName}/${encodedKey}` : `${base}/${encodedKey}`;
}

// ---------------------------------------------------------------------------------------------
// The file's way to the shard: PutBegin with no declared length, body chunks under credit-based
// flow control, PutEnd once the file part ended.

interface ShardUpload {
  write(view: Uint8Array): void;
  end(expect: PutExpectations): void;
  abandon(): void;
}

interface UploadTarget {
  bucketId: string;
  key: string;
  headers: ObjectHeaders;
  tags: Tag[];
  /** The new version's object lock (the form's x-amz-object-lock-* fields, or the default). */
  lock?: ObjectLock;
  /** The new object's owner and ACL, when not the defaults. */
  acl: ObjectAclFields;
  /** The form's x-amz-storage-class, validated (absent: STANDARD). */
  storageClass?: string;
  checksumAlgorithm: ChecksumAlgorithm | null;
  /** The form's encryption (SSE-C key or managed data key): the shard encrypts with it. */
  sse: EncryptionKey | null;
  quota?: QuotaCheck;
  notify?: NotifyContext;
  onStored(info: ObjectInfo): void;
  onFailed(error: unknown): void;
}

function openUpload(
  state: ServerState,
  res: Responder,
  shard: ShardClient,
  target: UploadTarget,
): ShardUpload {
  const reqId = shard.open(
    {
      kind: 'PutBegin',
      bucketId: target.bucketId,
      key: target.key,
      headers: target.headers,
      declaredBytes: null,
      payloadSha256: false,
      part: null,
      checksumAlgorithm: target.checksumAlgorithm,
      sse: target.sse,
      tags: target.tags,
      ...(target.storageClass !== undefined ? { storageClass: target.storageClass } : {}),
      ...lockField(target.lock),
      ...target.acl,
      ...(target.quota !== undefined ? { quota: target.quota } : {}),
      ...versioningField(state.catalog, target.bucketId),
      ...(target.notify !== undefined ? { notify: target.notify } : {}),
    },
    {
      onReply: (reply, replyBody) => {
        if (reply.kind === 'Credit') stream.credit(reply.bytes, replyBody);
        else if (reply.kind === 'Failed') target.onFailed(fromEngineFailure(reply.failure));
        else if (reply.kind === 'Done' && reply.result.kind === 'Put')
          target.onStored(reply.result.info);
      },
    },
  );
  // Tracks the pause: uWS must not be resumed unless paused (it then drops the connection).
  let paused = false;
  const throttle = {
    pause: (): void => {
      paused = true;
      res.pause();
    },
    resume: (): void => {
      paused = false;
      res.resume();
    },
  };
  const stream = new UploadStream(shard, reqId, state.buffers, throttle);
  return {
    write: (view) => stream.write(view),
    end: (expect) => {
      stream.flush();
      shard.send({ kind: 'PutEnd', reqId, expect });
    },
    abandon: () => {
      shard.cancel(reqId);
      stream.discard();
      if (paused) throttle.resume();
    },
  };
}
