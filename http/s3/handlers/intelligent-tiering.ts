import { LIMITS } from '../../../engine/limits.js';
import { idConfigHandlers } from '../id-config-handlers.js';
import { intelligentTieringXml, parseIntelligentTiering } from '../intelligent-tiering-config.js';

/**
 * Put/Get/Delete/ListBucketIntelligentTieringConfiguration(s): the archive access tiers of a
 * bucket's INTELLIGENT_TIERING objects (http/s3/intelligent-tiering-config.ts), up to 1,000.
 */
export const intelligentTieringHandlers = idConfigHandlers({
  kind: 'intelligent-tiering',
  element: 'IntelligentTieringConfiguration',
  listRoot: 'ListBucketIntelligentTieringConfigurationsOutput',
  max: LIMITS.intelligentTieringConfigurationsMax,
  parse: parseIntelligentTiering,
  toXml: intelligentTieringXml,
});
