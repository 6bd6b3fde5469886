/**
 * Bucket replication configuration (PutBucketReplication): AWS's ReplicationConfiguration
 * document, its validation with AWS's errors, the stored shape (catalog, kind 'replication'),
 * GetBucketReplication's document, and the plain rules the shards match (ReplicationRule).
 * Destinations are `arn:aws:s3:::<bucket>` of buckets an operator-registered remote serves
 * (engine/catalog/remotes.ts); the Role is kept and returned but means nothing to hangar.
 */

import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import type { ReplicationRule, Tag } from '../../engine/protocol/messages.js';
import { isStorageClass } from '../../engine/storage-classes.js';
import { S3Error } from './errors.js';
import { checkTags } from './handlers/tagging.js';
import {
  checkRuleOptions,
  destinationOptionsXml,
  parseDestinationOptions,
  parseSourceSelection,
  type StoredDestinationOptions,
  type StoredSourceSelection,
  sourceSelectionXml,
} from './replication-options.js';
import { filterTagsOf, parseRuleFilter, randomRuleId } from './rule-filter.js';
import {
  checkElements,
  elementOf,
  optionalText,
  parseXml,
  type XmlNode,
  type XmlValue,
} from './xml.js';

/** The conditions a replication rule's Filter may name. */
const FILTER_ELEMENTS = new Set(['Prefix', 'Tag']);

export interface StoredReplicationFilter {
  and: boolean;
  prefix?: string;
  tags: Tag[];
}

/** One Rule as stored (and given back by GetBucketReplication). */
export interface StoredReplicationRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  /** V2 rules (with a Filter) only. */
  priority?: number;
  /** The V1 schema's top-level Prefix, when the rule uses it instead of a Filter. */
  prefix?: string;
  filter?: StoredReplicationFilter;
  deleteMarkerReplication?: 'Enabled' | 'Disabled';
  existingObjectReplication?: 'Enabled' | 'Disabled';
  sourceSelection?: StoredSourceSelection;
  destination: StoredDestination;
}

export interface StoredDestination extends StoredDestinationOptions {
  bucket: string;
  storageClass?: string;
  account?: string;
}

export interface StoredReplication {
  role: string;
  rules: StoredReplicationRule[];
}

const RULE_ELEMENTS = new Set([
  'ID',
  'Priority',
  'Status',
  'Filter',
  'Prefix',
  'DeleteMarkerReplication',
  'Destination',
  'ExistingObjectReplication',
  'SourceSelectionCriteria',
  'DeleteReplication',
]);
const DESTINATION_ELEMENTS = new Set([
  'Bucket',
  'StorageClass',
  'Account',
  'AccessControlTranslation',
  'EncryptionConfiguration',
  'Metrics',
  'ReplicationTime',
]);
const ID_CHARS_MAX = 255;
const PRIORITY_MAX = 2 ** 31 - 1;
const BUCKET_ARN_PREFIX = 'arn:aws:s3:::';

/** Parses and validates a ReplicationConfiguration document (destinations are checked apart). */
export function parseReplicationConfiguration(xml: string): StoredReplication {
  const doc = parseXml(xml, 'ReplicationConfiguration');
  checkElements(doc, new Set(['Role', 'Rule']));
  const role = optionalText(doc, 'Role') ?? '';
  const ruleNodes = doc['Rule'];
  const list = Array.isArray(ruleNodes) ? ruleNodes : ruleNodes === undefined ? [] : [ruleNodes];
  if (list.length === 0 || list.length > LIMITS.replicationRulesMax) {
    throw new S3Error('MalformedXML');
  }
  const rules = list.map(parseRule);
  checkSchemaConsistency(rules);
  checkUnique(rules);
  return { role, rules };
}

/** The destination bucket's name in `arn:aws:s3:::<name>`, or InvalidArgument. */
export function destinationBucketOf(arn: string): string {
  const name = arn.startsWith(BUCKET_ARN_PREFIX) ? arn.slice(BUCKET_ARN_PREFIX.length) : '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
    throw new S3Error('InvalidArgument', 'Invalid bucket ARN.', { ArgumentName: 'Bucket' });
  }
  return name;
}

