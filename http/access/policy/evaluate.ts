import type { RequestFacts } from '../facts.js';
import type { Principal } from '../principal.js';

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

/** PLACEHOLDER until the policy language lands: no statement matches. */
export function evaluatePolicy(_document: unknown, _query: PolicyQuery): PolicyVerdict {
  return 'none';
}

/** PLACEHOLDER: whether a policy grants anyone outside the account (AWS's "public" test). */
export function isPublicPolicy(_document: unknown): boolean {
  return false;
}
