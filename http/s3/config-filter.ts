import { LIMITS } from '../../engine/limits.js';
import type { Tag } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';
import { checkTags } from './handlers/tagging.js';
import { filterTagsOf, parseRuleFilter } from './rule-filter.js';
import { optionalText, type XmlNode, type XmlValue } from './xml.js';

/**
 * The `Filter` of an analytics or metrics configuration: a Prefix, a Tag, (metrics only) an
 * AccessPointArn, or an `And` of several. Stored as written (and: whether it was an And), so
 * that Get answers the document that was put.
 */
export interface StoredConfigFilter {
  and: boolean;
  prefix?: string;
  tags: Tag[];
  accessPointArn?: string;
}

const ANALYTICS_ELEMENTS: ReadonlySet<string> = new Set(['Prefix', 'Tag']);
const METRICS_ELEMENTS: ReadonlySet<string> = new Set(['Prefix', 'Tag', 'AccessPointArn']);

/** Parses a Filter; `kind` says whether AccessPointArn is allowed (metrics). */
export function parseConfigFilter(
  value: XmlValue,
  kind: 'analytics' | 'metrics',
): StoredConfigFilter {
  const elements = kind === 'metrics' ? METRICS_ELEMENTS : ANALYTICS_ELEMENTS;
  return parseRuleFilter(value, elements, conditionsOf);
}

function conditionsOf(node: XmlNode, and: boolean): Omit<StoredConfigFilter, 'and'> {
  const out: Omit<StoredConfigFilter, 'and'> = { tags: checkTags(filterTagsOf(node), 'bucket') };
  const prefix = optionalText(node, 'Prefix');
  if (prefix !== undefined) out.prefix = checkedPrefix(prefix);
  const arn = optionalText(node, 'AccessPointArn');
  if (arn !== undefined) out.accessPointArn = checkedAccessPointArn(arn);
  const count = (prefix === undefined ? 0 : 1) + out.tags.length + (arn === undefined ? 0 : 1);
  // A Filter names one condition; an And at least one (an empty one filters nothing).
  if (count < 1 && and) throw new S3Error('MalformedXML');
  return out;
}

/** A filter or destination Prefix, bounded like an object key. */
export function checkedPrefix(prefix: string): string {
  if (prefix.length > LIMITS.bucketConfigPrefixUnitsMax) {
    throw new S3Error('InvalidArgument', 'The prefix is too long.', { ArgumentName: 'Prefix' });
  }
  return prefix;
}

const ACCESS_POINT_ARN = /^arn:[a-z-]+:s3:[a-z0-9-]+:\d{12}:accesspoint\/[a-z0-9-]{3,50}$/;

function checkedAccessPointArn(arn: string): string {
  return checkedArn(arn, ACCESS_POINT_ARN, 'AccessPointArn', 'Invalid access point ARN');
}

/** An ARN of a configuration, bounded and of the form `pattern`, else InvalidArgument. */
export function checkedArn(arn: string, pattern: RegExp, element: string, message: string): string {
  if (arn.length > LIMITS.bucketConfigArnCharsMax || !pattern.test(arn)) {
    throw new S3Error('InvalidArgument', message, {
      ArgumentName: element,
      ArgumentValue: arn.slice(0, 256),
    });
  }
  return arn;
}

/** The Filter element as stored: one condition alone, or the And it was. */
export function configFilterXml(filter: StoredConfigFilter): XmlNode {
  const conditions: XmlNode = {};
  if (filter.prefix !== undefined) conditions.Prefix = filter.prefix;
  if (filter.tags.length > 0) {
    const tags = filter.tags.map((tag) => ({ Key: tag.key, Value: tag.value }));
    conditions.Tag = filter.and ? tags : tags[0];
  }
  if (filter.accessPointArn !== undefined) conditions.AccessPointArn = filter.accessPointArn;
  return filter.and ? { And: conditions } : conditions;
}

/**
 * Whether a request on `key` (null: bucket-level) matches `filter`: its key starts with the
 * prefix and its object carries every tag (`tagsOf` reads them, only when a tag is asked for).
 */
export function filterMatches(
  filter: StoredConfigFilter | undefined,
  key: string | null,
  tagsOf: () => ReadonlyMap<string, string> | undefined,
): boolean {
  if (filter === undefined) return true;
  // hangar has no access points: no request comes through one.
  if (filter.accessPointArn !== undefined) return false;
  if (filter.prefix !== undefined && (key === null || !key.startsWith(filter.prefix))) return false;
  if (filter.tags.length === 0) return true;
  if (key === null) return false;
  const tags = tagsOf();
  return filter.tags.every((tag) => tags?.get(tag.key) === tag.value);
}
