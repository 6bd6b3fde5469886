import type { PolicyStatement } from './document.js';
import { malformed } from './parse-condition.js';
import { hasWildcard } from './wildcard.js';

/**
 * AWS refuses a statement whose actions cannot apply to its resources ("Action does not apply
 * to any resource(s) in statement"): s3:GetObject with only `arn:aws:s3:::bucket`, or
 * s3:ListBucket with only `arn:aws:s3:::bucket/*`. A wildcard action or resource, NotAction
 * and NotResource may apply to both kinds, so they are not judged.
 */
export function requireApplicableActions(statement: PolicyStatement): void {
  const { action, resource } = statement;
  if (action === undefined || resource === undefined) return;
  const kinds = new Set(resource.flatMap(resourceKinds));
  for (const name of action) {
    if (hasWildcard(name)) continue;
    if (!kinds.has(actionKind(name))) {
      throw malformed('Action does not apply to any resource(s) in statement');
    }
  }
}

type ResourceKind = 'bucket' | 'object';

function resourceKinds(arn: string): ResourceKind[] {
  if (arn.includes('/')) return ['object'];
  return hasWildcard(arn) ? ['bucket', 'object'] : ['bucket'];
}

/** Object-level S3 actions that do not say so in their names. */
const OTHER_OBJECT_ACTIONS = new Set([
  's3:abortmultipartupload',
  's3:listmultipartuploadparts',
  's3:bypassgovernanceretention',
  's3:objectowneroverridetobucketowner',
  's3:replicatedelete',
  's3:replicatetags',
  's3:initiatereplication',
]);

/** Whether an action (lower-cased, no wildcard) acts on objects or on the bucket. */
function actionKind(action: string): ResourceKind {
  if (/^s3:(get|put|delete|restore|replicate)object/.test(action)) return 'object';
  return OTHER_OBJECT_ACTIONS.has(action) ? 'object' : 'bucket';
}
