/**
 * Lifecycle Transition and NoncurrentVersionTransition actions: their parsing and AWS's checks,
 * their place in GetBucketLifecycleConfiguration, what the shards apply, and the bucket's
 * `x-amz-transition-default-minimum-object-size` (AWS's 2024 default: objects under 128 KiB
 * are not transitioned unless the rule filters on size itself).
 */

import type { Catalog } from '../../engine/catalog/catalog.js';
import type { LifecycleTransition, NoncurrentTransition } from '../../engine/protocol/messages.js';
import {
  CLASS_WATERFALL,
  isStorageClass,
  type StorageClass,
  TRANSITION_STORAGE_CLASSES,
} from '../../engine/storage-classes.js';
import { S3Error } from './errors.js';
import { checkElements, elementOf, optionalText, type XmlNode, type XmlValue } from './xml.js';

export interface StoredTransition {
  days?: number;
  /** A midnight UTC, as an ISO string. */
  date?: string;
  storageClass: StorageClass;
}

export interface StoredNoncurrentTransition {
  days: number;
  newerVersions?: number;
  storageClass: StorageClass;
}

/** What a rule's transitions are checked against (the rest of the rule). */
export interface TransitionContext {
  /** The rule's filter as AWS's messages name it: `(prefix=logs/)`. */
  label: string;
  expirationDays?: number;
  expirationDate?: string;
  noncurrentExpirationDays?: number;
}

/** Classes whose objects AWS keeps at least 30 days before (and after) a transition to them. */
const INFREQUENT_ACCESS: ReadonlySet<string> = new Set(['STANDARD_IA', 'ONEZONE_IA']);
const IA_MIN_DAYS = 30;
const DAYS_MAX = 2147483647;

/** The Transition elements of a rule, checked together as AWS checks them. */
export function parseTransitions(
  value: XmlValue,
  context: TransitionContext,
  parseDate: (text: string) => string,
): StoredTransition[] {
  const transitions = listOf(value).map((node) => parseTransition(node, parseDate));
  const byDays = transitions.filter((t) => t.days !== undefined).length;
  if (byDays !== 0 && byDays !== transitions.length) {
    throw new S3Error(
      'InvalidRequest',
      `Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for filter '${context.label}'`,
    );
  }
  checkDistinctClasses(transitions, 'Transition', context.label);
  const ordered = [...transitions].sort((a, b) => whenOf(a) - whenOf(b));
  checkWaterfall(ordered, whenOf, 'Days', 'Transition', context.label);
  for (const transition of transitions) checkBeforeExpiration(transition, context);
  return transitions;
}

export function parseNoncurrentTransitions(
  value: XmlValue,
  context: TransitionContext,
  newerVersionsMax: number,
): StoredNoncurrentTransition[] {
  const transitions = listOf(value).map((node) =>
    parseNoncurrentTransition(node, newerVersionsMax),
  );
  checkDistinctClasses(transitions, 'NoncurrentVersionTransition', context.label);
  const ordered = [...transitions].sort((a, b) => a.days - b.days);
  checkWaterfall(
    ordered,
    (t) => t.days,
    'NoncurrentDays',
    'NoncurrentVersionTransition',
    context.label,
  );
  const expiration = context.noncurrentExpirationDays;
  if (expiration !== undefined && transitions.some((t) => t.days >= expiration)) {
    throw new S3Error(
      'InvalidArgument',
      `'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '${context.label}' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action`,
    );
  }
  return transitions;
}

function listOf(value: XmlValue): XmlNode[] {
  return (Array.isArray(value) ? value : [value]).map(elementOf);
}

function parseTransition(node: XmlNode, parseDate: (text: string) => string): StoredTransition {
  checkElements(node, ['Days', 'Date', 'StorageClass']);
  const days = optionalText(node, 'Days');
  const date = optionalText(node, 'Date');
  if ((days === undefined) === (date === undefined)) throw new S3Error('MalformedXML');
  const storageClass = transitionClassOf(node);
  if (date !== undefined) return { date: parseDate(date), storageClass };
  const count = daysOf(days ?? '', "'Days' in Transition action must be nonnegative");
  checkIaMinimum(count, storageClass, 'Days', 'Transition');
  return { days: count, storageClass };
}

