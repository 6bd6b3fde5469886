import type { BucketAccess } from '../../engine/catalog/access.js';
import type { BucketRecord, Catalog, Grant, KeyRecord } from '../../engine/catalog/catalog.js';
import type { ObjectRecord } from '../../engine/meta/object-table.js';
import { bucketAccessOf } from '../access/access-record.js';
import { iamActionOf, iamActionOfEndpoint } from '../access/actions.js';
import { type AccessRequest, decide } from '../access/decide.js';
import type { RequestFacts } from '../access/facts.js';
import { type ObjectFacts, objectFactsOf, prefetchIfJudged } from '../access/object-facts.js';
import type { Principal } from '../access/principal.js';
import { isV2Authorization } from '../sigv4/v2.js';
import { type AuthResult, verifyRequest } from '../sigv4/verify.js';
import type { RequestSnapshot } from '../uws/request.js';
import type { Responder } from '../uws/response.js';
import { accessOf, type RequestContext, type ServerState } from './context.js';
import { authorizationOf, type Endpoint } from './endpoints.js';
import { toS3Error } from './engine-errors.js';
import { S3Error } from './errors.js';
import { requesterCharged } from './requester-pays.js';
import type { RoutedRequest } from './router.js';
import { clientScheme } from './scheme.js';

/** A request's signer: a key and what its signature said, or nobody (an unsigned request). */
export type Authenticated =
  | { readonly auth: AuthResult; readonly key: KeyRecord }
  | { readonly auth: null; readonly key: null };

/**
 * Checks the request's signature (V4, or V2 when the configuration accepts it) against the
 * catalog's keys. An unsigned request is anonymous: what it may do is the decision's to say.
 */
export function authenticate(
  state: ServerState,
  req: RequestSnapshot,
  nowMs: number,
): Authenticated {
  // The record the signature was checked with is the request's key: one catalog read, not two.
  let looked: KeyRecord | undefined;
  const lookup = (accessKeyId: string): string | undefined => {
    looked = state.catalog.getKey(accessKeyId);
    return looked?.secretAccessKey;
  };
  const s3 = state.config.s3;
  const auth = verifyRequest(req, lookup, {
    region: s3.region,
    nowMs,
    // The s3 section carries V2's one option (rootDomains): no object made per request.
    signatureV2: s3.signatureV2 ? s3 : undefined,
  });
  if (auth === null) return { auth: null, key: null };
  const key =
    looked?.accessKeyId === auth.accessKeyId ? looked : state.catalog.getKey(auth.accessKeyId);
  if (key === undefined) throw new S3Error('InvalidAccessKeyId');
  return { auth, key };
}

/**
 * After `admit` (authentication and authorization) threw: in cluster mode, a NoSuchBucket or
 * InvalidAccessKeyId may be a bucket or key another gateway made a moment ago, which this
 * gateway's replica has not received yet. The replica first catches up with PostgreSQL; if it
 * changed, `admit` runs again (it reads the catalog only: nothing of the request is consumed).
 * Anything else, and every error of an embedded catalog, is rethrown as it was: the embedded
 * path pays nothing (this runs only after a throw).
 */
export async function againAfterCatalogMiss<T>(
  catalog: Catalog,
  error: unknown,
  admit: () => T,
): Promise<T> {
  if (!catalog.replicated || !isCatalogMiss(error)) throw error;
  if (!(await catalog.catchUp())) throw error;
  return admit();
}

function isCatalogMiss(error: unknown): boolean {
  return (
    error instanceof S3Error &&
    (error.code === 'NoSuchBucket' || error.code === 'InvalidAccessKeyId')
  );
}

