import test from 'ava';
import { signV2, stringToSignV2 } from '../../http/sigv4/v2.js';
import { type AuthResult, type VerifyOptions, verifyRequest } from '../../http/sigv4/verify.js';
import type { RequestSnapshot } from '../../http/uws/request.js';
import { snapshot, throwsS3 } from '../helpers/verifier.js';

// The credentials of every example in AWS's "Signing and authenticating REST requests (AWS
// signature version 2)"; their requests are dated March 2007 on bucket johnsmith.
const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ROOT_DOMAINS = ['s3.amazonaws.com'];
const VHOST = 'johnsmith.s3.amazonaws.com';

const lookup = (accessKeyId: string): string | undefined =>
  accessKeyId === AKID ? SECRET : undefined;

/** Options with V2 accepted, the clock at `date` (an RFC 1123 date). */
function at(date: string): VerifyOptions {
  return {
    region: 'us-east-1',
    nowMs: Date.parse(date),
    signatureV2: { rootDomains: ROOT_DOMAINS },
  };
}

interface DocExample {
  name: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  stringToSign: string;
  signature: string;
}

/** Header dates as the examples send them; the Date position is the Date header's. */
const EXAMPLES: DocExample[] = [
  {
    name: 'Object GET (virtual-hosted)',
    method: 'GET',
    target: '/photos/puppy.jpg',
    headers: { host: VHOST, date: 'Tue, 27 Mar 2007 19:36:42 +0000' },
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=',
  },
  {
    name: 'Object PUT with a Content-Type',
    method: 'PUT',
    target: '/photos/puppy.jpg',
    headers: {
      host: VHOST,
      date: 'Tue, 27 Mar 2007 21:15:45 +0000',
      'content-type': 'image/jpeg',
      'content-length': '94328',
    },
    stringToSign: 'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
  },
  {
    name: 'List (query parameters that are not sub-resources stay out)',
    method: 'GET',
    target: '/?prefix=photos&max-keys=50&marker=puppy',
    headers: {
      host: VHOST,
      date: 'Tue, 27 Mar 2007 19:42:41 +0000',
      'user-agent': 'Mozilla/5.0',
    },
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/',
    signature: 'htDYFYduRNen8P9ZfE/s9SuKy0U=',
  },
  {
    name: 'Fetch (the acl sub-resource)',
    method: 'GET',
    target: '/?acl',
    headers: { host: VHOST, date: 'Tue, 27 Mar 2007 19:44:46 +0000' },
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl',
    signature: 'c2WLPFtWHVgbEmeEG93a4cG37dM=',
  },
  {
    name: 'Delete (path-style, x-amz-date empties the Date position)',
    method: 'DELETE',
    target: '/johnsmith/photos/puppy.jpg',
    headers: {
      host: 's3.amazonaws.com',
      date: 'Tue, 27 Mar 2007 21:20:27 +0000',
      'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000',
      'user-agent': 'dotnet',
    },
    stringToSign:
      'DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg',
    // The page prints this StringToSign but the signature lx3byBScXR6KzyMaifNkardMwNk=, which is
    // the HMAC of another string (see the test below): this is the HMAC of the one printed.
    signature: 'R4dJ53KECjStyBO5iTBJZ4XVOaI=',
  },
  {
    // AWS sends this one to a CNAME host (static.johnsmith.net:8080); hangar addresses such a
    // bucket path-style, which signs the same resource.
    name: 'Upload with Content-MD5, x-amz-acl and repeated metadata headers',
    method: 'PUT',
    target: '/static.johnsmith.net/db-backup.dat.gz',
    headers: {
      host: 's3.amazonaws.com',
      date: 'Tue, 27 Mar 2007 21:06:08 +0000',
      'user-agent': 'curl/7.15.5',
      'x-amz-acl': 'public-read',
      'content-type': 'application/x-download',
      'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
      // Two X-Amz-Meta-ReviewedBy headers, joined with a comma as the request snapshot does.
      'x-amz-meta-reviewedby': 'joe@johnsmith.net,jane@johnsmith.net',
      'x-amz-meta-filechecksum': '0x02661779',
      'x-amz-meta-checksumalgorithm': 'crc32',
      'content-disposition': 'attachment; filename=database.dat',
      'content-encoding': 'gzip',
      'content-length': '5913339',
    },
    stringToSign:
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
      'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\n' +
      'x-amz-meta-filechecksum:0x02661779\n' +
      'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n' +
      '/static.johnsmith.net/db-backup.dat.gz',
    signature: 'ilyl83RwaSoYIEdixDQcA4OnAnc=',
  },
  {
    name: 'List all my buckets',
    method: 'GET',
    target: '/',
    headers: { host: 's3.amazonaws.com', date: 'Wed, 28 Mar 2007 01:29:59 +0000' },
    stringToSign: 'GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/',
    signature: 'qGdzdERIC03wnaRNKh6OqZehG9s=',
  },
  {
    name: 'Unicode keys (the path as sent, still percent-encoded)',
    method: 'GET',
    target: '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
    headers: { host: 's3.amazonaws.com', date: 'Wed, 28 Mar 2007 01:49:49 +0000' },
    stringToSign:
      'GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
    signature: 'DNEZGsoieTZ92F3bUfSPQcbGmlM=',
  },
];

