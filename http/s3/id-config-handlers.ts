import type { BucketRecord } from '../../engine/catalog/catalog.js';
import { type RequestContext, requireBucket } from './context.js';
import {
  checkedConfigId,
  deleteIdConfig,
  getIdConfig,
  type IdConfigKind,
  type IdConfigListLayout,
  listIdConfigs,
  listXml,
  putIdConfig,
} from './id-configs.js';
import { sendEmpty, sendXml } from './reply.js';
import { readSignedBody } from './signed-body.js';
import { parseXml, type XmlNode } from './xml.js';

/** What tells one family of id-addressed configurations from another. */
export interface IdConfigSpec<T extends { id: string }> {
  readonly kind: IdConfigKind;
  /** The document's root element (and each listed configuration's element). */
  readonly element: string;
  /** The root element of the List answer. */
  readonly listRoot: string;
  /** Configurations per bucket (engine/limits.ts). */
  readonly max: number;
  readonly parse: (document: XmlNode, urlId: string) => T;
  readonly toXml: (config: T) => XmlNode;
  /** Absent: 'configs-last'. */
  readonly listLayout?: IdConfigListLayout;
  /** What else goes with a deleted configuration (inventory: its schedule). */
  readonly afterDelete?: (ctx: RequestContext, bucket: BucketRecord, id: string) => Promise<void>;
}

export interface IdConfigHandlers {
  put(ctx: RequestContext, bucket: string, id: string): Promise<void>;
  get(ctx: RequestContext, bucket: string, id: string): void;
  delete(ctx: RequestContext, bucket: string, id: string): Promise<void>;
  list(ctx: RequestContext, bucket: string, token: string | undefined): void;
}

/** Put (200), Get, Delete (204) and List of one family, as AWS answers them. */
export function idConfigHandlers<T extends { id: string }>(
  spec: IdConfigSpec<T>,
): IdConfigHandlers {
  return {
    async put(ctx, bucket, id) {
      const urlId = checkedConfigId(id);
      const body = await readSignedBody(ctx);
      const config = spec.parse(parseXml(body.toString('utf8'), spec.element), urlId);
      await putIdConfig(ctx, bucket, spec.kind, config, spec.max);
      sendEmpty(ctx, 200);
    },
    get(ctx, bucket, id) {
      const config = getIdConfig<T>(ctx, bucket, spec.kind, checkedConfigId(id));
      sendXml(ctx, spec.element, spec.toXml(config));
    },
    async delete(ctx, bucket, id) {
      const configId = checkedConfigId(id);
      await deleteIdConfig(ctx, bucket, spec.kind, configId);
      await spec.afterDelete?.(ctx, requireBucket(ctx, bucket), configId);
      sendEmpty(ctx, 204);
    },
    list(ctx, bucket, token) {
      const page = listIdConfigs<T>(ctx, bucket, spec.kind, token);
      const configs = page.configs.map(spec.toXml);
      sendXml(ctx, spec.listRoot, listXml(token, page, spec.element, configs, spec.listLayout));
    },
  };
}
