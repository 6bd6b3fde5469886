import type { Headers } from '../uws/response.js';
import type { RequestContext } from './context.js';
import { renderXml, type XmlNode } from './xml.js';

/** Sends an S3 XML document. */
export function sendXml(
  ctx: RequestContext,
  root: string,
  body: XmlNode,
  headers: Headers = [],
): void {
  ctx.res.send(200, [['content-type', 'application/xml'], ...headers], renderXml(root, body));
}

/** Sends a response without a body (2xx of PUT/DELETE/HEAD bucket). */
export function sendEmpty(ctx: RequestContext, status: number, headers: Headers = []): void {
  ctx.res.send(status, headers, '', status === 200 ? { headLength: 0 } : {});
}
