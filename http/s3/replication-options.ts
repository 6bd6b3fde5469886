/**
 * The optional parts of a replication rule beyond its filter and destination bucket: a Rule's
 * SourceSelectionCriteria (SseKmsEncryptedObjects, ReplicaModifications) and a Destination's
 * AccessControlTranslation, EncryptionConfiguration, Metrics and ReplicationTime (S3 Replication
 * Time Control). Parsed and checked with AWS's errors, stored, and given back as they were put
 * (GetBucketReplication). Kept apart from replication-config.ts: each element is its own small
 * schema with its own cross-element rules.
 */

import { LIMITS } from '../../engine/limits.js';
import { S3Error } from './errors.js';
import { checkElements, elementOf, optionalText, type XmlNode, type XmlValue } from './xml.js';

export type Toggle = 'Enabled' | 'Disabled';

/** A Rule's SourceSelectionCriteria as stored (each absent when the document leaves it out). */
export interface StoredSourceSelection {
  sseKmsEncryptedObjects?: Toggle;
  replicaModifications?: Toggle;
}

/** A Destination's optional elements as stored. */
export interface StoredDestinationOptions {
  /** AccessControlTranslation/Owner: the only value S3 defines is Destination. */
  ownerOverride?: 'Destination';
  /** EncryptionConfiguration/ReplicaKmsKeyID: the key replicas of SSE-KMS objects are under. */
  replicaKmsKeyId?: string;
  /** Metrics: Status, and EventThreshold/Minutes when given. */
  metrics?: { status: Toggle; eventThresholdMinutes?: number };
  /** ReplicationTime (S3 RTC): Status and Time/Minutes. */
  replicationTime?: { status: Toggle; minutes: number };
}

/** The one value S3 accepts for ReplicationTime/Time and Metrics/EventThreshold Minutes. */
export const RTC_MINUTES = 15;
/** KMS key ids, ARNs and alias ARNs are at most 2048 characters (KMS's KeyId bound). */
const KMS_KEY_ID_CHARS_MAX = 2048;

/** The Status of an element whose other children the caller checked. */
function toggleOf(node: XmlNode): Toggle {
  const status = optionalText(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  return status;
}

function toggleElement(value: XmlValue): Toggle | undefined {
  if (value === undefined) return undefined;
  const node = elementOf(value);
  checkElements(node, ['Status']);
  return toggleOf(node);
}

/** A Rule's SourceSelectionCriteria: at least one of its two elements. */
export function parseSourceSelection(value: XmlValue): StoredSourceSelection | undefined {
  if (value === undefined) return undefined;
  const node = elementOf(value);
  checkElements(node, ['SseKmsEncryptedObjects', 'ReplicaModifications']);
  const sseKms = toggleElement(node['SseKmsEncryptedObjects']);
  const replicas = toggleElement(node['ReplicaModifications']);
  if (sseKms === undefined && replicas === undefined) throw new S3Error('MalformedXML');
  return {
    ...(sseKms !== undefined ? { sseKmsEncryptedObjects: sseKms } : {}),
    ...(replicas !== undefined ? { replicaModifications: replicas } : {}),
  };
}

/** A Destination's optional elements (each checked alone; checkRuleOptions checks them together). */
export function parseDestinationOptions(node: XmlNode): StoredDestinationOptions {
  const out: StoredDestinationOptions = {};
  const translation = node['AccessControlTranslation'];
  if (translation !== undefined) {
    const element = elementOf(translation);
    checkElements(element, ['Owner']);
    if (optionalText(element, 'Owner')?.trim() !== 'Destination') {
      throw new S3Error('MalformedXML');
    }
    out.ownerOverride = 'Destination';
  }
  const encryption = node['EncryptionConfiguration'];
  if (encryption !== undefined) {
    const element = elementOf(encryption);
    checkElements(element, ['ReplicaKmsKeyID']);
    const keyId = optionalText(element, 'ReplicaKmsKeyID')?.trim();
    if (keyId === undefined || keyId === '' || keyId.length > KMS_KEY_ID_CHARS_MAX) {
      throw new S3Error('InvalidArgument', 'Invalid ReplicaKmsKeyID.', {
        ArgumentName: 'ReplicaKmsKeyID',
      });
    }
    out.replicaKmsKeyId = keyId;
  }
  const metrics = node['Metrics'];
  if (metrics !== undefined) out.metrics = parseMetrics(metrics);
  const time = node['ReplicationTime'];
  if (time !== undefined) out.replicationTime = parseReplicationTime(time);
  return out;
}

function parseMetrics(value: XmlValue): NonNullable<StoredDestinationOptions['metrics']> {
  const node = elementOf(value);
  checkElements(node, ['Status', 'EventThreshold']);
  const status = toggleOf(node);
  const threshold = node['EventThreshold'];
  if (threshold === undefined) return { status };
  return { status, eventThresholdMinutes: minutesOf(threshold, 'EventThreshold') };
}

function parseReplicationTime(
  value: XmlValue,
): NonNullable<StoredDestinationOptions['replicationTime']> {
  const node = elementOf(value);
  checkElements(node, ['Status', 'Time']);
  const status = toggleOf(node);
  const time = node['Time'];
  if (time === undefined) throw new S3Error('MalformedXML');
  return { status, minutes: minutesOf(time, 'Time') };
}

/** `<Minutes>15</Minutes>`: the only value S3 Replication Time Control defines. */
function minutesOf(value: XmlValue, element: string): number {
  const node = elementOf(value);
  checkElements(node, ['Minutes']);
  const text = optionalText(node, 'Minutes')?.trim();
  if (text === undefined || !/^-?\d{1,10}$/.test(text)) throw new S3Error('MalformedXML');
  if (Number(text) !== RTC_MINUTES) {
    throw new S3Error('InvalidArgument', `${element} Minutes must be ${RTC_MINUTES}.`, {
      ArgumentName: `${element}.Minutes`,
      ArgumentValue: text,
    });
  }
  return RTC_MINUTES;
}

/**
 * The rules that tie the elements of one rule together, as AWS enforces them:
 * - ReplicaModifications belongs to the V2 schema (a rule with a Filter);
 * - replicating SSE-KMS objects names the key replicas are encrypted with, and that key means
 *   nothing unless SSE-KMS objects are replicated;
 * - AccessControlTranslation needs the destination's Account (the owner it gives replicas to);
 * - ReplicationTime comes with Metrics, and RTC Enabled with Metrics Enabled and its threshold.
 */
export function checkRuleOptions(rule: {
  v2: boolean;
  account?: string;
  selection?: StoredSourceSelection;
  options: StoredDestinationOptions;
}): void {
  const { selection, options } = rule;
  if (selection?.replicaModifications !== undefined && !rule.v2) {
    throw new S3Error(
      'InvalidRequest',
      'ReplicaModifications is only supported in the V2 replication configuration schema (rules with a Filter).',
    );
  }
  const sseKms = selection?.sseKmsEncryptedObjects === 'Enabled';
  if (sseKms && options.replicaKmsKeyId === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.',
    );
  }
  if (!sseKms && options.replicaKmsKeyId !== undefined) {
    throw new S3Error(
      'InvalidRequest',
      'SseKmsEncryptedObjects must be Enabled if EncryptionConfiguration is specified.',
    );
  }
  if (options.ownerOverride !== undefined && (rule.account ?? '') === '') {
    throw new S3Error(
      'InvalidRequest',
      'Account must be specified in the Destination when AccessControlTranslation is specified.',
    );
  }
  checkTimeControl(options);
}

