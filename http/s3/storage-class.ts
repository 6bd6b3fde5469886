import type { RestoreState } from '../../engine/protocol/messages.js';
import { restoreHeaderValue } from '../../engine/restore.js';
import {
  DEFAULT_STORAGE_CLASS,
  isArchiveClass,
  isStorageClass,
} from '../../engine/storage-classes.js';
import { S3Error } from './errors.js';

/**
 * A write's storage class (x-amz-storage-class, or PostObject's field of that name), validated
 * against AWS's names: unknown answers 400 InvalidStorageClass, as AWS. Absent when not given
 * (the object is STANDARD); STANDARD itself travels as given and is stored as absent.
 */
export function storageClassFrom(value: string | undefined): { storageClass?: string } {
  if (value === undefined) return {};
  if (!isStorageClass(value)) throw new S3Error('InvalidStorageClass');
  return { storageClass: value };
}

/** The class a record or entry shows (absent: STANDARD). */
export function shownStorageClass(storageClass: string | undefined): string {
  return storageClass ?? DEFAULT_STORAGE_CLASS;
}

/** HEAD / GET's x-amz-storage-class: only for classes other than STANDARD, as AWS. */
export function storageClassHeader(storageClass: string | undefined): Array<[string, string]> {
  return storageClass === undefined || storageClass === DEFAULT_STORAGE_CLASS
    ? []
    : [['x-amz-storage-class', storageClass]];
}

/** Whether a version of this class must be restored before its bytes are read. */
export function isArchived(storageClass: string | undefined): boolean {
  return storageClass !== undefined && isArchiveClass(storageClass);
}

/** Whether reads of a version of this class are tracked (intelligent tiering's access days). */
export function isTiered(storageClass: string | undefined): boolean {
  return storageClass === 'INTELLIGENT_TIERING';
}

/** HEAD's x-amz-archive-status: an INTELLIGENT_TIERING version in an archive access tier. */
export function archiveStatusHeader(accessTier: string | undefined): Array<[string, string]> {
  return accessTier === undefined ? [] : [['x-amz-archive-status', accessTier]];
}

/** HEAD / GET's x-amz-restore (absent: never restored, or the restore expired). */
export function restoreHeader(
  restore: RestoreState | undefined,
  nowMs: number,
): Array<[string, string]> {
  const value = restoreHeaderValue(restore, nowMs);
  return value === undefined ? [] : [['x-amz-restore', value]];
}

/**
 * x-amz-optional-object-attributes (ListObjects v1/v2, ListObjectVersions): whether entries
 * show RestoreStatus, its one value. Anything else is InvalidArgument.
 */
export function wantsRestoreStatus(header: string | undefined): boolean {
  if (header === undefined) return false;
  const names = header.split(',').map((name) => name.trim());
  for (const name of names) {
    if (name !== 'RestoreStatus') {
      throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
        ArgumentName: 'x-amz-optional-object-attributes',
        ArgumentValue: header,
      });
    }
  }
  return true;
}

/** A listed entry's <RestoreStatus> ('' when never restored, or the restore expired). */
export function restoreStatusXml(restore: RestoreState | undefined, nowMs: number): string {
  if (restore === undefined) return '';
  if (restore.expiryMs === null) {
    return '<RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus>';
  }
  if (restore.expiryMs <= nowMs) return '';
  return `<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress><RestoreExpiryDate>${new Date(restore.expiryMs).toISOString()}</RestoreExpiryDate></RestoreStatus>`;
}