for (const example of EXAMPLES) {
  test(`AWS V2 example: ${example.name}`, (t) => {
    const req = snapshot(example.method, example.target, example.headers);
    const dateField =
      example.headers['x-amz-date'] === undefined ? (example.headers.date ?? '') : '';
    t.is(stringToSignV2(req, dateField, ROOT_DOMAINS), example.stringToSign);
    t.is(signV2(SECRET, example.stringToSign), example.signature);
    const signed = snapshot(example.method, example.target, {
      ...example.headers,
      authorization: `AWS ${AKID}:${example.signature}`,
    });
    const now = example.headers['x-amz-date'] ?? example.headers.date ?? '';
    t.deepEqual(verifyRequest(signed, lookup, at(now)), {
      accessKeyId: AKID,
      payload: { kind: 'unsigned' },
    } satisfies AuthResult);
  });
}

test("the Delete example's printed signature signs x-amz-date in the Date position (a slip)", (t) => {
  t.is(
    signV2(SECRET, 'DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg'),
    'lx3byBScXR6KzyMaifNkardMwNk=',
  );
});

const DOC_QUERY =
  '/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620';

test('AWS V2 example: query string authentication (Expires in the Date position)', (t) => {
  const req = snapshot('GET', DOC_QUERY, { host: VHOST });
  t.is(
    stringToSignV2(req, '1175139620', ROOT_DOMAINS),
    'GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg',
  );
  const before = at('Thu, 29 Mar 2007 03:00:00 +0000');
  t.is(verifyRequest(req, lookup, before)?.accessKeyId, AKID);
  // The same URL with its '+' left unescaped (decoded as a space) still verifies.
  const unescaped = snapshot('GET', DOC_QUERY.replace('%2B', '+'), { host: VHOST });
  t.is(verifyRequest(unescaped, lookup, before)?.accessKeyId, AKID);
});

test('an expired V2 URL is AccessDenied "Request has expired" with Expires and ServerTime', (t) => {
  const req = snapshot('GET', DOC_QUERY, { host: VHOST });
  const err = throwsS3(
    t,
    () => verifyRequest(req, lookup, at('Thu, 29 Mar 2007 03:40:21 +0000')),
    'AccessDenied',
    'Request has expired',
  );
  t.is(err.fields.Expires, '2007-03-29T03:40:20Z');
  t.is(err.fields.ServerTime, '2007-03-29T03:40:21Z');
});

