/**
 * Bucket inventory configurations (Put/Get/Delete/ListBucketInventoryConfigurations): the stored
 * form, AWS's validation and AWS's XML. Schema violations (unknown, repeated or missing
 * elements, values outside an enumeration) are MalformedXML, as AWS's schema check answers;
 * semantic problems are InvalidArgument.
 */
import { S3Error } from '../s3/errors.js';
import { checkedConfigId } from '../s3/id-configs.js';
import {
  checkElements,
  elementOf,
  optionalText,
  parseXml,
  texts,
  type XmlNode,
} from '../s3/xml.js';

export const INVENTORY_FORMATS = ['CSV', 'ORC', 'Parquet'] as const;
export type InventoryFormat = (typeof INVENTORY_FORMATS)[number];
export type InventoryFrequency = 'Daily' | 'Weekly';
export type IncludedVersions = 'All' | 'Current';

/** The optional fields AWS accepts, in the order report columns are written (a configuration
 *  keeps the order it was given, as AWS gives it back). */
export const OPTIONAL_FIELDS = [
  'Size',
  'LastModifiedDate',
  'ETag',
  'StorageClass',
  'IsMultipartUploaded',
  'ReplicationStatus',
  'EncryptionStatus',
  'ObjectLockRetainUntilDate',
  'ObjectLockMode',
  'ObjectLockLegalHoldStatus',
  'IntelligentTieringAccessTier',
  'BucketKeyStatus',
  'ChecksumAlgorithm',
  'ObjectAccessControlList',
  'ObjectOwner',
  'LifecycleExpirationDate',
] as const;
export type OptionalField = (typeof OPTIONAL_FIELDS)[number];

export interface InventoryDestination {
  accountId?: string;
  /** The destination bucket's name (stored without the ARN prefix). */
  bucket: string;
  format: InventoryFormat;
  prefix?: string;
  encryption?: { kind: 'SSE-S3' } | { kind: 'SSE-KMS'; keyId: string };
}

export interface InventoryConfig {
  id: string;
  enabled: boolean;
  destination: InventoryDestination;
  frequency: InventoryFrequency;
  filterPrefix?: string;
  includedVersions: IncludedVersions;
  optionalFields: OptionalField[];
}

const BUCKET_ARN = 'arn:aws:s3:::';

function invalid(message: string, name: string, value?: string): S3Error {
  return new S3Error('InvalidArgument', message, {
    ArgumentName: name,
    ...(value === undefined ? {} : { ArgumentValue: value }),
  });
}

/** A single child element (absent: undefined; repeated or text: MalformedXML). */
function child(node: XmlNode, name: string): XmlNode | undefined {
  const value = node[name];
  return value === undefined ? undefined : elementOf(value);
}

function requiredChild(node: XmlNode, name: string): XmlNode {
  const found = child(node, name);
  if (found === undefined) throw new S3Error('MalformedXML');
  return found;
}

function requiredText(node: XmlNode, name: string): string {
  const value = optionalText(node, name);
  if (value === undefined) throw new S3Error('MalformedXML');
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new S3Error('MalformedXML');
  return value as T;
}

/** Parses and validates an InventoryConfiguration whose id the query string gave as `id`. */
export function parseInventoryConfiguration(xml: string, id: string): InventoryConfig {
  checkedConfigId(id);
  return parseInventoryDocument(parseXml(xml, 'InventoryConfiguration'), id);
}

