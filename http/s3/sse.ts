import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import { Keyring, KmsError, kmsKeyArn, kmsS3Code } from '../../engine/sse/keyring.js';
import type { ManagedKind, ManagedSummary } from '../../engine/sse/managed.js';
import type { CustomerKey, EncryptionKey } from '../../engine/sse-c.js';
import type { ServerState } from './context.js';
import { S3Error } from './errors.js';

/**
 * SSE-S3 and SSE-KMS at the edge: the request's x-amz-server-side-encryption headers (or a
 * PostObject's same-named fields), the bucket's default encryption, the data key a write gets
 * from the keyring, and the headers that report it. A write with no SSE header on a bucket
 * without a default reads four headers and this thread's cached bucket configuration.
 */

const SSE = 'x-amz-server-side-encryption';
const KMS_KEY_ID = `${SSE}-aws-kms-key-id`;
const CONTEXT = `${SSE}-context`;
const BUCKET_KEY = `${SSE}-bucket-key-enabled`;

/** The values of x-amz-server-side-encryption (and of a bucket default's SSEAlgorithm). */
export type SseAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';

const KIND_OF: Readonly<Record<SseAlgorithm, ManagedKind>> = {
  AES256: 's3',
  'aws:kms': 'kms',
  'aws:kms:dsse': 'dsse',
};
const ALGORITHM_OF: Readonly<Record<ManagedKind, SseAlgorithm>> = {
  s3: 'AES256',
  kms: 'aws:kms',
  dsse: 'aws:kms:dsse',
};

/** Managed encryption as a request (or a bucket default) asks for it. */
export interface ManagedRequest {
  readonly kind: ManagedKind;
  /** SSE-KMS: the key named (id, ARN, alias); null: the default aws/s3 key. */
  readonly keyRef: string | null;
  readonly context?: string;
  readonly bucketKey?: boolean;
}

/** A bucket's default encryption (PutBucketEncryption), as stored in the catalog. */
export interface BucketEncryption {
  readonly algorithm: SseAlgorithm;
  readonly kmsKeyId?: string;
  readonly bucketKey: boolean;
}

/** The bucket's default encryption, from this thread's configuration cache (catalog.ts). */
export function bucketEncryptionOf(
  catalog: Catalog,
  bucket: BucketRecord,
): BucketEncryption | undefined {
  return catalog.getBucketConfig<BucketEncryption>(bucket, 'encryption');
}

function invalid(message: string, name: string, value?: string): S3Error {
  return new S3Error('InvalidArgument', message, {
    ArgumentName: name,
    ...(value !== undefined ? { ArgumentValue: value } : {}),
  });
}

/**
 * The managed encryption a request's headers ask for, validated as S3 does; null: none.
 * `x-amz-server-side-encryption` must be AES256, aws:kms or aws:kms:dsse; the KMS headers
 * require one of the KMS two; the context must be base64 of a JSON object of strings.
 */
export function managedRequestOf(headers: Readonly<Record<string, string>>): ManagedRequest | null {
  const requested = headers[SSE];
  const keyRef = headers[KMS_KEY_ID];
  const context = headers[CONTEXT];
  const bucketKeyHeader = headers[BUCKET_KEY];
  if (requested === undefined) {
    if (keyRef !== undefined || context !== undefined) {
      throw invalid(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        SSE,
      );
    }
    return null;
  }
  const algorithm = managedAlgorithmOf(requested, () =>
    invalid('The encryption method specified is not supported', SSE, requested),
  );
  // Validated for every algorithm, kept for SSE-KMS only: S3 Bucket Keys are an SSE-KMS feature
  // (AWS neither applies nor reports one for AES256, nor for dual-layer DSSE-KMS).
  const bucketKey = bucketKeyOf(bucketKeyHeader);
  const withBucketKey = bucketKey === undefined || algorithm !== 'aws:kms' ? {} : { bucketKey };
  if (algorithm === 'AES256') {
    if (keyRef !== undefined || context !== undefined) {
      throw invalid(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        SSE,
        requested,
      );
    }
    return { kind: 's3', keyRef: null };
  }
  if (keyRef !== undefined && (keyRef === '' || keyRef.length > LIMITS.kmsKeyRefBytesMax)) {
    throw invalid('Invalid keyId', KMS_KEY_ID, keyRef.slice(0, 256));
  }
  return {
    kind: KIND_OF[algorithm],
    keyRef: keyRef ?? null,
    ...(context !== undefined ? { context: checkedContext(context) } : {}),
    ...withBucketKey,
  };
}

