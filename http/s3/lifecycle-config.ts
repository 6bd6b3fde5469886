/**
 * Bucket lifecycle configuration (PutBucketLifecycleConfiguration): the stored rules (catalog,
 * kind 'lifecycle'), their validation with AWS's errors, the GetBucketLifecycleConfiguration
 * document, and the plain rules the shards apply. hangar implements the actions that make sense
 * without storage classes: Expiration (Days, Date, ExpiredObjectDeleteMarker),
 * NoncurrentVersionExpiration and AbortIncompleteMultipartUpload, and (lifecycle-transitions.ts)
 * Transition and NoncurrentVersionTransition.
 */

import { DAY_MS } from '../../engine/lifecycle.js';
import { LIMITS } from '../../engine/limits.js';
import type { LifecycleRule, Tag } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';
import { checkTags } from './handlers/tagging.js';
import {
  DEFAULT_MINIMUM_SIZE,
  engineTransitions,
  type LifecycleOptions,
  noncurrentTransitionsXml,
  parseNoncurrentTransitions,
  parseTransitions,
  type StoredNoncurrentTransition,
  type StoredTransition,
  type TransitionContext,
  transitionsXml,
} from './lifecycle-transitions.js';
import { filterTagsOf, parseRuleFilter, randomRuleId } from './rule-filter.js';
import {
  checkElements,
  elementOf,
  optionalText,
  parseXml,
  type XmlNode,
  type XmlValue,
} from './xml.js';

/** A rule's filter as written: a single condition, or `And` of several. */
export interface StoredLifecycleFilter {
  and: boolean;
  prefix?: string;
  tags: Tag[];
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

/** One Rule as stored in the catalog (kind 'lifecycle'). */
export interface StoredLifecycleRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  /** The deprecated top-level Prefix, when the rule uses it instead of a Filter. */
  prefix?: string;
  filter?: StoredLifecycleFilter;
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  abortUploadDays?: number;
  noncurrentExpiration?: { days: number; newerVersions?: number };
  transitions?: StoredTransition[];
  noncurrentTransitions?: StoredNoncurrentTransition[];
}

const SIZE_MAX = 2 ** 53 - 1;

