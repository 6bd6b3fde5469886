import { type RequestContext, requireBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { checkElements, optionalText, parseXml, type XmlNode } from '../xml.js';

/**
 * Put/GetBucketAccelerateConfiguration: the Transfer Acceleration status, stored and returned
 * as AWS does (catalog kind 'accelerate'). hangar has no edge network to accelerate through:
 * the status changes nothing, which is what it means to a client talking to one endpoint.
 */

export type AccelerateStatus = 'Enabled' | 'Suspended';

export interface StoredAccelerate {
  status: AccelerateStatus;
}

/** The Status of an AccelerateConfiguration document (exactly Enabled or Suspended). */
export function parseAccelerateConfiguration(document: XmlNode): StoredAccelerate {
  checkElements(document, ['Status']);
  const status = optionalText(document, 'Status');
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  return { status };
}

/** The document GetBucketAccelerateConfiguration answers: no Status when never set. */
export function accelerateXml(stored: StoredAccelerate | undefined): XmlNode {
  return stored === undefined ? {} : { Status: stored.status };
}

export async function handlePutBucketAccelerate(ctx: RequestContext, name: string): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  const config = parseAccelerateConfiguration(
    parseXml(body.toString('utf8'), 'AccelerateConfiguration'),
  );
  // AWS's rule: acceleration endpoints are virtual-hosted, and a dotted name breaks their TLS.
  if (name.includes('.')) {
    throw new S3Error(
      'InvalidRequest',
      'S3 Transfer Acceleration is not supported for buckets with periods (.) in their names',
    );
  }
  await ctx.state.catalog.putBucketConfig(bucket.id, 'accelerate', config);
  sendEmpty(ctx, 200);
}

export function handleGetBucketAccelerate(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const stored = ctx.state.catalog.getBucketConfig<StoredAccelerate>(bucket, 'accelerate');
  sendXml(ctx, 'AccelerateConfiguration', accelerateXml(stored));
}
