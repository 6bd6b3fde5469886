/**
 * The parsed, validated form of a bucket policy, as the catalog stores it beside the text
 * (cbor-encoded plain objects: no RegExp, Map or class instance). Everything the evaluation
 * would otherwise redo per request is done once at PutBucketPolicy: actions are lower-cased,
 * principals reduced to tokens, condition operators split into their parts, keys lower-cased.
 */
export interface PolicyDocument {
  /** "2012-10-17" or "2008-10-17" (AWS's default when the policy names none). */
  readonly version: string;
  readonly id?: string;
  readonly statements: readonly PolicyStatement[];
}

export type Effect = 'Allow' | 'Deny';

export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: Effect;
  /** Exactly one of principal / notPrincipal is set. */
  readonly principal?: PrincipalSet;
  readonly notPrincipal?: PrincipalSet;
  /** Exactly one of action / notAction: lower-cased patterns ("s3:get*"). */
  readonly action?: readonly string[];
  readonly notAction?: readonly string[];
  /** Exactly one of resource / notResource: ARN patterns, case kept. */
  readonly resource?: readonly string[];
  readonly notResource?: readonly string[];
  readonly conditions: readonly PolicyCondition[];
  /** Its Resource / NotResource patterns use policy variables (variables.ts). */
  readonly resourceVariables?: true;
}

/**
 * Who a Principal names, as tokens: "*" (everyone, anonymous included), "account" (every key
 * of hangar's one account), "user:<access key id>", "canonical:<canonical id>", or
 * "foreign:<text>" for principals hangar has not got (other accounts, roles, services): kept so
 * that the policy reads back as written, matching nobody.
 */
export interface PrincipalSet {
  readonly tokens: readonly string[];
}

export const EVERYONE = '*';
export const ACCOUNT = 'account';

/** The operator families, by how they compare a request value with a policy value. */
export type OperatorFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Ip' | 'Arn' | 'Null';

export interface PolicyCondition {
  /** The operator as written, for messages and isPublicPolicy (e.g. "StringEqualsIfExists"). */
  readonly operator: string;
  /** The operator without set prefix or IfExists (e.g. "StringEquals"). */
  readonly base: string;
  readonly family: OperatorFamily;
  /** A "Not" operator (StringNotEquals, NotIpAddress, ArnNotLike, ...). */
  readonly negated: boolean;
  readonly ifExists: boolean;
  readonly set: 'ForAnyValue' | 'ForAllValues' | null;
  /** The key lower-cased, except a tag key's own part (s3:existingobjecttag/Team). */
  readonly key: string;
  readonly values: readonly string[];
  /** Its values use policy variables (String and Arn operators, Version 2012-10-17). */
  readonly variables?: true;
}
