/**
 * The restore rules on their own: AWS's expiry rounding, x-amz-restore's two forms, which
 * versions may be read, and how the access log names RestoreObject.
 */
import test from 'ava';
import { isUnreadableArchive, restoreExpiryMs, restoreHeaderValue } from '../../engine/restore.js';
import { operationOf } from '../../http/access-log/record.js';

const at = (iso: string): number => Date.parse(iso);

test('the expiry is completion + Days, rounded up to the next midnight UTC', (t) => {
  t.is(restoreExpiryMs(at('2012-12-20T10:00:00Z'), 2), at('2012-12-23T00:00:00Z'));
  // Exactly midnight still moves to the next one (AWS rounds "to the next day midnight").
  t.is(restoreExpiryMs(at('2012-12-20T00:00:00Z'), 1), at('2012-12-22T00:00:00Z'));
  t.is(restoreExpiryMs(at('2012-12-31T23:59:59.999Z'), 1), at('2013-01-02T00:00:00Z'));
  t.throws(() => restoreExpiryMs(0, 0));
});

test('x-amz-restore: ongoing, then the expiry date; nothing once expired', (t) => {
  const expiryMs = at('2012-12-23T00:00:00Z');
  const done = { expiryMs, tier: 'Standard' as const, days: 2, requestedMs: 0 };
  t.is(restoreHeaderValue(undefined, 0), undefined);
  t.is(restoreHeaderValue({ ...done, expiryMs: null }, 0), 'ongoing-request="true"');
  t.is(
    restoreHeaderValue(done, expiryMs - 1),
    'ongoing-request="false", expiry-date="Sun, 23 Dec 2012 00:00:00 GMT"',
  );
  t.is(restoreHeaderValue(done, expiryMs), undefined);
});

test('only unrestored archive classes are unreadable', (t) => {
  const restore = { expiryMs: 1000, tier: 'Bulk' as const, days: 1, requestedMs: 0 };
  t.false(isUnreadableArchive({}, 0));
  t.false(isUnreadableArchive({ storageClass: 'GLACIER_IR' }, 0));
  t.false(isUnreadableArchive({ storageClass: 'STANDARD_IA' }, 0));
  t.true(isUnreadableArchive({ storageClass: 'GLACIER' }, 0));
  t.true(
    isUnreadableArchive(
      { storageClass: 'DEEP_ARCHIVE', restore: { ...restore, expiryMs: null } },
      0,
    ),
  );
  t.false(isUnreadableArchive({ storageClass: 'DEEP_ARCHIVE', restore }, 999));
  t.true(isUnreadableArchive({ storageClass: 'DEEP_ARCHIVE', restore }, 1000));
});

test('the access log names RestoreObject REST.POST.RESTORE, as AWS', (t) => {
  t.is(operationOf('RestoreObject', 'POST', 'k'), 'REST.POST.RESTORE');
});
