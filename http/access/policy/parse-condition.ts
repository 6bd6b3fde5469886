import { S3Error } from '../../s3/errors.js';
import { isKnownConditionKey, normalizeConditionKey } from './condition-keys.js';
import type { PolicyCondition } from './document.js';
import { parseIpRange } from './ip.js';
import { OPERATORS, operatorNamed, parseDate, parseNumber } from './operators.js';
import { hasVariables } from './variables.js';

/** MalformedPolicy with `message` (every fault of a policy is one, as on AWS). */
export function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A statement's Condition element: `{ operator: { key: value or [values] } }`, each operator
 * possibly prefixed ForAnyValue: / ForAllValues: and suffixed IfExists.
 */
export function parseConditionBlock(block: unknown, variablesAllowed: boolean): PolicyCondition[] {
  if (!isPlainObject(block)) throw malformed('Condition must be an object');
  const conditions: PolicyCondition[] = [];
  for (const [operatorText, keys] of Object.entries(block)) {
    const shape = parseOperator(operatorText);
    if (!isPlainObject(keys) || Object.keys(keys).length === 0) {
      throw malformed(`Invalid Condition type : ${operatorText}`);
    }
    for (const [rawKey, rawValues] of Object.entries(keys)) {
      const key = normalizeConditionKey(rawKey);
      if (!isKnownConditionKey(key)) throw malformed('Policy has an invalid condition key');
      const values = conditionValues(rawValues, shape.base);
      const variables =
        variablesAllowed &&
        (shape.family === 'String' || shape.family === 'Arn') &&
        values.some(hasVariables);
      conditions.push({
        ...shape,
        operator: operatorText,
        key,
        values,
        ...(variables ? { variables: true } : {}),
      });
    }
  }
  return conditions;
}

type OperatorShape = Omit<PolicyCondition, 'operator' | 'key' | 'values'>;

function parseOperator(text: string): OperatorShape {
  const invalid = () => malformed(`Invalid Condition type : ${text}`);
  let rest = text;
  let set: PolicyCondition['set'] = null;
  const colon = rest.indexOf(':');
  if (colon !== -1) {
    const prefix = rest.slice(0, colon).toLowerCase();
    if (prefix === 'foranyvalue') set = 'ForAnyValue';
    else if (prefix === 'forallvalues') set = 'ForAllValues';
    else throw invalid();
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    rest = rest.slice(0, -'ifexists'.length);
  }
  const base = operatorNamed(rest);
  const operator = base === undefined ? undefined : OPERATORS[base];
  if (base === undefined || operator === undefined) throw invalid();
  // Null asks about presence itself: neither IfExists nor a set prefix means anything to it.
  if (operator.family === 'Null' && (ifExists || set !== null)) throw invalid();
  return { base, family: operator.family, negated: operator.negated, ifExists, set };
}

/** A key's values: a string, number or boolean, or an array of them; checked per family. */
function conditionValues(raw: unknown, base: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const values = list.map((value) => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw malformed(`Invalid value in Conditions for operator ${base}`);
  });
  if (values.length === 0) throw malformed(`Invalid value in Conditions for operator ${base}`);
  const family = OPERATORS[base]?.family;
  for (const value of values) {
    if (family === 'Ip' && parseIpRange(value) === undefined) {
      throw malformed('Invalid IP address in Conditions');
    }
    const fits =
      family === 'Numeric'
        ? parseNumber(value) !== undefined
        : family === 'Date'
          ? parseDate(value) !== undefined
          : family === 'Bool' || family === 'Null'
            ? /^(true|false)$/i.test(value)
            : true;
    if (!fits) throw malformed(`Invalid value in Conditions for operator ${base}`);
  }
  return values;
}
