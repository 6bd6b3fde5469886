/**
 * The bucket policy language's evaluation (http/access/policy/evaluate.ts): principals, actions
 * and resources with wildcards and their Not forms, each condition operator family, IfExists,
 * ForAnyValue / ForAllValues, IPv4 and IPv6 ranges, and Deny over Allow.
 */
import test from 'ava';
import { parsePolicy } from '../../http/access/policy/parse.js';
import {
  ALICE,
  ANONYMOUS,
  allowWhen,
  ask,
  BOB,
  BUCKET,
  keyPrincipal,
  parsed,
  ROOT,
} from '../helpers/policy.js';

const OBJECTS = `arn:aws:s3:::${BUCKET}/*`;
const THE_BUCKET = `arn:aws:s3:::${BUCKET}`;

test('a matching Allow allows, a matching Deny denies, nothing matching says nothing', (t) => {
  const document = parsed([
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: OBJECTS },
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `${OBJECTS.slice(0, -1)}secret/*`,
    },
  ]);
  t.is(ask(document), 'allow');
  t.is(ask(document, { key: 'secret/x' }), 'deny');
  t.is(ask(document, { action: 's3:PutObject' }), 'none');
});

test('principals: "*" includes anonymous; the account is every key; a user is one key', (t) => {
  const to = (Principal: unknown) =>
    parsed({ Effect: 'Allow', Principal, Action: 's3:GetObject', Resource: OBJECTS });
  t.is(ask(to('*'), { principal: ANONYMOUS }), 'allow');
  t.is(ask(to({ AWS: '*' }), { principal: ANONYMOUS }), 'allow');
  const account = to({ AWS: 'arn:aws:iam::000000000000:root' });
  t.is(ask(account, { principal: ANONYMOUS }), 'none');
  t.is(ask(account, { principal: BOB }), 'allow');
  t.is(ask(account, { principal: ROOT }), 'allow');
  const alice = to({ AWS: ['arn:aws:iam::000000000000:user/HKALICE'] });
  t.is(ask(alice, { principal: ALICE }), 'allow');
  t.is(ask(alice, { principal: BOB }), 'none');
  t.is(ask(alice, { principal: ANONYMOUS }), 'none');
  t.is(ask(to({ AWS: 'arn:aws:iam:::user/HKBOB' }), { principal: BOB }), 'allow');
  t.is(
    ask(to({ CanonicalUser: BOB.kind === 'key' ? BOB.canonicalId : '' }), { principal: BOB }),
    'allow',
  );
  t.is(ask(to({ AWS: '123456789012' }), { principal: BOB }), 'none', 'another account');
});

test('NotPrincipal: a Deny for everyone but one key', (t) => {
  const document = parsed([
    { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: OBJECTS },
    {
      Effect: 'Deny',
      NotPrincipal: { AWS: 'arn:aws:iam::000000000000:user/HKALICE' },
      Action: 's3:DeleteObject',
      Resource: OBJECTS,
    },
  ]);
  t.is(ask(document, { action: 's3:DeleteObject', principal: ALICE }), 'allow');
  t.is(ask(document, { action: 's3:DeleteObject', principal: BOB }), 'deny');
  t.is(ask(document, { action: 's3:DeleteObject', principal: ANONYMOUS }), 'deny');
});

test('actions: wildcards * and ?, any case; NotAction', (t) => {
  const allow = (Action: unknown) =>
    parsed({ Effect: 'Allow', Principal: '*', Action, Resource: OBJECTS });
  t.is(ask(allow('s3:Get*'), { action: 's3:GetObjectTagging' }), 'allow');
  t.is(ask(allow('S3:GETOBJECT'), { action: 's3:GetObject' }), 'allow');
  t.is(ask(allow('s3:?etObject'), { action: 's3:GetObject' }), 'allow');
  t.is(ask(allow('s3:Put?bject'), { action: 's3:PutObject' }), 'allow');
  t.is(ask(allow('s3:?etObject'), { action: 's3:PutObject' }), 'none');
  t.is(ask(allow('s3:?etObject'), { action: 's3:DeleteObject' }), 'none');
  t.is(ask(allow('*'), { action: 's3:DeleteObject' }), 'allow');
  const notDelete = parsed({
    Effect: 'Allow',
    Principal: '*',
    NotAction: 's3:Delete*',
    Resource: OBJECTS,
  });
  t.is(ask(notDelete, { action: 's3:PutObject' }), 'allow');
  t.is(ask(notDelete, { action: 's3:DeleteObject' }), 'none');
});