function parseRule(value: XmlValue): StoredReplicationRule {
  const node = elementOf(value);
  checkElements(node, RULE_ELEMENTS);
  // DeleteReplication is S3 on Outposts' (permanent deletes): hangar has no counterpart.
  if (node['DeleteReplication'] !== undefined) {
    throw new S3Error('NotImplemented', 'DeleteReplication is not implemented by hangar.');
  }
  const id = optionalText(node, 'ID') ?? randomRuleId();
  if (id.length > ID_CHARS_MAX) {
    throw new S3Error('InvalidArgument', `ID length should not exceed allowed limit of 255`);
  }
  const status = optionalText(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  const destination = parseDestination(node['Destination']);
  const rule: StoredReplicationRule = { id, status, destination };
  const prefix = optionalText(node, 'Prefix');
  const filterNode = node['Filter'];
  if (prefix !== undefined && filterNode !== undefined) throw new S3Error('MalformedXML');
  if (prefix !== undefined) rule.prefix = prefix;
  if (filterNode !== undefined) rule.filter = parseFilter(filterNode);
  const priority = optionalText(node, 'Priority');
  if (priority !== undefined) {
    if (!/^\d{1,10}$/.test(priority.trim()) || Number(priority) > PRIORITY_MAX) {
      throw new S3Error('InvalidArgument', 'Priority must be a non-negative integer.', {
        ArgumentName: 'Priority',
      });
    }
    rule.priority = Number(priority);
  }
  const deleteMarkers = statusOf(node['DeleteMarkerReplication']);
  if (deleteMarkers !== undefined) rule.deleteMarkerReplication = deleteMarkers;
  const existing = statusOf(node['ExistingObjectReplication']);
  if (existing !== undefined) rule.existingObjectReplication = existing;
  const selection = parseSourceSelection(node['SourceSelectionCriteria']);
  if (selection !== undefined) rule.sourceSelection = selection;
  if (deleteMarkers === 'Enabled' && (rule.filter?.tags.length ?? 0) > 0) {
    throw new S3Error(
      'InvalidRequest',
      'Delete marker replication is not supported if any Tag filter is specified.',
    );
  }
  return rule;
}

function parseDestination(value: XmlValue): StoredDestination {
  if (value === undefined) throw new S3Error('MalformedXML');
  const node = elementOf(value);
  checkElements(node, DESTINATION_ELEMENTS);
  const bucket = optionalText(node, 'Bucket')?.trim();
  if (bucket === undefined || bucket === '') throw new S3Error('MalformedXML');
  destinationBucketOf(bucket);
  const destination: StoredDestination = { bucket, ...parseDestinationOptions(node) };
  const storageClass = optionalText(node, 'StorageClass')?.trim();
  if (storageClass !== undefined) {
    if (!isStorageClass(storageClass)) throw new S3Error('MalformedXML');
    destination.storageClass = storageClass;
  }
  const account = optionalText(node, 'Account')?.trim();
  if (account !== undefined) destination.account = account;
  return destination;
}

/** `<X><Status>Enabled|Disabled</Status></X>`, or undefined when absent. */
function statusOf(value: XmlValue): 'Enabled' | 'Disabled' | undefined {
  if (value === undefined) return undefined;
  const node = elementOf(value);
  checkElements(node, new Set(['Status']));
  const status = optionalText(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  return status;
}

function parseFilter(value: XmlValue): StoredReplicationFilter {
  return parseRuleFilter(value, FILTER_ELEMENTS, parseConditions);
}

function parseConditions(node: XmlNode, and: boolean): Omit<StoredReplicationFilter, 'and'> {
  const out: Omit<StoredReplicationFilter, 'and'> = { tags: [] };
  const prefix = optionalText(node, 'Prefix');
  if (prefix !== undefined) out.prefix = prefix;
  const tags = filterTagsOf(node);
  checkTags(tags, 'bucket');
  // Kept in the document's order: GetBucketReplication gives back what was put.
  out.tags = tags;
  if (and && (prefix === undefined ? 0 : 1) + tags.length < 1) throw new S3Error('MalformedXML');
  return out;
}

/**
 * AWS's two schemas do not mix: V1 rules (top-level Prefix) have no Priority, Filter or
 * DeleteMarkerReplication; V2 rules (Filter) need DeleteMarkerReplication.
 */
function checkSchemaConsistency(rules: readonly StoredReplicationRule[]): void {
  const v2 = rules.some(
    (rule) =>
      rule.filter !== undefined ||
      rule.priority !== undefined ||
      rule.deleteMarkerReplication !== undefined,
  );
  for (const rule of rules) {
    if (v2 && rule.prefix !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'Prefix cannot be used with Filter, Priority or DeleteMarkerReplication; use Filter.',
      );
    }
    if (v2 && rule.filter === undefined) {
      throw new S3Error('InvalidRequest', 'Filter must be specified for rules using Priority.');
    }
    if (v2 && rule.deleteMarkerReplication === undefined) {
      throw new S3Error(
        'InvalidRequest',
        'DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema.',
      );
    }
    if (!v2 && rule.prefix === undefined) rule.prefix = '';
    checkRuleOptions({
      v2,
      ...(rule.destination.account !== undefined ? { account: rule.destination.account } : {}),
      ...(rule.sourceSelection !== undefined ? { selection: rule.sourceSelection } : {}),
      options: rule.destination,
    });
  }
}

function checkUnique(rules: readonly StoredReplicationRule[]): void {
  const ids = new Set<string>();
  const priorities = new Set<number>();
  for (const rule of rules) {
    if (ids.has(rule.id)) {
      throw new S3Error('InvalidArgument', 'Rule Id must be unique.', { ArgumentName: 'ID' });
    }
    ids.add(rule.id);
    if (rule.priority === undefined) continue;
    if (priorities.has(rule.priority)) {
      throw new S3Error(
        'InvalidArgument',
        'Priority must be unique. Replication configuration already has a rule with this priority.',
        { ArgumentName: 'Priority' },
      );
    }
    priorities.add(rule.priority);
  }
}

/** GetBucketReplication's document body. */
export function replicationXml(stored: StoredReplication): XmlNode {
  return {
    ...(stored.role !== '' ? { Role: stored.role } : {}),
    Rule: stored.rules.map(ruleXml),
  };
}

function ruleXml(rule: StoredReplicationRule): XmlNode {
  const node: XmlNode = { ID: rule.id };
  if (rule.priority !== undefined) node['Priority'] = String(rule.priority);
  if (rule.prefix !== undefined) node['Prefix'] = rule.prefix;
  if (rule.filter !== undefined) node['Filter'] = filterXml(rule.filter);
  node['Status'] = rule.status;
  Object.assign(node, sourceSelectionXml(rule.sourceSelection));
  if (rule.existingObjectReplication !== undefined) {
    node['ExistingObjectReplication'] = { Status: rule.existingObjectReplication };
  }
  const destination: XmlNode = { Bucket: rule.destination.bucket };
  if (rule.destination.account !== undefined) destination['Account'] = rule.destination.account;
  if (rule.destination.storageClass !== undefined) {
    destination['StorageClass'] = rule.destination.storageClass;
  }
  node['Destination'] = { ...destination, ...destinationOptionsXml(rule.destination) };
  if (rule.deleteMarkerReplication !== undefined) {
    node['DeleteMarkerReplication'] = { Status: rule.deleteMarkerReplication };
  }
  return node;
}

function filterXml(filter: StoredReplicationFilter): XmlNode {
  const conditions: XmlNode = {};
  if (filter.prefix !== undefined) conditions['Prefix'] = filter.prefix;
  if (filter.tags.length > 0) {
    conditions['Tag'] = filter.tags.map((tag) => ({ Key: tag.key, Value: tag.value }));
  }
  return filter.and ? { And: conditions } : conditions;
}

/**
 * The bucket's enabled rules as its writes carry them to the shards, or undefined when it has
 * no replication configuration (one cached lookup: buckets without one send nothing more).
 */
export function replicationRulesOf(
  catalog: Catalog,
  bucket: BucketRecord,
): ReplicationRule[] | undefined {
  const stored = catalog.getBucketConfig<StoredReplication>(bucket, 'replication');
  if (stored === undefined) return undefined;
  // The catalog caches the decoded configuration until it changes: so does this.
  let rules = engineRulesOf.get(stored);
  if (rules === undefined) {
    rules = engineReplicationRules(stored);
    engineRulesOf.set(stored, rules);
  }
  return rules.length === 0 ? undefined : rules;
}

const engineRulesOf = new WeakMap<StoredReplication, ReplicationRule[]>();

/** The enabled rules as the shards match them. */
export function engineReplicationRules(stored: StoredReplication): ReplicationRule[] {
  return stored.rules
    .filter((rule) => rule.status === 'Enabled')
    .map((rule) => ({
      id: rule.id,
      priority: rule.priority ?? 0,
      prefix: rule.prefix ?? rule.filter?.prefix ?? '',
      tags: rule.filter?.tags ?? [],
      // V1 rules (no Filter) replicate delete markers, as AWS's V1 schema does.
      deleteMarkers: rule.deleteMarkerReplication === 'Enabled' || rule.filter === undefined,
      destination: destinationBucketOf(rule.destination.bucket),
      // AWS leaves SSE-KMS objects out unless the rule selects them.
      sseKms: rule.sourceSelection?.sseKmsEncryptedObjects === 'Enabled',
      replicaModifications: rule.sourceSelection?.replicaModifications === 'Enabled',
      ...(rule.destination.storageClass !== undefined
        ? { storageClass: rule.destination.storageClass }
        : {}),
    }));
}

// ---------------------------------------------------------------------------------------------
