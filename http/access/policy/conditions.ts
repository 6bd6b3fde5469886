import { assert } from '../../../engine/assert.js';
import { type ConditionContext, conditionValuesOf } from './condition-keys.js';
import type { PolicyCondition } from './document.js';
import { OPERATORS } from './operators.js';
import { expandVariables } from './variables.js';

/**
 * Whether a statement's conditions hold for a request: every operator, every key of it (AND),
 * any value of a key (OR), AWS's rules for absent keys and multi-valued keys.
 */
export function conditionsHold(
  conditions: readonly PolicyCondition[],
  context: ConditionContext,
): boolean {
  for (const condition of conditions) if (!conditionHolds(condition, context)) return false;
  return true;
}

function conditionHolds(condition: PolicyCondition, context: ConditionContext): boolean {
  const requestValues = conditionValuesOf(condition.key, context);
  const present = requestValues !== undefined && requestValues.length > 0;
  if (condition.family === 'Null') {
    // "Null": "true" asks the key be absent, "false" that it be there.
    return condition.values.some((value) => (value.toLowerCase() === 'true') !== present);
  }
  if (!present) return absentKeyOutcome(condition);
  const operator = OPERATORS[condition.base];
  assert(operator !== undefined, `a stored condition has an unknown operator ${condition.base}`);
  const compare = operator.compare;
  const policyValues = condition.variables ? expandedValues(condition, context) : condition.values;
  const matchesAny = (requestValue: string): boolean =>
    policyValues.some((policyValue) => compare(requestValue, policyValue));
  // A negated operator asks that a request value match none of the policy's values.
  const holdsFor = condition.negated
    ? (requestValue: string) => !matchesAny(requestValue)
    : matchesAny;
  switch (condition.set) {
    case 'ForAllValues':
      return requestValues.every(holdsFor);
    case 'ForAnyValue':
      return requestValues.some(holdsFor);
    case null:
      return condition.negated ? requestValues.every(holdsFor) : requestValues.some(holdsFor);
  }
}

/** The values with their variables replaced; a value naming an absent variable is dropped. */
function expandedValues(condition: PolicyCondition, context: ConditionContext): string[] {
  const forWildcard = condition.base.includes('Like') || condition.family === 'Arn';
  return condition.values.flatMap((value) => expandVariables(value, context, forWildcard) ?? []);
}

/**
 * A key the request lacks: ...IfExists holds; ForAllValues holds (vacuously) and ForAnyValue
 * does not; otherwise a negated operator holds (nothing matched) and a positive one does not.
 */
function absentKeyOutcome(condition: PolicyCondition): boolean {
  if (condition.ifExists) return true;
  if (condition.set === 'ForAllValues') return true;
  if (condition.set === 'ForAnyValue') return false;
  return condition.negated;
}
