import { DAY_MS, daysDueMs, ruleMatchesObject } from './lifecycle.js';
import type { LifecycleRule, Tag, TieringRule } from './protocol/messages.js';
import {
  ACCESS_TIERS,
  type AccessTier,
  CLASS_WATERFALL,
  type StorageClass,
} from './storage-classes.js';

/**
 * Lifecycle transitions and intelligent tiering, judged (pure functions; the shards' batches
 * apply them). A version only ever moves down AWS's waterfall (storage-classes.ts): a due
 * transition to a class warmer than, or the same as, the version's is no transition at all,
 * which also makes applying the rules twice change nothing.
 */

/** Objects smaller than this are not monitored by intelligent tiering (AWS: 128 KiB). */
export const TIERING_MIN_BYTES = 128 * 1024;

/** The facts of a version a transition is judged on. */
export interface TransitionFacts {
  key: string;
  bytes: number;
  tags: readonly Tag[];
  storageClass: StorageClass | undefined;
}

function coldness(storageClass: string | undefined): number {
  return CLASS_WATERFALL.indexOf((storageClass ?? 'STANDARD') as StorageClass);
}

/** `wanted` if it is further down the waterfall than `current`, else null. */
function colderOf(current: StorageClass | undefined, wanted: string | null): StorageClass | null {
  if (wanted === null) return null;
  const from = coldness(current);
  const to = coldness(wanted);
  // A class off the waterfall (OUTPOSTS, SNOW, EXPRESS_ONEZONE) never moves.
  if (from < 0 || to < 0 || to <= from) return null;
  return wanted as StorageClass;
}

/** The coldest of two class names (null: none yet). */
function coldest(a: string | null, b: string): string {
  return a === null || coldness(b) > coldness(a) ? b : a;
}

/**
 * The class a current version created at `lastModifiedMs` moves to at `nowMs` under the rules'
 * Transitions: the coldest one due among the rules that match it, when colder than its own.
 */
export function dueTransition(
  rules: readonly LifecycleRule[],
  facts: TransitionFacts,
  lastModifiedMs: number,
  nowMs: number,
): StorageClass | null {
  let wanted: string | null = null;
  for (const rule of rules) {
    if (rule.transitions === undefined) continue;
    if (!ruleMatchesObject(rule, facts.key, facts.bytes, facts.tags)) continue;
    for (const transition of rule.transitions) {
      if (facts.bytes < transition.minBytes) continue;
      const dueMs =
        transition.days !== null ? daysDueMs(lastModifiedMs, transition.days) : transition.dateMs;
      if (dueMs !== null && dueMs <= nowMs) wanted = coldest(wanted, transition.storageClass);
    }
  }
  return colderOf(facts.storageClass, wanted);
}

/**
 * The class a noncurrent version moves to under the rules' NoncurrentVersionTransitions: due
 * NoncurrentDays after it became noncurrent, unless it is among the NewerNoncurrentVersions
 * newest noncurrent ones (`newerNoncurrent`: how many noncurrent versions are newer than it).
 */
export function dueNoncurrentTransition(
  rules: readonly LifecycleRule[],
  facts: TransitionFacts,
  becameNoncurrentMs: number,
  newerNoncurrent: number,
  nowMs: number,
): StorageClass | null {
  let wanted: string | null = null;
  for (const rule of rules) {
    if (rule.noncurrentTransitions === undefined) continue;
    if (!ruleMatchesObject(rule, facts.key, facts.bytes, facts.tags)) continue;
    for (const transition of rule.noncurrentTransitions) {
      if (facts.bytes < transition.minBytes) continue;
      if (newerNoncurrent < (transition.newerVersions ?? 0)) continue;
      if (daysDueMs(becameNoncurrentMs, transition.days) <= nowMs) {
        wanted = coldest(wanted, transition.storageClass);
      }
    }
  }
  return colderOf(facts.storageClass, wanted);
}

/** The UTC day (days since the epoch) of a time. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** What intelligent tiering judges a version on. */
export interface TieringFacts {
  key: string;
  bytes: number;
  tags: readonly Tag[];
  storageClass: StorageClass | undefined;
  accessTier: AccessTier | undefined;
  accessedDay: number | undefined;
  lastModifiedMs: number;
}

/**
 * The archive access tier an INTELLIGENT_TIERING version moves to at `nowMs`: the deepest tier
 * whose Days have passed since its last read (or its creation), when deeper than its own.
 * Objects under 128 KiB are never monitored, as in AWS.
 */
export function dueAccessTier(
  tiering: readonly TieringRule[],
  facts: TieringFacts,
  nowMs: number,
): AccessTier | null {
  if (facts.storageClass !== 'INTELLIGENT_TIERING' || facts.bytes < TIERING_MIN_BYTES) return null;
  const lastReadMs =
    facts.accessedDay !== undefined ? facts.accessedDay * DAY_MS : facts.lastModifiedMs;
  const idleDays = dayOf(nowMs) - dayOf(lastReadMs);
  let deepest = facts.accessTier === undefined ? -1 : ACCESS_TIERS.indexOf(facts.accessTier);
  let wanted: AccessTier | null = null;
  for (const rule of tiering) {
    if (idleDays < rule.days || !facts.key.startsWith(rule.prefix)) continue;
    if (!rule.tags.every((t) => facts.tags.some((o) => o.key === t.key && o.value === t.value))) {
      continue;
    }
    const depth = ACCESS_TIERS.indexOf(rule.accessTier);
    if (depth > deepest) {
      deepest = depth;
      wanted = rule.accessTier;
    }
  }
  return wanted;
}
