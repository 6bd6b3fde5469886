import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { LIMITS } from '../../engine/limits.js';
import type { RequestContext } from './context.js';
import { requireBucket } from './context.js';
import { S3Error } from './errors.js';
import { checkElements, optionalText, type XmlNode } from './xml.js';

/**
 * The bucket configurations addressed by `?<kind>&id=` (analytics, metrics, inventory): all of a bucket's
 * in one catalog record (at most 1,000 small documents, read and written whole), sorted by id,
 * so a listing's pages and its continuation token (the first id of the next page) are stable.
 */
export type IdConfigKind = 'analytics' | 'metrics' | 'inventory' | 'intelligent-tiering';

export interface IdConfigs<T extends { id: string }> {
  configs: T[];
}

const ID = /^[A-Za-z0-9._-]+$/;

/** A configuration Id as AWS allows it: 1 to 64 letters, digits, `.`, `-` and `_`. */
export function checkedConfigId(id: string | undefined): string {
  if (id === undefined || id === '') {
    throw new S3Error('InvalidArgument', 'Id is required.', { ArgumentName: 'id' });
  }
  if (id.length > LIMITS.bucketConfigIdCharsMax || !ID.test(id)) {
    throw new S3Error(
      'InvalidArgument',
      `The ID can only contain letters, numbers, periods, dashes and underscores, and be at most ${LIMITS.bucketConfigIdCharsMax} characters long.`,
      { ArgumentName: 'id', ArgumentValue: id.slice(0, 256) },
    );
  }
  return id;
}

/** The document's Id, which must be the URL's `id` (AWS refuses a body naming another). */
export function documentIdOf(document: XmlNode, urlId: string): string {
  const id = checkedConfigId(optionalText(document, 'Id'));
  if (id !== urlId) {
    throw new S3Error(
      'InvalidArgument',
      'The Id in the request body does not match the id in the URL.',
      {
        ArgumentName: 'id',
      },
    );
  }
  return id;
}

/** A bucket's configurations of one kind, sorted by id (for readers outside a request). */
export function idConfigsOf<T extends { id: string }>(
  catalog: Catalog,
  bucket: BucketRecord,
  kind: IdConfigKind,
): readonly T[] {
  return catalog.getBucketConfig<IdConfigs<T>>(bucket, kind)?.configs ?? [];
}

function stored<T extends { id: string }>(
  ctx: RequestContext,
  bucketName: string,
  kind: IdConfigKind,
): readonly T[] {
  return idConfigsOf<T>(ctx.state.catalog, requireBucket(ctx, bucketName), kind);
}

/** Adds or replaces a configuration; a new id past `max` is TooManyConfigurations. */
export async function putIdConfig<T extends { id: string }>(
  ctx: RequestContext,
  bucketName: string,
  kind: IdConfigKind,
  config: T,
  max: number,
): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  await ctx.state.catalog.updateBucketConfig<IdConfigs<T>>(bucket.id, kind, (current) => {
    const others = (current?.configs ?? []).filter((c) => c.id !== config.id);
    if (others.length >= max) throw new S3Error('TooManyConfigurations');
    const configs = [...others, config].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { configs };
  });
}

/** One configuration by id, or 404 NoSuchConfiguration. */
export function getIdConfig<T extends { id: string }>(
  ctx: RequestContext,
  bucketName: string,
  kind: IdConfigKind,
  id: string,
): T {
  const found = stored<T>(ctx, bucketName, kind).find((c) => c.id === id);
  if (found === undefined) throw new S3Error('NoSuchConfiguration');
  return found;
}

/** Deletes a configuration by id; 404 NoSuchConfiguration when there is none. */
export async function deleteIdConfig(
  ctx: RequestContext,
  bucketName: string,
  kind: IdConfigKind,
  id: string,
): Promise<void> {
  const bucket = requireBucket(ctx, bucketName);
  await ctx.state.catalog.updateBucketConfig<IdConfigs<{ id: string }>>(
    bucket.id,
    kind,
    (current) => {
      const configs = current?.configs ?? [];
      if (!configs.some((c) => c.id === id)) throw new S3Error('NoSuchConfiguration');
      const rest = configs.filter((c) => c.id !== id);
      return rest.length === 0 ? undefined : { configs: rest };
    },
  );
}

export interface IdConfigPage<T> {
  configs: T[];
  /** The token of the next page (the first id it holds, base64url), when there is one. */
  next: string | undefined;
}

/** A page of configurations from the continuation token on (absent: from the first). */
export function listIdConfigs<T extends { id: string }>(
  ctx: RequestContext,
  bucketName: string,
  kind: IdConfigKind,
  token: string | undefined,
): IdConfigPage<T> {
  const all = stored<T>(ctx, bucketName, kind);
  const from = token === undefined ? undefined : idOfToken(token);
  const start = from === undefined ? 0 : all.findIndex((c) => c.id >= from);
  const rest = start < 0 ? [] : all.slice(start);
  const configs = rest.slice(0, LIMITS.bucketConfigListPageMax);
  const following = rest[LIMITS.bucketConfigListPageMax];
  return { configs, next: following === undefined ? undefined : tokenOfId(following.id) };
}

function tokenOfId(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function idOfToken(token: string): string {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!ID.test(id) || id.length > LIMITS.bucketConfigIdCharsMax || tokenOfId(id) !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  }
  return id;
}

/**
 * Where a List answer puts its configurations, as AWS's reference lays each family out:
 * after the tokens (analytics, metrics) or between ContinuationToken and IsTruncated (inventory).
 */
export type IdConfigListLayout = 'configs-last' | 'configs-after-token';

/** The list answer's framing: IsTruncated, the tokens and the configurations. */
export function listXml(
  token: string | undefined,
  page: IdConfigPage<unknown>,
  element: string,
  configs: XmlNode[],
  layout: IdConfigListLayout = 'configs-last',
): XmlNode {
  const isTruncated = String(page.next !== undefined);
  const continuation = token !== undefined ? { ContinuationToken: token } : {};
  const next = page.next !== undefined ? { NextContinuationToken: page.next } : {};
  if (layout === 'configs-after-token') {
    return { ...continuation, [element]: configs, IsTruncated: isTruncated, ...next };
  }
  return { IsTruncated: isTruncated, ...continuation, ...next, [element]: configs };
}

/** Elements of a configuration document besides its Id, checked against what it allows. */
export function checkConfigElements(document: XmlNode, known: readonly string[]): void {
  checkElements(document, ['Id', ...known]);
}
