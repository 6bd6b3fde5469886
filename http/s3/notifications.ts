import { randomUUID } from 'node:crypto';
import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import { mergedTargets, type SourcedTarget } from '../../engine/catalog/notify-targets.js';
import { LIMITS } from '../../engine/limits.js';
import { EVENT_TYPES, eventTypeCovers } from '../../engine/notify/events.js';
import { type TargetElement, targetNamed } from '../../engine/notify/targets.js';
import type {
  NotifyContext,
  NotifyRule,
  OutboxMessage,
  ReplicationRule,
} from '../../engine/protocol/messages.js';
import type { Principal } from '../access/principal.js';
import { bucketOwnerId } from '../access/principal.js';
import type { RequestContext, ServerState } from './context.js';
import { S3Error } from './errors.js';
import { replicationRulesOf } from './replication-config.js';
import { checkElements, parseXml, texts, type XmlNode, type XmlValue } from './xml.js';

/**
 * A bucket's notification configuration (kind 'notification' in the catalog): AWS's Topic, Queue
 * and CloudFunction configurations, each already in the shape the shards match (NotifyRule) plus
 * what GetBucketNotificationConfiguration gives back. EventBridgeConfiguration is accepted and
 * remembered, but hangar sends nothing to EventBridge.
 */
export interface StoredNotification {
  rules: StoredRule[];
  eventBridge: boolean;
}

export interface StoredRule extends NotifyRule {
  element: TargetElement;
  arn: string;
}

const ELEMENTS: readonly TargetElement[] = [
  'TopicConfiguration',
  'QueueConfiguration',
  'CloudFunctionConfiguration',
];

/** The element naming each configuration's ARN. */
export const ARN_ELEMENT: Record<TargetElement, string> = {
  TopicConfiguration: 'Topic',
  QueueConfiguration: 'Queue',
  CloudFunctionConfiguration: 'CloudFunction',
};

/** Bounds of one document (AWS's). */
const ID_CHARS_MAX = 255;
const FILTER_CHARS_MAX = 1024;

/**
 * Parses and validates a NotificationConfiguration against the operator's targets: schema
 * violations are MalformedXML; unknown events, unknown destinations and overlapping
 * configurations are InvalidArgument with AWS's messages.
 */
export function parseNotificationConfiguration(
  xml: string,
  region: string,
  targets: Parameters<typeof targetNamed>[3],
): StoredNotification {
  const doc = parseXml(xml, 'NotificationConfiguration');
  checkElements(doc, new Set([...ELEMENTS, 'EventBridgeConfiguration']));
  const rules: StoredRule[] = [];
  for (const element of ELEMENTS) {
    for (const node of nodes(doc[element])) rules.push(parseRule(element, node));
  }
  if (rules.length > LIMITS.notifyRulesMax) throw new S3Error('MalformedXML');
  const unknown = rules.filter((rule) => {
    const target = targetNamed(rule.arn, rule.element, region, targets);
    if (target !== null) rule.targets = [target.name];
    return target === null;
  });
  if (unknown.length > 0) {
    throw new S3Error(
      'InvalidArgument',
      `Unable to validate the following destination configurations: ${unknown.map((rule) => rule.arn).join(', ')}`,
    );
  }
  checkOverlaps(rules);
  assignIds(rules);
  return { rules, eventBridge: doc['EventBridgeConfiguration'] !== undefined };
}

function nodes(value: XmlValue): XmlNode[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'object' || Array.isArray(item)) throw new S3Error('MalformedXML');
    return item;
  });
}

function parseRule(element: TargetElement, node: XmlNode): StoredRule {
  const arnElement = ARN_ELEMENT[element];
  checkElements(node, new Set(['Id', arnElement, 'Event', 'Filter']));
  const id = single(node['Id']) ?? '';
  const arn = single(node[arnElement]);
  const events = texts(node['Event']).map((event) => event.trim());
  if (arn === undefined || events.length === 0 || id.length > ID_CHARS_MAX) {
    throw new S3Error('MalformedXML');
  }
  for (const event of events) {
    if (!EVENT_TYPES.includes(event)) {
      throw new S3Error('InvalidArgument', 'The event is not supported for notifications');
    }
  }
  const { prefix, suffix } = parseFilter(node['Filter']);
  return { id, element, arn: arn.trim(), events, prefix, suffix, targets: [] };
}

