import { LIMITS } from '../limits.js';
import type { KvEnv, KvTable, KvTableOptions } from '../meta/kv.js';
import { type NotifyTarget, parseTarget } from '../notify/targets.js';

/**
 * Notification targets the operator made through the admin API (`hangar notify target add`),
 * stored in the catalog beside the config file's (engine/notify/targets.ts). Readers merge both
 * with `mergedTargets`: a config-defined name always wins, and the admin API refuses to create
 * one (DECISIONS.md). Every thread reads the table anew when it needs the list (at most
 * notifyTargetsStoredMax rows), so a change is seen by the next delivery pass and the next
 * PutBucketNotificationConfiguration without a restart.
 */

export interface StoredNotifyTarget extends NotifyTarget {
  readonly createdMs: number;
}

export class NotifyTargetError extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid' | 'conflict' | 'notFound' | 'tooMany',
  ) {
    super(message);
  }
}

/** What the admin API asks for: a name, a URL (http(s):// or nats://host/subject), a secret. */
export interface NotifyTargetInput {
  name: string;
  url: string;
  /** Webhooks only: the HMAC-SHA256 signing secret. */
  hmacSecret?: string;
}

/** Validates an admin API target (the config's rules, plus the stored bounds). */
export function targetOfInput(input: NotifyTargetInput, nowMs: number): StoredNotifyTarget {
  if (input.url.length > LIMITS.notifyTargetUrlCharsMax) {
    throw new NotifyTargetError(
      `url is longer than ${LIMITS.notifyTargetUrlCharsMax} characters`,
      'invalid',
    );
  }
  if (input.url.includes('#')) {
    throw new NotifyTargetError(
      'url must have no fragment (give the secret as hmacSecret)',
      'invalid',
    );
  }
  let target: NotifyTarget;
  try {
    target = parseTarget(`${input.name}=${input.url}`);
  } catch (error) {
    throw new NotifyTargetError((error as Error).message, 'invalid');
  }
  const secret = input.hmacSecret ?? null;
  if (secret !== null) {
    if (target.kind !== 'webhook') {
      throw new NotifyTargetError('hmacSecret is for webhook targets only', 'invalid');
    }
    if (secret.length === 0 || secret.length > LIMITS.notifyTargetSecretCharsMax) {
      throw new NotifyTargetError(
        `hmacSecret must be 1 to ${LIMITS.notifyTargetSecretCharsMax} characters`,
        'invalid',
      );
    }
  }
  return { ...target, secret, createdMs: nowMs };
}

/** The catalog's `notify-targets` table (name → target). */
export class NotifyTargetTable {
  private readonly rows: KvTable<StoredNotifyTarget, string>;

  constructor(
    private readonly env: KvEnv,
    records: KvTableOptions,
  ) {
    this.rows = env.openDB<StoredNotifyTarget, string>({ name: 'notify-targets', ...records });
  }

  list(): StoredNotifyTarget[] {
    return [...this.rows.getRange()].map(({ value }) => value);
  }

  /** Stores a new target; refuses a name the config or the table already has. */
  async add(target: StoredNotifyTarget, configNames: ReadonlySet<string>): Promise<void> {
    if (configNames.has(target.name)) {
      throw new NotifyTargetError(
        `target ${target.name} is defined by the config file`,
        'conflict',
      );
    }
    await this.env.transaction(() => {
      if (this.rows.get(target.name) !== undefined) {
        throw new NotifyTargetError(`target ${target.name} exists`, 'conflict');
      }
      if (this.rows.getCount() >= LIMITS.notifyTargetsStoredMax) {
        throw new NotifyTargetError(
          `at most ${LIMITS.notifyTargetsStoredMax} targets may be stored`,
          'tooMany',
        );
      }
      this.rows.put(target.name, target);
    });
    await this.env.flushed;
  }

  /** Removes a stored target; events still waiting for it are then given up (counted failed). */
  async remove(name: string): Promise<void> {
    const removed = await this.env.transaction(() => {
      if (this.rows.get(name) === undefined) return false;
      this.rows.remove(name);
      return true;
    });
    if (!removed) throw new NotifyTargetError(`no stored target ${name}`, 'notFound');
    await this.env.flushed;
  }
}

/** A target with where it was defined. */
export type SourcedTarget = NotifyTarget & { readonly source: 'config' | 'admin' };

/** The config's targets, then the stored ones whose names the config does not use. */
export function mergedTargets(
  configTargets: readonly NotifyTarget[],
  stored: readonly NotifyTarget[],
): SourcedTarget[] {
  const names = new Set(configTargets.map((target) => target.name));
  return [
    ...configTargets.map((target) => ({ ...target, source: 'config' as const })),
    ...stored
      .filter((target) => !names.has(target.name))
      .map(({ name, kind, url, secret, subject, natsAuth }) => ({
        name,
        kind,
        url,
        secret,
        subject,
        ...(natsAuth !== undefined ? { natsAuth } : {}),
        source: 'admin' as const,
      })),
  ];
}
