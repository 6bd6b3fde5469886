import { LIMITS } from '../../engine/limits.js';
import type { RestoreTier } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';
import { checkElements, elementOf, parseXml, textOf, type XmlNode, type XmlValue } from './xml.js';

/** What a RestoreRequest asks: a restore of the archived object for `days`, at `tier`'s speed. */
export interface RestoreAsk {
  days: number;
  tier: RestoreTier;
}

const TIERS: ReadonlySet<string> = new Set<RestoreTier>(['Expedited', 'Standard', 'Bulk']);

/** The RestoreRequest elements AWS's schema has (SELECT's among them, answered 501). */
const ELEMENTS = [
  'Days',
  'GlacierJobParameters',
  'Type',
  'Tier',
  'Description',
  'SelectParameters',
  'OutputLocation',
];

/**
 * RestoreObject's body: `<RestoreRequest><Days>n</Days><GlacierJobParameters><Tier>…</Tier>
 * </GlacierJobParameters></RestoreRequest>` (Tier defaults to Standard, as AWS). Days is
 * required: hangar has no S3 Glacier vault API whose restores go without it. A restore of
 * Type SELECT (query in place, AWS deprecated it) answers 501 NotImplemented. Anything else
 * malformed is MalformedXML.
 */
export function restoreRequestFrom(text: string): RestoreAsk {
  const document = parseXml(text, 'RestoreRequest');
  checkElements(document, ELEMENTS);
  const type = single(document, 'Type');
  if (type === 'SELECT') {
    throw new S3Error(
      'NotImplemented',
      'RestoreObject of Type SELECT is not implemented by hangar.',
    );
  }
  if (type !== undefined || document['SelectParameters'] !== undefined) {
    throw new S3Error('MalformedXML');
  }
  if (document['OutputLocation'] !== undefined) throw new S3Error('MalformedXML');
  return { days: daysOf(single(document, 'Days')), tier: tierOf(document) };
}

function daysOf(text: string | undefined): number {
  if (text === undefined || !/^\s*\d{1,9}\s*$/.test(text)) throw new S3Error('MalformedXML');
  const days = Number(text);
  if (days < 1 || days > LIMITS.restoreDaysMax) throw new S3Error('MalformedXML');
  return days;
}

/** GlacierJobParameters/Tier (or the top-level Tier): Expedited, Standard or Bulk. */
function tierOf(document: XmlNode): RestoreTier {
  const job = document['GlacierJobParameters'];
  const jobTier = job === undefined ? undefined : jobTierOf(job);
  const top = single(document, 'Tier');
  if (jobTier !== undefined && top !== undefined && jobTier !== top) {
    throw new S3Error('MalformedXML');
  }
  const tier = jobTier ?? top ?? 'Standard';
  if (!TIERS.has(tier)) throw new S3Error('MalformedXML');
  return tier as RestoreTier;
}

function jobTierOf(value: XmlValue): string | undefined {
  if (Array.isArray(value)) throw new S3Error('MalformedXML');
  const job = elementOf(value);
  checkElements(job, ['Tier']);
  const tier = single(job, 'Tier');
  // The schema requires Tier inside GlacierJobParameters.
  if (tier === undefined) throw new S3Error('MalformedXML');
  return tier;
}

/** An element's text, at most once (absent: undefined). */
function single(node: XmlNode, name: string): string | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new S3Error('MalformedXML');
  const text = textOf(value);
  if (text === undefined) throw new S3Error('MalformedXML');
  return text.trim();
}