function parseNoncurrentTransition(
  node: XmlNode,
  newerVersionsMax: number,
): StoredNoncurrentTransition {
  checkElements(node, ['NoncurrentDays', 'NewerNoncurrentVersions', 'StorageClass']);
  const text = optionalText(node, 'NoncurrentDays');
  if (text === undefined) throw new S3Error('MalformedXML');
  const storageClass = transitionClassOf(node);
  const days = daysOf(
    text,
    "'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative",
  );
  checkIaMinimum(days, storageClass, 'NoncurrentDays', 'NoncurrentVersionTransition');
  const out: StoredNoncurrentTransition = { days, storageClass };
  const newer = optionalText(node, 'NewerNoncurrentVersions');
  if (newer !== undefined) {
    const count = daysOf(newer, 'NewerNoncurrentVersions must be a positive integer');
    if (count === 0) {
      throw new S3Error('InvalidArgument', 'NewerNoncurrentVersions must be a positive integer');
    }
    if (count > newerVersionsMax) {
      throw new S3Error(
        'InvalidArgument',
        `NewerNoncurrentVersions cannot be greater than ${newerVersionsMax}`,
      );
    }
    out.newerVersions = count;
  }
  return out;
}

/** An unknown class name is a malformed document; a known one no transition may name is not. */
function transitionClassOf(node: XmlNode): StorageClass {
  const name = optionalText(node, 'StorageClass');
  if (name === undefined || !isStorageClass(name)) throw new S3Error('MalformedXML');
  if (!TRANSITION_STORAGE_CLASSES.has(name)) throw new S3Error('InvalidStorageClass');
  return name;
}

function daysOf(text: string, message: string): number {
  const trimmed = text.trim();
  if (!/^-?\d{1,10}$/.test(trimmed)) throw new S3Error('MalformedXML');
  const days = Number(trimmed);
  if (days < 0 || days > DAYS_MAX) throw new S3Error('InvalidArgument', message);
  return days;
}

function checkIaMinimum(days: number, storageClass: string, field: string, action: string): void {
  if (INFREQUENT_ACCESS.has(storageClass) && days < IA_MIN_DAYS) {
    throw new S3Error(
      'InvalidArgument',
      `'${field}' in ${action} action must be greater than or equal to ${IA_MIN_DAYS} for storageClass '${storageClass}'`,
    );
  }
}

function checkDistinctClasses(
  transitions: ReadonlyArray<{ storageClass: string }>,
  action: string,
  label: string,
): void {
  const classes = new Set(transitions.map((t) => t.storageClass));
  if (classes.size !== transitions.length) {
    throw new S3Error(
      'InvalidRequest',
      `'StorageClass' must be different for '${action}' actions in same 'Rule' with filter '${label}'`,
    );
  }
}

/**
 * Transitions in time order must go down AWS's waterfall, each strictly later than the one
 * before, and 30 days after a move to an infrequent-access class (its minimum storage).
 */
function checkWaterfall<T extends { storageClass: StorageClass }>(
  ordered: readonly T[],
  when: (t: T) => number,
  field: string,
  action: string,
  label: string,
): void {
  for (let i = 1; i < ordered.length; i++) {
    const before = ordered[i - 1] as T;
    const after = ordered[i] as T;
    const colder =
      CLASS_WATERFALL.indexOf(after.storageClass) > CLASS_WATERFALL.indexOf(before.storageClass);
    if (!colder || when(after) === when(before)) {
      throw new S3Error(
        'InvalidArgument',
        `'${field}' in the ${action} action for StorageClass '${after.storageClass}' for filter '${label}' must be greater than '${field}' in the ${action} action for StorageClass '${before.storageClass}'`,
      );
    }
    if (INFREQUENT_ACCESS.has(before.storageClass) && when(after) - when(before) < IA_MIN_DAYS) {
      throw new S3Error(
        'InvalidArgument',
        `'${field}' in the ${action} action for StorageClass '${after.storageClass}' for filter '${label}' must be ${IA_MIN_DAYS} days more than '${field}' in the ${action} action for StorageClass '${before.storageClass}'`,
      );
    }
  }
}

/** Days, or (for date-based transitions) the date in days since the epoch, for ordering. */
function whenOf(transition: StoredTransition): number {
  if (transition.days !== undefined) return transition.days;
  return Date.parse(transition.date ?? '') / 86_400_000;
}