/** An algorithm a request header or a bucket default names; `bad()` for what S3 does not know. */
export function managedAlgorithmOf(value: string | undefined, bad: () => S3Error): SseAlgorithm {
  if (value === undefined || !Object.hasOwn(KIND_OF, value)) throw bad();
  return value as SseAlgorithm;
}

function bucketKeyOf(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const normalized = value.trim().toLowerCase();
  if (normalized !== 'true' && normalized !== 'false') {
    throw invalid(
      'Invalid value for x-amz-server-side-encryption-bucket-key-enabled',
      BUCKET_KEY,
      value,
    );
  }
  return normalized === 'true';
}

/** The encryption context: base64 of a JSON object whose values are strings (as KMS takes it). */
function checkedContext(value: string): string {
  const bad = (): S3Error =>
    invalid('The encryption context must be base64-encoded JSON of string pairs', CONTEXT);
  if (value.length > LIMITS.sseContextBytesMax || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw bad();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad();
  if (!Object.values(parsed).every((v) => typeof v === 'string')) throw bad();
  return value;
}

/**
 * The encryption a write gets: the customer's key (SSE-C), else its own SSE headers, else the
 * bucket's default, else none. SSE-C with SSE-S3/KMS headers is InvalidArgument, as in AWS; the
 * bucket default never applies to an SSE-C write.
 */
export function writeEncryption(
  state: ServerState,
  bucket: BucketRecord,
  headers: Readonly<Record<string, string>>,
  customer: CustomerKey | null,
): EncryptionKey | null {
  const managed = managedRequestOf(headers);
  if (customer !== null) {
    if (managed !== null) {
      throw invalid(
        'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
        SSE,
        headers[SSE],
      );
    }
    return customer;
  }
  const wanted = managed ?? defaultRequestOf(bucketEncryptionOf(state.catalog, bucket));
  return wanted === null ? null : dataKeyFor(state, wanted);
}

function defaultRequestOf(config: BucketEncryption | undefined): ManagedRequest | null {
  if (config === undefined) return null;
  const kind = KIND_OF[config.algorithm];
  if (kind === 's3') return { kind, keyRef: null };
  return {
    kind,
    keyRef: config.kmsKeyId ?? null,
    ...(config.bucketKey && kind === 'kms' ? { bucketKey: true } : {}),
  };
}

/** A new data key for the request, from the keyring; KMS's refusals as S3 reports them. */
function dataKeyFor(state: ServerState, wanted: ManagedRequest): EncryptionKey {
  const keyring = keyringOf(state);
  try {
    return wanted.kind === 's3'
      ? keyring.newSseS3DataKey()
      : keyring.newKmsDataKey(wanted.keyRef, wanted.context, wanted.bucketKey, wanted.kind);
  } catch (error) {
    throw s3ErrorOfKms(error);
  }
}

/** KmsError → its S3 error (anything else unchanged). */
function s3ErrorOfKms(error: unknown): unknown {
  if (!(error instanceof KmsError)) return error;
  const code = kmsS3Code(error);
  return new S3Error(code ?? 'InvalidArgument', error.message);
}

/** One keyring per thread's catalog handle (edge threads, and the main thread's admin API). */
const keyrings = new WeakMap<Catalog, Keyring>();

export function keyringOf(state: Pick<ServerState, 'catalog' | 'config'>): Keyring {
  let keyring = keyrings.get(state.catalog);
  if (keyring === undefined) {
    const { dataDir, sse } = state.config;
    keyring = new Keyring(state.catalog.kmsTables(), dataDir, sse.masterKeyFile);
    keyrings.set(state.catalog, keyring);
  }
  return keyring;
}

/**
 * The headers that report SSE-S3 or SSE-KMS: the algorithm, and for KMS the key's ARN; the
 * context on writes only (`withContext`), as AWS answers; the bucket key when it was asked for.
 */
export function managedResponseHeaders(
  region: string,
  managed: ManagedSummary | undefined,
  withContext = false,
): Array<[string, string]> {
  if (managed === undefined) return [];
  const headers: Array<[string, string]> = [[SSE, ALGORITHM_OF[managed.kind]]];
  if (managed.kind !== 's3') headers.push([KMS_KEY_ID, kmsKeyArn(region, managed.keyId)]);
  if (withContext && managed.context !== undefined) headers.push([CONTEXT, managed.context]);
  if (managed.bucketKey === true) headers.push([BUCKET_KEY, 'true']);
  return headers;
}
