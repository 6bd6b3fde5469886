import { randomBytes } from 'node:crypto';
import type { Tag } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';
import { checkElements, elementOf, optionalText, type XmlNode, type XmlValue } from './xml.js';

/**
 * The `Filter` of a bucket configuration rule (lifecycle, replication): one condition, or `And`
 * of several. `elements` names the conditions the configuration allows; `conditionsOf` reads
 * them from the Filter (and: false) or its And (and: true).
 */
export function parseRuleFilter<C extends object>(
  value: XmlValue,
  elements: ReadonlySet<string>,
  conditionsOf: (node: XmlNode, and: boolean) => C,
): C & { and: boolean } {
  const node = elementOf(value);
  checkElements(node, new Set([...elements, 'And']));
  const conditions = Object.keys(node).filter((name) => name !== '#text');
  if (conditions.length > 1) throw new S3Error('MalformedXML');
  if (node['And'] !== undefined) {
    const and = elementOf(node['And']);
    checkElements(and, elements);
    return { and: true, ...conditionsOf(and, true) };
  }
  // The parser makes every Tag a list: outside And, a filter names one.
  const tags = node['Tag'];
  if (Array.isArray(tags) && tags.length > 1) throw new S3Error('MalformedXML');
  return { and: false, ...conditionsOf(node, false) };
}

/** A filter's Tag elements (Key, optional Value), in document order; a key named twice refused. */
export function filterTagsOf(node: XmlNode): Tag[] {
  const tagNodes = node['Tag'];
  const list = Array.isArray(tagNodes) ? tagNodes : tagNodes === undefined ? [] : [tagNodes];
  const tags = list.map((tag): Tag => {
    const tagNode = elementOf(tag);
    checkElements(tagNode, new Set(['Key', 'Value']));
    const key = optionalText(tagNode, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    return { key, value: optionalText(tagNode, 'Value') ?? '' };
  });
  if (new Set(tags.map((tag) => tag.key)).size !== tags.length) {
    throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
  }
  return tags;
}

/** AWS gives a rule without an ID a random one. */
export function randomRuleId(): string {
  return randomBytes(24).toString('base64').replace(/[+/=]/g, '');
}
