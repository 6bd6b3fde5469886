import {
  type ConditionContext,
  conditionValuesOf,
  normalizeConditionKey,
} from './condition-keys.js';
import { LITERAL_QUESTION, LITERAL_STAR } from './wildcard.js';

/**
 * Policy variables (Version 2012-10-17 only, as in AWS): `${aws:username}` and any other
 * single-valued condition key in a Resource or a String / Arn condition value is replaced by the
 * request's value; `${key, 'default'}` gives a value for a request without one; `${*}`, `${?}`
 * and `${$}` are a literal `*`, `?` and `$`. A variable the request has no value for (and no
 * default) makes the pattern match nothing, so a home-directory policy never matches anonymous
 * requests.
 */
const VARIABLE = /\$\{([^}]*)\}/g;

/** Whether a pattern uses variables at all (checked once per pattern, at parse). */
export function hasVariables(pattern: string): boolean {
  return pattern.includes('${');
}

/**
 * `pattern` with its variables replaced; undefined when one has no value. For a wildcard match
 * (`forWildcard`) the literal `${*}` and `${?}` become markers wildcardMatch compares as plain
 * characters; for an equality they are the characters themselves.
 */
export function expandVariables(
  pattern: string,
  context: ConditionContext,
  forWildcard: boolean,
): string | undefined {
  let missing = false;
  const expanded = pattern.replace(VARIABLE, (whole, inner: string) => {
    const value = variableValue(inner.trim(), context, forWildcard);
    if (value === undefined) missing = true;
    return value ?? whole;
  });
  return missing ? undefined : expanded;
}

function variableValue(
  inner: string,
  context: ConditionContext,
  forWildcard: boolean,
): string | undefined {
  if (inner === '*') return forWildcard ? LITERAL_STAR : '*';
  if (inner === '?') return forWildcard ? LITERAL_QUESTION : '?';
  if (inner === '$') return '$';
  const withDefault = /^([^,\s]+)\s*,\s*'([^']*)'$/.exec(inner);
  const key = normalizeConditionKey(withDefault?.[1] ?? inner);
  const values = conditionValuesOf(key, context);
  // A variable stands for one value: a multi-valued key has none to give.
  if (values?.length === 1) return values[0];
  return withDefault?.[2];
}
