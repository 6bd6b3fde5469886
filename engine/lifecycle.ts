import type { LifecycleRule, Tag } from './protocol/messages.js';

/**
 * Lifecycle rule evaluation, shared by the shards (which expire objects and abort uploads) and
 * the HTTP side (the x-amz-expiration header). Times follow AWS: an action of N days is due at
 * the first midnight UTC after creation + N days ("rounded to the next day midnight UTC").
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The time an object created at `createdMs` expires under a rule of `days` days. */
export function daysDueMs(createdMs: number, days: number): number {
  return Math.floor((createdMs + days * DAY_MS) / DAY_MS) * DAY_MS + DAY_MS;
}

/** Whether an object (its key, size and tags) passes a rule's filter. */
export function ruleMatchesObject(
  rule: LifecycleRule,
  key: string,
  bytes: number,
  tags: readonly Tag[],
): boolean {
  if (!key.startsWith(rule.prefix)) return false;
  if (rule.sizeGreaterThan !== null && !(bytes > rule.sizeGreaterThan)) return false;
  if (rule.sizeLessThan !== null && !(bytes < rule.sizeLessThan)) return false;
  return rule.tags.every((wanted) =>
    tags.some((tag) => tag.key === wanted.key && tag.value === wanted.value),
  );
}

/** When a rule expires an object it matches (null: the rule has no expiration). */
export function ruleExpiryMs(rule: LifecycleRule, lastModifiedMs: number): number | null {
  if (rule.expirationDays !== null) return daysDueMs(lastModifiedMs, rule.expirationDays);
  return rule.expirationDateMs;
}

/**
 * The earliest expiration of an object among the rules that match it, with the rule's id
 * (ties: the first rule), or null when none applies.
 */
export function objectExpiry(
  rules: readonly LifecycleRule[],
  key: string,
  bytes: number,
  tags: readonly Tag[],
  lastModifiedMs: number,
): { atMs: number; ruleId: string } | null {
  let best: { atMs: number; ruleId: string } | null = null;
  for (const rule of rules) {
    const atMs = ruleExpiryMs(rule, lastModifiedMs);
    if (atMs === null || !ruleMatchesObject(rule, key, bytes, tags)) continue;
    if (best === null || atMs < best.atMs) best = { atMs, ruleId: rule.id };
  }
  return best;
}

/** Whether an upload initiated at `initiatedMs` under `key` is due to be aborted at `nowMs`. */
export function uploadAbortDue(
  rules: readonly LifecycleRule[],
  key: string,
  initiatedMs: number,
  nowMs: number,
): boolean {
  return rules.some(
    (rule) =>
      rule.abortUploadDays !== null &&
      key.startsWith(rule.prefix) &&
      daysDueMs(initiatedMs, rule.abortUploadDays) <= nowMs,
  );
}
