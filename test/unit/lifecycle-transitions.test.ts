/**
 * The judgement of lifecycle transitions and intelligent tiering (engine/lifecycle-transitions.ts):
 * the waterfall, the coldest due class, minimum sizes, NewerNoncurrentVersions, idle days.
 */
import test from 'ava';
import { DAY_MS } from '../../engine/lifecycle.js';
import {
  dueAccessTier,
  dueNoncurrentTransition,
  dueTransition,
  TIERING_MIN_BYTES,
} from '../../engine/lifecycle-transitions.js';
import type { LifecycleRule, TieringRule } from '../../engine/protocol/messages.js';

const CREATED = Date.UTC(2026, 0, 1, 12);

function rule(over: Partial<LifecycleRule>): LifecycleRule {
  return {
    id: 'r',
    prefix: '',
    tags: [],
    sizeGreaterThan: null,
    sizeLessThan: null,
    expirationDays: null,
    expirationDateMs: null,
    abortUploadDays: null,
    ...over,
  };
}

const WATERFALL = rule({
  transitions: [
    { days: 30, dateMs: null, storageClass: 'STANDARD_IA', minBytes: 0 },
    { days: 90, dateMs: null, storageClass: 'GLACIER', minBytes: 0 },
  ],
});

const facts = (storageClass?: 'GLACIER' | 'STANDARD_IA' | 'DEEP_ARCHIVE') => ({
  key: 'k',
  bytes: 1000,
  tags: [],
  storageClass,
});

test('the coldest due transition, at the first midnight after creation + days', (t) => {
  const at = (days: number) => CREATED + days * DAY_MS;
  t.is(dueTransition([WATERFALL], facts(), CREATED, at(30)), null);
  t.is(dueTransition([WATERFALL], facts(), CREATED, at(31)), 'STANDARD_IA');
  t.is(dueTransition([WATERFALL], facts(), CREATED, at(91)), 'GLACIER');
  // Never warmer, never the same: an object already there stays.
  t.is(dueTransition([WATERFALL], facts('GLACIER'), CREATED, at(91)), null);
  t.is(dueTransition([WATERFALL], facts('DEEP_ARCHIVE'), CREATED, at(91)), null);
  t.is(dueTransition([WATERFALL], facts('STANDARD_IA'), CREATED, at(91)), 'GLACIER');
});

test('a transition skips objects under its minimum size and outside its filter', (t) => {
  const sized = rule({
    prefix: 'logs/',
    transitions: [{ days: 0, dateMs: null, storageClass: 'GLACIER', minBytes: 128 * 1024 }],
  });
  const now = CREATED + 2 * DAY_MS;
  t.is(dueTransition([sized], { ...facts(), key: 'logs/a' }, CREATED, now), null);
  t.is(
    dueTransition([sized], { ...facts(), key: 'logs/a', bytes: 128 * 1024 }, CREATED, now),
    'GLACIER',
  );
  t.is(dueTransition([sized], { ...facts(), key: 'other', bytes: 1 << 20 }, CREATED, now), null);
  const dated = rule({
    transitions: [
      { days: null, dateMs: Date.UTC(2026, 5, 1), storageClass: 'DEEP_ARCHIVE', minBytes: 0 },
    ],
  });
  t.is(dueTransition([dated], facts(), CREATED, Date.UTC(2026, 4, 31)), null);
  t.is(dueTransition([dated], facts(), CREATED, Date.UTC(2026, 5, 1)), 'DEEP_ARCHIVE');
});

test('NoncurrentVersionTransition keeps the newest noncurrent versions', (t) => {
  const keepTwo = rule({
    noncurrentTransitions: [
      { days: 10, newerVersions: 2, storageClass: 'GLACIER_IR', minBytes: 0 },
    ],
  });
  const now = CREATED + 20 * DAY_MS;
  t.is(dueNoncurrentTransition([keepTwo], facts(), CREATED, 1, now), null);
  t.is(dueNoncurrentTransition([keepTwo], facts(), CREATED, 2, now), 'GLACIER_IR');
  t.is(dueNoncurrentTransition([keepTwo], facts(), CREATED + 15 * DAY_MS, 2, now), null);
});

test('intelligent tiering archives by idle days, deepest tier first, never back up', (t) => {
  const tiers: TieringRule[] = [
    { prefix: '', tags: [], accessTier: 'ARCHIVE_ACCESS', days: 90 },
    { prefix: '', tags: [], accessTier: 'DEEP_ARCHIVE_ACCESS', days: 180 },
  ];
  const it = {
    key: 'k',
    bytes: TIERING_MIN_BYTES,
    tags: [],
    storageClass: 'INTELLIGENT_TIERING' as const,
    accessTier: undefined,
    accessedDay: undefined,
    lastModifiedMs: CREATED,
  };
  const day = (n: number) => CREATED + n * DAY_MS;
  t.is(dueAccessTier(tiers, it, day(89)), null);
  t.is(dueAccessTier(tiers, it, day(90)), 'ARCHIVE_ACCESS');
  t.is(dueAccessTier(tiers, it, day(200)), 'DEEP_ARCHIVE_ACCESS');
  t.is(dueAccessTier(tiers, { ...it, accessTier: 'DEEP_ARCHIVE_ACCESS' }, day(200)), null);
  t.is(
    dueAccessTier(tiers, { ...it, accessTier: 'ARCHIVE_ACCESS' }, day(200)),
    'DEEP_ARCHIVE_ACCESS',
  );
  // A read restarts the count; small objects and other classes are never archived.
  const readDay = Math.floor(day(150) / DAY_MS);
  t.is(dueAccessTier(tiers, { ...it, accessedDay: readDay }, day(200)), null);
  t.is(dueAccessTier(tiers, { ...it, bytes: TIERING_MIN_BYTES - 1 }, day(400)), null);
  t.is(dueAccessTier(tiers, { ...it, storageClass: 'STANDARD_IA' as never }, day(400)), null);
});
