import { LIMITS } from '../../../engine/limits.js';
import { requireApplicableActions } from './applicability.js';
import type { Effect, PolicyDocument, PolicyStatement } from './document.js';
import { isKnownS3Action } from './known-actions.js';
import { isPlainObject, malformed, parseConditionBlock } from './parse-condition.js';
import { parsePrincipal } from './principals.js';
import { hasVariables } from './variables.js';
import { hasWildcard, wildcardMatch } from './wildcard.js';

export type { PolicyDocument } from './document.js';

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const DOCUMENT_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/**
 * Validates a bucket policy as AWS does and returns its parsed form; MalformedPolicy with
 * AWS's messages otherwise. `bucketNames` (the bucket's names) makes a Resource that names
 * another bucket invalid, as on AWS; without it only the ARN's form is checked.
 */
export function parsePolicy(text: string, bucketNames?: readonly string[]): PolicyDocument {
  if (Buffer.byteLength(text, 'utf8') > LIMITS.bucketPolicyBytesMax) {
    throw malformed('Policy exceeds the maximum allowed document size.');
  }
  if (!text.trimStart().startsWith('{')) {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('This policy contains invalid Json');
  }
  if (!isPlainObject(json)) {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  return parseDocument(json, bucketNames);
}

function parseDocument(
  json: Record<string, unknown>,
  bucketNames: readonly string[] | undefined,
): PolicyDocument {
  for (const field of Object.keys(json)) {
    if (!DOCUMENT_FIELDS.has(field)) throw malformed(`Unknown field ${field}`);
  }
  // AWS's default for a policy without Version: the 2008 language (no policy variables).
  const version = 'Version' in json ? json.Version : '2008-10-17';
  if (typeof version !== 'string' || !VERSIONS.has(version)) {
    throw malformed('The policy must contain a valid version string');
  }
  const id = json.Id;
  if (id !== undefined && typeof id !== 'string') throw malformed('Id must be a string');
  const raw = json.Statement;
  if (raw === undefined) throw malformed('Missing required field Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw malformed('Could not parse the policy: Statement is empty!');
  // Policy variables came with the 2012-10-17 language; older policies mean `${` literally.
  const variablesAllowed = version === '2012-10-17';
  const statements = list.map((statement) =>
    parseStatement(statement, bucketNames, variablesAllowed),
  );
  const sids = statements.flatMap((statement) => statement.sid ?? []);
  if (new Set(sids).size !== sids.length) {
    throw malformed('Statement IDs (SID) in a single policy must be unique');
  }
  return { version, ...(id === undefined ? {} : { id }), statements };
}

function parseStatement(
  raw: unknown,
  bucketNames: readonly string[] | undefined,
  variablesAllowed: boolean,
): PolicyStatement {
  if (!isPlainObject(raw)) throw malformed('Statement must be an object');
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) throw malformed(`Unknown field ${field}`);
  }
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string') throw malformed('Sid must be a string');
  const effect = parseEffect(raw.Effect);
  const principal = oneOf(raw, 'Principal', 'NotPrincipal');
  const action = oneOf(raw, 'Action', 'NotAction');
  const resource = oneOf(raw, 'Resource', 'NotResource');
  const actions = patternList(action.value, 'Policy has invalid action').map(validAction);
  const resources = patternList(resource.value, 'Policy has invalid resource').map((arn) =>
    validResource(arn, bucketNames),
  );
  const conditions =
    raw.Condition === undefined ? [] : parseConditionBlock(raw.Condition, variablesAllowed);
  const who = parsePrincipal(principal.value);
  const statement: PolicyStatement = {
    ...(sid === undefined ? {} : { sid }),
    effect,
    ...(principal.negated ? { notPrincipal: who } : { principal: who }),
    ...(action.negated ? { notAction: actions } : { action: actions }),
    ...(resource.negated ? { notResource: resources } : { resource: resources }),
    conditions,
    ...(variablesAllowed && resources.some(hasVariables) ? { resourceVariables: true } : {}),
  };
  requireApplicableActions(statement);
  return statement;
}

function parseEffect(raw: unknown): Effect {
  if (raw === undefined) throw malformed('Missing required field Effect');
  if (raw !== 'Allow' && raw !== 'Deny') throw malformed(`Invalid effect: ${String(raw)}`);
  return raw;
}

/** An element and its Not form: exactly one of the two. */
function oneOf(
  raw: Record<string, unknown>,
  name: string,
  notName: string,
): { value: unknown; negated: boolean } {
  const value = raw[name];
  const notValue = raw[notName];
  if (value === undefined && notValue === undefined) {
    throw malformed(`Missing required field ${name}`);
  }
  if (value !== undefined && notValue !== undefined) {
    throw malformed(`A statement cannot have both ${name} and ${notName}`);
  }
  return value === undefined ? { value: notValue, negated: true } : { value, negated: false };
}

function patternList(raw: unknown, message: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw malformed(message);
  return list.map((item) => {
    if (typeof item !== 'string' || item.length === 0) throw malformed(message);
    return item;
  });
}

/**
 * `*`, an s3 action that exists ("s3:GetObject"), or an s3 pattern ("s3:Get*"); stored
 * lower-cased. As on AWS, a pattern is taken as written even when it matches no action today
 * (new actions come), but a plain name must exist; another service's actions are refused, a
 * bucket policy governing only s3.
 */
function validAction(action: string): string {
  if (action === '*') return action;
  if (!/^s3:[A-Za-z0-9*?]{1,128}$/i.test(action)) throw malformed('Policy has invalid action');
  const lower = action.toLowerCase();
  if (!hasWildcard(lower) && !isKnownS3Action(lower)) {
    throw malformed('Policy has invalid action');
  }
  return lower;
}

const S3_ARN_PREFIX = 'arn:aws:s3:::';

/** An S3 ARN (`arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key*`) that can name this bucket. */
function validResource(arn: string, bucketNames: readonly string[] | undefined): string {
  if (!arn.startsWith(S3_ARN_PREFIX) || arn.length === S3_ARN_PREFIX.length) {
    throw malformed('Policy has invalid resource');
  }
  if (bucketNames !== undefined && !bucketNames.some((name) => namesBucket(arn, name))) {
    throw malformed('Policy has invalid resource');
  }
  return arn;
}

/** Whether a resource pattern matches the bucket `name` or some object in it. */
function namesBucket(arn: string, name: string): boolean {
  const path = arn.slice(S3_ARN_PREFIX.length);
  const slash = path.indexOf('/');
  const bucketPart = slash === -1 ? path : path.slice(0, slash);
  // "my*" may match "my-bucket" and, crossing the slash, objects of it.
  return wildcardMatch(bucketPart, name) || wildcardMatch(path, `${name}/`);
}
