import type { StoredPolicy } from '../../../engine/catalog/access.js';
import {
  EVERYONE,
  type PolicyCondition,
  type PolicyDocument,
  type PolicyStatement,
} from './document.js';
import { parseIpRange } from './ip.js';
import { hasWildcard } from './wildcard.js';

/**
 * AWS's "The meaning of public" for a bucket policy: public when some Allow statement grants
 * everyone (Principal "*", or NotPrincipal, which grants all but a few) and no condition pins
 * it to fixed values of a key that only known parties have: a set of CIDRs in aws:SourceIp, or
 * a fixed aws:SourceArn, SourceVpc(e), SourceOwner, SourceAccount, aws:userid, principal
 * account or ARN, or KMS key id. A fixed value has no wildcard. hangar does not single out
 * AWS's "bad actions" (almost every S3 action is one): any action counts.
 */
export function isPublicPolicy(document: unknown): boolean {
  return (document as PolicyDocument).statements.some(isPublicStatement);
}

/** Verdicts on stored policies that predate StoredPolicy.isPublic: each judged once. */
const judgedBefore = new WeakMap<StoredPolicy, boolean>();

/** Whether a stored policy is public: as judged when it was put, else judged now, once. */
export function isPublicStoredPolicy(policy: StoredPolicy): boolean {
  if (policy.isPublic !== undefined) return policy.isPublic;
  let verdict = judgedBefore.get(policy);
  if (verdict === undefined) {
    verdict = isPublicPolicy(policy.document);
    judgedBefore.set(policy, verdict);
  }
  return verdict;
}

function isPublicStatement(statement: PolicyStatement): boolean {
  if (statement.effect !== 'Allow') return false;
  const everyone =
    statement.notPrincipal !== undefined || statement.principal?.tokens.includes(EVERYONE) === true;
  return everyone && !statement.conditions.some(restrictsToKnownParties);
}

const FIXED_VALUE_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  'aws:userid',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:principalorgid',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);

const POSITIVE_MATCHES = new Set([
  'StringEquals',
  'StringEqualsIgnoreCase',
  'StringLike',
  'ArnEquals',
  'ArnLike',
]);

/** A condition that holds only for requests from the named parties. */
function restrictsToKnownParties(condition: PolicyCondition): boolean {
  // IfExists and ForAllValues hold when the key is absent: they pin nothing.
  if (condition.ifExists || condition.set === 'ForAllValues' || condition.negated) return false;
  if (condition.key === 'aws:sourceip' && condition.family === 'Ip') {
    return condition.values.every((value) => (parseIpRange(value)?.prefixBits ?? 0) > 0);
  }
  if (!FIXED_VALUE_KEYS.has(condition.key) || !POSITIVE_MATCHES.has(condition.base)) return false;
  return condition.values.every((value) => !hasWildcard(value));
}
