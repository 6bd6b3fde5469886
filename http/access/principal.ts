import { createHash } from 'node:crypto';
import type { BucketRecord, KeyRecord } from '../../engine/catalog/catalog.js';

/**
 * Who a request is: nobody (an unsigned request) or one access key. Each key is its own AWS
 * "canonical user" (as each user is in Ceph RGW): ACL grants, bucket and object owners and
 * policy principals name keys. The root key is the account itself: its canonical id does not
 * change when the configured root credentials are rotated.
 */
export type Principal =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'key';
      readonly key: KeyRecord;
      /** 64 hex digits, as AWS's canonical user ids. */
      readonly canonicalId: string;
      /** The key as a policy names it: `arn:aws:iam::<account>:user/<access key id>` (root: `:root`). */
      readonly arn: string;
    };

/** The one account every hangar key belongs to, as policies and ARNs spell it (12 digits). */
export const HANGAR_ACCOUNT_ID = '000000000000';

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

const ROOT_IDENTITY = '\u0000root';
const canonicalIds = new Map<string, string>();
const arns = new Map<string, string>();

/** A stable canonical id per identity: a hash, so it needs no storage and no migration. */
function canonicalIdFor(identity: string): string {
  let id = canonicalIds.get(identity);
  if (id === undefined) {
    id = createHash('sha256').update(`hangar canonical user\u0000${identity}`).digest('hex');
    // Bounded by the number of keys the operator made (and a few deleted ones).
    if (canonicalIds.size > 4096) canonicalIds.clear();
    canonicalIds.set(identity, id);
  }
  return id;
}

/** The canonical id of a key (the root key: the account's). */
export function canonicalIdOf(key: Pick<KeyRecord, 'accessKeyId' | 'root'>): string {
  return canonicalIdFor(key.root ? ROOT_IDENTITY : key.accessKeyId);
}

/** The canonical id of the key with this access key id, known or deleted (not the root's). */
export function canonicalIdOfAccessKey(accessKeyId: string): string {
  return canonicalIdFor(accessKeyId);
}

/** The canonical id of the account root, owner of every bucket the root key (or the CLI) made. */
export const ROOT_CANONICAL_ID = canonicalIdFor(ROOT_IDENTITY);

export function principalOf(key: KeyRecord | null): Principal {
  if (key === null) return ANONYMOUS;
  return { kind: 'key', key, canonicalId: canonicalIdOf(key), arn: arnOf(key) };
}

/** The key's ARN, built once per key (every signed request asks). */
function arnOf(key: KeyRecord): string {
  const identity = key.root ? ROOT_IDENTITY : key.accessKeyId;
  let arn = arns.get(identity);
  if (arn === undefined) {
    arn = key.root
      ? `arn:aws:iam::${HANGAR_ACCOUNT_ID}:root`
      : `arn:aws:iam::${HANGAR_ACCOUNT_ID}:user/${key.accessKeyId}`;
    if (arns.size > 4096) arns.clear();
    arns.set(identity, arn);
  }
  return arn;
}

/** The canonical id of a bucket's owner: the key that created it, else the account root. */
export function bucketOwnerId(bucket: BucketRecord): string {
  return bucket.ownerKey === undefined
    ? ROOT_CANONICAL_ID
    : canonicalIdOfAccessKey(bucket.ownerKey);
}
