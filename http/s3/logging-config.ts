import type { AclGrant, AclPermission } from '../../engine/catalog/access.js';
import { LIMITS } from '../../engine/limits.js';
import { granteeOf } from '../access/acl.js';
import { S3Error } from './errors.js';
import { checkElements, escapeXml, RAW, textOf, type XmlNode, type XmlValue } from './xml.js';

/**
 * A bucket's server access logging (PutBucketLogging's LoggingEnabled), stored as the catalog's
 * 'logging' bucket configuration. Absent: logging is off.
 */
export interface LoggingConfig {
  /** The bucket log objects are written to, by name (as AWS stores it). */
  readonly targetBucket: string;
  readonly targetPrefix: string;
  /** Stored and answered back; hangar's log objects get the target bucket's own ACL rules. */
  readonly targetGrants: readonly AclGrant[];
  /** Log object key layout: simple, or partitioned by the day of the event or of delivery. */
  readonly keyFormat:
    | { readonly kind: 'simple' }
    | { readonly kind: 'partitioned'; readonly dateSource: 'EventTime' | 'DeliveryTime' };
}

const TARGET_PERMISSIONS: ReadonlySet<string> = new Set(['FULL_CONTROL', 'READ', 'WRITE']);

function node(value: XmlValue): XmlNode | undefined {
  if (typeof value === 'string' && value.trim() === '') return {};
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/** A BucketLoggingStatus document: the configuration, or null (an empty one turns logging off). */
export function parseLoggingStatus(document: XmlNode): LoggingConfig | null {
  checkElements(document, ['LoggingEnabled']);
  if (document.LoggingEnabled === undefined) return null;
  const enabled = node(document.LoggingEnabled);
  if (enabled === undefined) throw new S3Error('MalformedXML');
  checkElements(enabled, ['TargetBucket', 'TargetPrefix', 'TargetGrants', 'TargetObjectKeyFormat']);
  const targetBucket = textOf(enabled.TargetBucket)?.trim();
  const targetPrefix = textOf(enabled.TargetPrefix) ?? null;
  // Both are required by AWS's schema (an empty TargetPrefix is allowed).
  if (targetBucket === undefined || targetBucket === '' || targetPrefix === null) {
    throw new S3Error('MalformedXML');
  }
  if (Buffer.byteLength(targetPrefix) > LIMITS.keyBytesMax - 100) {
    throw new S3Error('InvalidArgument', 'The target prefix is too long', {
      ArgumentName: 'TargetPrefix',
    });
  }
  return {
    targetBucket,
    targetPrefix,
    targetGrants: grantsOf(enabled.TargetGrants),
    keyFormat: keyFormatOf(enabled.TargetObjectKeyFormat),
  };
}

function grantsOf(value: XmlValue): AclGrant[] {
  if (value === undefined) return [];
  const grants = node(value);
  if (grants === undefined) throw new S3Error('MalformedXML');
  checkElements(grants, ['Grant']);
  const list = grants.Grant === undefined ? [] : [grants.Grant].flat();
  if (list.length > LIMITS.aclGrantsMax) throw new S3Error('MalformedXML');
  return list.map((item) => {
    const grant = node(item);
    if (grant === undefined) throw new S3Error('MalformedXML');
    const permission = textOf(grant.Permission)?.trim();
    const grantee = node(grant.Grantee);
    if (permission === undefined || !TARGET_PERMISSIONS.has(permission) || grantee === undefined) {
      throw new S3Error('MalformedXML');
    }
    return { grantee: granteeOfNode(grantee), permission: permission as AclPermission };
  });
}

/** The common parser drops xsi:type: the grantee's kind is the child it carries. */
function granteeOfNode(grantee: XmlNode): AclGrant['grantee'] {
  const id = textOf(grantee.ID)?.trim();
  if (id !== undefined && id !== '') return granteeOf('id', id);
  const uri = textOf(grantee.URI)?.trim();
  if (uri !== undefined) return granteeOf('uri', uri);
  if (grantee.EmailAddress !== undefined) return granteeOf('emailAddress', '');
  throw new S3Error('MalformedXML');
}

function keyFormatOf(value: XmlValue): LoggingConfig['keyFormat'] {
  if (value === undefined) return { kind: 'simple' };
  const format = node(value);
  if (format === undefined) throw new S3Error('MalformedXML');
  checkElements(format, ['SimplePrefix', 'PartitionedPrefix']);
  const simple = format.SimplePrefix !== undefined;
  const partitioned = format.PartitionedPrefix !== undefined;
  if (simple === partitioned) throw new S3Error('MalformedXML');
  if (simple) return { kind: 'simple' };
  const prefix = node(format.PartitionedPrefix);
  if (prefix === undefined) throw new S3Error('MalformedXML');
  checkElements(prefix, ['PartitionDateSource']);
  const source = textOf(prefix.PartitionDateSource)?.trim() ?? 'EventTime';
  if (source !== 'EventTime' && source !== 'DeliveryTime') throw new S3Error('MalformedXML');
  return { kind: 'partitioned', dateSource: source };
}

/** The BucketLoggingStatus body of GetBucketLogging (an empty one when logging is off). */
export function loggingStatusXml(config: LoggingConfig | undefined): XmlNode {
  if (config === undefined) return {};
  return {
    LoggingEnabled: {
      TargetBucket: config.targetBucket,
      TargetPrefix: config.targetPrefix,
      ...(config.targetGrants.length > 0
        ? { TargetGrants: { [RAW]: config.targetGrants.map(grantXml).join('') } }
        : {}),
      TargetObjectKeyFormat:
        config.keyFormat.kind === 'simple'
          ? { SimplePrefix: '' }
          : { PartitionedPrefix: { PartitionDateSource: config.keyFormat.dateSource } },
    },
  };
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function grantXml(grant: AclGrant): string {
  const { grantee } = grant;
  const inner =
    grantee.type === 'CanonicalUser'
      ? `<ID>${escapeXml(grantee.id)}</ID>`
      : `<URI>${escapeXml(grantee.uri)}</URI>`;
  return `<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="${grantee.type}">${inner}</Grantee><Permission>${grant.permission}</Permission></Grant>`;
}