const RULE_ELEMENTS = new Set([
  'ID',
  'Status',
  'Filter',
  'Prefix',
  'Expiration',
  'AbortIncompleteMultipartUpload',
  'Transition',
  'NoncurrentVersionTransition',
  'NoncurrentVersionExpiration',
]);
const FILTER_ELEMENTS = new Set(['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
/** AWS's bound on NewerNoncurrentVersions. */
const NEWER_NONCURRENT_VERSIONS_MAX = 100;

/** Parses and validates a LifecycleConfiguration document. */
export function parseLifecycleConfiguration(xml: string): StoredLifecycleRule[] {
  const doc = parseXml(xml, 'LifecycleConfiguration');
  checkElements(doc, new Set(['Rule']));
  const rules = doc['Rule'];
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > LIMITS.lifecycleRulesMax) {
    throw new S3Error('MalformedXML');
  }
  const parsed = rules.map(parseRule);
  const ids = new Set<string>();
  for (const rule of parsed) {
    if (ids.has(rule.id)) {
      throw new S3Error(
        'InvalidArgument',
        'Rule ID must be unique. Found same ID for more than one rule',
      );
    }
    ids.add(rule.id);
  }
  return parsed;
}

function parseRule(value: XmlValue): StoredLifecycleRule {
  const node = elementOf(value);
  checkElements(node, RULE_ELEMENTS);
  const id = optionalText(node, 'ID') ?? randomRuleId();
  if (id.length > LIMITS.lifecycleRuleIdUnitsMax) {
    throw new S3Error(
      'InvalidArgument',
      `ID length should not exceed allowed limit of ${LIMITS.lifecycleRuleIdUnitsMax}`,
    );
  }
  const status = optionalText(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  const rule: StoredLifecycleRule = { id, status };
  const prefix = optionalText(node, 'Prefix');
  const filterNode = node['Filter'];
  if ((prefix === undefined) === (filterNode === undefined)) throw new S3Error('MalformedXML');
  if (prefix !== undefined) rule.prefix = prefix;
  else rule.filter = parseFilter(filterNode);
  if (node['Expiration'] !== undefined) rule.expiration = parseExpiration(node['Expiration']);
  if (node['AbortIncompleteMultipartUpload'] !== undefined) {
    rule.abortUploadDays = parseAbort(node['AbortIncompleteMultipartUpload']);
  }
  if (node['NoncurrentVersionExpiration'] !== undefined) {
    rule.noncurrentExpiration = parseNoncurrent(node['NoncurrentVersionExpiration']);
  }
  parseRuleTransitions(node, rule);
  if (
    rule.expiration === undefined &&
    rule.abortUploadDays === undefined &&
    rule.noncurrentExpiration === undefined &&
    rule.transitions === undefined &&
    rule.noncurrentTransitions === undefined
  ) {
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  }
  const filter = rule.filter;
  if (rule.abortUploadDays !== undefined && filter !== undefined) {
    if (filter.tags.length > 0) {
      throw new S3Error(
        'InvalidRequest',
        'AbortIncompleteMultipartUpload cannot be specified with Tags.',
      );
    }
    if (filter.sizeGreaterThan !== undefined || filter.sizeLessThan !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'AbortIncompleteMultipartUpload cannot be specified with an object size filter.',
      );
    }
  }
  if (rule.expiration?.expiredObjectDeleteMarker !== undefined && (filter?.tags.length ?? 0) > 0) {
    throw new S3Error('InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with Tags.');
  }
  return rule;
}

/** A rule's Transition and NoncurrentVersionTransition elements, checked against its other actions. */
function parseRuleTransitions(node: XmlNode, rule: StoredLifecycleRule): void {
  const context: TransitionContext = {
    label: `(prefix=${rule.prefix ?? rule.filter?.prefix ?? ''})`,
    ...(rule.expiration?.days !== undefined ? { expirationDays: rule.expiration.days } : {}),
    ...(rule.expiration?.date !== undefined ? { expirationDate: rule.expiration.date } : {}),
    ...(rule.noncurrentExpiration !== undefined
      ? { noncurrentExpirationDays: rule.noncurrentExpiration.days }
      : {}),
  };
  if (node['Transition'] !== undefined) {
    rule.transitions = parseTransitions(node['Transition'], context, parseDate);
  }
  if (node['NoncurrentVersionTransition'] !== undefined) {
    rule.noncurrentTransitions = parseNoncurrentTransitions(
      node['NoncurrentVersionTransition'],
      context,
      NEWER_NONCURRENT_VERSIONS_MAX,
    );
  }
}

function parseFilter(value: XmlValue): StoredLifecycleFilter {
  return parseRuleFilter(value, FILTER_ELEMENTS, parseConditions);
}

function parseConditions(node: XmlNode, and: boolean): Omit<StoredLifecycleFilter, 'and'> {
  const out: Omit<StoredLifecycleFilter, 'and'> = { tags: [] };
  const prefix = optionalText(node, 'Prefix');
  if (prefix !== undefined) out.prefix = prefix;
  const tags = filterTagsOf(node);
  out.tags = checkTags(tags, 'bucket');
  const greater = optionalSize(node, 'ObjectSizeGreaterThan');
  const less = optionalSize(node, 'ObjectSizeLessThan');
  if (greater !== undefined) out.sizeGreaterThan = greater;
  if (less !== undefined) out.sizeLessThan = less;
  if (greater !== undefined && less !== undefined && greater >= less) {
    throw new S3Error(
      'InvalidRequest',
      'ObjectSizeGreaterThan must be less than ObjectSizeLessThan',
    );
  }
  if (and) {
    const count =
      (prefix === undefined ? 0 : 1) +
      tags.length +
      (greater === undefined ? 0 : 1) +
      (less === undefined ? 0 : 1);
    if (count < 1) throw new S3Error('MalformedXML');
  }
  return out;
}

function parseExpiration(value: XmlValue): NonNullable<StoredLifecycleRule['expiration']> {
  const node = elementOf(value);
  checkElements(node, new Set(['Days', 'Date', 'ExpiredObjectDeleteMarker']));
  const days = optionalText(node, 'Days');
  const date = optionalText(node, 'Date');
  const marker = optionalText(node, 'ExpiredObjectDeleteMarker');
  const given = [days, date, marker].filter((v) => v !== undefined).length;
  if (given !== 1) throw new S3Error('MalformedXML');
  if (days !== undefined) {
    return { days: positiveDays(days, "'Days' for Expiration action must be a positive integer") };
  }
  if (date !== undefined) return { date: parseDate(date) };
  if (marker !== 'true' && marker !== 'false') throw new S3Error('MalformedXML');
  return { expiredObjectDeleteMarker: marker === 'true' };
}

function parseNoncurrent(
  value: XmlValue,
): NonNullable<StoredLifecycleRule['noncurrentExpiration']> {
  const node = elementOf(value);
  checkElements(node, new Set(['NoncurrentDays', 'NewerNoncurrentVersions']));
  const days = optionalText(node, 'NoncurrentDays');
  if (days === undefined) throw new S3Error('MalformedXML');
  const out: NonNullable<StoredLifecycleRule['noncurrentExpiration']> = {
    days: positiveDays(
      days,
      "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    ),
  };
  const newer = optionalText(node, 'NewerNoncurrentVersions');
  if (newer !== undefined) {
    const count = positiveDays(newer, 'NewerNoncurrentVersions must be a positive integer');
    if (count > NEWER_NONCURRENT_VERSIONS_MAX) {
      throw new S3Error(
        'InvalidArgument',
        `NewerNoncurrentVersions cannot be greater than ${NEWER_NONCURRENT_VERSIONS_MAX}`,
      );
    }
    out.newerVersions = count;
  }
  return out;
}

function parseAbort(value: XmlValue): number {
  const node = elementOf(value);
  checkElements(node, new Set(['DaysAfterInitiation']));
  const days = optionalText(node, 'DaysAfterInitiation');
  if (days === undefined) throw new S3Error('MalformedXML');
  return positiveDays(
    days,
    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
  );
}

function positiveDays(text: string, message: string): number {
  const trimmed = text.trim();
  if (!/^-?\d{1,10}$/.test(trimmed)) throw new S3Error('MalformedXML');
  const days = Number(trimmed);
  if (days <= 0 || days > 2147483647) throw new S3Error('InvalidArgument', message);
  return days;
}

/** An ISO 8601 date; AWS requires midnight UTC. Stored as the canonical ISO string. */
function parseDate(text: string): string {
  const trimmed = text.trim();
  const iso =
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed) &&
    Date.parse(trimmed);
  if (iso === false || Number.isNaN(iso)) {
    throw new S3Error('InvalidArgument', 'Date must be in ISO 8601 format');
  }
  if (iso % DAY_MS !== 0) throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT");
  return new Date(iso).toISOString();
}

// ---------------------------------------------------------------------------------------------

/** The `<Rule>` elements of a GetBucketLifecycleConfiguration answer. */
export function lifecycleRulesXml(rules: readonly StoredLifecycleRule[]): XmlNode[] {
  return rules.map((rule) => {
    const node: XmlNode = {};
    if (rule.expiration !== undefined) {
      node['Expiration'] = {
        Date: rule.expiration.date,
        Days: rule.expiration.days,
        ExpiredObjectDeleteMarker: rule.expiration.expiredObjectDeleteMarker,
      };
    }
    node['ID'] = rule.id;
    if (rule.prefix !== undefined) node['Prefix'] = rule.prefix;
    if (rule.filter !== undefined) node['Filter'] = filterXml(rule.filter);
    node['Status'] = rule.status;
    if (rule.transitions !== undefined) node['Transition'] = transitionsXml(rule.transitions);
    if (rule.noncurrentTransitions !== undefined) {
      node['NoncurrentVersionTransition'] = noncurrentTransitionsXml(rule.noncurrentTransitions);
    }
    if (rule.abortUploadDays !== undefined) {
      node['AbortIncompleteMultipartUpload'] = { DaysAfterInitiation: rule.abortUploadDays };
    }
    if (rule.noncurrentExpiration !== undefined) {
      node['NoncurrentVersionExpiration'] = {
        NoncurrentDays: rule.noncurrentExpiration.days,
        NewerNoncurrentVersions: rule.noncurrentExpiration.newerVersions,
      };
    }
    return node;
  });
}

function filterXml(filter: StoredLifecycleFilter): XmlNode {
  const conditions: XmlNode = {
    Prefix: filter.prefix,
    Tag: filter.tags.map((tag) => ({ Key: tag.key, Value: tag.value })),
    ObjectSizeGreaterThan: filter.sizeGreaterThan,
    ObjectSizeLessThan: filter.sizeLessThan,
  };
  return filter.and ? { And: conditions } : conditions;
}

/** The enabled rules, as the shards apply them. */
export function engineLifecycleRules(
  rules: readonly StoredLifecycleRule[],
  options: LifecycleOptions = { minimumSize: DEFAULT_MINIMUM_SIZE },
): LifecycleRule[] {
  return rules
    .filter(
      (rule) =>
        rule.status === 'Enabled' &&
        (rule.expiration?.days !== undefined ||
          rule.expiration?.date !== undefined ||
          rule.expiration?.expiredObjectDeleteMarker === true ||
          rule.noncurrentExpiration !== undefined ||
          rule.abortUploadDays !== undefined ||
          rule.transitions !== undefined ||
          rule.noncurrentTransitions !== undefined),
    )
    .map((rule) => ({
      id: rule.id,
      prefix: rule.prefix ?? rule.filter?.prefix ?? '',
      tags: rule.filter?.tags ?? [],
      sizeGreaterThan: rule.filter?.sizeGreaterThan ?? null,
      sizeLessThan: rule.filter?.sizeLessThan ?? null,
      expirationDays: rule.expiration?.days ?? null,
      expirationDateMs:
        rule.expiration?.date === undefined ? null : Date.parse(rule.expiration.date),
      abortUploadDays: rule.abortUploadDays ?? null,
      ...(rule.noncurrentExpiration !== undefined
        ? { noncurrentDays: rule.noncurrentExpiration.days }
        : {}),
      ...(rule.noncurrentExpiration?.newerVersions !== undefined
        ? { newerNoncurrentVersions: rule.noncurrentExpiration.newerVersions }
        : {}),
      ...(rule.expiration?.expiredObjectDeleteMarker === true
        ? { expiredObjectDeleteMarker: true }
        : {}),
      ...engineTransitions(
        rule,
        rule.filter?.sizeGreaterThan !== undefined || rule.filter?.sizeLessThan !== undefined,
        options,
      ),
    }));
}

export { lifecycleOptionsOf } from './lifecycle-transitions.js';

// ---------------------------------------------------------------------------------------------

function optionalSize(node: XmlNode, name: string): number | undefined {
  const text = optionalText(node, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text.trim()) || Number(text) > SIZE_MAX) {
    throw new S3Error('MalformedXML');
  }
  return Number(text);
}