/** What a request may need in the policy's conditions, all of it lazy (facts.ts). */
export function requestFactsOf(
  state: ServerState,
  req: RequestSnapshot,
  res: Responder,
  nowMs: number,
  query: ReadonlyMap<string, string>,
  signed: 'header' | 'query' | 'form' | null,
): RequestFacts {
  const authorization = req.headers.authorization;
  const v2 =
    signed === 'header'
      ? authorization !== undefined && isV2Authorization(authorization)
      : signed === 'query'
        ? query.has('AWSAccessKeyId')
        : false;
  return {
    sourceIp: () => res.remoteAddress(),
    secureTransport: clientScheme(state.config, req.headers) === 'https',
    nowMs,
    signatureVersion: signed === null ? null : v2 ? 'AWS' : 'AWS4-HMAC-SHA256',
    authType:
      signed === null
        ? null
        : signed === 'header'
          ? 'REST-HEADER'
          : signed === 'query'
            ? 'REST-QUERY-STRING'
            : 'POST',
    headers: req.headers,
    query,
  };
}

/** How a request was signed, for s3:authType and s3:signatureversion. */
export function signedBy(req: RequestSnapshot, auth: AuthResult | null): 'header' | 'query' | null {
  if (auth === null) return null;
  return req.headers.authorization !== undefined ? 'header' : 'query';
}

/** One resource a request acts on, as the decision needs it. */
export interface AccessTarget {
  readonly action: string;
  readonly grant: keyof Grant;
  readonly bucket: BucketRecord;
  readonly access: BucketAccess;
  readonly objectKey: string | null;
  readonly versionId?: string | undefined;
}

/**
 * Whether `principal` may do `target`: the one entry to decide.ts, for a request's own target
 * and everything past it (a copy's source, each key of DeleteObjects, bypassing governance
 * retention, a website visit's index and listing).
 */
export function allows(
  state: ServerState,
  principal: Principal,
  facts: RequestFacts,
  target: AccessTarget,
): boolean {
  return judge(state, principal, facts, target).allowed;
}

/** The decision on `target`, and the object's facts it may have read on the way. */
function judge(
  state: ServerState,
  principal: Principal,
  facts: RequestFacts,
  target: AccessTarget,
): { allowed: boolean; objectFacts: ObjectFacts | undefined } {
  const objectFacts =
    target.objectKey === null
      ? undefined
      : objectFactsOf(state, target.bucket, target.objectKey, target.versionId, facts.prefetched);
  const request: AccessRequest = {
    principal,
    action: target.action,
    grant: target.grant,
    bucket: target.bucket,
    access: target.access,
    objectKey: target.objectKey,
    // Only a policy reads conditions: the object's facts join them only when there is one.
    facts:
      objectFacts === undefined || target.access.policy === undefined
        ? facts
        : {
            ...facts,
            ...(target.versionId === undefined ? {} : { versionId: target.versionId }),
            existingObjectTags: objectFacts.tags,
          },
    ...(objectFacts === undefined ? {} : { object: objectFacts.access }),
  };
  return { allowed: decide(state.catalog, request).allowed, objectFacts };
}

/** `allows`, or AccessDenied. */
export function requireAccess(
  state: ServerState,
  principal: Principal,
  facts: RequestFacts,
  target: AccessTarget,
): void {
  if (!allows(state, principal, facts, target)) throw new S3Error('AccessDenied');
}

/**
 * The bucket and its access record, read once by authorization and handed to the handler, and
 * the current object record of the request's key if the decision read it (an anonymous or ACL
 * reader's GET: the handler serves that record rather than read it again).
 */
export interface Authorized {
  readonly bucket: BucketRecord | null;
  readonly access: BucketAccess | null;
  readonly object: AuthorizedObject | null;
  /** A Requester Pays bucket's requester accepted the charge: answers say it was charged. */
  readonly requestCharged: boolean;
}

/** The object record authorization read: the key's current version (undefined: none). */
export interface AuthorizedObject {
  readonly key: string;
  readonly record: ObjectRecord | undefined;
}

const NOTHING_READ: Authorized = Object.freeze({
  bucket: null,
  access: null,
  object: null,
  requestCharged: false,
});

/**
 * Whether `principal` may perform the routed request. Service-level actions: ListBuckets needs
 * a key, CreateBucket a key allowed to create buckets. A missing bucket is NoSuchBucket before
 * it is AccessDenied, as S3 answers.
 */