test('a tampered V2 URL is SignatureDoesNotMatch with what the server signed', (t) => {
  const req = snapshot('GET', DOC_QUERY.replace('puppy', 'kitten'), { host: VHOST });
  const err = throwsS3(
    t,
    () => verifyRequest(req, lookup, at('Thu, 29 Mar 2007 03:00:00 +0000')),
    'SignatureDoesNotMatch',
  );
  t.is(err.fields.AWSAccessKeyId, AKID);
  t.is(err.fields.StringToSign, 'GET\n\n\n1175139620\n/johnsmith/photos/kitten.jpg');
  t.is(err.fields.SignatureProvided, 'NpgCjnDzrM+WFzoENXmpNDUsSn8=');
  t.regex(err.fields.StringToSignBytes ?? '', /^47 45 54 0a 0a 0a 31 /);
});

test('V2 query parameters: all three required, Expires in epoch seconds', (t) => {
  const opts = at('Thu, 29 Mar 2007 03:00:00 +0000');
  const missing = snapshot('GET', `/photos/puppy.jpg?AWSAccessKeyId=${AKID}&Signature=abc`, {
    host: VHOST,
  });
  throwsS3(
    t,
    () => verifyRequest(missing, lookup, opts),
    'AccessDenied',
    'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
  );
  const iso = snapshot(
    'GET',
    `/photos/puppy.jpg?AWSAccessKeyId=${AKID}&Signature=abc&Expires=2007-03-29`,
    { host: VHOST },
  );
  throwsS3(
    t,
    () => verifyRequest(iso, lookup, opts),
    'AccessDenied',
    'Invalid date (should be seconds since epoch): 2007-03-29',
  );
  const unknown = snapshot('GET', DOC_QUERY.replace(AKID, 'AKIDNOTHERE'), { host: VHOST });
  const err = throwsS3(t, () => verifyRequest(unknown, lookup, opts), 'InvalidAccessKeyId');
  t.is(err.fields.AWSAccessKeyId, 'AKIDNOTHERE');
  const both = snapshot('GET', DOC_QUERY, { host: VHOST, authorization: `AWS ${AKID}:x` });
  throwsS3(t, () => verifyRequest(both, lookup, opts), 'InvalidArgument');
});

function docGet(headers: Record<string, string> = {}): RequestSnapshot {
  return snapshot('GET', '/photos/puppy.jpg', {
    host: VHOST,
    date: 'Tue, 27 Mar 2007 19:36:42 +0000',
    authorization: `AWS ${AKID}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`,
    ...headers,
  });
}

