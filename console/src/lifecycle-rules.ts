// The lifecycle form's model: a rule as the form holds it (text fields), the SDK's
// LifecycleRule it sends and reads back, the XML PutBucketLifecycleConfiguration stores, and
// which rule and field an S3 refusal is about. The form does not edit transitions: a rule's
// Transition and NoncurrentVersionTransition actions (set through the S3 API) are kept as they
// are, so that saving the form never drops them.
import type { LifecycleRule, LifecycleRuleFilter, Tag } from '@aws-sdk/client-s3';
import { lines, type XmlElement, xmlDocument, xmlElement, xmlOptional } from './config-form.js';

export type ExpirationKind = 'none' | 'days' | 'date' | 'marker';

export interface LifecycleForm {
  id: string;
  status: 'Enabled' | 'Disabled';
  prefix: string;
  /** `key=value`, one a line. */
  tags: string;
  sizeGreaterThan: string;
  sizeLessThan: string;
  expiration: ExpirationKind;
  expirationDays: string;
  /** YYYY-MM-DD (midnight UTC, as S3 requires). */
  expirationDate: string;
  noncurrentDays: string;
  newerVersions: string;
  abortDays: string;
  /** The rule's transitions, carried through unedited (absent: none). */
  transitions?: Pick<LifecycleRule, 'Transitions' | 'NoncurrentVersionTransitions'>;
}

export const EMPTY_RULE: LifecycleForm = {
  id: '',
  status: 'Enabled',
  prefix: '',
  tags: '',
  sizeGreaterThan: '',
  sizeLessThan: '',
  expiration: 'days',
  expirationDays: '30',
  expirationDate: '',
  noncurrentDays: '',
  newerVersions: '',
  abortDays: '',
};

/** A number field's value as sent: S3 judges it (a typo reaches S3 as text it refuses). */
function numberOf(text: string): number | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : Number(trimmed);
}

function tagsOf(text: string): Tag[] {
  return lines(text).map((line) => {
    const at = line.indexOf('=');
    return at < 0
      ? { Key: line, Value: '' }
      : { Key: line.slice(0, at), Value: line.slice(at + 1) };
  });
}

/** One condition as it is; several under And (S3 takes a single condition bare, or And). */
function filterOf(form: LifecycleForm): LifecycleRuleFilter {
  const prefix = form.prefix === '' ? undefined : form.prefix;
  const tags = tagsOf(form.tags);
  const greater = numberOf(form.sizeGreaterThan);
  const less = numberOf(form.sizeLessThan);
  const count =
    (prefix === undefined ? 0 : 1) +
    tags.length +
    (greater === undefined ? 0 : 1) +
    (less === undefined ? 0 : 1);
  if (count === 0) return { Prefix: '' };
  if (count > 1) {
    return {
      And: {
        ...(prefix === undefined ? {} : { Prefix: prefix }),
        ...(tags.length === 0 ? {} : { Tags: tags }),
        ...(greater === undefined ? {} : { ObjectSizeGreaterThan: greater }),
        ...(less === undefined ? {} : { ObjectSizeLessThan: less }),
      },
    };
  }
  if (prefix !== undefined) return { Prefix: prefix };
  if (tags[0] !== undefined) return { Tag: tags[0] };
  return greater !== undefined ? { ObjectSizeGreaterThan: greater } : { ObjectSizeLessThan: less };
}

function expirationOf(form: LifecycleForm): LifecycleRule['Expiration'] {
  switch (form.expiration) {
    case 'none':
      return undefined;
    case 'days':
      return { Days: numberOf(form.expirationDays) ?? 0 };
    case 'date':
      return { Date: new Date(`${form.expirationDate}T00:00:00Z`) };
    case 'marker':
      return { ExpiredObjectDeleteMarker: true };
  }
}

/** A date the form cannot send at all (the SDK cannot write an invalid one): checked here. */
export function unsendableDate(form: LifecycleForm): boolean {
  return form.expiration === 'date' && Number.isNaN(Date.parse(`${form.expirationDate}T00:00:00Z`));
}

