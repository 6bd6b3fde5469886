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

/**
 * The owner S3 reports for everything a key can see: the key itself, as ACLs name it (its
 * canonical id, http/access/principal.ts; the root key: the account's) with its name.
 */
export function ownerOf(ctx: RequestContext): XmlNode {
  if (ctx.principal.kind === 'anonymous') return { ID: '', DisplayName: '' };
  return { ID: ctx.principal.canonicalId, DisplayName: ctx.principal.key.name };
}
