/**
 * The bucket policy language's parser (http/access/policy/parse.ts): what AWS accepts, each
 * MalformedPolicy with its message, the stored form (plain data only), AWS's "public" test, and
 * a property: random and mutated policies only ever parse or fail with an S3Error.
 */
import test from 'ava';
import { encode } from 'cbor-x';
import fc from 'fast-check';
import { LIMITS } from '../../engine/limits.js';
import { isPublicPolicy, isPublicStoredPolicy } from '../../http/access/policy/evaluate.js';
import { type PolicyDocument, parsePolicy } from '../../http/access/policy/parse.js';
import { S3Error } from '../../http/s3/errors.js';
import { check, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';
import { ALICE, ANONYMOUS, ask, BUCKET, parsed, policyText } from '../helpers/policy.js';

const OBJECTS = `arn:aws:s3:::${BUCKET}/*`;
const THE_BUCKET = `arn:aws:s3:::${BUCKET}`;
const READ_ALL = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: OBJECTS };

function malformedMessage(text: string): string {
  const error = onlyS3Error(() => parsePolicy(text, [BUCKET]));
  if (error === undefined) throw new Error(`accepted: ${text}`);
  if (error.code !== 'MalformedPolicy') throw new Error(`${error.code}: ${error.message}`);
  return error.message;
}

test('a typical policy parses into plain, cbor-encodable data', (t) => {
  const document = parsePolicy(
    policyText(
      [
        { Sid: 'Read', ...READ_ALL },
        {
          Sid: 'Uploads',
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::000000000000:user/HKUP', '000000000000'] },
          Action: ['s3:PutObject', 's3:Get*'],
          Resource: `${OBJECTS}`,
          Condition: { StringLike: { 's3:x-amz-acl': 'bucket-owner-*' } },
        },
      ],
      { Id: 'p1' },
    ),
    [BUCKET],
  );
  t.is(document.version, '2012-10-17');
  t.is(document.id, 'p1');
  t.is(document.statements.length, 2);
  t.deepEqual(document.statements[1]?.principal?.tokens, ['user:HKUP', 'account']);
  t.deepEqual(document.statements[1]?.action, ['s3:putobject', 's3:get*']);
  t.is(document.statements[1]?.conditions[0]?.key, 's3:x-amz-acl');
  // What the catalog stores must survive cbor and JSON: no RegExp, Map or class in it.
  t.deepEqual(JSON.parse(JSON.stringify(document)), document);
  t.notThrows(() => encode(document));
});

test('a single Statement object, no Version (2008-10-17) and the 2008 version are accepted', (t) => {
  t.is(parsePolicy(JSON.stringify({ Statement: READ_ALL })).version, '2008-10-17');
  t.is(parsePolicy(policyText(READ_ALL, { Version: '2008-10-17' })).statements.length, 1);
});

test('principals: *, AWS:*, account id and root ARN, users (AWS and RGW style), canonical ids', (t) => {
  const tokensOf = (principal: unknown) =>
    parsed({ ...READ_ALL, Principal: principal }).statements[0]?.principal?.tokens;
  t.deepEqual(tokensOf('*'), ['*']);
  t.deepEqual(tokensOf({ AWS: '*' }), ['*']);
  t.deepEqual(tokensOf({ AWS: '000000000000' }), ['account']);
  t.deepEqual(tokensOf({ AWS: 'arn:aws:iam::000000000000:root' }), ['account']);
  t.deepEqual(tokensOf({ AWS: 'arn:aws:iam:::user/HKRGW' }), ['user:HKRGW']);
  t.deepEqual(tokensOf({ AWS: 'arn:aws:iam::000000000000:user/HKGONE' }), ['user:HKGONE']);
  t.deepEqual(tokensOf({ CanonicalUser: 'A'.repeat(64) }), [`canonical:${'a'.repeat(64)}`]);
  t.deepEqual(tokensOf({ AWS: '123456789012' }), ['foreign:123456789012']);
  t.deepEqual(tokensOf({ Service: 'logging.s3.amazonaws.com' }), [
    'foreign:service:logging.s3.amazonaws.com',
  ]);
});

