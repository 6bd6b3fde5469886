import { LIMITS } from '../../../engine/limits.js';
import { idConfigHandlers } from '../id-config-handlers.js';
import { metricsXml, parseMetricsConfiguration } from '../metrics-config.js';

/**
 * Put/Get/Delete/ListBucketMetricsConfiguration(s): request metrics configurations, stored and
 * returned exactly (http/s3/metrics-config.ts), up to 1,000 per bucket; requests matching one
 * are counted on /metrics (http/edge/bucket-metrics.ts).
 */
export const metricsHandlers = idConfigHandlers({
  kind: 'metrics',
  element: 'MetricsConfiguration',
  listRoot: 'ListMetricsConfigurationsResult',
  max: LIMITS.metricsConfigurationsMax,
  parse: parseMetricsConfiguration,
  toXml: metricsXml,
});
