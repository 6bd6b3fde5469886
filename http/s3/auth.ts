import type { BucketRecord, KeyRecord } from '../../engine/catalog/catalog.js';
import { type AuthResult, verifyRequest } from '../sigv4/verify.js';
import type { RequestSnapshot } from '../uws/request.js';
import type { ServerState } from './context.js';
import { authorizationOf, type Endpoint } from './endpoints.js';
import { S3Error } from './errors.js';

export interface Authenticated {
  auth: AuthResult;
  key: KeyRecord;
}

/**
 * Checks the request's SigV4 signature against the catalog's keys. Anonymous requests are
 * refused: hangar has no public buckets on the S3 endpoint.
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
  const auth = verifyRequest(req, lookup, { region: state.config.s3.region, nowMs });
  if (auth === null) throw new S3Error('AccessDenied', 'Anonymous access is not allowed.');
  const key =
    looked?.accessKeyId === auth.accessKeyId ? looked : state.catalog.getKey(auth.accessKeyId);
  if (key === undefined) throw new S3Error('InvalidAccessKeyId');
  return { auth, key };
}

/**
 * Whether `key` may perform `endpoint` (Garage's model: per-bucket read / write / owner grants;
 * the root key may do anything; creating buckets needs the key's create-bucket flag). A missing
 * bucket is NoSuchBucket before it is AccessDenied, as S3 answers. Returns the bucket it read
 * (null: none needed), which the handler then takes instead of reading the catalog again.
 */
export function authorize(
  state: ServerState,
  key: KeyRecord,
  endpoint: Endpoint,
  bucketName: string | null,
): BucketRecord | null {
  const needed = authorizationOf(endpoint);
  if (needed === 'none') return null;
  if (needed === 'create-bucket') {
    if (key.root || key.allowCreateBucket) return null;
    throw new S3Error('AccessDenied');
  }
  if (bucketName === null) throw new S3Error('AccessDenied');
  const bucket = state.catalog.getBucket(bucketName);
  if (bucket === undefined)
    throw new S3Error('NoSuchBucket', undefined, { BucketName: bucketName });
  if (!mayAccess(state, key, bucket, needed)) throw new S3Error('AccessDenied');
  return bucket;
}

export function mayAccess(
  state: ServerState,
  key: KeyRecord,
  bucket: BucketRecord,
  needed: 'read' | 'write' | 'owner',
): boolean {
  if (key.root) return true;
  return state.catalog.getGrant(bucket.id, key.accessKeyId)[needed];
}