/** Filter/S3Key/FilterRule: at most one prefix and one suffix rule. */
function parseFilter(value: XmlValue): { prefix: string; suffix: string } {
  const filter = { prefix: '', suffix: '' };
  const [node, extra] = nodes(value);
  if (node === undefined) return filter;
  if (extra !== undefined) throw new S3Error('MalformedXML');
  checkElements(node, new Set(['S3Key']));
  const [key, extraKey] = nodes(node['S3Key']);
  if (key === undefined || extraKey !== undefined) throw new S3Error('MalformedXML');
  checkElements(key, new Set(['FilterRule']));
  const seen = new Set<string>();
  for (const rule of nodes(key['FilterRule'])) {
    checkElements(rule, new Set(['Name', 'Value']));
    const name = (single(rule['Name']) ?? '').trim().toLowerCase();
    const filterValue = single(rule['Value']) ?? '';
    if (name !== 'prefix' && name !== 'suffix') {
      throw new S3Error('InvalidArgument', 'filter rule name must be either prefix or suffix');
    }
    if (seen.has(name)) {
      throw new S3Error(
        'InvalidArgument',
        'Cannot specify more than one prefix rule in a filter.'.replace('prefix', name),
      );
    }
    if (filterValue.length > FILTER_CHARS_MAX) {
      throw new S3Error('InvalidArgument', 'The filter value is too long.');
    }
    seen.add(name);
    filter[name] = filterValue;
  }
  return filter;
}

/**
 * AWS refuses two configurations that could both fire for one event: a shared event type (a
 * wildcard covers its members) with prefixes and suffixes that can both match one key.
 */
function checkOverlaps(rules: readonly StoredRule[]): void {
  for (const [index, a] of rules.entries()) {
    for (const b of rules.slice(index + 1)) {
      const sharedEvent = a.events.some((x) =>
        b.events.some((y) => eventTypeCovers(x, y.slice(3)) || eventTypeCovers(y, x.slice(3))),
      );
      const prefixes = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
      const suffixes = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
      if (sharedEvent && prefixes && suffixes) {
        throw new S3Error(
          'InvalidArgument',
          'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
        );
      }
    }
  }
}

/** AWS names a configuration without an Id; ids must be unique within the document. */
function assignIds(rules: StoredRule[]): void {
  const ids = new Set<string>();
  for (const [index, rule] of rules.entries()) {
    if (rule.id === '') rule.id = `notification-${index + 1}`;
    if (ids.has(rule.id)) {
      throw new S3Error('InvalidArgument', 'Configuration Ids must be unique.');
    }
    ids.add(rule.id);
  }
}

/** The document GetBucketNotificationConfiguration answers. */
export function notificationXml(stored: StoredNotification | undefined): XmlNode {
  const body: XmlNode = {};
  for (const element of ELEMENTS) {
    const rules = (stored?.rules ?? []).filter((rule) => rule.element === element);
    if (rules.length === 0) continue;
    body[element] = rules.map((rule) => ({
      Id: rule.id,
      [ARN_ELEMENT[element]]: rule.arn,
      Event: rule.events,
      ...filterXml(rule),
    }));
  }
  if (stored?.eventBridge === true) body['EventBridgeConfiguration'] = {};
  return body;
}

function filterXml(rule: StoredRule): XmlNode {
  const filterRules: XmlNode[] = [];
  if (rule.prefix !== '') filterRules.push({ Name: 'Prefix', Value: rule.prefix });
  if (rule.suffix !== '') filterRules.push({ Name: 'Suffix', Value: rule.suffix });
  return filterRules.length === 0 ? {} : { Filter: { S3Key: { FilterRule: filterRules } } };
}

