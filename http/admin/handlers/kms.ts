import { LIMITS } from '../../../engine/limits.js';
import { KmsError, type KmsKeyView, kmsKeyArn } from '../../../engine/sse/keyring.js';
import { keyringOf } from '../../s3/sse.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest } from '../errors.js';
import { body, optionalString, queryParam, string } from '../validate.js';

/**
 * The built-in keyring of SSE-KMS (engine/sse/keyring.ts) and the SSE master key, through the
 * admin API: hangar's own endpoints (Garage has no KMS), named after AWS KMS's operations.
 */

/** A key as the admin API (and the CLI) shows it: never its material. */
export interface KmsKeyJson {
  id: string;
  arn: string;
  alias: string | null;
  description: string;
  created: string;
  enabled: boolean;
  /** Enabled, Disabled or PendingDeletion, as KMS's KeyState. */
  state: string;
  /** PendingDeletion: when the key is deleted (ISO 8601); else null. */
  deletionDate: string | null;
  origin: string;
  versions: number;
}

export function kmsKeyJson(region: string, key: KmsKeyView): KmsKeyJson {
  return {
    id: key.id,
    arn: kmsKeyArn(region, key.id),
    alias: key.alias === null ? null : `alias/${key.alias}`,
    description: key.description,
    created: new Date(key.createdMs).toISOString(),
    enabled: key.enabled,
    state: key.state,
    deletionDate: key.deletionMs === null ? null : new Date(key.deletionMs).toISOString(),
    origin: key.origin,
    versions: key.versions,
  };
}

function keyJson(state: AdminState, key: KmsKeyView): KmsKeyJson {
  return kmsKeyJson(state.server.config.s3.region, key);
}

/**
 * KmsError → the admin API's error: 404 for an unknown key, 409 for a key whose state forbids
 * the change (pending deletion), 400 for a limit.
 */
async function kms<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof KmsError)) throw error;
    if (error.reason === 'NotFoundException') {
      throw new AdminError(404, 'NoSuchKmsKey', error.message);
    }
    const status = error.reason === 'KMSInvalidStateException' ? 409 : 400;
    throw new AdminError(status, error.reason, error.message);
  }
}

/** ListKmsKeys: first purges the keys whose deletion date has passed. */
export async function listKmsKeys(state: AdminState): Promise<AdminReply> {
  const keyring = keyringOf(state.server);
  await keyring.purgeDeleted();
  return { json: keyring.list().map((key) => keyJson(state, key)) };
}

/** GetKmsKeyInfo?id=<id, ARN or alias/name>. */
export function getKmsKeyInfo(state: AdminState, req: AdminRequest): AdminReply {
  const ref = queryParam(req.query, 'id');
  const key = keyringOf(state.server).view(ref);
  if (key === undefined) throw new AdminError(404, 'NoSuchKmsKey', `KMS key ${ref} not found`);
  return { json: keyJson(state, key) };
}

const ALIAS_PATTERN = /^[A-Za-z0-9/_-]{1,250}$/;

/** CreateKmsKey {description?, alias?}: a new enabled key with fresh material. */
export async function createKmsKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const b = body(req.body ?? {}, ['description', 'alias']);
  const description = optionalString(b, 'description') ?? '';
  if (description.length > 8192)
    throw badRequest('body.description must be at most 8192 characters');
  const alias = optionalString(b, 'alias')?.replace(/^alias\//, '');
  if (alias !== undefined && (!ALIAS_PATTERN.test(alias) || alias.startsWith('aws/'))) {
    throw badRequest('body.alias must be alias/<name> of A-Z a-z 0-9 / _ - (not aws/...)');
  }
  const keyring = keyringOf(state.server);
  // A deleted key's alias is free once its record is purged.
  await keyring.purgeDeleted();
  const key = await kms(() => keyring.createKey(description, alias));
  return { json: keyJson(state, key) };
}

/** RotateKmsKey {id}: new material for new objects; old versions stay for the old ones. */
export async function rotateKmsKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const ref = string(body(req.body, ['id']), 'id');
  return { json: keyJson(state, await kms(() => keyringOf(state.server).rotateKey(ref))) };
}

/** EnableKmsKey {id}: its objects are readable again. */
export async function enableKmsKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const ref = string(body(req.body, ['id']), 'id');
  return { json: keyJson(state, await kms(() => keyringOf(state.server).setEnabled(ref, true))) };
}

/** DisableKmsKey {id}: its objects answer 403 KMS.DisabledException, new writes too. */
export async function disableKmsKey(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const ref = string(body(req.body, ['id']), 'id');
  return { json: keyJson(state, await kms(() => keyringOf(state.server).setEnabled(ref, false))) };
}

/**
 * ScheduleKmsKeyDeletion {id, pendingWindowDays?}: PendingDeletion now (its objects answer
 * KMS.KMSInvalidStateException), deleted after 7 to 30 days (default 30), as AWS KMS.
 */
export async function scheduleKmsKeyDeletion(
  state: AdminState,
  req: AdminRequest,
): Promise<AdminReply> {
  const b = body(req.body, ['id', 'pendingWindowDays']);
  const ref = string(b, 'id');
  const days = b['pendingWindowDays'] ?? LIMITS.kmsDeletionWindowDaysMax;
  if (
    typeof days !== 'number' ||
    !Number.isInteger(days) ||
    days < LIMITS.kmsDeletionWindowDaysMin ||
    days > LIMITS.kmsDeletionWindowDaysMax
  ) {
    throw badRequest(
      `body.pendingWindowDays must be a whole number of days from ${LIMITS.kmsDeletionWindowDaysMin} to ${LIMITS.kmsDeletionWindowDaysMax}`,
    );
  }
  const key = await kms(() => keyringOf(state.server).scheduleDeletion(ref, days));
  return { json: keyJson(state, key) };
}

/** CancelKmsKeyDeletion {id}: the key stays, Disabled (enable it to use it again). */
export async function cancelKmsKeyDeletion(
  state: AdminState,
  req: AdminRequest,
): Promise<AdminReply> {
  const ref = string(body(req.body, ['id']), 'id');
  return { json: keyJson(state, await kms(() => keyringOf(state.server).cancelDeletion(ref))) };
}

/**
 * RotateSseMasterKey: a new master key file, every keyring key's material re-wrapped under it
 * (object records and data are not touched: they are wrapped by the keyring keys).
 */
export async function rotateSseMasterKey(state: AdminState): Promise<AdminReply> {
  const rotated = await keyringOf(state.server).rotateMaster();
  return { json: rotated };
}