const MALFORMED: ReadonlyArray<readonly [string, string, string]> = [
  [
    'not JSON at all',
    'Statement: []',
    "Policies must be valid JSON and the first byte must be '{'",
  ],
  ['a JSON array', '[]', "Policies must be valid JSON and the first byte must be '{'"],
  ['broken JSON', '{"Statement": [', 'This policy contains invalid Json'],
  ['no Statement', '{"Version":"2012-10-17"}', 'Missing required field Statement'],
  ['an empty Statement', policyText([]), 'Could not parse the policy: Statement is empty!'],
  [
    'a bad Version',
    policyText(READ_ALL, { Version: '2020-01-01' }),
    'The policy must contain a valid version string',
  ],
  [
    'a null Version',
    policyText(READ_ALL, { Version: null }),
    'The policy must contain a valid version string',
  ],
  ['an unknown top-level field', policyText(READ_ALL, { Foo: 1 }), 'Unknown field Foo'],
  [
    'an unknown statement field',
    policyText({ ...READ_ALL, Actions: 'x' }),
    'Unknown field Actions',
  ],
  ['no Effect', policyText({ ...READ_ALL, Effect: undefined }), 'Missing required field Effect'],
  ['a bad Effect', policyText({ ...READ_ALL, Effect: 'Maybe' }), 'Invalid effect: Maybe'],
  [
    'no Principal',
    policyText({ ...READ_ALL, Principal: undefined }),
    'Missing required field Principal',
  ],
  ['no Action', policyText({ ...READ_ALL, Action: undefined }), 'Missing required field Action'],
  [
    'no Resource',
    policyText({ ...READ_ALL, Resource: undefined }),
    'Missing required field Resource',
  ],
  [
    'a non-S3 action',
    policyText({ ...READ_ALL, Action: 'iam:PassRole' }),
    'Policy has invalid action',
  ],
  ['an empty action list', policyText({ ...READ_ALL, Action: [] }), 'Policy has invalid action'],
  [
    'an s3 action that does not exist',
    policyText({ ...READ_ALL, Action: ['s3:GetObject', 's3:GetObjektt'] }),
    'Policy has invalid action',
  ],
  [
    'a NotAction naming an s3 action that does not exist',
    policyText({
      Effect: 'Deny',
      Principal: '*',
      NotAction: 's3:ListBuckett',
      Resource: READ_ALL.Resource,
    }),
    'Policy has invalid action',
  ],
  [
    'a resource of another bucket',
    policyText({ ...READ_ALL, Resource: 'arn:aws:s3:::other/*' }),
    'Policy has invalid resource',
  ],
  [
    'a resource that is no S3 ARN',
    policyText({ ...READ_ALL, Resource: '*' }),
    'Policy has invalid resource',
  ],
  [
    'a principal that is no ARN',
    policyText({ ...READ_ALL, Principal: { AWS: 'alice' } }),
    'Invalid principal in policy',
  ],
  [
    'an unknown principal type',
    policyText({ ...READ_ALL, Principal: { Robot: 'x' } }),
    'Invalid principal in policy',
  ],
  [
    'a bad canonical id',
    policyText({ ...READ_ALL, Principal: { CanonicalUser: 'abc' } }),
    'Invalid principal in policy',
  ],
  [
    'an object action on the bucket',
    policyText({ ...READ_ALL, Resource: THE_BUCKET }),
    'Action does not apply to any resource(s) in statement',
  ],
  [
    'a bucket action on objects',
    policyText({ ...READ_ALL, Action: 's3:ListBucket' }),
    'Action does not apply to any resource(s) in statement',
  ],
  [
    'an unknown operator',
    policyText({ ...READ_ALL, Condition: { StringSortOf: { 'aws:UserAgent': 'x' } } }),
    'Invalid Condition type : StringSortOf',
  ],
  [
    'Null with IfExists',
    policyText({ ...READ_ALL, Condition: { NullIfExists: { 'aws:UserAgent': 'true' } } }),
    'Invalid Condition type : NullIfExists',
  ],
  [
    'an unknown s3 key',
    policyText({ ...READ_ALL, Condition: { StringEquals: { 's3:x-acl': 'private' } } }),
    'Policy has an invalid condition key',
  ],
  [
    'a bad CIDR',
    policyText({ ...READ_ALL, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }),
    'Invalid IP address in Conditions',
  ],
  [
    'a bad number',
    policyText({ ...READ_ALL, Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } }),
    'Invalid value in Conditions for operator NumericLessThan',
  ],
  [
    'a bad date',
    policyText({ ...READ_ALL, Condition: { DateLessThan: { 'aws:CurrentTime': 'soon' } } }),
    'Invalid value in Conditions for operator DateLessThan',
  ],
  [
    'a bad boolean',
    policyText({ ...READ_ALL, Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }),
    'Invalid value in Conditions for operator Bool',
  ],
  [
    'duplicate Sids',
    policyText([
      { ...READ_ALL, Sid: 'a' },
      { ...READ_ALL, Sid: 'a' },
    ]),
    'Statement IDs (SID) in a single policy must be unique',
  ],
  [
    'Action and NotAction',
    policyText({ ...READ_ALL, NotAction: 's3:PutObject' }),
    'A statement cannot have both Action and NotAction',
  ],
  [
    'an oversized policy',
    policyText({ ...READ_ALL, Sid: 'x'.repeat(LIMITS.bucketPolicyBytesMax) }),
    'Policy exceeds the maximum allowed document size.',
  ],
];

