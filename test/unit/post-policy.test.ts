import { createHmac } from 'node:crypto';
import test from 'ava';
import { S3Error } from '../../http/s3/errors.js';
import type { FormField } from '../../http/s3/form-data.js';
import { checkLength, verifyPostPolicy } from '../../http/sigv4/post-policy.js';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.parse('2015-12-29T12:00:00Z');
const OPTS = { region: 'us-east-1', nowMs: NOW, signatureV2: true };
const lookup = (id: string): string | undefined => (id === AKID ? SECRET : undefined);

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** A form with the policy's base64 text signed as sigv4-post-example does. */
function form(
  conditions: unknown[],
  fields: Array<[string, string]>,
  policyText?: string,
): FormField[] {
  const signatureFields: Array<[string, string]> = [
    ['X-Amz-Credential', `${AKID}/20151229/us-east-1/s3/aws4_request`],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Date', '20151229T000000Z'],
  ];
  const policy = Buffer.from(
    policyText ??
      JSON.stringify({
        expiration: '2015-12-30T12:00:00.000Z',
        conditions: [
          ...conditions,
          { 'x-amz-credential': `${AKID}/20151229/us-east-1/s3/aws4_request` },
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-date': '20151229T000000Z' },
        ],
      }),
  ).toString('base64');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${SECRET}`, '20151229'), 'us-east-1'), 's3'),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(policy).digest('hex');
  const all: Array<[string, string]> = [
    ...fields,
    ...signatureFields,
    ['Policy', policy],
    ['X-Amz-Signature', signature],
  ];
  return all.map(([name, value]) => ({ name, value }));
}

function failure(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected an S3Error');
}

test('the sigv4-post-example policy verifies, field names compared without case', (t) => {
  const fields = form(
    [
      { bucket: 'sigv4examplebucket' },
      ['starts-with', '$key', 'user/user1/'],
      { acl: 'public-read' },
      {
        success_action_redirect:
          'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html',
      },
      ['starts-with', '$Content-Type', 'image/'],
      { 'x-amz-meta-uuid': '14365123651274' },
      ['starts-with', '$x-amz-meta-tag', ''],
    ],
    [
      ['key', 'user/user1/${filename}'],
      ['acl', 'public-read'],
      [
        'success_action_redirect',
        'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html',
      ],
      ['Content-Type', 'image/jpeg'],
      ['x-amz-meta-uuid', '14365123651274'],
      ['X-Amz-Meta-Tag', ''],
      ['x-ignore-me', 'whatever'],
    ],
  );
  const post = verifyPostPolicy(
    { bucket: 'sigv4examplebucket', fields, filename: 'pic.jpg' },
    lookup,
    OPTS,
  );
  t.is(post.accessKeyId, AKID);
  t.is(post.key, 'user/user1/pic.jpg');
  t.is(post.fields.get('content-type'), 'image/jpeg');
  t.deepEqual(post.length, { min: 0, max: Number.MAX_SAFE_INTEGER });
});

test('content-length-range conditions intersect; checkLength reports the AWS errors', (t) => {
  const fields = form(
    [{ key: 'k' }, ['content-length-range', 10, 100], ['content-length-range', '20', '200']],
    [['key', 'k']],
  );
  const post = verifyPostPolicy({ bucket: 'b', fields, filename: null }, lookup, OPTS);
  t.deepEqual(post.length, { min: 20, max: 100 });
  t.notThrows(() => checkLength(post.length, 20));
  t.notThrows(() => checkLength(post.length, 100));
  t.is(failure(() => checkLength(post.length, 101)).code, 'EntityTooLarge');
  t.is(failure(() => checkLength(post.length, 19)).code, 'EntityTooSmall');
});

test('starts-with on Content-Type holds for each of several types', (t) => {
  const conditions = [{ key: 'k' }, ['starts-with', '$Content-Type', 'image/']];
  const ok = form(conditions, [
    ['key', 'k'],
    ['Content-Type', 'image/png, image/jpeg'],
  ]);
  t.notThrows(() => verifyPostPolicy({ bucket: 'b', fields: ok, filename: null }, lookup, OPTS));
  const bad = form(conditions, [
    ['key', 'k'],
    ['Content-Type', 'image/png, text/html'],
  ]);
  t.is(
    failure(() => verifyPostPolicy({ bucket: 'b', fields: bad, filename: null }, lookup, OPTS))
      .code,
    'AccessDenied',
  );
});

test('policy documents that are not JSON or lack parts are InvalidPolicyDocument', (t) => {
  for (const text of [
    'not json',
    '[]',
    '{"conditions":[]}',
    '{"expiration":"tomorrow","conditions":[]}',
    '{"expiration":"2015-12-30T12:00:00Z"}',
    '{"expiration":"2015-12-30T12:00:00Z","conditions":[["ends-with","$key","x"]]}',
    '{"expiration":"2015-12-30T12:00:00Z","conditions":[["eq","key","x"]]}',
    '{"expiration":"2015-12-30T12:00:00Z","conditions":[{"a":"1","b":"2"}]}',
    '{"expiration":"2015-12-30T12:00:00Z","conditions":[["content-length-range",-1,5]]}',
  ]) {
    const fields = form([], [['key', 'k']], text);
    const error = failure(() =>
      verifyPostPolicy({ bucket: 'b', fields, filename: null }, lookup, OPTS),
    );
    t.is(error.code, 'InvalidPolicyDocument', text);
  }
});

test('a repeated field, a missing signature field and a bad algorithm are InvalidArgument', (t) => {
  const base = form([{ key: 'k' }], [['key', 'k']]);
  const twice = [...base, { name: 'KEY', value: 'k' }];
  t.is(
    failure(() => verifyPostPolicy({ bucket: 'b', fields: twice, filename: null }, lookup, OPTS))
      .code,
    'InvalidArgument',
  );
  const noDate = base.filter((f) => f.name !== 'X-Amz-Date');
  t.is(
    failure(() => verifyPostPolicy({ bucket: 'b', fields: noDate, filename: null }, lookup, OPTS))
      .code,
    'InvalidArgument',
  );
  const v2 = base.map((f) =>
    f.name === 'X-Amz-Algorithm' ? { name: f.name, value: 'AWS4-HMAC-SHA1' } : f,
  );
  t.is(
    failure(() => verifyPostPolicy({ bucket: 'b', fields: v2, filename: null }, lookup, OPTS)).code,
    'InvalidArgument',
  );
  const late = base.map((f) =>
    f.name === 'X-Amz-Date' ? { name: f.name, value: '20151230T000000Z' } : f,
  );
  t.is(
    failure(() => verifyPostPolicy({ bucket: 'b', fields: late, filename: null }, lookup, OPTS))
      .code,
    'InvalidArgument',
  );
});

// ---- Signature V2 forms (S3 developer guide, HTTPPOSTExamples) ----

/** The V2 example's policy, as the page prints it in base64 (bucket johnsmith, key user/eric/…). */
const V2_DOC_POLICY =
  'eyAiZXhwaXJhdGlvbiI6ICIyMDA3LTEyLTAxVDEyOjAwOjAwLjAwMFoiLAogICJjb25kaXRpb25zIjogWwogICAgeyJidWNrZXQiOiAiam9obnNtaXRoIn0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci9lcmljLyJdLAogICAgeyJhY2wiOiAicHVibGljLXJlYWQifSwKICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL2pvaG5zbWl0aC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwKICAgIFsic3RhcnRzLXdpdGgiLCAiJENvbnRlbnQtVHlwZSIsICJpbWFnZS8iXSwKICAgIHsieC1hbXotbWV0YS11dWlkIjogIjE0MzY1MTIzNjUxMjc0In0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiR4LWFtei1tZXRhLXRhZyIsICIiXQogIF0KfQo=';
const V2_DOC_NOW = Date.parse('2007-11-30T12:00:00Z');

/** The example's form fields; `Signature` is base64 HMAC-SHA1 of the policy text. */
function v2DocForm(signature?: string): FormField[] {
  // The page prints 0RavWzkygo6QX9caELEqKi9kDbU=, which is not the HMAC of its policy under its
  // example key (another slip of those pages): the signature is computed here instead.
  const signed = signature ?? createHmac('sha1', SECRET).update(V2_DOC_POLICY).digest('base64');
  const fields: Array<[string, string]> = [
    ['key', 'user/eric/MyPicture.jpg'],
    ['acl', 'public-read'],
    ['success_action_redirect', 'http://johnsmith.s3.amazonaws.com/successful_upload.html'],
    ['Content-Type', 'image/jpeg'],
    ['x-amz-meta-uuid', '14365123651274'],
    ['x-amz-meta-tag', 'Some,Tag,For,Picture'],
    ['AWSAccessKeyId', AKID],
    ['Policy', V2_DOC_POLICY],
    ['Signature', signed],
  ];
  return fields.map(([name, value]) => ({ name, value }));
}

test('a V2 form (AWSAccessKeyId, Policy, Signature) verifies; the key id and signature need no condition', (t) => {
  const post = verifyPostPolicy(
    { bucket: 'johnsmith', fields: v2DocForm(), filename: 'MyPicture.jpg' },
    lookup,
    { ...OPTS, nowMs: V2_DOC_NOW },
  );
  t.is(post.accessKeyId, AKID);
  t.is(post.key, 'user/eric/MyPicture.jpg');
});

test('V2 form faults: wrong signature, unknown key, V2 turned off, missing signature', (t) => {
  const opts = { ...OPTS, nowMs: V2_DOC_NOW };
  const request = (fields: FormField[]) => ({ bucket: 'johnsmith', fields, filename: null });
  const bad = t.throws(
    () => verifyPostPolicy(request(v2DocForm('0RavWzkygo6QX9caELEqKi9kDbU=')), lookup, opts),
    {
      instanceOf: S3Error,
    },
  );
  t.is(bad?.code, 'SignatureDoesNotMatch');
  t.is(bad?.fields.StringToSign, V2_DOC_POLICY);
  const unknown = t.throws(() => verifyPostPolicy(request(v2DocForm()), () => undefined, opts), {
    instanceOf: S3Error,
  });
  t.is(unknown?.code, 'InvalidAccessKeyId');
  const off = t.throws(
    () => verifyPostPolicy(request(v2DocForm()), lookup, { ...opts, signatureV2: false }),
    { instanceOf: S3Error },
  );
  t.is(off?.code, 'InvalidRequest');
  t.is(
    off?.message,
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  );
  const unsigned = v2DocForm().filter((f) => f.name !== 'Signature');
  const missing = t.throws(() => verifyPostPolicy(request(unsigned), lookup, opts), {
    instanceOf: S3Error,
  });
  t.is(missing?.code, 'InvalidArgument');
});
