import type { Catalog } from '../../engine/catalog/catalog.js';
import { canonicalIdOf, type Principal } from '../access/principal.js';
import type { RequestContext } from './context.js';
import { renderElement, type XmlNode } from './xml.js';

/**
 * The Owner and Initiator elements of S3's answers: a canonical user id (64 hex digits,
 * principal.ts) and, when the key behind it still exists, its name as DisplayName (the root
 * key: the account, its key's name). AWS omits DisplayName in most regions; hangar omits it only
 * for an identity it no longer knows (a deleted key). AWS shows an IAM user's Initiator as its
 * ARN; hangar shows the canonical id in both ID fields, so that they compare with ACL grantees.
 */
export class OwnerNames {
  /** canonical id → the name of its key, read from the catalog on the first unknown id. */
  private names: Map<string, string> | null = null;
  private readonly rendered = new Map<string, string>();

  constructor(
    private readonly catalog: Catalog,
    private readonly requester: Principal,
  ) {}

  /** `{ ID, DisplayName? }` for renderXml. */
  node(canonicalId: string): XmlNode {
    const name = this.nameOf(canonicalId);
    return name === undefined ? { ID: canonicalId } : { ID: canonicalId, DisplayName: name };
  }

  /** `<Owner>…</Owner>` as markup, rendered once per identity (listings repeat a few owners). */
  ownerXml(canonicalId: string): string {
    let xml = this.rendered.get(canonicalId);
    if (xml === undefined) {
      xml = renderElement('Owner', this.node(canonicalId));
      this.rendered.set(canonicalId, xml);
    }
    return xml;
  }

  private nameOf(canonicalId: string): string | undefined {
    // The common case, the requester's own objects, needs no catalog read.
    if (this.requester.kind === 'key' && this.requester.canonicalId === canonicalId) {
      return this.requester.key.name;
    }
    this.names ??= new Map(this.catalog.listKeys().map((key) => [canonicalIdOf(key), key.name]));
    return this.names.get(canonicalId);
  }
}

export function ownerNamesOf(ctx: RequestContext): OwnerNames {
  return new OwnerNames(ctx.state.catalog, ctx.principal);
}
