import { configFilterXml, parseConfigFilter, type StoredConfigFilter } from './config-filter.js';
import { checkConfigElements, documentIdOf } from './id-configs.js';
import type { XmlNode } from './xml.js';

/**
 * A MetricsConfiguration as stored: an id and an optional filter. Its effect: requests on the
 * bucket that match the filter are counted on hangar's /metrics under the configuration's id
 * (http/edge/bucket-metrics.ts), as CloudWatch request metrics are on AWS.
 */
export interface StoredMetrics {
  id: string;
  filter?: StoredConfigFilter;
}

export function parseMetricsConfiguration(document: XmlNode, urlId: string): StoredMetrics {
  checkConfigElements(document, ['Filter']);
  const id = documentIdOf(document, urlId);
  return {
    id,
    ...(document.Filter !== undefined
      ? { filter: parseConfigFilter(document.Filter, 'metrics') }
      : {}),
  };
}

export function metricsXml(config: StoredMetrics): XmlNode {
  return {
    Id: config.id,
    ...(config.filter !== undefined ? { Filter: configFilterXml(config.filter) } : {}),
  };
}