function checkBeforeExpiration(transition: StoredTransition, context: TransitionContext): void {
  if (
    transition.days !== undefined &&
    context.expirationDays !== undefined &&
    context.expirationDays <= transition.days
  ) {
    throw new S3Error(
      'InvalidArgument',
      `'Days' in the Expiration action for filter '${context.label}' must be greater than 'Days' in the Transition action`,
    );
  }
  if (
    transition.date !== undefined &&
    context.expirationDate !== undefined &&
    Date.parse(context.expirationDate) <= Date.parse(transition.date)
  ) {
    throw new S3Error(
      'InvalidArgument',
      `'Date' in the Expiration action for filter '${context.label}' must be later than 'Date' in the Transition action`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** The `Transition` elements of a Rule in GetBucketLifecycleConfiguration. */
export function transitionsXml(transitions: readonly StoredTransition[]): XmlNode[] {
  return transitions.map((t) => ({ Date: t.date, Days: t.days, StorageClass: t.storageClass }));
}

export function noncurrentTransitionsXml(
  transitions: readonly StoredNoncurrentTransition[],
): XmlNode[] {
  return transitions.map((t) => ({
    NoncurrentDays: t.days,
    StorageClass: t.storageClass,
    NewerNoncurrentVersions: t.newerVersions,
  }));
}

// ---------------------------------------------------------------------------------------------

/** The header that chooses (on Put) and tells (on Put and Get) the minimum size policy. */
export const MINIMUM_SIZE_HEADER = 'x-amz-transition-default-minimum-object-size';

export type TransitionMinimumSize = 'all_storage_classes_128K' | 'varies_by_storage_class';

export const DEFAULT_MINIMUM_SIZE: TransitionMinimumSize = 'all_storage_classes_128K';

/** Objects under this are not transitioned by default (AWS, since September 2024). */
const MINIMUM_TRANSITION_BYTES = 128 * 1024;

/** Classes `varies_by_storage_class` lets take objects of any size. */
const ANY_SIZE_UNDER_VARIES: ReadonlySet<string> = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** Stored in the catalog (kind 'lifecycle-options') beside the rules. */
export interface LifecycleOptions {
  minimumSize: TransitionMinimumSize;
}

/** The header's value on a Put (absent: AWS's default); anything else is InvalidRequest. */
export function parseMinimumSize(header: string | undefined): TransitionMinimumSize {
  if (header === undefined || header === '') return DEFAULT_MINIMUM_SIZE;
  if (header === 'all_storage_classes_128K' || header === 'varies_by_storage_class') return header;
  throw new S3Error(
    'InvalidRequest',
    `Invalid value for ${MINIMUM_SIZE_HEADER}: expected all_storage_classes_128K or varies_by_storage_class`,
  );
}

export function lifecycleOptionsOf(catalog: Catalog, bucketId: string): LifecycleOptions {
  return (
    catalog.getBucketConfig<LifecycleOptions>(bucketId, 'lifecycle-options') ?? {
      minimumSize: DEFAULT_MINIMUM_SIZE,
    }
  );
}

/**
 * The smallest object a transition to `storageClass` takes. A rule that filters on size
 * itself decides alone, as in AWS: its ObjectSizeGreaterThan/LessThan override the default.
 */
function minBytesOf(
  storageClass: string,
  filtersOnSize: boolean,
  options: LifecycleOptions,
): number {
  if (filtersOnSize) return 0;
  if (
    options.minimumSize === 'varies_by_storage_class' &&
    ANY_SIZE_UNDER_VARIES.has(storageClass)
  ) {
    return 0;
  }
  return MINIMUM_TRANSITION_BYTES;
}

/** A rule's transitions as the shards apply them. */
export function engineTransitions(
  rule: {
    transitions?: readonly StoredTransition[];
    noncurrentTransitions?: readonly StoredNoncurrentTransition[];
  },
  filtersOnSize: boolean,
  options: LifecycleOptions,
): { transitions?: LifecycleTransition[]; noncurrentTransitions?: NoncurrentTransition[] } {
  const out: {
    transitions?: LifecycleTransition[];
    noncurrentTransitions?: NoncurrentTransition[];
  } = {};
  if (rule.transitions !== undefined) {
    out.transitions = rule.transitions.map((t) => ({
      days: t.days ?? null,
      dateMs: t.date === undefined ? null : Date.parse(t.date),
      storageClass: t.storageClass,
      minBytes: minBytesOf(t.storageClass, filtersOnSize, options),
    }));
  }
  if (rule.noncurrentTransitions !== undefined) {
    out.noncurrentTransitions = rule.noncurrentTransitions.map((t) => ({
      days: t.days,
      ...(t.newerVersions !== undefined ? { newerVersions: t.newerVersions } : {}),
      storageClass: t.storageClass,
      minBytes: minBytesOf(t.storageClass, filtersOnSize, options),
    }));
  }
  return out;
}
