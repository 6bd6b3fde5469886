import { CatalogError, type KeyRecord } from '../../../engine/catalog/catalog.js';
import { canonicalIdOf } from '../../access/principal.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest, noSuchKey } from '../errors.js';
import {
  body,
  optionalBoolean,
  optionalObject,
  optionalString,
  queryParam,
  string,
} from '../validate.js';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Garage's GetKeyInfoResponse; the secret only when asked (or on creation). */
export function keyInfo(state: AdminState, key: KeyRecord, showSecret: boolean): unknown {
  const catalog = state.server.catalog;
  const buckets = catalog
    .listBuckets()
    .map((bucket) => ({ bucket, grant: catalog.getGrant(bucket.id, key.accessKeyId) }))
    .filter(({ grant }) => key.root || grant.read || grant.write || grant.owner)
    .map(({ bucket, grant }) => ({
      id: bucket.id,
      globalAliases: [...bucket.aliases],
      localAliases: [],
      permissions: key.root ? { read: true, write: true, owner: true } : { ...grant },
    }));
  return {
    accessKeyId: key.accessKeyId,
    // The key's identity in S3 (Owner, Initiator, ACL grantees): see http/access/principal.ts.
    canonicalId: canonicalIdOf(key),
    name: key.name,
    created: iso(key.createdMs),
    expiration: null,
    expired: false,
    root: key.root,
    ...(showSecret ? { secretAccessKey: key.secretAccessKey } : {}),
    permissions: { createBucket: key.allowCreateBucket },
    buckets,
  };
}

function requireKey(state: AdminState, id: string): KeyRecord {
  const key = state.server.catalog.getKey(id);
  if (key === undefined) throw noSuchKey(id);
  return key;
}

function notRoot(key: KeyRecord, what: string): void {
  if (key.root) {
    throw badRequest(
      `the root key cannot be ${what} through the admin API (it comes from the configuration)`,
    );
  }
}

export function listKeys(state: AdminState): AdminReply {
  return {
    json: state.server.catalog.listKeys().map((key) => ({
      id: key.accessKeyId,
      name: key.name,
      created: iso(key.createdMs),
      expiration: null,
      expired: false,
    })),
  };
}

/** GetKeyInfo?id=<access key id> or ?search=<id prefix or exact name>, &showSecretKey=true. */
export function getKeyInfo(state: AdminState, req: AdminRequest): AdminReply {
  const showSecret = req.query.get('showSecretKey') === 'true';
  const search = req.query.get('search');
  if (req.query.get('id') === null && search !== null && search !== '') {
    const keys = state.server.catalog.listKeys();
    const found = keys.filter((k) => k.accessKeyId.startsWith(search) || k.name === search);
    if (found.length === 0) throw noSuchKey(search);
    if (found.length > 1) throw badRequest(`search '${search}' matches ${found.length} keys`);
    return { json: keyInfo(state, found[0] as KeyRecord, showSecret) };
  }
  return { json: keyInfo(state, requireKey(state, queryParam(req.query, 'id')), showSecret) };
}

/** `allow: {createBucket}` / `deny: {createBucket}` (Garage), or `allowCreateBucket` (flat). */
function createBucketFlag(b: Record<string, unknown>): boolean | undefined {
  const flat = optionalBoolean(b, 'allowCreateBucket');
  const allow = optionalObject(b, 'allow');
  const deny = optionalObject(b, 'deny');
  const allowed =
    allow === undefined ? undefined : optionalBoolean(allow, 'createBucket', 'body.allow');
  const denied =
    deny === undefined ? undefined : optionalBoolean(deny, 'createBucket', 'body.deny');
  if (allowed === true && denied === true) {
    throw badRequest('body.allow.createBucket and body.deny.createBucket cannot both be true');
  }
  if (allowed === true) return true;
  if (denied === true) return false;
  return flat;
}

function name(b: Record<string, unknown>): string | undefined {
  const value = optionalString(b, 'name');
  if (value !== undefined && value.length > 256)
    throw badRequest('body.name must be at most 256 characters');
  return value;
}

export async function createKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body ?? {}, ['name', 'allowCreateBucket', 'allow', 'deny']);
  const key = await state.server.catalog.createKey(name(b) ?? 'Unnamed key', {
    allowCreateBucket: createBucketFlag(b) ?? false,
  });
  return { json: keyInfo(state, key, true) };
}

export async function importKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body, ['accessKeyId', 'secretAccessKey', 'name']);
  const accessKeyId = string(b, 'accessKeyId');
  const secretAccessKey = string(b, 'secretAccessKey');
  if (!/^[A-Za-z0-9_.-]{8,128}$/.test(accessKeyId)) {
    throw badRequest('body.accessKeyId must be 8 to 128 characters of A-Z a-z 0-9 _ . -');
  }
  if (secretAccessKey.length < 8 || secretAccessKey.length > 128) {
    throw badRequest('body.secretAccessKey must be 8 to 128 characters');
  }
  try {
    const key = await state.server.catalog.importKey(
      accessKeyId,
      secretAccessKey,
      name(b) ?? 'Imported key',
    );
    return { json: keyInfo(state, key, true) };
  } catch (error) {
    if (error instanceof CatalogError && error.reason === 'KeyExists') {
      throw new AdminError(409, 'KeyAlreadyExists', `access key ${accessKeyId} already exists`);
    }
    throw error;
  }
}

export async function updateKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const id = queryParam(req.query, 'id');
  const b = body(req.body, ['name', 'allowCreateBucket', 'allow', 'deny']);
  const change: { name?: string; allowCreateBucket?: boolean } = {};
  const newName = name(b);
  const flag = createBucketFlag(b);
  notRoot(requireKey(state, id), 'changed');
  if (newName !== undefined) change.name = newName;
  if (flag !== undefined) change.allowCreateBucket = flag;
  const key = await state.server.catalog.updateKey(id, change);
  return { json: keyInfo(state, key, false) };
}

/**
 * Any key may be revoked, root keys included (a generated root key, or one an older hangar left
 * behind after a rotation): it stops working at once. The one exception is the root key the
 * configuration sets (HANGAR_ROOT_ACCESS_KEY): the next start would bring it back, so deleting
 * it would only look like a revocation. That one is rotated by configuring a new pair.
 */
export async function deleteKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const id = queryParam(req.query, 'id');
  requireKey(state, id);
  if (id === state.server.config.rootAccessKey) {
    throw badRequest(
      `key ${id} is the root key set by HANGAR_ROOT_ACCESS_KEY and would come back at the next ` +
        'start: rotate it instead (set HANGAR_ROOT_ACCESS_KEY and HANGAR_ROOT_SECRET_KEY to a new ' +
        'pair and restart; the old root key is then deleted)',
    );
  }
  await state.server.catalog.deleteKey(id);
  return { json: {} };
}