export function toRule(form: LifecycleForm): LifecycleRule {
  const noncurrent = numberOf(form.noncurrentDays);
  const newer = numberOf(form.newerVersions);
  const abort = numberOf(form.abortDays);
  const expiration = unsendableDate(form) ? undefined : expirationOf(form);
  return {
    ...(form.id.trim() === '' ? {} : { ID: form.id.trim() }),
    Status: form.status,
    Filter: filterOf(form),
    ...(expiration === undefined ? {} : { Expiration: expiration }),
    ...(noncurrent === undefined && newer === undefined
      ? {}
      : {
          NoncurrentVersionExpiration: {
            ...(noncurrent === undefined ? {} : { NoncurrentDays: noncurrent }),
            ...(newer === undefined ? {} : { NewerNoncurrentVersions: newer }),
          },
        }),
    ...(abort === undefined
      ? {}
      : { AbortIncompleteMultipartUpload: { DaysAfterInitiation: abort } }),
    ...form.transitions,
  };
}

/** The transitions of a rule as read, to carry through the form (undefined: none). */
function transitionsOf(rule: LifecycleRule): LifecycleForm['transitions'] {
  const kept = {
    ...(rule.Transitions?.length ? { Transitions: rule.Transitions } : {}),
    ...(rule.NoncurrentVersionTransitions?.length
      ? { NoncurrentVersionTransitions: rule.NoncurrentVersionTransitions }
      : {}),
  };
  return Object.keys(kept).length === 0 ? undefined : kept;
}

const text = (value: number | undefined) => (value === undefined ? '' : String(value));

export function toForm(rule: LifecycleRule): LifecycleForm {
  const filter = rule.Filter ?? {};
  const and = filter.And;
  const tags = and?.Tags ?? (filter.Tag === undefined ? [] : [filter.Tag]);
  const expiration = rule.Expiration;
  return {
    id: rule.ID ?? '',
    status: rule.Status === 'Disabled' ? 'Disabled' : 'Enabled',
    prefix: and?.Prefix ?? filter.Prefix ?? rule.Prefix ?? '',
    tags: tags.map((tag) => `${tag.Key ?? ''}=${tag.Value ?? ''}`).join('\n'),
    sizeGreaterThan: text(and?.ObjectSizeGreaterThan ?? filter.ObjectSizeGreaterThan),
    sizeLessThan: text(and?.ObjectSizeLessThan ?? filter.ObjectSizeLessThan),
    expiration:
      expiration?.Days !== undefined
        ? 'days'
        : expiration?.Date !== undefined
          ? 'date'
          : expiration?.ExpiredObjectDeleteMarker === true
            ? 'marker'
            : 'none',
    expirationDays: text(expiration?.Days),
    expirationDate: expiration?.Date?.toISOString().slice(0, 10) ?? '',
    noncurrentDays: text(rule.NoncurrentVersionExpiration?.NoncurrentDays),
    newerVersions: text(rule.NoncurrentVersionExpiration?.NewerNoncurrentVersions),
    abortDays: text(rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation),
    ...(transitionsOf(rule) === undefined ? {} : { transitions: transitionsOf(rule) }),
  };
}

function tagXml(tag: Tag): XmlElement {
  return xmlElement('Tag', [
    xmlElement('Key', tag.Key ?? ''),
    xmlElement('Value', tag.Value ?? ''),
  ]);
}

function filterXml(filter: LifecycleRuleFilter): XmlElement {
  const and = filter.And;
  if (and !== undefined) {
    return xmlElement('Filter', [
      xmlElement('And', [
        xmlOptional('Prefix', and.Prefix),
        ...(and.Tags ?? []).map(tagXml),
        xmlOptional('ObjectSizeGreaterThan', and.ObjectSizeGreaterThan),
        xmlOptional('ObjectSizeLessThan', and.ObjectSizeLessThan),
      ]),
    ]);
  }
  return xmlElement('Filter', [
    xmlOptional('Prefix', filter.Prefix),
    filter.Tag === undefined ? null : tagXml(filter.Tag),
    xmlOptional('ObjectSizeGreaterThan', filter.ObjectSizeGreaterThan),
    xmlOptional('ObjectSizeLessThan', filter.ObjectSizeLessThan),
  ]);
}

