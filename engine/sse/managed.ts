/**
 * SSE-S3 and SSE-KMS as an object (or upload) record keeps them: the object's data key, sealed
 * under a keyring key's material (engine/sse/keyring.ts), and what the client is told. The data
 * key then drives the same AES-256-CTR machinery as SSE-C (engine/sse-c.ts), an IV per part.
 */
export interface ManagedKey {
  /** 's3': AES256 with the internal keyring key; 'kms': aws:kms with a named keyring key. */
  readonly kind: 's3' | 'kms';
  /** The keyring key whose material sealed the data key, and the version of that material. */
  readonly keyId: string;
  readonly keyVersion: number;
  /** The data key, AES-256-GCM sealed (engine/sse/wrap.ts), bound to the fields above. */
  readonly wrapped: Uint8Array;
  /** SSE-KMS: x-amz-server-side-encryption-context as given (base64 JSON); absent: none. */
  readonly context?: string;
  /** x-amz-server-side-encryption-bucket-key-enabled as asked (reported back; no other effect). */
  readonly bucketKey?: boolean;
}

/** A managed object's encryption as stored: its key, and the IV of each part. */
export interface ManagedEncryption extends ManagedKey {
  ivs: string[];
}

/** A PUT's data key (in memory for the request only) and what its record keeps. */
export interface ManagedDataKey {
  readonly key: Uint8Array;
  readonly managed: ManagedKey;
}

/** The additional data a data key is sealed with: everything that says which key it is. */
export function dataKeyAad(managed: Omit<ManagedKey, 'wrapped'>): string {
  return `hangar-sse-data-key\0${managed.kind}\0${managed.keyId}\0${managed.keyVersion}\0${managed.context ?? ''}`;
}

/**
 * What parts of one upload share instead of SSE-C's key MD5: the sealed data key, unique to the
 * upload (a part is only accepted into the object it was encrypted for).
 */
export function managedKeyTag(managed: ManagedKey): string {
  return `managed:${Buffer.from(managed.wrapped).toString('base64')}`;
}

/** What GET/HEAD report of a managed object (ObjectInfo.sseManaged). */
export interface ManagedSummary {
  readonly kind: 's3' | 'kms';
  readonly keyId: string;
  readonly context?: string;
  readonly bucketKey?: boolean;
}

export function summaryOf(managed: ManagedKey): ManagedSummary {
  return {
    kind: managed.kind,
    keyId: managed.keyId,
    ...(managed.context !== undefined ? { context: managed.context } : {}),
    ...(managed.bucketKey !== undefined ? { bucketKey: managed.bucketKey } : {}),
  };
}
