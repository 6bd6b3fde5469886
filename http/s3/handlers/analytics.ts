import { LIMITS } from '../../../engine/limits.js';
import { analyticsXml, parseAnalyticsConfiguration } from '../analytics-config.js';
import { idConfigHandlers } from '../id-config-handlers.js';

/**
 * Put/Get/Delete/ListBucketAnalyticsConfiguration(s): storage class analysis configurations,
 * stored and returned exactly (http/s3/analytics-config.ts), up to 1,000 per bucket.
 */
export const analyticsHandlers = idConfigHandlers({
  kind: 'analytics',
  element: 'AnalyticsConfiguration',
  listRoot: 'ListBucketAnalyticsConfigurationResult',
  max: LIMITS.analyticsConfigurationsMax,
  parse: parseAnalyticsConfiguration,
  toXml: analyticsXml,
});