/** The document PutBucketLifecycleConfiguration sends for `rules`. */
export function lifecycleXml(rules: readonly LifecycleRule[]): string {
  return xmlDocument(
    xmlElement(
      'LifecycleConfiguration',
      rules.map((rule) =>
        xmlElement('Rule', [
          xmlOptional('ID', rule.ID),
          rule.Filter === undefined ? null : filterXml(rule.Filter),
          xmlElement('Status', rule.Status ?? ''),
          ...(rule.Transitions ?? []).map((transition) =>
            xmlElement('Transition', [
              xmlOptional('Date', transition.Date?.toISOString()),
              xmlOptional('Days', transition.Days),
              xmlOptional('StorageClass', transition.StorageClass),
            ]),
          ),
          ...(rule.NoncurrentVersionTransitions ?? []).map((transition) =>
            xmlElement('NoncurrentVersionTransition', [
              xmlOptional('NoncurrentDays', transition.NoncurrentDays),
              xmlOptional('StorageClass', transition.StorageClass),
              xmlOptional('NewerNoncurrentVersions', transition.NewerNoncurrentVersions),
            ]),
          ),
          rule.Expiration === undefined
            ? null
            : xmlElement('Expiration', [
                xmlOptional('Days', rule.Expiration.Days),
                xmlOptional('Date', rule.Expiration.Date?.toISOString()),
                xmlOptional('ExpiredObjectDeleteMarker', rule.Expiration.ExpiredObjectDeleteMarker),
              ]),
          rule.NoncurrentVersionExpiration === undefined
            ? null
            : xmlElement('NoncurrentVersionExpiration', [
                xmlOptional('NoncurrentDays', rule.NoncurrentVersionExpiration.NoncurrentDays),
                xmlOptional(
                  'NewerNoncurrentVersions',
                  rule.NoncurrentVersionExpiration.NewerNoncurrentVersions,
                ),
              ]),
          rule.AbortIncompleteMultipartUpload === undefined
            ? null
            : xmlElement('AbortIncompleteMultipartUpload', [
                xmlOptional(
                  'DaysAfterInitiation',
                  rule.AbortIncompleteMultipartUpload.DaysAfterInitiation,
                ),
              ]),
        ]),
      ),
    ),
  );
}

export type LifecycleField = keyof LifecycleForm | 'actions';

/** The field S3's message names, by the element it quotes; null: it names none. */
function fieldOf(message: string): LifecycleField | null {
  const fields: Array<[RegExp, LifecycleField]> = [
    [/^'Days' for Expiration|ExpiredObjectDeleteMarker cannot/, 'expiration'],
    [/'Date'|^Date /, 'expirationDate'],
    [/NoncurrentDays/, 'noncurrentDays'],
    [/NewerNoncurrentVersions/, 'newerVersions'],
    [/AbortIncompleteMultipartUpload|DaysAfterInitiation/, 'abortDays'],
    [/ObjectSize/, 'sizeGreaterThan'],
    [/\bID\b/, 'id'],
    [/Tag/, 'tags'],
    [/At least one action/, 'actions'],
  ];
  return fields.find(([pattern]) => pattern.test(message))?.[1] ?? null;
}

const positive = (value: string) => /^\s*[1-9]\d*\s*$/.test(value);

/** Whether `form` is a rule S3's message about `field` can mean (the first such is blamed). */
function suspect(
  form: LifecycleForm,
  field: LifecycleField,
  message: string,
  index: number,
  all: LifecycleForm[],
) {
  switch (field) {
    case 'expiration':
      return form.expiration === 'days'
        ? !positive(form.expirationDays)
        : form.expiration === 'marker' && form.tags.trim() !== '';
    case 'expirationDate':
      return form.expiration === 'date';
    case 'noncurrentDays':
      return (
        !positive(form.noncurrentDays) && (form.noncurrentDays !== '' || form.newerVersions !== '')
      );
    case 'newerVersions':
      return form.newerVersions !== '';
    case 'abortDays':
      // "cannot be specified with Tags" / "with an object size filter": a rule that has them.
      if (/with Tags/.test(message)) return form.abortDays !== '' && form.tags.trim() !== '';
      if (/object size/.test(message)) {
        return form.abortDays !== '' && (form.sizeGreaterThan !== '' || form.sizeLessThan !== '');
      }
      return form.abortDays !== '' && !positive(form.abortDays);
    case 'sizeGreaterThan':
      return form.sizeGreaterThan !== '' || form.sizeLessThan !== '';
    case 'id':
      return (
        all.findIndex((other) => other.id.trim() === form.id.trim()) !== index ||
        form.id.length > 255
      );
    case 'tags':
      return form.tags.trim() !== '';
    case 'actions':
      return (
        form.expiration === 'none' &&
        form.noncurrentDays === '' &&
        form.abortDays === '' &&
        form.transitions === undefined
      );
    default:
      return false;
  }
}

/** Where S3's refusal shows: the field it names in the first rule that can be meant. */
export function placeLifecycleProblem(
  rules: LifecycleForm[],
  message: string,
): { entry: number; field: string } {
  const field = fieldOf(message);
  if (field === null) return { entry: -1, field: 'form' };
  const entry = rules.findIndex((rule, index) => suspect(rule, field, message, index, rules));
  return { entry: Math.max(0, entry), field };
}