/** Validates a parsed InventoryConfiguration document whose URL id is `id`. */
export function parseInventoryDocument(doc: XmlNode, id: string): InventoryConfig {
  checkElements(doc, [
    'Destination',
    'IsEnabled',
    'Filter',
    'Id',
    'IncludedObjectVersions',
    'OptionalFields',
    'Schedule',
  ]);
  const bodyId = requiredText(doc, 'Id');
  if (bodyId !== id) {
    throw invalid(
      'The configuration ID in the body does not match the one in the URI.',
      'Id',
      bodyId,
    );
  }
  const enabled = oneOf(requiredText(doc, 'IsEnabled'), ['true', 'false']) === 'true';
  const schedule = requiredChild(doc, 'Schedule');
  checkElements(schedule, ['Frequency']);
  const frequency = oneOf(requiredText(schedule, 'Frequency'), ['Daily', 'Weekly'] as const);
  const includedVersions = oneOf(requiredText(doc, 'IncludedObjectVersions'), [
    'All',
    'Current',
  ] as const);
  const config: InventoryConfig = {
    id,
    enabled,
    destination: parseDestination(requiredChild(doc, 'Destination')),
    frequency,
    includedVersions,
    optionalFields: parseOptionalFields(child(doc, 'OptionalFields')),
  };
  const filter = child(doc, 'Filter');
  if (filter !== undefined) {
    checkElements(filter, ['Prefix']);
    const prefix = requiredText(filter, 'Prefix');
    config.filterPrefix = prefix;
  }
  return config;
}

function parseDestination(node: XmlNode): InventoryDestination {
  checkElements(node, ['S3BucketDestination']);
  const s3 = requiredChild(node, 'S3BucketDestination');
  checkElements(s3, ['AccountId', 'Bucket', 'Encryption', 'Format', 'Prefix']);
  const arn = requiredText(s3, 'Bucket');
  const name = arn.startsWith(BUCKET_ARN) ? arn.slice(BUCKET_ARN.length) : '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
    throw invalid('Invalid bucket ARN.', 'Bucket', arn);
  }
  const destination: InventoryDestination = {
    bucket: name,
    format: oneOf(requiredText(s3, 'Format'), INVENTORY_FORMATS),
  };
  const accountId = optionalText(s3, 'AccountId');
  if (accountId !== undefined) destination.accountId = accountId;
  const prefix = optionalText(s3, 'Prefix');
  if (prefix !== undefined) destination.prefix = prefix;
  const encryption = child(s3, 'Encryption');
  if (encryption !== undefined) destination.encryption = parseEncryption(encryption);
  return destination;
}

function parseEncryption(node: XmlNode): NonNullable<InventoryDestination['encryption']> {
  checkElements(node, ['SSE-S3', 'SSE-KMS']);
  const kms = child(node, 'SSE-KMS');
  const s3 = node['SSE-S3'] === undefined ? undefined : elementOf(node['SSE-S3']);
  if ((kms === undefined) === (s3 === undefined)) throw new S3Error('MalformedXML');
  if (s3 !== undefined) {
    checkElements(s3, []);
    return { kind: 'SSE-S3' };
  }
  checkElements(kms as XmlNode, ['KeyId']);
  return { kind: 'SSE-KMS', keyId: requiredText(kms as XmlNode, 'KeyId') };
}

function parseOptionalFields(node: XmlNode | undefined): OptionalField[] {
  if (node === undefined) return [];
  checkElements(node, ['Field']);
  const fields = texts(node['Field']).map((f) => oneOf(f, OPTIONAL_FIELDS));
  if (new Set(fields).size !== fields.length) {
    throw invalid('Duplicate optional field.', 'Field');
  }
  return fields;
}

/** The configuration as AWS writes it (GetBucketInventoryConfiguration's root's content). */
export function inventoryConfigXml(config: InventoryConfig): XmlNode {
  const d = config.destination;
  const encryption =
    d.encryption === undefined
      ? undefined
      : d.encryption.kind === 'SSE-S3'
        ? { 'SSE-S3': '' }
        : { 'SSE-KMS': { KeyId: d.encryption.keyId } };
  return {
    Destination: {
      S3BucketDestination: {
        AccountId: d.accountId,
        Bucket: `${BUCKET_ARN}${d.bucket}`,
        Encryption: encryption,
        Format: d.format,
        Prefix: d.prefix,
      },
    },
    IsEnabled: config.enabled,
    Filter: config.filterPrefix === undefined ? undefined : { Prefix: config.filterPrefix },
    Id: config.id,
    IncludedObjectVersions: config.includedVersions,
    OptionalFields:
      config.optionalFields.length === 0 ? undefined : { Field: [...config.optionalFields] },
    Schedule: { Frequency: config.frequency },
  };
}
