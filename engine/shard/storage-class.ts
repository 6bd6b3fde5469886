import { assert } from '../assert.js';
import { DEFAULT_STORAGE_CLASS, isStorageClass, type StorageClass } from '../storage-classes.js';

/**
 * A write's storage class as its record stores it: absent for STANDARD (records written before
 * classes existed are STANDARD too, so the default costs no bytes). The HTTP side validated the
 * name; a shard asserts it, as a bad name would be shown back to clients.
 */
export function storageClassField(name: string | undefined): { storageClass?: StorageClass } {
  if (name === undefined || name === DEFAULT_STORAGE_CLASS) return {};
  assert(isStorageClass(name), 'storage classes are validated by the HTTP side');
  return { storageClass: name };
}