test('V2 header faults: bad signature, unknown key, skewed or missing date, malformed header', (t) => {
  const opts = at('Tue, 27 Mar 2007 19:36:42 +0000');
  const bad = throwsS3(
    t,
    () =>
      verifyRequest(
        docGet({ authorization: `AWS ${AKID}:AAAAAAAAAAAAAAAAAAAAAAAAAAA=` }),
        lookup,
        opts,
      ),
    'SignatureDoesNotMatch',
  );
  t.is(
    bad.fields.StringToSign,
    'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg',
  );
  t.is(bad.fields.SignatureProvided, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
  throwsS3(
    t,
    () =>
      verifyRequest(
        docGet({ authorization: 'AWS NOSUCHKEY:bWq2s1WEIj+Ydj0vQ697zp+IXMU=' }),
        lookup,
        opts,
      ),
    'InvalidAccessKeyId',
  );
  const skewed = throwsS3(
    t,
    () => verifyRequest(docGet(), lookup, at('Tue, 27 Mar 2007 19:52:43 +0000')),
    'RequestTimeTooSkewed',
  );
  t.is(skewed.fields.RequestTime, 'Tue, 27 Mar 2007 19:36:42 +0000');
  t.is(verifyRequest(docGet(), lookup, at('Tue, 27 Mar 2007 19:51:41 +0000'))?.accessKeyId, AKID);
  throwsS3(
    t,
    () => verifyRequest(docGet({ date: 'yesterday' }), lookup, opts),
    'AccessDenied',
    'AWS authentication requires a valid Date or x-amz-date header',
  );
  for (const authorization of ['AWS ', `AWS ${AKID}`, `AWS ${AKID}:`, 'AWS :abc']) {
    throwsS3(
      t,
      () => verifyRequest(docGet({ authorization }), lookup, opts),
      'InvalidArgument',
      'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature',
    );
  }
});

test('with V2 turned off, header and query V2 are InvalidRequest as in AWS V4-only regions', (t) => {
  const off: VerifyOptions = {
    region: 'us-east-1',
    nowMs: Date.parse('Tue, 27 Mar 2007 19:36:42 +0000'),
  };
  const message =
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
  throwsS3(t, () => verifyRequest(docGet(), lookup, off), 'InvalidRequest', message);
  throwsS3(
    t,
    () => verifyRequest(snapshot('GET', DOC_QUERY, { host: VHOST }), lookup, off),
    'InvalidRequest',
    message,
  );
});

test('a path-style bucket request verifies signed as "/bucket" or as "/bucket/" (botocore)', (t) => {
  const opts = at('Tue, 27 Mar 2007 19:36:42 +0000');
  const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
  for (const resource of ['/johnsmith', '/johnsmith/']) {
    const signature = signV2(SECRET, `PUT\n\n\n${date}\n${resource}`);
    const req = snapshot('PUT', '/johnsmith', {
      host: 's3.amazonaws.com',
      date,
      authorization: `AWS ${AKID}:${signature}`,
    });
    t.is(verifyRequest(req, lookup, opts)?.accessKeyId, AKID, resource);
  }
  // Only the bucket root gets the second try: an object path is signed as sent.
  const objectSignature = signV2(SECRET, `GET\n\n\n${date}\n/johnsmith/key/`);
  const object = snapshot('GET', '/johnsmith/key', {
    host: 's3.amazonaws.com',
    date,
    authorization: `AWS ${AKID}:${objectSignature}`,
  });
  const err = throwsS3(t, () => verifyRequest(object, lookup, opts), 'SignatureDoesNotMatch');
  t.is(err.fields.StringToSign, `GET\n\n\n${date}\n/johnsmith/key`);
});

test('sub-resources: only the signed ones, sorted by name, values decoded', (t) => {
  const req = snapshot(
    'PUT',
    '/bucket/key?uploadId=a%2Bb%3D&partNumber=2&x-id=UploadPart&max-parts=3',
    { host: 'localhost', date: 'D' },
  );
  t.is(
    stringToSignV2(req, 'D', ROOT_DOMAINS),
    'PUT\n\n\nD\n/bucket/key?partNumber=2&uploadId=a+b=',
  );
  const get = snapshot(
    'GET',
    '/k?versionId=v1&response-content-type=text%2Fplain&response-content-disposition=attachment%3B%20x&tagging',
    { host: 'b.s3.amazonaws.com' },
  );
  t.is(
    stringToSignV2(get, '9', ROOT_DOMAINS),
    'GET\n\n\n9\n/b/k?response-content-disposition=attachment; x&response-content-type=text/plain&tagging&versionId=v1',
  );
});

test('x-amz-* headers: lower-case names sorted, values trimmed; other headers stay out', (t) => {
  const req = snapshot('POST', '/b?delete', {
    host: 'h',
    'content-md5': ' bWQ1 ',
    'content-type': 'application/xml',
    'x-amz-meta-b': '  two ',
    'x-amz-acl': 'private',
    'x-amz-date': 'Tue, 27 Mar 2007 19:36:42 +0000',
    'cache-control': 'no-cache',
  });
  t.is(
    stringToSignV2(req, '', ROOT_DOMAINS),
    'POST\nbWQ1\napplication/xml\n\nx-amz-acl:private\nx-amz-date:Tue, 27 Mar 2007 19:36:42 +0000\nx-amz-meta-b:two\n/b?delete',
  );
});