for (const [what, text, message] of MALFORMED) {
  test(`MalformedPolicy: ${what}`, (t) => {
    t.is(malformedMessage(text), message);
  });
}

test('unknown aws: keys are accepted (absent from every request), as AWS does', (t) => {
  const document = parsed({ ...READ_ALL, Condition: { StringEquals: { 'aws:SourceVpce': 'v' } } });
  t.is(document.statements[0]?.conditions[0]?.key, 'aws:sourcevpce');
});

test('condition keys are case-insensitive; a tag key keeps its case', (t) => {
  const document = parsed({
    ...READ_ALL,
    Condition: { StringEquals: { 'S3:ExistingObjectTag/Team': 'a', 'AWS:SourceIP': '1' } },
  });
  t.deepEqual(
    document.statements[0]?.conditions.map((c) => c.key),
    ['s3:existingobjecttag/Team', 'aws:sourceip'],
  );
});

test('a wildcard resource naming this bucket is accepted; a wildcard action may name any kind', (t) => {
  t.notThrows(() => parsed({ ...READ_ALL, Resource: 'arn:aws:s3:::pol-*' }));
  t.notThrows(() => parsed({ ...READ_ALL, Resource: 'arn:aws:s3:::*/public/*' }));
  t.notThrows(() => parsed({ ...READ_ALL, Action: 's3:*', Resource: THE_BUCKET }));
  // A pattern is taken even when no action matches it today; a plain name must exist (any case).
  t.notThrows(() => parsed({ ...READ_ALL, Action: 's3:Nothing*' }));
  t.notThrows(() => parsed({ ...READ_ALL, Action: ['s3:getobjectversion', 's3:RestoreObject'] }));
  t.notThrows(() => parsed({ ...READ_ALL, Action: ['s3:PutObjectRetention', 's3:ReplicateTags'] }));
  t.notThrows(() => parsed({ ...READ_ALL, NotResource: OBJECTS, Resource: undefined }));
});

// ---- isPublicPolicy: AWS's "The meaning of public" ----

const PUBLIC_CASES: ReadonlyArray<readonly [string, unknown, boolean]> = [
  ['Principal "*"', READ_ALL, true],
  ['Principal AWS "*"', { ...READ_ALL, Principal: { AWS: '*' } }, true],
  [
    'a fixed user',
    { ...READ_ALL, Principal: { AWS: 'arn:aws:iam::000000000000:user/HK1' } },
    false,
  ],
  ['the account', { ...READ_ALL, Principal: { AWS: '000000000000' } }, false],
  ['a Deny for everyone', { ...READ_ALL, Effect: 'Deny' }, false],
  [
    'NotPrincipal with Allow',
    { ...READ_ALL, Principal: undefined, NotPrincipal: { AWS: '000000000000' } },
    true,
  ],
  [
    '"*" limited to a CIDR',
    { ...READ_ALL, Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } },
    false,
  ],
  [
    '"*" limited to 0.0.0.0/0',
    { ...READ_ALL, Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } },
    true,
  ],
  [
    '"*" with NotIpAddress',
    { ...READ_ALL, Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    true,
  ],
  [
    '"*" with a fixed aws:SourceVpce',
    { ...READ_ALL, Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } },
    false,
  ],
  [
    '"*" with a wildcard aws:SourceArn',
    { ...READ_ALL, Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::*' } } },
    true,
  ],
  [
    '"*" with a fixed aws:PrincipalArn',
    {
      ...READ_ALL,
      Condition: { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/HK1' } },
    },
    false,
  ],
  [
    '"*" with aws:userid IfExists',
    { ...READ_ALL, Condition: { StringEqualsIfExists: { 'aws:userid': 'HK1' } } },
    true,
  ],
  [
    '"*" with only a prefix condition',
    { ...READ_ALL, Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } },
    true,
  ],
];

