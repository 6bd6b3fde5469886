/**
 * Property tests of the S3 router (http/s3/router.ts) and its query parser: random and mutated
 * requests only ever route or fail with an S3Error; a key and bucket sent the way S3 clients
 * encode them route back to themselves, path-style and virtual-hosted alike.
 */
import test from 'ava';
import fc from 'fast-check';
import { authorizationOf, endpointBucket, endpointKey } from '../../http/s3/endpoints.js';
import { parseQuery } from '../../http/s3/query.js';
import { routeRequest, SUB_RESOURCES } from '../../http/s3/router.js';
import type { RequestSnapshot } from '../../http/uws/request.js';
import { check, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';

const OPTS = { rootDomains: ['s3.localhost', 'example.com'] };

const PARAMETERS = [
  'versionId',
  'uploadId',
  'partNumber',
  'list-type',
  'x-id',
  'max-keys',
  'max-parts',
  'max-uploads',
  'continuation-token',
  'delimiter',
  'prefix',
  'encoding-type',
  'marker',
  'part-number-marker',
  'response-content-type',
  'response-expires',
  'X-Amz-Signature',
  'fetch-owner',
  'start-after',
  'max-buckets',
  'max-directory-buckets',
  '__proto__',
  'constructor',
];
const VALUES = [
  '',
  '1',
  '0',
  '-1',
  '10000',
  '10001',
  '2147483648',
  '1e3',
  'url',
  'abc',
  '%',
  '%zz',
  '%C3',
  '+',
  'ListObjects',
];

const queryArb = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...SUB_RESOURCES),
        fc.constantFrom(...PARAMETERS),
        fc.string({ maxLength: 6 }),
      ),
      fc.option(fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 8 })), {
        nil: undefined,
      }),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.map(([name, value]) => (value === undefined ? name : `${name}=${value}`)).join('&'),
  );

const pathArb = fc.oneof(
  tokenSoup([
    '/',
    '//',
    'bucket',
    'key',
    '%',
    '%2F',
    '%zz',
    '%C3%A9',
    '%ff',
    '%00',
    '.',
    '..',
    '?',
    '+',
    ' ',
    '\u{1F600}',
    '\uD800',
  ]),
  fc.string({ maxLength: 40 }).map((p) => `/${p}`),
);

const headersArb = fc.record({
  host: fc.oneof(
    fc.constantFrom(
      '127.0.0.1:9000',
      'bucket.s3.localhost',
      'b.example.com:80',
      '[::1]:9000',
      's3.localhost',
      '.',
      ':',
      '',
    ),
    fc.string({ maxLength: 20 }),
  ),
  'x-amz-copy-source': fc.oneof(
    fc.constantFrom('b/k', '/b/k?versionId=1', '%zz', ''),
    fc.string({ maxLength: 10 }),
  ),
  'x-amz-request-route': fc.string({ maxLength: 6 }),
});

const snapshotArb: fc.Arbitrary<RequestSnapshot> = fc
  .record({
    method: fc.oneof(
      fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'),
      fc.string({ maxLength: 6 }),
    ),
    rawPath: fc.oneof(pathArb, mutatedText(fc.constant('/bucket/key'))),
    rawQuery: fc.oneof(queryArb, mutatedText(queryArb)),
    headers: fc
      .subarray(['host', 'x-amz-copy-source', 'x-amz-request-route'] as const)
      .chain((names) =>
        headersArb.map((all) => Object.fromEntries(names.map((name) => [name, all[name]]))),
      ),
  })
  .map((req) => req as RequestSnapshot);

test('random and mutated requests route or fail with an S3Error, nothing else', (t) => {
  check(
    fc.property(snapshotArb, (req) => {
      onlyS3Error(() => {
        const routed = routeRequest(req, OPTS);
        // Every action the router can produce has an authorization rule.
        if (authorizationOf(routed.endpoint) === undefined)
          throw new Error(`no rule for ${routed.endpoint.action}`);
      });
    }),
    4000,
  );
  t.pass();
});

test('query strings parse or fail with an S3Error, nothing else', (t) => {
  check(
    fc.property(fc.oneof(queryArb, fc.string({ maxLength: 60 })), (query) => {
      onlyS3Error(() => parseQuery(query));
    }),
    2000,
  );
  t.pass();
});

/** The S3 client's escaping of keys: UriEncode of each segment, '/' kept. */
function escapeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

const bucketArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/);
const keyArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });

test('a key and bucket as clients encode them route back to themselves', (t) => {
  check(
    fc.property(
      bucketArb,
      keyArb,
      fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE'),
      (bucket, key, method) => {
        const path = routeRequest(
          {
            method,
            rawPath: `/${bucket}/${escapeKey(key)}`,
            rawQuery: '',
            headers: { host: '127.0.0.1:9000' },
          },
          OPTS,
        );
        const vhost = routeRequest(
          {
            method,
            rawPath: `/${escapeKey(key)}`,
            rawQuery: '',
            headers: { host: `${bucket}.s3.localhost:9000` },
          },
          OPTS,
        );
        return [path, vhost].every(
          (routed) =>
            endpointBucket(routed.endpoint) === bucket && endpointKey(routed.endpoint) === key,
        );
      },
    ),
    1000,
  );
  t.pass();
});
