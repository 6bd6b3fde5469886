import { XMLParser } from 'fast-xml-parser';
import type { Acl, AclGrant, AclPermission, Grantee } from '../../engine/catalog/access.js';
import { LIMITS } from '../../engine/limits.js';
import { granteeOf } from '../access/acl.js';
import { S3Error } from './errors.js';
import {
  entityDecoder,
  escapeXml,
  parseXml,
  RAW,
  renderXml,
  textOf,
  type XmlNode,
  type XmlValue,
} from './xml.js';

/**
 * The AccessControlPolicy document of Get/PutBucketAcl and Get/PutObjectAcl. Grantees carry
 * their kind in an attribute (`xsi:type`), which the common parser drops: this one keeps them.
 */

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const PERMISSIONS: ReadonlySet<string> = new Set([
  'FULL_CONTROL',
  'READ',
  'WRITE',
  'READ_ACP',
  'WRITE_ACP',
]);

const withAttributes = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
  entityDecoder,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  isArray: (name) => name === 'Grant',
});

/** A parsed AccessControlPolicy: the Owner ID it names (if any) and its grants. */
export interface AclDocument {
  readonly ownerId: string | undefined;
  readonly grants: AclGrant[];
}

/** Parses a PutBucketAcl / PutObjectAcl body; a document AWS's schema refuses is MalformedACLError. */
export function parseAclXml(text: string): AclDocument {
  try {
    // The common parser's checks first: well-formed, no DOCTYPE or entities, the right root.
    parseXml(text, 'AccessControlPolicy');
  } catch (error) {
    if (error instanceof S3Error && error.code === 'MalformedXML') throw malformed();
    throw error;
  }
  let doc: XmlNode;
  try {
    doc = withAttributes.parse(text) as XmlNode;
  } catch {
    throw malformed();
  }
  const policy = nodeOf(doc['AccessControlPolicy']);
  const owner = policy['Owner'];
  const ownerId = owner === undefined ? undefined : textOf(nodeOf(owner)['ID']);
  if (owner !== undefined && ownerId === undefined) throw malformed();
  const list = policy['AccessControlList'];
  if (list === undefined) throw malformed();
  const items = typeof list === 'string' ? [] : (nodeOf(list)['Grant'] ?? []);
  if (!Array.isArray(items)) throw malformed();
  if (items.length > LIMITS.aclGrantsMax) throw malformed();
  return { ownerId, grants: items.map(grantOf) };
}

function grantOf(value: XmlValue): AclGrant {
  const grant = nodeOf(value);
  const permission = textOf(grant['Permission']);
  if (permission === undefined || !PERMISSIONS.has(permission)) throw malformed();
  return {
    grantee: granteeOfNode(nodeOf(grant['Grantee'])),
    permission: permission as AclPermission,
  };
}

/** A Grantee by its xsi:type, or by the one child it has when a client left the type out. */
function granteeOfNode(node: XmlNode): Grantee {
  const id = textOf(node['ID']);
  const uri = textOf(node['URI']);
  const email = textOf(node['EmailAddress']);
  const type = textOf(node['@_type']);
  switch (
    type ??
    (id !== undefined ? 'CanonicalUser' : uri !== undefined ? 'Group' : 'AmazonCustomerByEmail')
  ) {
    case 'CanonicalUser':
      if (id === undefined || id === '') throw malformed();
      return granteeOf('id', id);
    case 'Group':
      if (uri === undefined) throw malformed();
      return granteeOf('uri', uri);
    case 'AmazonCustomerByEmail':
      if (email === undefined) throw malformed();
      return granteeOf('emailAddress', email);
    default:
      throw malformed();
  }
}

function nodeOf(value: XmlValue): XmlNode {
  if (typeof value === 'string' && value.trim() === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw malformed();
  return value;
}

function malformed(): S3Error {
  return new S3Error('MalformedACLError');
}

/** The AccessControlPolicy of a GetBucketAcl / GetObjectAcl, display names from `users`. */
export function renderAclXml(acl: Acl, users: ReadonlyMap<string, string>): string {
  return renderXml('AccessControlPolicy', {
    Owner: userNode(acl.owner, users),
    AccessControlList: { [RAW]: acl.grants.map((grant) => grantXml(grant, users)).join('') },
  });
}

function userNode(id: string, users: ReadonlyMap<string, string>): XmlNode {
  const name = users.get(id);
  return name === undefined ? { ID: id } : { ID: id, DisplayName: name };
}

function grantXml(grant: AclGrant, users: ReadonlyMap<string, string>): string {
  const { grantee } = grant;
  let inner: string;
  if (grantee.type === 'CanonicalUser') {
    const name = users.get(grantee.id);
    inner = `<ID>${escapeXml(grantee.id)}</ID>${name === undefined ? '' : `<DisplayName>${escapeXml(name)}</DisplayName>`}`;
  } else {
    inner = `<URI>${escapeXml(grantee.uri)}</URI>`;
  }
  return `<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="${grantee.type}">${inner}</Grantee><Permission>${grant.permission}</Permission></Grant>`;
}
