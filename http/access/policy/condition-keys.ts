import type { RequestFacts } from '../facts.js';
import { HANGAR_ACCOUNT_ID, type Principal } from '../principal.js';

/**
 * The condition keys hangar knows, and where each one's value comes from in a request. A key
 * absent from a request (no prefix on a GET, no tag header on a PUT, anonymous requests' user
 * keys) reads as undefined, which each operator treats as AWS does (conditions.ts).
 */
export interface ConditionContext {
  readonly principal: Principal;
  /** The IAM action, lower-cased. */
  readonly action: string;
  readonly facts: RequestFacts;
}

type KeyReader = (context: ConditionContext) => readonly string[] | undefined;

const one = (value: string | undefined): readonly string[] | undefined =>
  value === undefined ? undefined : [value];

const header =
  (name: string): KeyReader =>
  ({ facts }) =>
    one(facts.headers[name]);

/** Listing's own keys: present (empty) on a listing that does not give them, as in AWS. */
const listing =
  (parameter: string, absent: string | undefined): KeyReader =>
  ({ facts, action }) =>
    one(facts.query.get(parameter) ?? (LIST_ACTIONS.has(action) ? absent : undefined));

const LIST_ACTIONS = new Set(['s3:listbucket', 's3:listbucketversions']);

const KEYS: Readonly<Record<string, KeyReader>> = {
  'aws:sourceip': ({ facts }) => one(facts.sourceIp()),
  'aws:securetransport': ({ facts }) => [String(facts.secureTransport)],
  'aws:currenttime': ({ facts }) => [new Date(facts.nowMs).toISOString()],
  'aws:epochtime': ({ facts }) => [String(Math.floor(facts.nowMs / 1000))],
  'aws:username': ({ principal }) =>
    principal.kind === 'key' && !principal.key.root ? [principal.key.accessKeyId] : undefined,
  'aws:userid': ({ principal }) =>
    principal.kind === 'anonymous'
      ? ['anonymous']
      : [principal.key.root ? HANGAR_ACCOUNT_ID : principal.key.accessKeyId],
  'aws:principalarn': ({ principal }) => (principal.kind === 'key' ? [principal.arn] : undefined),
  'aws:principalaccount': ({ principal }) =>
    principal.kind === 'key' ? [HANGAR_ACCOUNT_ID] : undefined,
  'aws:principaltype': ({ principal }) =>
    principal.kind === 'anonymous' ? ['Anonymous'] : [principal.key.root ? 'Account' : 'User'],
  'aws:referer': header('referer'),
  'aws:useragent': header('user-agent'),
  's3:prefix': listing('prefix', ''),
  's3:delimiter': listing('delimiter', undefined),
  's3:max-keys': listing('max-keys', undefined),
  's3:versionid': ({ facts }) => one(facts.versionId ?? facts.query.get('versionId')),
  's3:signatureversion': ({ facts }) => one(facts.signatureVersion ?? undefined),
  's3:authtype': ({ facts }) => one(facts.authType ?? undefined),
  's3:requestobjecttagkeys': ({ facts }) => {
    const tags = requestTags(facts);
    return tags === undefined ? undefined : [...tags.keys()];
  },
  's3:x-amz-acl': header('x-amz-acl'),
  's3:x-amz-content-sha256': header('x-amz-content-sha256'),
  's3:x-amz-copy-source': header('x-amz-copy-source'),
  's3:x-amz-metadata-directive': header('x-amz-metadata-directive'),
  's3:x-amz-server-side-encryption': header('x-amz-server-side-encryption'),
  's3:x-amz-server-side-encryption-aws-kms-key-id': header(
    'x-amz-server-side-encryption-aws-kms-key-id',
  ),
  's3:x-amz-server-side-encryption-customer-algorithm': header(
    'x-amz-server-side-encryption-customer-algorithm',
  ),
  's3:x-amz-storage-class': header('x-amz-storage-class'),
  's3:x-amz-website-redirect-location': header('x-amz-website-redirect-location'),
  's3:x-amz-grant-read': header('x-amz-grant-read'),
  's3:x-amz-grant-write': header('x-amz-grant-write'),
  's3:x-amz-grant-read-acp': header('x-amz-grant-read-acp'),
  's3:x-amz-grant-write-acp': header('x-amz-grant-write-acp'),
  's3:x-amz-grant-full-control': header('x-amz-grant-full-control'),
  's3:object-lock-mode': header('x-amz-object-lock-mode'),
  's3:object-lock-retain-until-date': header('x-amz-object-lock-retain-until-date'),
  's3:object-lock-legal-hold': header('x-amz-object-lock-legal-hold'),
  's3:if-match': header('if-match'),
  's3:if-none-match': header('if-none-match'),
};

/**
 * S3 keys AWS defines that hangar accepts in a policy but never has a value for (no access
 * points, no TLS version, no location constraint in a decision): they read as absent.
 */
const ABSENT_S3_KEYS = new Set([
  's3:locationconstraint',
  's3:tlsversion',
  's3:resourceaccount',
  's3:accesspointnetworkorigin',
  's3:dataaccesspointaccount',
  's3:dataaccesspointarn',
  's3:object-lock-remaining-retention-days',
  's3:x-amz-server-side-encryption-context',
  's3:x-amz-object-ownership',
]);

/** Keys followed by a tag key of the client's choosing (its case kept). */
const TAG_KEY_PREFIXES = [
  's3:existingobjecttag/',
  's3:requestobjecttag/',
  'aws:requesttag/',
  'aws:resourcetag/',
];

/** A condition key as stored: lower-cased (keys are case-insensitive), a tag key's part kept. */
export function normalizeConditionKey(raw: string): string {
  const lower = raw.toLowerCase();
  const tagged = TAG_KEY_PREFIXES.find((prefix) => lower.startsWith(prefix));
  return tagged === undefined ? lower : tagged + raw.slice(tagged.length);
}

/**
 * Whether a policy may name `key` (normalized). AWS accepts any `aws:` key (an unknown one is
 * simply absent from every request) and refuses service keys it does not know.
 */
export function isKnownConditionKey(key: string): boolean {
  if (key in KEYS || ABSENT_S3_KEYS.has(key)) return true;
  const tagged = TAG_KEY_PREFIXES.find((prefix) => key.startsWith(prefix));
  if (tagged !== undefined) return key.length > tagged.length;
  return key.startsWith('aws:') && key.length > 4;
}

/** The request's values of `key` (normalized); undefined when the request has none. */
export function conditionValuesOf(
  key: string,
  context: ConditionContext,
): readonly string[] | undefined {
  const reader = KEYS[key];
  if (reader !== undefined) return reader(context);
  if (key.startsWith('s3:existingobjecttag/')) {
    const tags = context.facts.existingObjectTags?.();
    return one(tags?.get(key.slice('s3:existingobjecttag/'.length)));
  }
  if (key.startsWith('s3:requestobjecttag/')) {
    return one(requestTags(context.facts)?.get(key.slice('s3:requestobjecttag/'.length)));
  }
  return undefined;
}

/** The tags a PUT asks for in x-amz-tagging (URL-encoded, as S3 reads them). */
function requestTags(facts: RequestFacts): ReadonlyMap<string, string> | undefined {
  const header = facts.headers['x-amz-tagging'];
  if (header === undefined) return undefined;
  return new Map(new URLSearchParams(header));
}
