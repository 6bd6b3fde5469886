import type { RequestFacts } from '../facts.js';
import type { Principal } from '../principal.js';
import type { ConditionContext } from './condition-keys.js';
import { conditionsHold } from './conditions.js';
import type { PolicyDocument, PolicyStatement } from './document.js';
import { principalIn } from './principals.js';
import { expandVariables } from './variables.js';
import { wildcardMatch } from './wildcard.js';

export { isPublicPolicy, isPublicStoredPolicy } from './public.js';

/** What a bucket policy says of one request: an explicit Deny, an Allow, or nothing. */
export type PolicyVerdict = 'deny' | 'allow' | 'none';

export interface PolicyQuery {
  readonly principal: Principal;
  /** The IAM action, e.g. "s3:GetObject". */
  readonly action: string;
  /** The resource ARN: `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`. */
  readonly resource: string;
  readonly facts: RequestFacts;
}

/**
 * AWS's evaluation of one policy: a matching Deny statement wins over everything; otherwise a
 * matching Allow allows; otherwise the policy says nothing (and other grants decide). A
 * statement matches when its principal, action, resource and every condition do. `document`
 * is the parsed form PutBucketPolicy stored (parse.ts).
 */
export function evaluatePolicy(document: unknown, query: PolicyQuery): PolicyVerdict {
  const { statements } = document as PolicyDocument;
  const action = query.action.toLowerCase();
  let allowed = false;
  for (const statement of statements) {
    // Once allowed, only a Deny can still change the verdict: skip the other Allows.
    if (allowed && statement.effect === 'Allow') continue;
    if (!statementMatches(statement, query, action)) continue;
    if (statement.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

function statementMatches(statement: PolicyStatement, query: PolicyQuery, action: string): boolean {
  if (statement.principal !== undefined && !principalIn(statement.principal, query.principal)) {
    return false;
  }
  if (
    statement.notPrincipal !== undefined &&
    principalIn(statement.notPrincipal, query.principal)
  ) {
    return false;
  }
  if (!listMatches(statement.action, statement.notAction, action)) return false;
  const context: ConditionContext = { principal: query.principal, action, facts: query.facts };
  const resources = statement.resourceVariables ? expandResources(statement, context) : statement;
  if (resources === undefined) return false;
  if (!listMatches(resources.resource, resources.notResource, query.resource)) return false;
  if (statement.conditions.length === 0) return true;
  return conditionsHold(statement.conditions, context);
}

/**
 * Resource patterns with their variables replaced. A Resource pattern whose variable has no
 * value matches nothing; a NotResource one could exclude anything, so the statement then
 * matches nothing (undefined) rather than everything.
 */
function expandResources(
  statement: PolicyStatement,
  context: ConditionContext,
): Pick<PolicyStatement, 'resource' | 'notResource'> | undefined {
  if (statement.resource !== undefined) {
    const resource = statement.resource.flatMap(
      (pattern) => expandVariables(pattern, context, true) ?? [],
    );
    return { resource };
  }
  const notResource: string[] = [];
  for (const pattern of statement.notResource ?? []) {
    const expanded = expandVariables(pattern, context, true);
    if (expanded === undefined) return undefined;
    notResource.push(expanded);
  }
  return { notResource };
}

/** Action / NotAction, Resource / NotResource: one of the patterns matches, or none does. */
function listMatches(
  patterns: readonly string[] | undefined,
  notPatterns: readonly string[] | undefined,
  value: string,
): boolean {
  if (patterns !== undefined) return patterns.some((pattern) => wildcardMatch(pattern, value));
  if (notPatterns !== undefined)
    return !notPatterns.some((pattern) => wildcardMatch(pattern, value));
  return false;
}