export function authorize(
  state: ServerState,
  principal: Principal,
  routed: RoutedRequest,
  facts: RequestFacts,
  /** The request's headers (Requester Pays reads x-amz-request-payer). */
  headers: Readonly<Record<string, string>>,
  /** Told the bucket record as soon as it is read, even when the request is then refused. */
  onBucket?: (bucket: BucketRecord) => void,
): Authorized {
  const endpoint: Endpoint = routed.endpoint;
  const needed = authorizationOf(endpoint);
  if (needed === 'none' || needed === 'create-bucket') {
    if (principal.kind === 'anonymous') throw new S3Error('AccessDenied');
    if (needed === 'create-bucket' && !(principal.key.root || principal.key.allowCreateBucket)) {
      throw new S3Error('AccessDenied');
    }
    return NOTHING_READ;
  }
  const bucketName = routed.bucket;
  if (bucketName === null) throw new S3Error('AccessDenied');
  const bucket = state.catalog.getBucket(bucketName);
  if (bucket === undefined)
    throw new S3Error('NoSuchBucket', undefined, { BucketName: bucketName });
  onBucket?.(bucket);
  const access = bucketAccessOf(state.catalog, bucket);
  const requestCharged = requesterCharged(state.catalog, bucket, principal, headers, routed.query);
  // DeleteObjects decides each key it names (handlers/delete.ts); the request itself only
  // needs to reach the bucket.
  if (endpoint.action === 'DeleteObjects') return { bucket, access, object: null, requestCharged };
  const versionId = 'versionId' in endpoint ? endpoint.versionId : undefined;
  const { allowed, objectFacts } = judge(state, principal, facts, {
    action: iamActionOfEndpoint(endpoint),
    grant: needed,
    bucket,
    access,
    objectKey: routed.key,
    versionId,
  });
  if (!allowed) throw new S3Error('AccessDenied');
  const read = objectFacts?.read() ?? null;
  const object =
    read === null || routed.key === null || versionId !== undefined
      ? null
      : { key: routed.key, record: read.record };
  return { bucket, access, object, requestCharged };
}

/** Whether the request may also do `target` (an optional extra, e.g. bypassing governance). */
export function mayAlso(ctx: RequestContext, target: AccessTarget): boolean {
  return allows(ctx.state, ctx.principal, ctx.facts, target);
}

/**
 * AWS's rule for a missing key: 404 NoSuchKey only to a requester who may list the bucket
 * (s3:ListBucket), else 403 AccessDenied, so that reading one public object does not tell what
 * else exists. Keys with a read grant may list: only ACL and policy readers see the difference.
 * `error` as it should reach the requester (GetObject / HeadObject and website visits).
 */
export function hiddenMiss(
  state: ServerState,
  principal: Principal,
  facts: RequestFacts,
  where: { readonly bucket: BucketRecord; readonly access: BucketAccess },
  error: unknown,
): unknown {
  if (toS3Error(error).code !== 'NoSuchKey') return error;
  const mayList = allows(state, principal, facts, {
    action: 's3:ListBucket',
    grant: 'read',
    bucket: where.bucket,
    access: where.access,
    objectKey: null,
  });
  return mayList ? error : new S3Error('AccessDenied');
}

/**
 * Reading a copy's source: s3:GetObject (or GetObjectVersion) on it, as a read grant. In cluster
 * mode the source's record is read first when the decision may look at it.
 */
export async function requireCopySourceAccess(
  ctx: RequestContext,
  bucket: BucketRecord,
  key: string,
  versionId: string | undefined,
): Promise<void> {
  const access = accessOf(ctx, bucket);
  const prefetch = prefetchIfJudged(ctx.state, bucket, access, key, versionId);
  const facts = prefetch === null ? ctx.facts : { ...ctx.facts, prefetched: await prefetch };
  requireAccess(ctx.state, ctx.principal, facts, {
    action: iamActionOf('GetObject', versionId),
    grant: 'read',
    bucket,
    access,
    objectKey: key,
    versionId,
  });
}

/** The signing key of a request authorization let through only with one (ListBuckets, ...). */
export function signingKey(ctx: RequestContext): KeyRecord {
  if (ctx.key === null) throw new S3Error('AccessDenied');
  return ctx.key;
}
