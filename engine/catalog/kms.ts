import type { KvTable } from '../meta/kv.js';

/**
 * The built-in keyring's stored shapes (engine/sse/keyring.ts holds the logic). A keyring key is
 * what KMS calls a KMS key: an id, a status, and key material in versions (rotation adds one;
 * old versions stay to decrypt what they wrapped). Each version's material is sealed under the
 * master key whose id it carries, so a master-key rotation rewrites only these records.
 */
export interface KmsKeyVersion {
  readonly masterKeyId: string;
  /** The 32-byte material, AES-256-GCM sealed (engine/sse/wrap.ts). */
  readonly sealed: Uint8Array;
  readonly createdMs: number;
}

/** Who made a key: the operator, the default `aws/s3` key made on first use, or SSE-S3's own. */
export type KmsKeyOrigin = 'customer' | 'aws' | 'internal';

export interface KmsKeyRecord {
  /** A UUID ('sse-s3' for the internal key of SSE-S3). */
  readonly id: string;
  readonly description: string;
  readonly createdMs: number;
  readonly enabled: boolean;
  /**
   * ScheduleKmsKeyDeletion: when the key is deleted (ms since the epoch). Until then the key is
   * PendingDeletion (unusable, as in KMS; CancelKmsKeyDeletion restores it, disabled); from
   * then on it is gone, and its record is purged. Absent: not scheduled.
   */
  readonly deletionMs?: number;
  readonly origin: KmsKeyOrigin;
  /** The alias without its `alias/` prefix (the default key's `aws/s3`); absent: none. */
  readonly alias?: string;
  /** Oldest first; the last one wraps new data keys. */
  readonly versions: readonly KmsKeyVersion[];
}

/** The catalog's keyring tables and the transaction that writes them. */
export interface KmsTables {
  readonly keys: KvTable<KmsKeyRecord, string>;
  /** alias (without `alias/`) → key id. */
  readonly aliases: KvTable<string, string>;
  transaction<T>(work: () => T): Promise<T>;
  /** A write transaction committed (durably) before it returns: blocks the thread. */
  transactionSync<T>(work: () => T): T;
  flushed(): Promise<void>;
}

/** The id of SSE-S3's internal keyring key. */
export const SSE_S3_KEY_ID = 'sse-s3';
/** The alias of the key SSE-KMS uses when a request names none (AWS's AWS-managed key). */
export const DEFAULT_KMS_ALIAS = 'aws/s3';
