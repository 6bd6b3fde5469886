import type { OperatorFamily } from './document.js';
import { cachedIpRange, ipInRange, parseIp } from './ip.js';
import { wildcardMatch } from './wildcard.js';

/**
 * The condition operators: each one's family and its positive comparison of one request value
 * with one policy value. A "Not" operator keeps its positive counterpart's comparison; the
 * evaluation negates the outcome over the whole value set (conditions.ts), as AWS does.
 */
export interface Operator {
  readonly family: OperatorFamily;
  readonly negated: boolean;
  readonly compare: (requestValue: string, policyValue: string) => boolean;
}

const stringEquals = (a: string, b: string): boolean => a === b;
const ignoringCase = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const like = (a: string, b: string): boolean => wildcardMatch(b, a);

/**
 * The Arn operators compare an ARN's six components (arn:partition:service:region:account:
 * resource) one by one, each with its own wildcards, as AWS does: a `*` never reaches across a
 * colon into the next component (`arn:aws:iam::*` does not match an s3 ARN's account), while
 * the resource, the rest after the fifth colon, may hold colons of its own. A value that is no
 * ARN (fewer than six components) matches nothing.
 */
export function arnLike(requestValue: string, policyValue: string): boolean {
  const value = arnComponents(requestValue);
  const pattern = arnComponents(policyValue);
  if (value === undefined || pattern === undefined) return false;
  return pattern.every((part, i) => wildcardMatch(part, value[i] ?? ''));
}

const ARN_COMPONENTS = 6;

function arnComponents(arn: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  while (parts.length < ARN_COMPONENTS - 1) {
    const colon = arn.indexOf(':', start);
    if (colon === -1) return undefined;
    parts.push(arn.slice(start, colon));
    start = colon + 1;
  }
  parts.push(arn.slice(start));
  return parts;
}

/** An ordering test on values read by `parse` (numbers, dates); an unreadable one fails it. */
const ordered =
  (parse: (text: string) => number | undefined) =>
  (test: (a: number, b: number) => boolean) =>
  (a: string, b: string): boolean => {
    const left = parse(a);
    const right = parse(b);
    return left !== undefined && right !== undefined && test(left, right);
  };

const numeric = ordered((text) => parseNumber(text));
const dated = ordered((text) => parseDate(text));

const inRange = (a: string, b: string): boolean => {
  const address = parseIp(a);
  const range = cachedIpRange(b);
  return address !== undefined && range !== undefined && ipInRange(address, range);
};

const eq = (a: number, b: number): boolean => a === b;
const lt = (a: number, b: number): boolean => a < b;
const le = (a: number, b: number): boolean => a <= b;
const gt = (a: number, b: number): boolean => a > b;
const ge = (a: number, b: number): boolean => a >= b;

const op = (family: OperatorFamily, compare: Operator['compare'], negated = false): Operator => ({
  family,
  compare,
  negated,
});

export const OPERATORS: Readonly<Record<string, Operator>> = {
  StringEquals: op('String', stringEquals),
  StringNotEquals: op('String', stringEquals, true),
  StringEqualsIgnoreCase: op('String', ignoringCase),
  StringNotEqualsIgnoreCase: op('String', ignoringCase, true),
  StringLike: op('String', like),
  StringNotLike: op('String', like, true),
  NumericEquals: op('Numeric', numeric(eq)),
  NumericNotEquals: op('Numeric', numeric(eq), true),
  NumericLessThan: op('Numeric', numeric(lt)),
  NumericLessThanEquals: op('Numeric', numeric(le)),
  NumericGreaterThan: op('Numeric', numeric(gt)),
  NumericGreaterThanEquals: op('Numeric', numeric(ge)),
  DateEquals: op('Date', dated(eq)),
  DateNotEquals: op('Date', dated(eq), true),
  DateLessThan: op('Date', dated(lt)),
  DateLessThanEquals: op('Date', dated(le)),
  DateGreaterThan: op('Date', dated(gt)),
  DateGreaterThanEquals: op('Date', dated(ge)),
  Bool: op('Bool', ignoringCase),
  IpAddress: op('Ip', inRange),
  NotIpAddress: op('Ip', inRange, true),
  // AWS's ArnEquals takes wildcards too: the two differ in name only.
  ArnEquals: op('Arn', arnLike),
  ArnLike: op('Arn', arnLike),
  ArnNotEquals: op('Arn', arnLike, true),
  ArnNotLike: op('Arn', arnLike, true),
  // Null compares presence, not values (conditions.ts).
  Null: op('Null', ignoringCase),
};

/** The canonical spelling of an operator name written in any case. */
const BY_LOWER_NAME = new Map(Object.keys(OPERATORS).map((name) => [name.toLowerCase(), name]));

export function operatorNamed(name: string): string | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

/** A decimal number as IAM writes them ("10", "-2.5"); undefined for anything else. */
export function parseNumber(text: string): number | undefined {
  if (!/^-?\d{1,30}(\.\d{1,30})?$/.test(text)) return undefined;
  return Number(text);
}

/** An ISO 8601 date-time or epoch seconds, as milliseconds; undefined when neither. */
export function parseDate(text: string): number | undefined {
  if (/^\d{1,12}$/.test(text)) return Number(text) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
