import type { BucketRecord } from '../../../engine/catalog/catalog.js';
import { LIMITS } from '../../../engine/limits.js';
import {
  type InventoryConfig,
  inventoryConfigXml,
  parseInventoryDocument,
} from '../../inventory/config.js';
import { forgetInventoryRuns } from '../../inventory/runs.js';
import type { RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { idConfigHandlers } from '../id-config-handlers.js';
import type { XmlNode } from '../xml.js';

/**
 * hangar writes CSV and Parquet reports: ORC is refused (501) rather than stored and never
 * delivered (no maintained pure-JS ORC writer exists to write it with).
 */
function parseWritableInventory(document: XmlNode, urlId: string): InventoryConfig {
  const config = parseInventoryDocument(document, urlId);
  if (config.destination.format === 'ORC') {
    throw new S3Error(
      'NotImplemented',
      'hangar writes CSV and Parquet inventory reports, not ORC.',
    );
  }
  return config;
}

/**
 * Put/Get/Delete/ListBucketInventoryConfiguration(s): up to inventoryConfigsMax per bucket,
 * stored, paged and refused as analytics and metrics configurations are (id-configs.ts).
 */
export const inventoryHandlers = idConfigHandlers({
  kind: 'inventory',
  element: 'InventoryConfiguration',
  listRoot: 'ListInventoryConfigurationsResult',
  max: LIMITS.inventoryConfigsMax,
  parse: parseWritableInventory,
  toXml: inventoryConfigXml,
  listLayout: 'configs-after-token',
  // Its schedule goes with it: a configuration later made under the same id starts afresh.
  afterDelete: (ctx: RequestContext, bucket: BucketRecord, id: string) =>
    forgetInventoryRuns(ctx.state.catalog, bucket.id, id),
});
