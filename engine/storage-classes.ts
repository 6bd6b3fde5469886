/**
 * S3 storage classes as hangar tiers (issue 18). Every class name AWS accepts on a write is
 * accepted here; each is a tier whose blocks live on the directories the operator maps it to
 * (config `[storage_class.NAME]`), or on the default data directories when it is not mapped.
 *
 * Archive classes are AWS's "restore first" classes: a GET of an object stored in one answers
 * 403 InvalidObjectState until a RestoreObject makes a temporary readable copy.
 */

/** The class names AWS accepts in `x-amz-storage-class` (the API reference's StorageClass). */
export const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
] as const;

export type StorageClass = (typeof STORAGE_CLASSES)[number];

/** The class of an object written without `x-amz-storage-class`. */
export const DEFAULT_STORAGE_CLASS: StorageClass = 'STANDARD';

/** Classes whose objects must be restored before a GET (GLACIER_IR is read directly). */
export const ARCHIVE_STORAGE_CLASSES: ReadonlySet<StorageClass> = new Set([
  'GLACIER',
  'DEEP_ARCHIVE',
]);

/** Classes a lifecycle Transition or NoncurrentVersionTransition may name (AWS's list). */
export const TRANSITION_STORAGE_CLASSES: ReadonlySet<StorageClass> = new Set([
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
]);

/**
 * AWS's lifecycle waterfall, warmest first: a transition only ever moves an object down it
 * (classes not listed, such as OUTPOSTS, are never transitioned).
 */
export const CLASS_WATERFALL: readonly StorageClass[] = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'INTELLIGENT_TIERING',
  'ONEZONE_IA',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
];

/** Intelligent tiering's opt-in archive tiers (an IntelligentTieringConfiguration's AccessTier). */
export const ACCESS_TIERS = ['ARCHIVE_ACCESS', 'DEEP_ARCHIVE_ACCESS'] as const;
export type AccessTier = (typeof ACCESS_TIERS)[number];

export function isStorageClass(name: string): name is StorageClass {
  return (STORAGE_CLASSES as readonly string[]).includes(name);
}

export function isArchiveClass(name: string): boolean {
  return ARCHIVE_STORAGE_CLASSES.has(name as StorageClass);
}