/**
 * AWS's s3:TestEvent, one per target the new configuration names that the previous one did not
 * (a target already configured was tested when it was added).
 */
export function testEventMessages(
  before: StoredNotification | undefined,
  after: StoredNotification,
  bucketName: string,
  requestId: string,
  nowMs: number,
): OutboxMessage[] {
  const known = new Set((before?.rules ?? []).flatMap((rule) => rule.targets));
  const added = new Set(after.rules.flatMap((rule) => rule.targets).filter((t) => !known.has(t)));
  const body = JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date(nowMs).toISOString(),
    Bucket: bucketName,
    RequestId: requestId,
    HostId: requestId,
  });
  return [...added].map((target) => ({ target, body }));
}

/** Every target a configuration may name now: the config file's, then the admin API's. */
export function notifyTargetsOf(state: ServerState): SourcedTarget[] {
  return mergedTargets(state.config.notify.targets, state.catalog.notifyTargets.list());
}

/** Who made a change, as event records tell it. */
export interface Requester {
  principal: Principal;
  sourceIp: string;
  requestId: string;
}

/**
 * What a change sends its shard so the commit records the bucket's events, or undefined when the
 * bucket has no notification configuration: one cached lookup, and nothing on the wire.
 */
export function notifyContextFor(
  state: ServerState,
  bucket: BucketRecord,
  requester: () => Requester,
  via?: NotifyContext['via'],
): NotifyContext | undefined {
  const replication = replicationRulesOf(state.catalog, bucket);
  return contextOf(state.catalog, bucket, state.config.s3.region, replication, () => {
    const { principal, sourceIp, requestId } = requester();
    const principalId = principal.kind === 'key' ? principal.canonicalId : 'Anonymous';
    return { principalId, sourceIp, requestId, ...(via !== undefined ? { via } : {}) };
  });
}

/**
 * The context of a bucket's lifecycle expirations (no request: AWS names the service as the
 * principal), or undefined when the bucket has no notification configuration.
 */
export function lifecycleNotifyContext(
  catalog: Catalog,
  bucket: BucketRecord,
  region: string,
): NotifyContext | undefined {
  return contextOf(catalog, bucket, region, undefined, () => ({
    principalId: 'AmazonS3',
    sourceIp: '',
    requestId: randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase(),
  }));
}

/** Who caused an event, as the context carries it. */
type Cause = Pick<NotifyContext, 'principalId' | 'sourceIp' | 'requestId' | 'via'>;

/** The one builder of a NotifyContext: the bucket's rules, names and owner, then the cause. */
function contextOf(
  catalog: Catalog,
  bucket: BucketRecord,
  region: string,
  /** The bucket's replication rules (writes by requests only: expirations replicate nothing). */
  replication: ReplicationRule[] | undefined,
  cause: () => Cause,
): NotifyContext | undefined {
  const stored = catalog.getBucketConfig<StoredNotification>(bucket, 'notification');
  const notified = stored !== undefined && stored.rules.length > 0;
  if (!notified && replication === undefined) return undefined;
  return {
    rules: stored?.rules ?? [],
    ...(replication !== undefined ? { replication } : {}),
    bucketName: bucket.name,
    region,
    ownerId: bucketOwnerId(bucket),
    ...cause(),
  };
}

/** `{ notify }` for a shard request's spread, or nothing. */
export function notifyField(
  ctx: RequestContext,
  bucket: BucketRecord,
  via?: NotifyContext['via'],
): { notify?: NotifyContext } {
  const notify = notifyContextFor(
    ctx.state,
    bucket,
    () => ({ principal: ctx.principal, sourceIp: ctx.facts.sourceIp(), requestId: ctx.requestId }),
    via,
  );
  return notify === undefined ? {} : { notify };
}

function single(value: XmlValue): string | undefined {
  const list = texts(value);
  if (list.length > 1) throw new S3Error('MalformedXML');
  return list[0];
}