test('resources: wildcards, the bucket itself, NotResource', (t) => {
  const uploads = parsed({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: `arn:aws:s3:::${BUCKET}/uploads/*`,
  });
  t.is(ask(uploads, { action: 's3:PutObject', key: 'uploads/a/b' }), 'allow');
  t.is(ask(uploads, { action: 's3:PutObject', key: 'other/a' }), 'none');
  const oneChar = parsed({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${BUCKET}/log-?.txt`,
  });
  t.is(ask(oneChar, { key: 'log-1.txt' }), 'allow');
  t.is(ask(oneChar, { key: 'log-12.txt' }), 'none');
  // Resource ARNs are case-sensitive.
  t.is(ask(uploads, { action: 's3:PutObject', key: 'Uploads/a' }), 'none');
  const list = parsed({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:ListBucket',
    Resource: THE_BUCKET,
  });
  t.is(ask(list, { action: 's3:ListBucket', key: null }), 'allow');
  const notPrivate = parsed({
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:GetObject',
    NotResource: `arn:aws:s3:::${BUCKET}/public/*`,
  });
  t.is(ask(notPrivate, { key: 'private/x' }), 'deny');
  t.is(ask(notPrivate, { key: 'public/x' }), 'none');
});

test('String operators: Equals, NotEquals, IgnoreCase, Like, NotLike', (t) => {
  const acl = (operator: string, value: unknown, header?: string) =>
    ask(allowWhen({ [operator]: { 's3:x-amz-acl': value } }), {
      facts: header === undefined ? {} : { headers: { 'x-amz-acl': header } },
    });
  t.is(acl('StringEquals', 'private', 'private'), 'allow');
  t.is(acl('StringEquals', 'private', 'Private'), 'none');
  t.is(acl('StringEquals', ['public-read', 'private'], 'private'), 'allow');
  t.is(acl('StringNotEquals', 'private', 'public-read'), 'allow');
  t.is(acl('StringNotEquals', 'private', 'private'), 'none');
  t.is(acl('StringEqualsIgnoreCase', 'PRIVATE', 'private'), 'allow');
  t.is(acl('StringNotEqualsIgnoreCase', 'PRIVATE', 'private'), 'none');
  t.is(acl('StringLike', 'bucket-owner-*', 'bucket-owner-full-control'), 'allow');
  t.is(acl('StringNotLike', 'public-*', 'public-read'), 'none');
  // A key the request lacks: positive operators fail, negated ones hold, IfExists holds.
  t.is(acl('StringEquals', 'private'), 'none');
  t.is(acl('StringNotEquals', 'private'), 'allow');
  t.is(acl('StringEqualsIfExists', 'private'), 'allow');
  t.is(acl('StringEqualsIfExists', 'private', 'public-read'), 'none');
});

test('Numeric operators on s3:max-keys', (t) => {
  const maxKeys = (operator: string, value: unknown, given?: string) =>
    ask(allowWhen({ [operator]: { 's3:max-keys': value } }), {
      action: 's3:ListBucket',
      key: null,
      facts: given === undefined ? {} : { query: { 'max-keys': given } },
    });
  t.is(maxKeys('NumericLessThanEquals', 100, '100'), 'allow');
  t.is(maxKeys('NumericLessThanEquals', '100', '101'), 'none');
  t.is(maxKeys('NumericLessThan', 100, '99'), 'allow');
  t.is(maxKeys('NumericGreaterThan', 10, '11'), 'allow');
  t.is(maxKeys('NumericGreaterThanEquals', 10, '9'), 'none');
  t.is(maxKeys('NumericEquals', 5, '5'), 'allow');
  t.is(maxKeys('NumericNotEquals', 5, '5'), 'none');
  t.is(maxKeys('NumericEquals', 5, 'five'), 'none', 'a value that is no number matches nothing');
  t.is(maxKeys('NumericLessThanIfExists', 5), 'allow');
});

test('Date operators on aws:CurrentTime and aws:EpochTime', (t) => {
  const now = Date.parse('2026-01-02T03:04:05Z');
  const at = (condition: Record<string, unknown>) =>
    ask(allowWhen(condition), { facts: { nowMs: now } });
  t.is(at({ DateLessThan: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }), 'allow');
  t.is(at({ DateGreaterThan: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }), 'none');
  t.is(at({ DateGreaterThanEquals: { 'aws:CurrentTime': '2026-01-02T03:04:05Z' } }), 'allow');
  t.is(at({ DateLessThanEquals: { 'aws:CurrentTime': '2026-01-02' } }), 'none');
  t.is(at({ DateEquals: { 'aws:EpochTime': String(now / 1000) } }), 'allow');
  t.is(at({ DateNotEquals: { 'aws:EpochTime': String(now / 1000) } }), 'none');
  t.is(at({ NumericGreaterThan: { 'aws:EpochTime': 1_700_000_000 } }), 'allow');
});

test('Bool on aws:SecureTransport; Null on presence', (t) => {
  const deny = (condition: Record<string, unknown>) =>
    parsed({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: OBJECTS,
      Condition: condition,
    });
  const insecure = deny({ Bool: { 'aws:SecureTransport': 'false' } });
  t.is(ask(insecure, { facts: { secure: false } }), 'deny');
  t.is(ask(insecure, { facts: { secure: true } }), 'none');
  const boolean = deny({ Bool: { 'aws:SecureTransport': false } });
  t.is(ask(boolean, { facts: { secure: false } }), 'deny');
  const noAcl = deny({ Null: { 's3:x-amz-acl': 'true' } });
  t.is(ask(noAcl), 'deny');
  t.is(ask(noAcl, { facts: { headers: { 'x-amz-acl': 'private' } } }), 'none');
  const anonymous = deny({ Null: { 'aws:username': true } });
  t.is(ask(anonymous, { principal: ANONYMOUS }), 'deny');
  t.is(ask(anonymous, { principal: ALICE }), 'none');
});

test('IpAddress and NotIpAddress: IPv4, IPv6 and IPv4-mapped peers', (t) => {
  const from = (operator: string, ranges: unknown, ip: string) =>
    ask(allowWhen({ [operator]: { 'aws:SourceIp': ranges } }), { facts: { ip } });
  t.is(from('IpAddress', '127.0.0.0/8', '127.0.0.1'), 'allow');
  t.is(from('IpAddress', '127.0.0.0/8', '::ffff:127.0.0.1'), 'allow');
  t.is(from('IpAddress', '10.0.0.0/8', '127.0.0.1'), 'none');
  t.is(from('IpAddress', '192.168.1.7', '192.168.1.7'), 'allow');
  t.is(from('IpAddress', '192.168.1.0/25', '192.168.1.200'), 'none');
  t.is(from('IpAddress', ['10.0.0.0/8', '2001:db8::/32'], '2001:db8:1::5'), 'allow');
  t.is(from('IpAddress', '2001:db8::/32', '2001:db9::1'), 'none');
  t.is(from('IpAddress', '::1/128', '::1'), 'allow');
  t.is(from('IpAddress', '0.0.0.0/0', '8.8.8.8'), 'allow');
  t.is(from('IpAddress', '0.0.0.0/0', '::1'), 'none', 'an IPv6 peer is outside IPv4 ranges');
  t.is(from('NotIpAddress', '10.0.0.0/8', '127.0.0.1'), 'allow');
  t.is(from('NotIpAddress', '127.0.0.1/32', '127.0.0.1'), 'none');
});

test('Arn operators on aws:PrincipalArn', (t) => {
  const by = (operator: string, arn: string) =>
    ask(allowWhen({ [operator]: { 'aws:PrincipalArn': arn } }), { principal: ALICE });
  t.is(by('ArnEquals', 'arn:aws:iam::000000000000:user/HKALICE'), 'allow');
  t.is(by('ArnLike', 'arn:aws:iam::000000000000:user/HK*'), 'allow');
  t.is(by('ArnLike', 'arn:aws:iam::000000000000:user/X*'), 'none');
  t.is(by('ArnNotEquals', 'arn:aws:iam::000000000000:user/HKALICE'), 'none');
  t.is(by('ArnNotLike', 'arn:aws:iam::000000000000:user/X*'), 'allow');
  // Component by component: a `*` stays inside its component.
  t.is(by('ArnLike', 'arn:aws:iam::*:user/HKALICE'), 'allow');
  t.is(by('ArnLike', 'arn:*:iam::000000000000:*'), 'allow');
  t.is(by('ArnLike', 'arn:aws:*'), 'none', 'one glob over the string would match');
  t.is(by('ArnLike', 'arn:aws:iam::*'), 'none', 'four components are no ARN pattern');
  t.is(by('ArnNotLike', 'arn:aws:*'), 'allow');
  t.is(by('ArnLike', '*'), 'none', 'no ARN at all');
});

test('ForAnyValue and ForAllValues on s3:RequestObjectTagKeys', (t) => {
  const tagged = (operator: string, keys: unknown, tagging?: string) =>
    ask(allowWhen({ [operator]: { 's3:RequestObjectTagKeys': keys } }), {
      action: 's3:PutObject',
      facts: tagging === undefined ? {} : { headers: { 'x-amz-tagging': tagging } },
    });
  t.is(tagged('ForAllValues:StringEquals', ['team', 'cost'], 'team=a&cost=b'), 'allow');
  t.is(tagged('ForAllValues:StringEquals', ['team', 'cost'], 'team=a&owner=c'), 'none');
  t.is(tagged('ForAllValues:StringEquals', ['team']), 'allow', 'no tags: vacuously all');
  t.is(tagged('ForAnyValue:StringEquals', ['team'], 'owner=c&team=a'), 'allow');
  t.is(tagged('ForAnyValue:StringEquals', ['team'], 'owner=c'), 'none');
  t.is(tagged('ForAnyValue:StringEquals', ['team']), 'none', 'no tags: none of them');
  t.is(tagged('ForAnyValue:StringNotLike', ['t*'], 'team=a&owner=c'), 'allow');
  t.is(tagged('ForAllValues:StringNotLike', ['t*'], 'team=a&owner=c'), 'none');
});

test('tags: s3:ExistingObjectTag and s3:RequestObjectTag (URL-encoded header)', (t) => {
  const existing = allowWhen({ StringEquals: { 's3:ExistingObjectTag/Team': 'blue' } });
  t.is(ask(existing, { facts: { tags: { Team: 'blue' } } }), 'allow');
  t.is(ask(existing, { facts: { tags: { team: 'blue' } } }), 'none', 'tag keys are case-sensitive');
  t.is(ask(existing, { facts: {} }), 'none');
  const requested = allowWhen({ StringEquals: { 's3:RequestObjectTag/cost center': 'a&b' } });
  t.is(ask(requested, { facts: { headers: { 'x-amz-tagging': 'cost%20center=a%26b' } } }), 'allow');
  t.is(ask(requested, { facts: { headers: { 'x-amz-tagging': 'cost%20center=a' } } }), 'none');
});

test('request keys: prefix, delimiter, version id, signature version, user keys', (t) => {
  const list = (condition: Record<string, unknown>, query: Record<string, string>) =>
    ask(allowWhen(condition), { action: 's3:ListBucket', key: null, facts: { query } });
  t.is(list({ StringLike: { 's3:prefix': 'home/*' } }, { prefix: 'home/alice/' }), 'allow');
  t.is(list({ StringLike: { 's3:prefix': 'home/*' } }, { prefix: 'etc/' }), 'none');
  t.is(list({ StringEquals: { 's3:prefix': '' } }, {}), 'allow', 'no prefix reads as ""');
  t.is(list({ StringEquals: { 's3:delimiter': '/' } }, { delimiter: '/' }), 'allow');
  t.is(
    ask(allowWhen({ StringEquals: { 's3:VersionId': 'v1' } }), { facts: { versionId: 'v1' } }),
    'allow',
  );
  const v2 = allowWhen({ StringEquals: { 's3:signatureversion': 'AWS' } });
  t.is(ask(v2, { facts: { signatureVersion: 'AWS' } }), 'allow');
  t.is(ask(v2, { facts: {} }), 'none');
  const user = allowWhen({ StringEquals: { 'aws:username': 'HKALICE' } });
  t.is(ask(user, { principal: ALICE }), 'allow');
  t.is(ask(user, { principal: ROOT }), 'none');
  t.is(
    ask(allowWhen({ StringEquals: { 'aws:userid': 'anonymous' } }), { principal: ANONYMOUS }),
    'allow',
  );
  t.is(
    ask(allowWhen({ StringEquals: { 'aws:PrincipalType': 'Account' } }), { principal: ROOT }),
    'allow',
  );
  t.is(ask(allowWhen({ StringEquals: { 'aws:SourceVpce': 'v' } })), 'none', 'an absent aws: key');
});

test('every condition of a statement must hold (AND); any value of a key may (OR)', (t) => {
  const both = allowWhen({
    IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8'] },
    Bool: { 'aws:SecureTransport': 'true' },
  });
  t.is(ask(both, { facts: { ip: '127.0.0.1', secure: true } }), 'allow');
  t.is(ask(both, { facts: { ip: '127.0.0.1', secure: false } }), 'none');
  t.is(ask(both, { facts: { ip: '8.8.8.8', secure: true } }), 'none');
  const other = keyPrincipal('HKOTHER');
  t.is(ask(both, { principal: other, facts: { ip: '10.1.2.3', secure: true } }), 'allow');
});

/** A policy variable's text, `${name}` (built so that no string literal looks like a template). */
const variable = (name: string) => ['$', '{', name, '}'].join('');
const USERNAME = variable('aws:username');

test('policy variables: aws:username home directories, defaults, a literal star', (t) => {
  const home = parsed({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:*',
    Resource: `arn:aws:s3:::${BUCKET}/home/\${aws:username}/*`,
  });
  t.is(ask(home, { principal: ALICE, key: 'home/HKALICE/notes' }), 'allow');
  t.is(ask(home, { principal: ALICE, key: 'home/HKBOB/notes' }), 'none');
  t.is(ask(home, { principal: ANONYMOUS, key: 'home/HKALICE/notes' }), 'none', 'no username');
  const listHome = allowWhen({ StringLike: { 's3:prefix': [`home/${USERNAME}/*`] } });
  const listing = (principal: typeof ALICE, prefix: string) =>
    ask(listHome, { principal, action: 's3:ListBucket', key: null, facts: { query: { prefix } } });
  t.is(listing(ALICE, 'home/HKALICE/docs/'), 'allow');
  t.is(listing(BOB, 'home/HKALICE/docs/'), 'none');
  const withDefault = allowWhen({
    StringEquals: { 's3:prefix': `shared/${variable("aws:username, 'guest'")}/` },
  });
  const list = (principal: typeof ALICE, prefix: string) =>
    ask(withDefault, {
      principal,
      action: 's3:ListBucket',
      key: null,
      facts: { query: { prefix } },
    });
  t.is(list(ANONYMOUS, 'shared/guest/'), 'allow');
  t.is(list(ALICE, 'shared/HKALICE/'), 'allow');
  // ${*} is a literal star: it does not match any key.
  const literalStar = parsed({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${BUCKET}/star\${*}`,
  });
  t.is(ask(literalStar, { key: 'star*' }), 'allow');
  t.is(ask(literalStar, { key: 'starry' }), 'none');
  // A 2008-10-17 policy takes ${...} literally.
  const old = parsePolicy(
    JSON.stringify({
      Version: '2008-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${BUCKET}/\${aws:username}`,
      },
    }),
    [BUCKET],
  );
  t.is(ask(old, { principal: ALICE, key: 'HKALICE' }), 'none');
  t.is(ask(old, { principal: ALICE, key: USERNAME }), 'allow');
});
