import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import type { TieringRule } from '../../engine/protocol/messages.js';
import { ACCESS_TIERS, type AccessTier } from '../../engine/storage-classes.js';
import { configFilterXml, parseConfigFilter, type StoredConfigFilter } from './config-filter.js';
import { S3Error } from './errors.js';
import { checkConfigElements, documentIdOf, idConfigsOf } from './id-configs.js';
import { checkElements, elementOf, optionalText, type XmlNode } from './xml.js';

/**
 * An IntelligentTieringConfiguration: which INTELLIGENT_TIERING objects (Filter) move to the
 * opt-in archive access tiers after how many days without a read. The lifecycle worker applies
 * the enabled ones (engine/lifecycle-transitions.ts dueAccessTier).
 */
export interface StoredIntelligentTiering {
  id: string;
  filter?: StoredConfigFilter;
  status: 'Enabled' | 'Disabled';
  tierings: Array<{ accessTier: AccessTier; days: number }>;
}

/** AWS's bounds on a Tiering's Days, per access tier. */
const DAYS_RANGE: Record<AccessTier, { min: number; max: number }> = {
  ARCHIVE_ACCESS: { min: 90, max: 730 },
  DEEP_ARCHIVE_ACCESS: { min: 180, max: 730 },
};

/** Parses an IntelligentTieringConfiguration document put under `urlId`. */
export function parseIntelligentTiering(
  document: XmlNode,
  urlId: string,
): StoredIntelligentTiering {
  checkConfigElements(document, ['Filter', 'Status', 'Tiering']);
  const id = documentIdOf(document, urlId);
  const status = optionalText(document, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  const tiering = document.Tiering;
  if (tiering === undefined) throw new S3Error('MalformedXML');
  const tierings = (Array.isArray(tiering) ? tiering : [tiering]).map((value) =>
    parseTiering(elementOf(value)),
  );
  if (new Set(tierings.map((t) => t.accessTier)).size !== tierings.length) {
    throw new S3Error(
      'InvalidArgument',
      'An AccessTier can appear at most once per configuration.',
    );
  }
  const archive = tierings.find((t) => t.accessTier === 'ARCHIVE_ACCESS');
  const deep = tierings.find((t) => t.accessTier === 'DEEP_ARCHIVE_ACCESS');
  if (archive !== undefined && deep !== undefined && deep.days <= archive.days) {
    throw new S3Error(
      'InvalidArgument',
      'The Days for DEEP_ARCHIVE_ACCESS must be greater than the Days for ARCHIVE_ACCESS.',
    );
  }
  return {
    id,
    ...(document.Filter !== undefined
      ? { filter: parseConfigFilter(document.Filter, 'analytics') }
      : {}),
    status,
    tierings,
  };
}

function parseTiering(node: XmlNode): { accessTier: AccessTier; days: number } {
  checkElements(node, ['AccessTier', 'Days']);
  const tier = optionalText(node, 'AccessTier');
  const text = optionalText(node, 'Days');
  if (tier === undefined || text === undefined) throw new S3Error('MalformedXML');
  if (!(ACCESS_TIERS as readonly string[]).includes(tier)) throw new S3Error('MalformedXML');
  const accessTier = tier as AccessTier;
  if (!/^-?\d{1,10}$/.test(text.trim())) throw new S3Error('MalformedXML');
  const days = Number(text.trim());
  const range = DAYS_RANGE[accessTier];
  if (days < range.min || days > range.max) {
    throw new S3Error(
      'InvalidArgument',
      `The Days for ${accessTier} must be between ${range.min} and ${range.max}.`,
      { ArgumentName: 'Days', ArgumentValue: String(days) },
    );
  }
  return { accessTier, days };
}

/** The IntelligentTieringConfiguration element's content, as it was put. */
export function intelligentTieringXml(config: StoredIntelligentTiering): XmlNode {
  return {
    Id: config.id,
    ...(config.filter !== undefined ? { Filter: configFilterXml(config.filter) } : {}),
    Status: config.status,
    Tiering: config.tierings.map((t) => ({ AccessTier: t.accessTier, Days: t.days })),
  };
}

/** A bucket's enabled configurations, one TieringRule per Tiering, as the shards apply them. */
export function tieringRulesOf(catalog: Catalog, bucket: BucketRecord): TieringRule[] {
  const configs = idConfigsOf<StoredIntelligentTiering>(catalog, bucket, 'intelligent-tiering');
  return configs
    .filter((config) => config.status === 'Enabled')
    .flatMap((config) =>
      config.tierings.map((t) => ({
        prefix: config.filter?.prefix ?? '',
        tags: config.filter?.tags ?? [],
        accessTier: t.accessTier,
        days: t.days,
      })),
    );
}
