/**
 * SSE-S3 and SSE-KMS as an object (or upload) record keeps them: the object's data key, sealed
 * under a keyring key's material (engine/sse/keyring.ts), and what the client is told. The data
 * key then drives the same AES-256-CTR machinery as SSE-C (engine/sse-c.ts), an IV per part.
 * Dual-layer SSE-KMS adds a second, independent data key: a second AES-256-CTR layer over the
 * first.
 */
export type ManagedKind = 's3' | 'kms' | 'dsse';

export interface ManagedKey {
  /**
   * 's3': AES256 with the internal keyring key; 'kms': aws:kms with a named keyring key;
   * 'dsse': aws:kms:dsse, two layers, each with its own data key, both under a named key.
   */
  readonly kind: ManagedKind;
  /** The keyring key whose material sealed the data key, and the version of that material. */
  readonly keyId: string;
  readonly keyVersion: number;
  /** The data key, AES-256-GCM sealed (engine/sse/wrap.ts), bound to the fields above. */
  readonly wrapped: Uint8Array;
  /** 'dsse' only: the outer layer's data key, sealed as `wrapped` (outerKeyAad). */
  readonly wrappedOuter?: Uint8Array;
  /** SSE-KMS: x-amz-server-side-encryption-context as given (base64 JSON); absent: none. */
  readonly context?: string;
  /** x-amz-server-side-encryption-bucket-key-enabled as asked (reported back; no other effect). */
  readonly bucketKey?: boolean;
}

/** A managed object's encryption as stored: its key, and the IV of each part. */
export interface ManagedEncryption extends ManagedKey {
  ivs: string[];
  /** Each part's segment tags (engine/sse/segment-mac.ts); absent: written before them. */
  macs?: string[];
  /** Each part's number as its tags bind it (0: not bound); absent: none bound. */
  partNumbers?: number[];
}

/** An object's data keys, opened: the inner layer's, and dual-layer's outer one. */
export interface DataKeys {
  readonly key: Uint8Array;
  readonly outerKey?: Uint8Array;
}

/** A PUT's data keys (in memory for the request only) and what its record keeps. */
export interface ManagedDataKey extends DataKeys {
  readonly managed: ManagedKey;
}

/** The additional data a data key is sealed with: everything that says which key it is. */
export function dataKeyAad(managed: Omit<ManagedKey, 'wrapped' | 'wrappedOuter'>): string {
  return `hangar-sse-data-key\0${managed.kind}\0${managed.keyId}\0${managed.keyVersion}\0${managed.context ?? ''}`;
}

/** The outer layer's: the inner one's and its role, so neither key opens as the other. */
export function outerKeyAad(managed: Omit<ManagedKey, 'wrapped' | 'wrappedOuter'>): string {
  return `${dataKeyAad(managed)}\0outer-layer`;
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
  readonly kind: ManagedKind;
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
