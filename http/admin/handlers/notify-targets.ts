import {
  NotifyTargetError,
  type SourcedTarget,
  targetOfInput,
} from '../../../engine/catalog/notify-targets.js';
import { targetArns } from '../../../engine/notify/targets.js';
import { notifyTargetsOf } from '../../s3/notifications.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError } from '../errors.js';
import { body, optionalString, string } from '../validate.js';

/**
 * S3 event notification targets through the admin API (hangar's own endpoints): the config
 * file's and the stored ones, listed together; only stored ones are created and deleted here.
 * Secrets never leave: a webhook shows `signed`, and a password in its URL is masked.
 */

export interface NotifyTargetJson {
  name: string;
  kind: string;
  source: 'config' | 'admin';
  url: string;
  subject: string | null;
  signed: boolean;
  arns: string[];
}

/** The URL without a password (a webhook's basic-auth credentials are a secret too). */
function shownUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

export function notifyTargetJson(target: SourcedTarget, region: string): NotifyTargetJson {
  return {
    name: target.name,
    kind: target.kind,
    source: target.source,
    url: shownUrl(target.url),
    subject: target.subject,
    signed: target.secret !== null,
    arns: targetArns(target, region),
  };
}

function targetsJson(state: AdminState): NotifyTargetJson[] {
  const { region } = state.server.config.s3;
  return notifyTargetsOf(state.server).map((target) => notifyTargetJson(target, region));
}

/** NotifyTargetError → the admin API's error. */
async function targets<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof NotifyTargetError)) throw error;
    const [status, code] =
      error.reason === 'notFound'
        ? [404, 'NoSuchNotifyTarget']
        : error.reason === 'conflict'
          ? [409, 'NotifyTargetExists']
          : error.reason === 'tooMany'
            ? [400, 'TooManyNotifyTargets']
            : [400, 'InvalidRequest'];
    throw new AdminError(status, code, error.message);
  }
}

/** ListNotifyTargets: every target a bucket may name, config-defined first. */
export function listNotifyTargets(state: AdminState): AdminReply {
  return { json: targetsJson(state) };
}

/** CreateNotifyTarget {name, url, hmacSecret?}: stored in the catalog, used at once. */
export async function createNotifyTarget(
  state: AdminState,
  req: AdminRequest,
): Promise<AdminReply> {
  const b = body(req.body, ['name', 'url', 'hmacSecret']);
  const name = string(b, 'name');
  const url = string(b, 'url');
  const hmacSecret = optionalString(b, 'hmacSecret');
  const { catalog, config } = state.server;
  await targets(async () => {
    const target = targetOfInput(
      { name, url, ...(hmacSecret !== undefined ? { hmacSecret } : {}) },
      Date.now(),
    );
    await catalog.notifyTargets.add(target, new Set(config.notify.targets.map((t) => t.name)));
  });
  const created = targetsJson(state).find((target) => target.name === name);
  return { json: created ?? null };
}

/** DeleteNotifyTarget {name}: a stored target; its undelivered events are then given up. */
export async function deleteNotifyTarget(
  state: AdminState,
  req: AdminRequest,
): Promise<AdminReply> {
  const name = string(body(req.body, ['name']), 'name');
  if (state.server.config.notify.targets.some((target) => target.name === name)) {
    throw new AdminError(
      409,
      'NotifyTargetInConfig',
      `target ${name} is defined by the config file: remove it there`,
    );
  }
  await targets(() => state.server.catalog.notifyTargets.remove(name));
  return { json: { deleted: name } };
}
