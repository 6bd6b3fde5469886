import { S3Error } from '../../s3/errors.js';

/** PLACEHOLDER: the parsed, validated form of a bucket policy (the policy language lands here). */
export interface PolicyDocument {
  readonly version: string;
  readonly statements: readonly unknown[];
}

/** PLACEHOLDER: validates a policy document as AWS does (MalformedPolicy with AWS's messages). */
export function parsePolicy(_text: string): PolicyDocument {
  throw new S3Error('NotImplemented', 'Bucket policies are not implemented yet.');
}
