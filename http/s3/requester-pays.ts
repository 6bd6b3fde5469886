import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { bucketOwnerId, type Principal } from '../access/principal.js';
import { S3Error } from './errors.js';

/**
 * Requester Pays: on a bucket whose RequestPaymentConfiguration says Requester, every request
 * by anyone but the bucket's owner (and the root key, the account every bucket belongs to) must
 * say it accepts the charge, with `x-amz-request-payer: requester` (or, in a presigned URL, the
 * query parameter of that name); anonymous requests are refused outright, as AWS does. hangar
 * charges nobody: it keeps the contract clients code against, and answers
 * `x-amz-request-charged: requester` where AWS would.
 */

export type RequestPayer = 'BucketOwner' | 'Requester';

export interface StoredRequestPayment {
  payer: 'Requester';
}

/** The bucket's payer: the stored configuration's, else BucketOwner. */
export function requestPayerOf(catalog: Catalog, bucket: BucketRecord): RequestPayer {
  return (
    catalog.getBucketConfig<StoredRequestPayment>(bucket, 'request-payment')?.payer ?? 'BucketOwner'
  );
}

const PAYER_HEADER = 'x-amz-request-payer';

/** Whether the request accepts the charge: the header, or a presigned URL's parameter. */
function acceptsCharge(
  headers: Readonly<Record<string, string>>,
  query: ReadonlyMap<string, string>,
): boolean {
  const said = headers[PAYER_HEADER] ?? query.get(PAYER_HEADER);
  return said?.toLowerCase() === 'requester';
}

/**
 * Authorization's Requester Pays step: throws AccessDenied when the bucket makes the requester
 * pay and the request did not accept; true when the requester is charged (the answer then says
 * so), false when the bucket owner pays. One cached configuration lookup per request.
 */
export function requesterCharged(
  catalog: Catalog,
  bucket: BucketRecord,
  principal: Principal,
  headers: Readonly<Record<string, string>>,
  query: ReadonlyMap<string, string>,
): boolean {
  if (requestPayerOf(catalog, bucket) !== 'Requester') return false;
  if (principal.kind === 'anonymous') throw new S3Error('AccessDenied');
  if (principal.key.root || principal.canonicalId === bucketOwnerId(bucket)) return false;
  if (!acceptsCharge(headers, query)) throw new S3Error('AccessDenied');
  return true;
}