function checkTimeControl(options: StoredDestinationOptions): void {
  const { metrics, replicationTime } = options;
  if (replicationTime !== undefined && metrics === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Metrics must be specified when ReplicationTime is specified.',
    );
  }
  if (replicationTime?.status !== 'Enabled') return;
  if (metrics?.status !== 'Enabled') {
    throw new S3Error('InvalidRequest', 'Metrics must be Enabled when ReplicationTime is Enabled.');
  }
  if (metrics.eventThresholdMinutes === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Metrics EventThreshold must be specified when ReplicationTime is Enabled.',
    );
  }
}

/** The Rule's SourceSelectionCriteria element, or nothing. */
export function sourceSelectionXml(selection: StoredSourceSelection | undefined): XmlNode {
  if (selection === undefined) return {};
  const node: XmlNode = {};
  if (selection.sseKmsEncryptedObjects !== undefined) {
    node['SseKmsEncryptedObjects'] = { Status: selection.sseKmsEncryptedObjects };
  }
  if (selection.replicaModifications !== undefined) {
    node['ReplicaModifications'] = { Status: selection.replicaModifications };
  }
  return { SourceSelectionCriteria: node };
}

/** The Destination's optional elements, in AWS's order. */
export function destinationOptionsXml(options: StoredDestinationOptions): XmlNode {
  const node: XmlNode = {};
  if (options.ownerOverride !== undefined) {
    node['AccessControlTranslation'] = { Owner: options.ownerOverride };
  }
  if (options.replicaKmsKeyId !== undefined) {
    node['EncryptionConfiguration'] = { ReplicaKmsKeyID: options.replicaKmsKeyId };
  }
  if (options.replicationTime !== undefined) {
    node['ReplicationTime'] = {
      Status: options.replicationTime.status,
      Time: { Minutes: String(options.replicationTime.minutes) },
    };
  }
  if (options.metrics !== undefined) {
    node['Metrics'] = {
      Status: options.metrics.status,
      ...(options.metrics.eventThresholdMinutes !== undefined
        ? { EventThreshold: { Minutes: String(options.metrics.eventThresholdMinutes) } }
        : {}),
    };
  }
  return node;
}

/**
 * How long a change may take under S3 RTC before it missed its threshold: the configured 15
 * minutes, or LIMITS.replicationTimeThresholdMs where an operator (or a test) lowers it.
 */
export function rtcThresholdMs(): number {
  return Math.min(RTC_MINUTES * 60_000, LIMITS.replicationTimeThresholdMs);
}
