import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { type RequestPayer, requestPayerOf } from '../requester-pays.js';
import { readSignedBody } from '../signed-body.js';
import { checkElements, optionalText, parseXml, type XmlNode } from '../xml.js';

/**
 * Put/GetBucketRequestPayment: who pays for requests (catalog kind 'request-payment'). Its
 * effect, the `x-amz-request-payer` requirement on a Requester bucket, is authorization's
 * (http/s3/requester-pays.ts, called from http/s3/auth.ts authorize).
 */

/** The Payer of a RequestPaymentConfiguration document (exactly BucketOwner or Requester). */
export function parseRequestPayment(document: XmlNode): RequestPayer {
  checkElements(document, ['Payer']);
  const payer = optionalText(document, 'Payer');
  if (payer !== 'BucketOwner' && payer !== 'Requester') throw new S3Error('MalformedXML');
  return payer;
}

export async function handlePutBucketRequestPayment(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  const payer = parseRequestPayment(parseXml(body.toString('utf8'), 'RequestPaymentConfiguration'));
  // BucketOwner is the default, stored as no record: authorization's lookup then finds nothing,
  // as on every bucket that never had a RequestPaymentConfiguration.
  if (payer === 'BucketOwner')
    await ctx.state.catalog.deleteBucketConfig(bucket.id, 'request-payment');
  else await ctx.state.catalog.putBucketConfig(bucket.id, 'request-payment', { payer });
  sendEmpty(ctx, 200);
}

/** GetBucketRequestPayment: BucketOwner unless the bucket was set to Requester. */
export function handleGetBucketRequestPayment(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  sendXml(ctx, 'RequestPaymentConfiguration', {
    Payer: requestPayerOf(ctx.state.catalog, bucket),
  });
}