for (const [what, statement, isPublic] of PUBLIC_CASES) {
  test(`isPublicPolicy: ${what} is ${isPublic ? '' : 'not '}public`, (t) => {
    t.is(isPublicPolicy(parsed(statement)), isPublic);
  });
}

test('a stored policy answers its stored verdict; one stored before the field is judged', (t) => {
  const document = parsed(READ_ALL);
  const text = policyText(READ_ALL);
  // The stored verdict is what counts (judged at PutBucketPolicy), not a new judgment.
  t.false(isPublicStoredPolicy({ text, document, isPublic: false }));
  t.true(isPublicStoredPolicy({ text, document, isPublic: true }));
  // A record from before `isPublic`: judged from its document, and the same on every read.
  const old = { text, document };
  t.true(isPublicStoredPolicy(old));
  t.true(isPublicStoredPolicy(old));
  const fixedUser = parsed({ ...READ_ALL, Principal: { AWS: '000000000000' } });
  t.false(isPublicStoredPolicy({ text, document: fixedUser }));
});

// ---- property: only a document or an S3Error ----

const VALID_POLICY = fc
  .record({
    effect: fc.constantFrom('Allow', 'Deny'),
    principal: fc.constantFrom<unknown>('*', { AWS: '000000000000' }, { AWS: ['*'] }),
    action: fc.constantFrom<unknown>('s3:GetObject', ['s3:Put*', 's3:?etObject'], '*'),
    condition: fc.constantFrom<unknown>(
      undefined,
      { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '::1'] } },
      { 'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': 'a*' } },
      { NumericLessThanEquals: { 's3:max-keys': 10 }, Bool: { 'aws:SecureTransport': true } },
    ),
  })
  .map(({ effect, principal, action, condition }) =>
    policyText({
      Effect: effect,
      Principal: principal,
      Action: action,
      Resource: OBJECTS,
      Condition: condition,
    }),
  );

const POLICY_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"Version"',
  '"2012-10-17"',
  '"Statement"',
  '"Effect"',
  '"Allow"',
  '"Deny"',
  '"Principal"',
  '"*"',
  '"Action"',
  '"s3:*"',
  '"Resource"',
  `"${OBJECTS}"`,
  '"Condition"',
  '"StringLike"',
  '"aws:SourceIp"',
  '"10.0.0.0/8"',
  '1',
  'null',
  'true',
  '"NotAction"',
  '"ForAllValues:Null"',
  '{"AWS":',
  '"__proto__"',
];

test('property: random, token-soup and mutated policies only ever parse or fail as S3Error', (t) => {
  const parsesOrS3Error = (text: string): boolean => {
    const error = onlyS3Error(() => parsePolicy(text, [BUCKET]));
    return error === undefined || (error instanceof S3Error && error.code === 'MalformedPolicy');
  };
  check(fc.property(fc.string({ maxLength: 200 }), parsesOrS3Error), 200);
  check(fc.property(fc.json({ maxDepth: 4 }), parsesOrS3Error), 200);
  check(fc.property(tokenSoup(POLICY_TOKENS, 60), parsesOrS3Error), 300);
  check(fc.property(mutatedText(VALID_POLICY, 6), parsesOrS3Error), 300);
  // What parses also evaluates, for any requester, without throwing.
  const evaluates = (text: string): boolean => {
    let document: PolicyDocument;
    try {
      document = parsePolicy(text, [BUCKET]);
    } catch (error) {
      return error instanceof S3Error;
    }
    const verdicts = [ANONYMOUS, ALICE].map((principal) =>
      ask(document, { principal, facts: { ip: '::1', headers: { 'x-amz-tagging': 'a=%' } } }),
    );
    isPublicPolicy(document);
    return verdicts.every((verdict) => ['allow', 'deny', 'none'].includes(verdict));
  };
  check(fc.property(mutatedText(VALID_POLICY, 3), evaluates), 300);
  check(
    fc.property(VALID_POLICY, (text) => onlyS3Error(() => parsePolicy(text)) === undefined),
    50,
  );
  t.pass();
});
